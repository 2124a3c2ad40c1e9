"""The wire form of a conversation page, and masking of visitors' personal data."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.core.conversations.masking import mask_personal
from desktop.core.conversations.protocol import parse_conversation, parse_page
from desktop.core.errors import PublishError
from tests.helpers import conversation_seed as seed


def test_a_seeded_conversation_parses_with_times_in_utc() -> None:
    entry = next(e for e in seed.seeded_conversations() if e["id"] == "gone-1")
    entry["started_at"] = "2026-11-20T13:00:00+01:00"
    parsed = parse_conversation(entry)
    assert parsed.started_at == "2026-11-20T12:00:00Z"
    answer = parsed.messages[1]
    assert answer.role == "assistant" and answer.feedback == "down"
    assert answer.citations[0].passage_id == seed.MISSING_PASSAGE
    assert answer.prompt_tokens == 900


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"messages": "x"}, "messages is not a list"),
        ({"updated_at": "yesterday"}, "not an ISO-8601 time"),
        ({"id": None}, "id is missing"),
        ({"lead": ["x"]}, "lead is not an object"),
        ({"messages": [{"id": "1", "role": "bot", "text": "x"}]}, "role 'bot'"),
        (
            {"messages": [{"id": "1", "role": "assistant", "text": "x", "feedback": "meh"}]},
            "feedback 'meh'",
        ),
        (
            {
                "messages": [
                    {
                        "id": "1",
                        "role": "assistant",
                        "text": "x",
                        "citations": [{"passage_id": "7"}],
                    }
                ]
            },
            "passage_id is not a whole number",
        ),
    ],
)
def test_malformed_entries_say_why(change: dict[str, Any], reason: str) -> None:
    entry = {**seed.seeded_conversations()[0], **change}
    with pytest.raises(ValueError, match=reason):
        parse_conversation(entry)


def test_a_page_skips_bad_entries_and_counts_them() -> None:
    good = seed.seeded_conversations()[0]
    page = parse_page(
        {"conversations": [good, 42, {"id": "x"}], "next_cursor": "c", "has_more": True}
    )
    assert len(page.conversations) == 1 and page.has_more and page.next_cursor == "c"
    assert [p.item for p in page.problems] == ["entry 2", "conversation x"]


BAD_PAGES = [[], {"conversations": {}}, {"conversations": [], "next_cursor": 3}]


@pytest.mark.parametrize("bad", BAD_PAGES)
def test_a_page_not_of_the_form_is_a_plain_error(bad: Any) -> None:
    with pytest.raises(PublishError):
        parse_page(bad)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("write to jo.doe+x@acme.co.uk please", "write to [email] please"),
        ("call +47 912 34 567 or (020) 7946-0958.", "call [phone] or [phone]."),
        ("0047 91234567", "[phone]"),
        ("order 12345 costs 49.90 in 2026", "order 12345 costs 49.90 in 2026"),
        ("on 2026-11-20 or 20.11.2026", "on 2026-11-20 or 20.11.2026"),
    ],
)
def test_masking(text: str, masked: str) -> None:
    assert mask_personal(text) == masked
