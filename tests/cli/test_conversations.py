"""`botdesk conversations|gaps|leads` against the independent receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.services import publish
from desktop.services.workspaces import create_workspace
from tests.helpers import conversation_seed as seed
from tests.helpers.receiver import Receiver

TOKEN = "test-token-123"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        # Recent enough for the 90-day retention whatever today's date is.
        from datetime import UTC, datetime

        for entry in seed.seeded_conversations(datetime.now(UTC), filler=5):
            server.put_conversation(entry, key=str(entry.get("id")))
        yield server


@pytest.fixture
def ws_path(tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BOTDESK_PUBLISH_TOKEN", TOKEN)
    path = tmp_path / "acme.botdesk"
    with create_workspace(path, name="Acme") as ws:
        publish.remember_target(ws, receiver.url, "acme")
    return path


def test_pull_list_show_to_test_forget(
    ws_path: Path, receiver: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = str(ws_path)
    assert main(["conversations", "pull", ws, "--json"]) == 0
    pulled = json.loads(capsys.readouterr().out)
    assert pulled["skipped"] == 1 and pulled["problems"][0]["item"] == "conversation broken-1"
    assert main(["conversations", "pull", ws]) == 0
    assert capsys.readouterr().out.startswith("Pulled 0 conversation(s)")

    assert main(["conversations", ws, "--filter", "declined", "--json"]) == 0
    listed = {c["id"] for c in json.loads(capsys.readouterr().out)["conversations"]}
    assert {"norway-0", "html-1"} <= listed and "fill-001" not in listed
    assert main(["conversations", ws, "--filter", "lead"]) == 0
    assert "personal-1" in capsys.readouterr().out

    assert main(["conversations", "show", ws, "html-1", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["messages"][0]["text"] == seed.HTML_TEXT  # text, never markup
    assert main(["conversations", "show", ws, "gone-1"]) == 0
    assert "removed: no longer in the workspace" in capsys.readouterr().out

    assert main(["conversations", "to-test", ws, "norway-0", "--message", "norway-0-q0"]) == 0
    out = capsys.readouterr().out
    assert "Added test question: Do you ship to Norway?" in out and "should_decline=False" in out
    assert main(["conversations", "to-test", ws, "norway-0", "--message", "nope"]) == 1
    assert "No visitor message 'nope'" in capsys.readouterr().err

    assert main(["conversations", "forget", ws, "personal-1"]) == 0
    assert "here and on the service" in capsys.readouterr().out
    assert receiver.store.forgotten == ["personal-1"]
    assert main(["conversations", "show", ws, "personal-1"]) == 1
    assert "No conversation 'personal-1'" in capsys.readouterr().err


def test_gaps_and_leads(ws_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(ws_path)
    assert main(["conversations", "pull", ws, "--json"]) == 0
    capsys.readouterr()
    assert main(["gaps", ws, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["method"] == "keyword" and report["gaps"][0]["count"] == 4
    assert main(["gaps", ws]) == 0
    assert capsys.readouterr().out.startswith("Norway")
    out = tmp_path / "leads.csv"
    assert main(["leads", ws, "--csv", str(out)]) == 0
    assert "Wrote 1 lead(s)" in capsys.readouterr().out
    assert seed.EMAIL in out.read_text(encoding="utf-8-sig")
    assert main(["leads", ws, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["leads"][0]["name"] == "Jo Visitor"


def test_errors_and_usage(
    ws_path: Path, receiver: Receiver, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver.fault("GET", "401")
    assert main(["conversations", "pull", str(ws_path)]) == 1
    err = capsys.readouterr().err
    assert "rejected the publish token (HTTP 401)" in err and TOKEN not in err
    with pytest.raises(SystemExit) as usage:
        main(["conversations", str(ws_path), "--filter", "nonsense"])
    assert usage.value.code == 2
    assert main(["conversations"]) == 2
    fresh = tmp_path / "fresh.botdesk"
    create_workspace(fresh, name="Fresh").close()
    assert main(["conversations", "pull", str(fresh)]) == 1
    assert "No endpoint or bot id" in capsys.readouterr().err
