"""The chat protocol's rules without the network: limits, request checks, SSE framing."""

from __future__ import annotations

import json

import pytest

from desktop.core.publish.chat_protocol import (
    RATE_MAX_MESSAGES,
    RATE_WINDOW_S,
    ConversationLog,
    MessageLimits,
    ProtocolError,
    parse_chat,
    parse_lead,
    sse_event,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_refused_until_the_window_moves_on() -> None:
    clock = Clock()
    limits = MessageLimits(per_session=100, per_day=100, clock=clock)
    for _ in range(RATE_MAX_MESSAGES):
        assert limits.take("s1") is None
    hit = limits.take("s1")
    assert hit is not None and hit.kind == "rate" and 1 <= hit.retry_after_s <= RATE_WINDOW_S + 1
    assert limits.take("s2") is None  # another visitor is not held up
    clock.now += RATE_WINDOW_S
    assert limits.take("s1") is None


def test_the_day_limit_resets_the_next_day() -> None:
    clock = Clock()
    limits = MessageLimits(per_session=100, per_day=2, clock=clock)
    assert limits.take("a") is None and limits.take("b") is None
    hit = limits.take("c")
    assert hit is not None and hit.kind == "day"
    assert hit.error().status == 429 and hit.error().body()["limit"] == "day"
    clock.now += hit.retry_after_s
    assert limits.take("c") is None


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"session_id": "short", "message": "hi"},
        {"session_id": "s" * 10},
        {"session_id": "s" * 10, "message": 3},
        {"session_id": "s" * 10, "message": "hi", "page_url": 5},
    ],
)
def test_bad_chat_requests_are_400(body: object) -> None:
    with pytest.raises(ProtocolError) as raised:
        parse_chat(body)
    assert raised.value.status == 400 and raised.value.message


def test_a_lead_needs_lead_capture_on_and_only_the_fields_asked() -> None:
    body = {"session_id": "s" * 10, "fields": {"email": " a@b.c "}}
    with pytest.raises(ProtocolError, match="off"):
        parse_lead(body, {"enabled": False})
    assert parse_lead(body, {"enabled": True, "fields": ["email"]}) == (
        "s" * 10,
        {"email": "a@b.c"},
    )
    with pytest.raises(ProtocolError, match="not a field"):
        parse_lead({**body, "fields": {"ssn": "1"}}, {"enabled": True, "fields": ["email"]})


def test_events_are_one_json_line_each_even_with_newlines_in_the_text() -> None:
    raw = sse_event("token", {"text": "a\n\nb <b>"}).decode()
    assert raw.count("\n\n") == 1 and raw.endswith("\n\n")
    assert json.loads(raw.split("data: ", 1)[1]) == {"text": "a\n\nb <b>"}


def test_feedback_for_an_unknown_answer_is_404() -> None:
    log = ConversationLog()
    with pytest.raises(ProtocolError) as raised:
        log.feedback("s" * 10, "m_nope", "up")
    assert raised.value.status == 404
