"""The chat protocol's server side, without the network: requests checked, limits counted,
conversations recorded in the shape the review pulls (docs/widget-protocol.md), and
server-sent events framed.

The preview server (desktop/services/preview_server.py) puts these behind HTTP; the hosted
service implements the same rules.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

MAX_MESSAGE_CHARS = 2000
MAX_LEAD_FIELD_CHARS = 2000
LEAD_FIELDS = ("name", "email", "phone", "company", "message")
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,100}$")
# A short burst guard beside the config's per-session and per-day limits.
RATE_WINDOW_S = 30.0
RATE_MAX_MESSAGES = 6
DAY_S = 24 * 3600

LimitKind = Literal["session", "day", "rate"]
FeedbackValue = Literal["up", "down"] | None


class ProtocolError(Exception):
    """A request the protocol refuses: an HTTP status and a one-line reason."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.message, **self.extra}


@dataclass(frozen=True)
class ChatRequest:
    session_id: str
    message: str
    page_url: str | None


@dataclass(frozen=True)
class LimitHit:
    """A 429: which limit, and when to try again (seconds)."""

    kind: LimitKind
    retry_after_s: int

    def error(self) -> ProtocolError:
        reasons = {
            "session": "This conversation has reached its message limit.",
            "day": "The bot has reached its message limit for today.",
            "rate": "Too many messages in a short time.",
        }
        return ProtocolError(
            429, reasons[self.kind], limit=self.kind, retry_after=self.retry_after_s
        )


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise ProtocolError(400, "The body must be a JSON object.")
    return body


def _session(body: Mapping[str, Any]) -> str:
    session = body.get("session_id")
    if not isinstance(session, str) or not SESSION_ID.match(session):
        raise ProtocolError(400, "session_id must be 8 to 100 letters, digits, - or _.")
    return session


def parse_chat(body: Any) -> ChatRequest:
    """`{session_id, message, page_url}` checked, or a 400."""
    data = _object(body)
    message = data.get("message")
    if not isinstance(message, str) or not message.strip():
        raise ProtocolError(400, "message must be a non-empty string.")
    if len(message) > MAX_MESSAGE_CHARS:
        raise ProtocolError(400, f"message is longer than {MAX_MESSAGE_CHARS} characters.")
    page_url = data.get("page_url")
    if page_url is not None and not isinstance(page_url, str):
        raise ProtocolError(400, "page_url must be a string or null.")
    return ChatRequest(_session(data), message.strip(), page_url[:2000] if page_url else None)


def parse_feedback(body: Any) -> tuple[str, str, FeedbackValue]:
    data = _object(body)
    message_id = data.get("message_id")
    value = data.get("value")
    if not isinstance(message_id, str) or not message_id:
        raise ProtocolError(400, "message_id must be a string.")
    if value not in ("up", "down", None):
        raise ProtocolError(400, 'value must be "up", "down" or null.')
    return _session(data), message_id, value


