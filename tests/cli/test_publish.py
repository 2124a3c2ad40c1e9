"""The publish commands: bundle, widget, token, publish (dry run and real), releases, rollback."""

from __future__ import annotations

import io
import json
from pathlib import Path

import apsw
import pytest

from desktop.cli import main
from desktop.services.workspaces import create_workspace
from tests.core.publish.factory import sample_workspace
from tests.helpers.receiver import Receiver

TOKEN = "test-token-123"


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    path = tmp_path / "acme.botdesk"
    with create_workspace(path, name="Acme") as ws:
        sample_workspace(ws, str(tmp_path))
    return path


def test_bundle_command_writes_a_bundle(
    ws_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "acme.bundle"
    assert main(["bundle", str(ws_path), "-o", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["manifest"]["passage_count"] == 5
    conn = apsw.Connection(str(out))
    assert conn.execute("select count(*) from passages").fetchall() == [(5,)]
    conn.close()
    assert main(["bundle", str(ws_path), "-o", str(tmp_path / "nowhere" / "x.bundle")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_widget_get_set_file(
    ws_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["widget", str(ws_path), "--get", "theme.primary_color"]) == 0
    assert json.loads(capsys.readouterr().out) == "#1a73e8"
    assert (
        main(
            [
                "widget",
                str(ws_path),
                "--set",
                'allowed_origins=["https://example.com"]',
                "--set",
                "theme.primary_color=#00aa00",
                "--set",
                "answering.k=8",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "Saved." in captured.out and captured.err == ""
    assert main(["widget", str(ws_path), "--get"]) == 0
    config = json.loads(capsys.readouterr().out)
    assert config["answering"]["k"] == 8 and config["allowed_origins"] == ["https://example.com"]
    assert main(["widget", str(ws_path), "--set", "theme.primary_color=green"]) == 1
    err = capsys.readouterr().err
    assert "theme.primary_color" in err and "#RRGGBB" in err and err.count("\n") == 1
    assert main(["widget", str(ws_path), "--set", "nokey"]) == 1
    assert "KEY=VALUE" in capsys.readouterr().err
    path = tmp_path / "w.json"
    path.write_text(json.dumps({**config, "bot_name": "From file"}))
    assert main(["widget", str(ws_path), "--file", str(path)]) == 0
    capsys.readouterr()
    assert main(["widget", str(ws_path), "--get", "bot_name"]) == 0
    assert json.loads(capsys.readouterr().out) == "From file"


def test_token_without_keyring_says_use_the_variable(
    ws_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("secret-token-value\n"))
    assert main(["token", str(ws_path), "--endpoint", "https://chat.example.com"]) == 1
    err = capsys.readouterr().err
    assert "BOTDESK_PUBLISH_TOKEN" in err and "secret-token-value" not in err


def test_publish_dry_run_then_publish_releases_rollback(
    ws_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOTDESK_PUBLISH_TOKEN", TOKEN)
    with Receiver() as receiver:
        # No allowed origins yet: the dry run says so and exits 1; nothing is sent.
        args = ["publish", str(ws_path), "--endpoint", receiver.url, "--bot-id", "acme"]
        assert main([*args, "--dry-run", "--json"]) == 1
        report = json.loads(capsys.readouterr().out)
        assert report["blocked"] and report["dry_run"]
        assert any(c["code"] == "widget-config" for c in report["checks"])
        assert receiver.server.requests_seen == []
        assert main(["publish", str(ws_path)]) == 1  # refused, endpoint remembered
        assert "allowed_origins" in capsys.readouterr().err
        main(["widget", str(ws_path), "--set", 'allowed_origins=["https://example.com"]'])
        assert main(["publish", str(ws_path), "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert "First release: 5 passages" in out and "nothing sent" in out
        assert main(["publish", str(ws_path), "--notes", "v1"]) == 0
        assert "Release 1 (rel-1) is live" in capsys.readouterr().out
        assert main(["publish", str(ws_path)]) == 0
        assert "No change since release 1" in capsys.readouterr().out
        assert main(["releases", str(ws_path)]) == 0
        out = capsys.readouterr().out
        assert "rel-2" in out and "rel-1" in out and TOKEN not in out
        assert main(["rollback", str(ws_path), "rel-1", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["active"] is True
        assert receiver.live().release_id == "rel-1"
        monkeypatch.setenv("BOTDESK_PUBLISH_TOKEN", "wrong-token-xyz")
        assert main(["releases", str(ws_path), "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert "rejected the publish token" in listed["remote_error"]
        assert main(["rollback", str(ws_path), "rel-2"]) == 1
        err = capsys.readouterr().err
        assert "rejected the publish token" in err and "wrong-token-xyz" not in err


def test_public_url_for_a_file_source(ws_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conn = apsw.Connection(str(ws_path))
    files_id = conn.execute("select id from sources where kind = 'files'").fetchall()[0][0]
    site_id = conn.execute("select id from sources where kind = 'site'").fetchall()[0][0]
    conn.close()
    assert main(["public-url", str(ws_path), str(files_id), "https://example.com/docs/"]) == 0
    assert "https://example.com/docs/FILE-NAME" in capsys.readouterr().out
    assert main(["public-url", str(ws_path), str(site_id), "https://example.com/"]) == 1
    assert "Only file sources" in capsys.readouterr().err
    assert main(["public-url", str(ws_path), str(files_id), "ftp://x"]) == 1
    assert "not a web address" in capsys.readouterr().err
