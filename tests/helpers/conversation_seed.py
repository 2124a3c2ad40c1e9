"""A seeded set of hosted-bot conversations for the receiver, written from the protocol doc.

Imports nothing from `desktop`. `seeded_conversations(now)` gives entries in the documented
form plus the awkward ones a real service sends: HTML and a 1 MB message in a visitor's
text, e-mail and phone numbers, a lead, a citation of a passage that no longer exists, one
malformed entry and one older than the retention period.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HTML_TEXT = "<script>alert('x')</script><b>Is this bold?</b> <img src=x onerror=alert(1)>"
BIG_TEXT = "word " * (1024 * 1024 // 5)  # about 1 MB
MISSING_PASSAGE = 987654
EMAIL = "jo.visitor@example.org"
PHONE = "+47 912 34 567"
OLD_MARKER = "Zqxoldmarker"

# Topics of failed questions, each a few paraphrases (the gaps tests group these).
NORWAY = [
    "Do you ship to Norway?",
    "Can I get delivery to Norway?",
    "Shipping to Norway possible?",
    "How much is shipping to Oslo, Norway?",
]
GIFT = [
    "Do you sell gift cards?",
    "Can I buy a gift card for my sister?",
    "Gift card options?",
]


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def visitor(message_id: str, text: str, at: datetime) -> dict[str, Any]:
    return {"id": message_id, "role": "visitor", "text": text, "at": _time(at)}


def assistant(
    message_id: str,
    text: str,
    at: datetime,
    *,
    declined: bool = False,
    citations: list[dict[str, Any]] | None = None,
    feedback: str | None = None,
) -> dict[str, Any]:
    return {
        "id": message_id,
        "role": "assistant",
        "text": text,
        "at": _time(at),
        "declined": declined,
        "citations": citations or [],
        "feedback": feedback,
        "latency_ms": 640,
        "tokens": {"prompt": 900, "completion": 40},
    }


def conversation(
    conversation_id: str,
    at: datetime,
    turns: list[tuple[str, dict[str, Any]]],
    *,
    release_id: str | None = "rel-1",
    lead: dict[str, str] | None = None,
    page_url: str | None = "https://example.com/shipping",
) -> dict[str, Any]:
    """`turns`: (visitor text, assistant options) pairs; the answer text is generated."""
    messages: list[dict[str, Any]] = []
    for index, (question, answer) in enumerate(turns):
        moment = at + timedelta(seconds=30 * index)
        messages.append(visitor(f"{conversation_id}-q{index}", question, moment))
        options = dict(answer)
        text = options.pop("text", "I don't know." if options.get("declined") else "Yes.")
        messages.append(
            assistant(f"{conversation_id}-a{index}", text, moment + timedelta(seconds=5), **options)
        )
    last = at + timedelta(seconds=30 * max(0, len(turns) - 1) + 5)
    return {
        "id": conversation_id,
        "started_at": _time(at),
        "updated_at": _time(last),
        "release_id": release_id,
        "page_url": page_url,
        "messages": messages,
        "lead": lead,
    }


def seeded_conversations(
    now: datetime = NOW, *, filler: int = 40, cited_passage: int = 1
) -> list[Any]:
    """Conversations over the last weeks (plus one too old and one malformed)."""
    entries: list[Any] = []
    start = now - timedelta(days=20)
    step = timedelta(minutes=37)
    moment = start
    for i, text in enumerate(NORWAY):
        moment += step
        feedback = "down" if i == 3 else None
        entries.append(
            conversation(
                f"norway-{i}", moment, [(text, {"declined": i != 3, "feedback": feedback})]
            )
        )
    for i, text in enumerate(GIFT):
        moment += step
        entries.append(conversation(f"gift-{i}", moment, [(text, {"declined": True})]))
    cite = [{"n": 1, "passage_id": cited_passage, "url": "https://example.com/shipping"}]
    for i in range(filler):
        moment += step
        entries.append(
            conversation(
                f"fill-{i:03d}",
                moment,
                [(f"What are your opening hours on day {i}?", {"citations": cite, "text": "9-6"})],
                release_id="rel-1" if i % 2 else "rel-2",
            )
        )
    moment += step
    entries.append(conversation("html-1", moment, [(HTML_TEXT, {"declined": True})]))
    moment += step
    entries.append(conversation("big-1", moment, [(BIG_TEXT, {"declined": True})]))
    moment += step
    entries.append(
        conversation(
            "personal-1",
            moment,
            [(f"Mail me at {EMAIL} or call {PHONE} about my order 12345", {"citations": cite})],
            lead={"name": "Jo Visitor", "email": EMAIL, "phone": PHONE, "company": "=HYPERLINK(1)"},
        )
    )
    moment += step
    gone = [{"n": 1, "passage_id": MISSING_PASSAGE, "url": "https://example.com/old"}]
    entries.append(
        conversation(
            "gone-1",
            moment,
            [("What did the old price list say?", {"citations": gone, "feedback": "down"})],
        )
    )
    moment += step
    entries.append({"id": "broken-1", "updated_at": _time(moment), "messages": "not a list"})
    entries.append(
        conversation(
            "old-1",
            now - timedelta(days=200),
            [(f"{OLD_MARKER} is an ancient question", {"declined": True})],
        )
    )
    return entries


def grown(entry: dict[str, Any], text: str, at: datetime) -> dict[str, Any]:
    """The same conversation after the visitor came back with another question."""
    copy = dict(entry)
    number = len(copy["messages"]) // 2
    copy["messages"] = [
        *entry["messages"],
        visitor(f"{entry['id']}-q{number}", text, at),
        assistant(
            f"{entry['id']}-a{number}", "I don't know.", at + timedelta(seconds=4), declined=True
        ),
    ]
    copy["updated_at"] = _time(at + timedelta(seconds=4))
    return copy