def parse_lead(body: Any, lead_capture: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """The lead's fields, checked against the config's lead capture settings."""
    data = _object(body)
    session = _session(data)
    if not lead_capture.get("enabled"):
        raise ProtocolError(403, "Lead capture is off for this bot.")
    allowed = set(lead_capture.get("fields") or LEAD_FIELDS)
    fields = data.get("fields")
    if not isinstance(fields, Mapping) or not fields:
        raise ProtocolError(400, "fields must be an object with at least one field.")
    lead: dict[str, str] = {}
    for name, value in fields.items():
        if name not in allowed:
            raise ProtocolError(400, f"{name!r} is not a field this bot asks for.", field=name)
        if not isinstance(value, str) or len(value) > MAX_LEAD_FIELD_CHARS:
            raise ProtocolError(400, f"{name} must be text of at most 2000 characters.", field=name)
        if value.strip():
            lead[str(name)] = value.strip()
    if not lead:
        raise ProtocolError(400, "Fill in at least one field.", field=None)
    if lead_capture.get("consent_text") and data.get("consent") is not True:
        raise ProtocolError(400, "The visitor did not give consent.", field="consent")
    return session, lead


def sse_event(name: str, data: Mapping[str, Any]) -> bytes:
    """One server-sent event: `event:` and one `data:` line of JSON, then a blank line."""
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"event: {name}\ndata: {payload}\n\n".encode()


def utc_stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class MessageLimits:
    """Counts messages per session, per day and in short bursts (thread-safe)."""

    per_session: int
    per_day: int
    clock: Callable[[], float] = time.time
    _sessions: dict[str, int] = field(default_factory=dict)
    _recent: dict[str, deque[float]] = field(default_factory=dict)
    _day: tuple[int, int] = (0, 0)  # (day number, messages that day)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, session_id: str) -> LimitHit | None:
        """Count one message, or say which limit it would break (then nothing is counted)."""
        with self._lock:
            now = self.clock()
            day = int(now // DAY_S)
            day_count = self._day[1] if self._day[0] == day else 0
            if self._sessions.get(session_id, 0) >= self.per_session:
                return LimitHit("session", DAY_S)
            if day_count >= self.per_day:
                return LimitHit("day", max(1, int((day + 1) * DAY_S - now)))
            recent = self._recent.setdefault(session_id, deque())
            while recent and now - recent[0] >= RATE_WINDOW_S:
                recent.popleft()
            if len(recent) >= RATE_MAX_MESSAGES:
                return LimitHit("rate", max(1, int(RATE_WINDOW_S - (now - recent[0])) + 1))
            recent.append(now)
            self._sessions[session_id] = self._sessions.get(session_id, 0) + 1
            self._day = (day, day_count + 1)
            return None


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


@dataclass
class ConversationLog:
    """Conversations as the review pulls them (`GET …/conversations`), kept in memory."""

    release_id: str = "preview"
    clock: Callable[[], float] = time.time
    _by_session: dict[str, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _conversation(self, session_id: str, page_url: str | None) -> dict[str, Any]:
        conversation = self._by_session.get(session_id)
        if conversation is None:
            stamp = utc_stamp(self.clock())
            conversation = {
                "id": new_id("c"),
                "started_at": stamp,
                "updated_at": stamp,
                "release_id": self.release_id,
                "page_url": page_url,
                "messages": [],
                "lead": None,
            }
            self._by_session[session_id] = conversation
        return conversation

    def visitor_said(self, request: ChatRequest) -> tuple[str, str]:
        """Record the question; (conversation id, the id the answer will have)."""
        with self._lock:
            conversation = self._conversation(request.session_id, request.page_url)
            stamp = utc_stamp(self.clock())
            conversation["messages"].append(
                {"id": new_id("m"), "role": "visitor", "text": request.message, "at": stamp}
            )
            conversation["updated_at"] = stamp
            return str(conversation["id"]), new_id("m")

    def assistant_said(
        self,
        session_id: str,
        message_id: str,
        *,
        text: str,
        declined: bool,
        citations: list[dict[str, Any]],
        latency_ms: int,
        tokens: Mapping[str, int | None],
        error: str | None = None,
    ) -> None:
        with self._lock:
            conversation = self._conversation(session_id, None)
            stamp = utc_stamp(self.clock())
            message: dict[str, Any] = {
                "id": message_id,
                "role": "assistant",
                "text": text,
                "at": stamp,
                "declined": declined,
                "citations": [
                    {"n": c["n"], "passage_id": c["passage_id"], "url": c.get("url")}
                    for c in citations
                ],
                "feedback": None,
                "latency_ms": latency_ms,
                "tokens": {"prompt": tokens.get("prompt"), "completion": tokens.get("completion")},
            }
            if error:
                message["error"] = error
            conversation["messages"].append(message)
            conversation["updated_at"] = stamp

    def feedback(self, session_id: str, message_id: str, value: FeedbackValue) -> None:
        with self._lock:
            conversation = self._by_session.get(session_id)
            for message in conversation["messages"] if conversation else []:
                if message["id"] == message_id and message["role"] == "assistant":
                    message["feedback"] = value
                    conversation["updated_at"] = utc_stamp(self.clock())  # type: ignore[index]
                    return
        raise ProtocolError(404, "No such answer in this conversation.")

    def lead(self, session_id: str, page_url: str | None, fields: Mapping[str, str]) -> str:
        with self._lock:
            conversation = self._conversation(session_id, page_url)
            conversation["lead"] = dict(fields)
            conversation["updated_at"] = utc_stamp(self.clock())
            return new_id("l")

    def conversations(self) -> list[dict[str, Any]]:
        """A copy, ordered by `updated_at` then `id`, as the pull expects."""
        with self._lock:
            copied = json.loads(json.dumps(list(self._by_session.values())))
        return sorted(copied, key=lambda c: (c["updated_at"], c["id"]))

    def answer(self, message_id: str) -> dict[str, Any] | None:
        with self._lock:
            for conversation in self._by_session.values():
                for message in conversation["messages"]:
                    if message["id"] == message_id:
                        return dict(message)
        return None
