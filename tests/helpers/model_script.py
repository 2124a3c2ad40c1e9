"""Scripting shared by the Ollama and Mistral stand-ins: queued replies, latency, a log.

A test queues `Scripted` replies for a path; each request to that path takes the next
one (or answers normally when none is left). A reply is an HTTP error, a delay, a wrong
vector size or a stream that breaks: whatever the bad day of the test needs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

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


def split_answer(text: str) -> list[str]:
    """Stream an answer word by word, keeping the spaces (joined it gives `text` back)."""
    pieces = text.split(" ")
    return [p if i == 0 else " " + p for i, p in enumerate(pieces)] if text else []
