"""Scripting shared by the Ollama and Mistral stand-ins: queued replies, latency, a log.

A test queues `Scripted` replies for a path; each request to that path takes the next
one (or answers normally when none is left). A reply is an HTTP error, a delay, a wrong
vector size or a stream that breaks: whatever the bad day of the test needs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Self

from tests.helpers.loopback import LoopbackServer

ChatAnswer = str | Callable[[Sequence[dict[str, Any]]], str]


@dataclass
class Scripted:
    """One scripted reply. Leave `status` None to answer normally but with the changes set."""

    status: int | None = None
    body: Any = None  # dict/list -> JSON, str/bytes -> as is
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # before answering (longer than the client's timeout = a timeout)
    dimensions: int | None = None  # answer normally, with vectors of this size
    count: int | None = None  # answer normally, with this many vectors
    stream_error_after: int | None = None  # stream this many pieces, then an error
    chunk_delay_s: float | None = None  # between streamed pieces
    close_after: int | None = None  # stream this many pieces, then drop the connection


@dataclass
class ModelScript:
    """The shared, thread-safe state of a stand-in (the server answers from threads)."""

    latency_s: float = 0.0  # every request waits this long first
    chat_delay_s: float = 0.0  # a chat answer waits this long first (a model's fixed latency)
    chunk_delay_s: float = 0.0
    chat_answer: ChatAnswer = "The answer is in the passage [1]."
    queues: dict[str, list[Scripted]] = field(default_factory=dict)
    requests: list[tuple[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def push(self, path: str, *replies: Scripted) -> None:
        with self.lock:
            self.queues.setdefault(path, []).extend(replies)

    def take(self, path: str) -> Scripted | None:
        with self.lock:
            queue = self.queues.get(path)
            return queue.pop(0) if queue else None

    def log(self, path: str, body: Any) -> None:
        with self.lock:
            self.requests.append((path, body))

    def calls(self, path: str) -> list[Any]:
        """The request bodies seen on `path`, in order."""
        with self.lock:
            return [body for seen, body in self.requests if seen == path]

    def answer(self, messages: Sequence[dict[str, Any]]) -> str:
        if callable(self.chat_answer):
            return self.chat_answer(messages)
        return self.chat_answer


class FakeModelServer:
    """What the Ollama and Mistral stand-ins share: a loopback server answering from a
    ModelScript, started as a context manager. Subclasses give the handler."""

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], *, chat_delay_s: float, latency_s: float
    ) -> None:
        self.script_state = ModelScript(latency_s=latency_s, chat_delay_s=chat_delay_s)
        self.embedded_texts: list[str] = []
        self.disconnects = 0
        self.server = LoopbackServer(handler)
        self.server.state["fake"] = self

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def script(self, path: str, *replies: Scripted) -> None:
        """Queue replies for the next requests to `path` ("/api/embed", "/v1/embeddings"...)."""
        self.script_state.push(path, *replies)

    def calls(self, path: str) -> list[Any]:
        return self.script_state.calls(path)

    @property
    def chat_answer(self) -> Any:
        return self.script_state.chat_answer

    @chat_answer.setter
    def chat_answer(self, value: Any) -> None:
        self.script_state.chat_answer = value

    @property
    def latency_s(self) -> float:
        return self.script_state.latency_s

    @latency_s.setter
    def latency_s(self, value: float) -> None:
        self.script_state.latency_s = value


def split_answer(text: str) -> list[str]:
    """Stream an answer word by word, keeping the spaces (joined it gives `text` back)."""
    pieces = text.split(" ")
    return [p if i == 0 else " " + p for i, p in enumerate(pieces)] if text else []
