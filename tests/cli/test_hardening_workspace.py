"""Workspace state through the command line: a second sync, a damaged file and its backups,
a read-only file: one sentence each, exit 1, no traceback, nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.core.store import backup
from desktop.services.backends import Backends
from tests.core.test_workspace_state import read_only
from tests.helpers.lock_holder import hold_in_child


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    path = tmp_path / "acme.botdesk"
    assert main(["init", str(path), "--name", "Acme"]) == 0
    assert main(["add", "text", str(path), "--title", "Hours", "--text", "Open 9 to 5."]) == 0
    return path


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("botdesk: ")
    assert not any("Traceback" in line for line in err)
    return err[-1]


def test_a_second_sync_names_the_running_one_and_exits_1(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with hold_in_child(ws, "sync") as child:
        capsys.readouterr()
        assert main(["sync", str(ws)]) == 1
        line = _one_line_error(capsys)
    assert f"a sync of this workspace is already running (pid {child.pid}, since " in line
    assert main(["sync", str(ws)]) == 0  # free again once it ended


def test_a_sync_from_the_app_is_refused_while_another_process_syncs(
    ws: Path, backends: Backends
) -> None:
    import asyncio

    from desktop.core.jobs import Job
    from desktop.core.store.lock import WorkspaceBusyError
    from desktop.services import content
    from desktop.services.workspaces import lock_holder_text, open_workspace

    with hold_in_child(ws, "sync") as child, open_workspace(ws) as workspace:
        assert lock_holder_text(ws).startswith(
            f"a sync of this workspace is already running (pid {child.pid}"
        )
        with pytest.raises(WorkspaceBusyError, match="already running"):
            asyncio.run(content.sync(workspace, Job("Sync"), backends=backends))
    assert lock_holder_text(ws) == ""


def test_a_damaged_workspace_points_to_its_backup_which_restores_it(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", str(ws)]) == 0  # (the daily copy was made at the first opening)
    assert main(["backup", str(ws)]) == 0  # one now, with the synced document
    capsys.readouterr()
    assert main(["backup", str(ws), "--list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [b["reason"] for b in listed] == ["copy made on request", "daily copy"]
    data = ws.read_bytes()
    for suffix in ("-wal", "-shm"):
        ws.with_name(ws.name + suffix).unlink(missing_ok=True)
    ws.write_bytes(data[:40_000])  # a truncated copy
    capsys.readouterr()
    assert main(["docs", str(ws)]) == 1
    line = _one_line_error(capsys)
    assert f"The workspace file {ws} is damaged" in line
    assert listed[0]["path"] in line and "Reinstall" not in line
    assert main(["backup", str(ws), "--restore"]) == 0
    out = capsys.readouterr().out
    assert "restored" in out and ".replaced-" in out
    assert main(["docs", str(ws), "--json"]) == 0
    assert [d["title"] for d in json.loads(capsys.readouterr().out)] == ["Hours"]
    assert len(list(ws.parent.glob("acme.botdesk.replaced-*"))) == 1  # nothing lost


def test_a_read_only_workspace_reads_and_refuses_writes_in_one_sentence(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync", str(ws)]) == 0
    before = sorted(p.name for p in ws.parent.iterdir())
    capsys.readouterr()
    with read_only(ws):
        assert main(["docs", str(ws)]) == 0
        assert "Hours" in capsys.readouterr().out
        assert main(["add", "text", str(ws), "--title", "X", "--text", "Y"]) == 1
        line = _one_line_error(capsys)
        assert "The workspace is open read-only: the file acme.botdesk is read-only" in line
        assert main(["sync", str(ws)]) == 1
        assert "read-only" in _one_line_error(capsys)
    assert sorted(p.name for p in ws.parent.iterdir()) == before  # no -wal/-shm behind
    assert backup.list_backups(ws)
