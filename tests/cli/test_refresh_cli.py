"""`botdesk refresh` and `botdesk schedule`: exit status, the one line, JSON, history, the lock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.services.workspaces import create_workspace
from tests.helpers.lock_holder import hold_in_child
from tests.helpers.scheduler_stubs import calls, stubs
from tests.helpers.site_server import SiteServer

__all__ = ["stubs"]  # the fixture


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    path = tmp_path / "acme.botdesk"
    create_workspace(path, name="Acme").close()
    return path


def test_refresh_of_a_site_then_history(ws_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with SiteServer() as site:
        assert main(["add", "site", str(ws_path), site.url + "/", "--max-pages", "20"]) == 0
        capsys.readouterr()
        assert main(["refresh", str(ws_path)]) == 0
        out = capsys.readouterr().out.strip().splitlines()
        assert len(out) == 1  # one line
        assert out[0].startswith("Refresh of acme.botdesk ok: content changed: passages +")
        assert "tests not run: no saved test questions" in out[0]
        assert "not published (no --publish)" in out[0]
        assert main(["refresh", str(ws_path), "--json"]) == 0
        second = json.loads(capsys.readouterr().out)
    assert second["status"] == "ok" and second["exit_code"] == 0
    assert second["changes"]["changed"] is False and second["changes"]["unchanged"] >= 5
    assert main(["refresh", str(ws_path), "--history"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["started", "(UTC)", "status"] and len(table) == 3
    assert main(["refresh", str(ws_path), "--history", "--json", "--limit", "1"]) == 0
    [latest] = json.loads(capsys.readouterr().out)
    assert latest["id"] == second["id"]


def test_refresh_publish_without_endpoint_exits_1_with_the_reason(
    ws_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["refresh", str(ws_path), "--publish"]) == 1
    captured = capsys.readouterr()
    assert "FAILED" in captured.out
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith("botdesk: refresh failed: no endpoint remembered")


def test_refresh_history_when_empty(ws_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["refresh", str(ws_path), "--history"]) == 0
    assert "No refresh yet" in capsys.readouterr().out


def test_a_second_refresh_while_another_process_runs_one_exits_1(
    ws_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with hold_in_child(ws_path) as holder:
        assert main(["refresh", str(ws_path)]) == 1
        err = capsys.readouterr().err
        assert f"a refresh of this workspace is already running (pid {holder.pid}, since " in err
        assert main(["sync", str(ws_path)]) == 1  # the CLI's sync waits its turn too
        assert "already running" in capsys.readouterr().err
    assert main(["refresh", str(ws_path), "--history", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # the refused one left no record


def test_refresh_of_a_missing_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["refresh", str(tmp_path / "nope.botdesk")]) == 1
    assert "No workspace at" in capsys.readouterr().err


def test_schedule_daily_show_weekly_off(
    ws_path: Path, stubs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["schedule", str(ws_path), "--show"]) == 0
    assert "No refresh schedule" in capsys.readouterr().out
    assert main(["schedule", str(ws_path), "--daily", "03:00"]) == 0
    out = capsys.readouterr().out
    assert "Refresh daily at 03:00 (local time) by a systemd user timer" in out
    assert str(ws_path) in out and "--publish" in out
    units = tmp_path / "config" / "systemd" / "user"  # XDG_CONFIG_HOME of every test
    assert len(list(units.glob("botdesk-refresh-*.timer"))) == 1
    assert main(["schedule", str(ws_path), "--weekly", "fri", "22:30", "--no-publish"]) == 0
    capsys.readouterr()
    assert main(["schedule", str(ws_path), "--show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["schedule"] == {"every": "week", "weekday": "fri", "time": "22:30"}
    assert "--publish" not in shown["command"]
    assert main(["schedule", str(ws_path), "--off"]) == 0
    assert "Removed the refresh schedule" in capsys.readouterr().out
    assert not list(units.glob("botdesk-refresh-*"))
    assert any("disable --now" in line for line in calls(stubs))


def test_schedule_bad_input(ws_path: Path, stubs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", str(ws_path), "--daily", "25:00"]) == 1
    assert "HH:MM" in capsys.readouterr().err
    assert main(["schedule", str(ws_path), "--weekly", "someday", "03:00"]) == 1
    assert "mon, tue" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["schedule", str(ws_path)])
    assert usage.value.code == 2
    assert calls(stubs) == []  # nothing was installed
