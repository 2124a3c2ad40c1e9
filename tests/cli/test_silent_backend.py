"""An Ollama server that accepts connections but never answers (a loopback stand-in):
search falls back to keyword search and says so; ask and check fail within the interactive
bound with one clear sentence; the sync's embedding gives up within its total bound and
keeps every passage. The bounds are set small here through their environment variables."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.cli import main
from desktop.providers.ollama import forget_model_limits
from tests.helpers.silent_server import SilentServer

SILENT = "did not answer in time"


@pytest.fixture
def silent(monkeypatch: pytest.MonkeyPatch) -> Iterator[SilentServer]:
    forget_model_limits()
    with SilentServer() as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        monkeypatch.setenv("BOTDESK_INTERACTIVE_TIMEOUT_S", "0.5")
        monkeypatch.setenv("BOTDESK_PROVIDER_TIMEOUT_S", "0.3")
        monkeypatch.setenv("BOTDESK_PROVIDER_DEADLINE_S", "1")
        monkeypatch.setenv("BOTDESK_PROVIDER_ATTEMPTS", "10")
        monkeypatch.setenv("BOTDESK_PROVIDER_BACKOFF_S", "0.01")
        yield server
    forget_model_limits()


def _ws(tmp_path: Path) -> str:
    ws = str(tmp_path / "shop.botdesk")
    assert main(["init", ws, "--name", "Shop", "--embedder", "ollama:all-minilm"]) == 0
    assert main(["add", "text", ws, "--title", "Hours", "--text", "We open at nine."]) == 0
    return ws


def _one_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.startswith("botdesk: ")]
    assert len(lines) == 1 and "Traceback" not in err
    return lines[0]


@pytest.mark.usefixtures("cli_environment")  # the sync's embedder: the working stand-in
def test_search_falls_back_to_keyword_search_and_says_so(
    tmp_path: Path,
    fake_ollama: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ws = _ws(tmp_path)
    assert main(["sync", ws]) == 0  # embedded by the working stand-in
    forget_model_limits()
    with SilentServer() as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        monkeypatch.setenv("BOTDESK_INTERACTIVE_TIMEOUT_S", "0.5")
        capsys.readouterr()
        assert main(["search", ws, "when do you open", "--json"]) == 0
        out, err = capsys.readouterr()
        assert server.connections >= 1
    forget_model_limits()
    found = json.loads(out)
    assert [r["text"] for r in found["results"]] == ["We open at nine."]
    notes = [line for line in err.splitlines() if line.startswith("note: ")]
    assert any(SILENT in n and "Keyword search was used instead" in n for n in notes)
    assert "Traceback" not in err


def test_ask_fails_within_the_bound_with_one_sentence(
    tmp_path: Path, silent: SilentServer, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _ws(tmp_path)
    assert main(["sync", ws]) == 1  # the passage is kept; its vector is not made
    capsys.readouterr()
    assert main(["ask", ws, "When do you open?"]) == 1
    line = _one_line(capsys.readouterr().err)
    # The question's vector (keyword search then) and the answer share one bound: the
    # server that just failed to answer is not waited for twice.
    assert SILENT in line and "llama3.2" in line
    assert silent.connections >= 1


def test_check_fails_within_the_bound_with_one_sentence(
    silent: SilentServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "ollama:all-minilm"]) == 1
    line = _one_line(capsys.readouterr().err)
    assert SILENT in line and "1 attempt" in line


def test_the_syncs_embedding_gives_up_within_its_bound_and_keeps_the_passages(
    tmp_path: Path, silent: SilentServer, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _ws(tmp_path)
    capsys.readouterr()
    assert main(["sync", ws]) == 1
    line = _one_line(capsys.readouterr().err)
    # 10 attempts were allowed: the 1 s total bound stopped it first, and says so.
    assert SILENT in line and "still failing after" in line and " in 1 s)" in line
    assert "after 10 attempts" not in line
    assert "Embedded 0 of 1 passage text(s); the passages are saved" in line
    assert main(["chunks", ws, "--json"]) == 0
    passages = json.loads(capsys.readouterr().out)
    assert [p["text"] for p in passages] == ["We open at nine."]  # nothing lost
