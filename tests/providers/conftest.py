"""Helpers for the provider tests: a closed port, stream collection, a quick policy.

The `fake_ollama` and `fake_mistral` stand-ins live in tests/conftest.py; here they also
set the environment variables the providers fall back on when no address is given
(OLLAMA_HOST, BOTDESK_MISTRAL_URL, BOTDESK_PROVIDER_*), which is what these tests check.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from desktop.providers.base import (
    ChatMessage,
    GenerationEvent,
    GenerationSettings,
    Generator,
    TextDelta,
    Usage,
)
from desktop.providers.retry import RetryPolicy

# Timeouts short enough for a test, long enough for a loaded CI machine.
QUICK = RetryPolicy(attempts=3, backoff_base_s=0.01, timeout_s=5.0, max_retry_after_s=2.0)
IMPATIENT = RetryPolicy(attempts=2, backoff_base_s=0.01, timeout_s=0.3, connect_timeout_s=0.3)
MESSAGES = (
    ChatMessage("system", "Answer from the passages only."),
    ChatMessage("user", "When does the bakery open?"),
)


@pytest.fixture
def fake_ollama(fake_ollama: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("OLLAMA_HOST", fake_ollama.url)
    fast_provider_env(monkeypatch)
    return fake_ollama


@pytest.fixture
def fake_mistral(fake_mistral: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("BOTDESK_MISTRAL_URL", fake_mistral.url)
    fast_provider_env(monkeypatch)
    return fake_mistral


def fast_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short backoff and timeouts for the providers' retries (RetryPolicy.from_env)."""
    monkeypatch.setenv("BOTDESK_PROVIDER_ATTEMPTS", "3")
    monkeypatch.setenv("BOTDESK_PROVIDER_BACKOFF_S", "0.01")
    monkeypatch.setenv("BOTDESK_PROVIDER_MAX_RETRY_AFTER_S", "2")
    monkeypatch.setenv("BOTDESK_PROVIDER_TIMEOUT_S", "5")


def closed_port_url() -> str:
    """An address where nothing listens (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def nothing_listening() -> str:
    return closed_port_url()


async def collect(
    generator: Generator,
    messages: Sequence[ChatMessage] = MESSAGES,
    settings: GenerationSettings | None = None,
) -> tuple[str, list[Usage], list[GenerationEvent]]:
    """The streamed text, the Usage events, and every event in order."""
    events: list[GenerationEvent] = []
    stream: AsyncIterator[GenerationEvent] = generator.stream(
        messages, settings or GenerationSettings()
    )
    async for event in stream:
        events.append(event)
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    return text, [e for e in events if isinstance(e, Usage)], events
