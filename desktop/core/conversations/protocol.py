"""A page of conversations as the service sends it, checked entry by entry.

An entry that is not of the documented form becomes a `Problem` (skipped and counted by the
pull), never an exception: one bad conversation must not stop the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from desktop.core.errors import PublishError

MAX_PAGE = 100
Role = Literal["visitor", "assistant"]
Feedback = Literal["up", "down"]
LEAD_FIELDS = ("name", "email", "phone", "company", "message")


@dataclass(frozen=True)
class Citation:
    n: int
    passage_id: int | None
    url: str

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "passage_id": self.passage_id, "url": self.url}


@dataclass(frozen=True)
class Message:
    id: str
    role: Role
    text: str
    at: str = ""
    declined: bool = False
    citations: tuple[Citation, ...] = ()
    feedback: Feedback | None = None
    latency_ms: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True)
class Lead:
    name: str = ""
    email: str = ""
    phone: str = ""
    company: str = ""
    message: str = ""


@dataclass(frozen=True)
class Conversation:
    id: str
    started_at: str
    updated_at: str
    release_id: str | None
    page_url: str | None
    messages: tuple[Message, ...]
    lead: Lead | None = None


@dataclass(frozen=True)
class Problem:
    """An entry that was skipped: which one (its id or position) and why."""

    item: str
    reason: str


@dataclass(frozen=True)
class Page:
    conversations: list[Conversation]
    problems: list[Problem] = field(default_factory=list)
    next_cursor: str | None = None
    has_more: bool = False


class _Bad(Exception):
    pass


def _text(data: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise _Bad(f"{key} is missing or not text")
    return value


def _time(data: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    """An ISO-8601 time as UTC "YYYY-MM-DDTHH:MM:SSZ", so stored times compare as text."""
    value = _text(data, key, required=required)
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Bad(f"{key} is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Bad(f"{key} is not text")
    return value


def _optional_int(value: Any, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(f"{key} is not a number")
    return int(value)


def _citation(data: Any) -> Citation:
    if not isinstance(data, Mapping):
        raise _Bad("a citation is not an object")
    passage = data.get("passage_id")
    if passage is not None and (isinstance(passage, bool) or not isinstance(passage, int)):
        raise _Bad("a citation's passage_id is not a whole number")
    n = _optional_int(data.get("n"), "citation n") or 0
    url = data.get("url") or ""
    if not isinstance(url, str):
        raise _Bad("a citation's url is not text")
    return Citation(n, passage, url)


def _message(data: Any, position: int) -> Message:
    if not isinstance(data, Mapping):
        raise _Bad(f"message {position} is not an object")
    role = data.get("role")
    if role not in ("visitor", "assistant"):
        raise _Bad(f"message {position} has role {role!r}")
    text = data.get("text")
    if not isinstance(text, str):
        raise _Bad(f"message {position} has no text")
    message_id = data.get("id")
    if not isinstance(message_id, str | int) or isinstance(message_id, bool) or message_id == "":
        raise _Bad(f"message {position} has no id")
    at = _time(data, "at", required=False)
    if role == "visitor":
        return Message(str(message_id), "visitor", text, at)
    declined = data.get("declined", False)
    if not isinstance(declined, bool):
        raise _Bad(f"message {position}: declined is not true/false")
    citations = data.get("citations") or []
    if not isinstance(citations, Sequence) or isinstance(citations, str):
        raise _Bad(f"message {position}: citations is not a list")
    feedback = data.get("feedback")
    if feedback not in ("up", "down", None):
        raise _Bad(f"message {position}: feedback {feedback!r}")
    tokens = data.get("tokens") or {}
    if not isinstance(tokens, Mapping):
        raise _Bad(f"message {position}: tokens is not an object")
    return Message(
        str(message_id),
        "assistant",
        text,
        at,
        declined=declined,
        citations=tuple(_citation(c) for c in citations),
        feedback=feedback,
        latency_ms=_optional_int(data.get("latency_ms"), "latency_ms"),
        prompt_tokens=_optional_int(tokens.get("prompt"), "tokens.prompt"),
        completion_tokens=_optional_int(tokens.get("completion"), "tokens.completion"),
    )


def _lead(data: Any) -> Lead | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise _Bad("lead is not an object")
    values = {}
    for key in LEAD_FIELDS:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise _Bad(f"lead {key} is not text")
        values[key] = value or ""
    return Lead(**values)


def parse_conversation(data: Any) -> Conversation:
    """One conversation; ValueError with the reason when it is not of the documented form."""
    try:
        if not isinstance(data, Mapping):
            raise _Bad("not an object")
        conversation_id = data.get("id")
        if not isinstance(conversation_id, str | int) or isinstance(conversation_id, bool):
            raise _Bad("id is missing")
        if str(conversation_id) == "":
            raise _Bad("id is empty")
        messages = data.get("messages")
        if not isinstance(messages, list):
            raise _Bad("messages is not a list")
        return Conversation(
            id=str(conversation_id),
            started_at=_time(data, "started_at"),
            updated_at=_time(data, "updated_at"),
            release_id=_optional_text(data, "release_id"),
            page_url=_optional_text(data, "page_url"),
            messages=tuple(_message(m, i + 1) for i, m in enumerate(messages)),
            lead=_lead(data.get("lead")),
        )
    except _Bad as exc:
        raise ValueError(str(exc)) from None


def parse_page(data: Any) -> Page:
    """A page; a PublishError when the page itself is not of the form, problems per entry."""
    if not isinstance(data, Mapping) or not isinstance(data.get("conversations"), list):
        raise PublishError(
            "The endpoint's conversation page is not in the expected form.",
            hint="Check that the endpoint speaks Botdesk's publish protocol (conversations).",
        )
    cursor = data.get("next_cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise PublishError("The endpoint's next_cursor is not text.")
    conversations: list[Conversation] = []
    problems: list[Problem] = []
    for position, entry in enumerate(data["conversations"], start=1):
        try:
            conversations.append(parse_conversation(entry))
        except ValueError as exc:
            name = entry.get("id") if isinstance(entry, Mapping) else None
            item = f"conversation {name}" if isinstance(name, str | int) else f"entry {position}"
            problems.append(Problem(item, str(exc)))
    return Page(conversations, problems, cursor, bool(data.get("has_more", False)))
