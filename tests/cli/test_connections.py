"""`botdesk check` and `botdesk key` against the Ollama and Mistral stand-ins."""

from __future__ import annotations

import io
from typing import Any

import pytest

from desktop.cli import main

# The command line builds its Backends from the environment: point it at the stand-ins.
pytestmark = pytest.mark.usefixtures("cli_environment")


def test_check_ollama_model_found_and_missing(
    fake_ollama: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "ollama:llama3.2"]) == 0
    assert "llama3.2 is available" in capsys.readouterr().out
    assert main(["check", "ollama:qwen3"]) == 1
    assert "ollama pull qwen3" in capsys.readouterr().err


def test_check_ollama_down_says_what_to_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.providers.conftest import closed_port_url

    monkeypatch.setenv("OLLAMA_HOST", closed_port_url())
    assert main(["check", "ollama:llama3.2"]) == 1
    assert "ollama serve" in capsys.readouterr().err


def test_check_mistral_key_accepted_then_rejected(
    fake_mistral: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "mistral:mistral-small-latest"]) == 0
    assert "mistral-small-latest" in capsys.readouterr().out
    monkeypatch.setenv("MISTRAL_API_KEY", "wrong-key")
    assert main(["check", "mistral:mistral-small-latest"]) == 1
    err = capsys.readouterr().err
    assert "rejected the API key" in err
    assert "wrong-key" not in err


def test_key_without_keyring_says_to_use_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The tests' keyring backend refuses everything, like a machine without one.
    monkeypatch.setattr("sys.stdin", io.StringIO("sk-123\n"))
    assert main(["key", "set", "mistral"]) == 1
    assert "MISTRAL_API_KEY" in capsys.readouterr().err
    assert main(["key", "status", "mistral"]) == 1
    assert "not set" in capsys.readouterr().out
    monkeypatch.setenv("MISTRAL_API_KEY", "sk-env")
    assert main(["key", "status", "mistral"]) == 0
    assert "found" in capsys.readouterr().out
