"""The Backends object: built from the environment in one place, addresses typed by a user."""

from __future__ import annotations

import pytest

from desktop.core.errors import ConfigError
from desktop.core.model_specs import ModelSpec
from desktop.services.backends import Backends, server_address
from tests.helpers.backends import test_backends


@pytest.mark.parametrize(
    ("typed", "address"),
    [
        ("http://127.0.0.1:11434", "http://127.0.0.1:11434"),
        ("  192.168.1.20:11434 ", "http://192.168.1.20:11434"),
        ("http://gpu-box:11434/", "http://gpu-box:11434"),
        ("https://ollama.example.com", "https://ollama.example.com"),
    ],
)
def test_a_typed_server_address_becomes_a_base_url(typed: str, address: str) -> None:
    assert server_address(typed) == address


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("", "Type the server's address"),
        ("ftp://box:21", "not a server address"),
        ("http://box:port", "not a server address"),
        ("http://box:11434/api/chat", "has a path"),
    ],
)
def test_a_wrong_address_says_what_to_write(typed: str, said: str) -> None:
    with pytest.raises(ConfigError, match=said) as raised:
        server_address(typed)
    assert "http" in raised.value.hint or said.startswith("Type")


def test_the_environment_is_read_by_from_environment_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "http://gpu-box:11434")
    monkeypatch.setenv("BOTDESK_PROVIDER_ATTEMPTS", "7")
    monkeypatch.setenv("BOTDESK_INTERACTIVE_TIMEOUT_S", "9")
    made = Backends.from_environment()
    assert made.ollama_host == "http://gpu-box:11434"
    assert made.retry.attempts == 7 and made.interactive_retry().deadline_s == 9
    assert Backends().ollama_host == "http://127.0.0.1:11434"  # built directly: no environment


def test_embedders_and_generators_are_made_for_the_provider_s_server() -> None:
    seen: list[tuple[str, str, float]] = []

    def embedder(spec: ModelSpec, dims: int | None, policy: object, host: str) -> object:
        seen.append((str(spec), host, policy.deadline_s))  # type: ignore[attr-defined]
        return object()

    backends = test_backends(
        ollama="http://ollama-box:11434", mistral="http://mistral-box", make_embedder=embedder
    )
    backends.embedder(ModelSpec("ollama", "all-minilm"))
    backends.embedder(ModelSpec("mistral", "mistral-embed"), interactive=True)
    assert seen[0][:2] == ("ollama:all-minilm", "http://ollama-box:11434")
    assert seen[1][:2] == ("mistral:mistral-embed", "http://mistral-box")
    assert seen[1][2] == backends.interactive_s < seen[0][2]  # someone waits: bounded
