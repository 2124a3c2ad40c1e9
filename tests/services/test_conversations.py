"""Pulling and reviewing conversations end to end against the independent receiver."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import apsw
import pytest

from desktop.core.errors import CancelledError, PublishError
from desktop.core.jobs import Job, JobEvent
from desktop.core.store.workspace import Workspace
from desktop.providers.base import ModelSpec
from desktop.services import conversations, publish
from desktop.services.backends import Backends, PublishOptions
from tests.core.publish.factory import sample_workspace
from tests.helpers import conversation_seed as seed
from tests.helpers.backends import test_backends, with_changes
from tests.helpers.fake_embeddings import embed_text
from tests.helpers.receiver import Receiver

TOKEN = "test-token-123"
# The seed's "now" as the clock (retention counts from it); short publish-client waits.
BACKENDS = test_backends(
    clock=lambda: seed.NOW, publish=PublishOptions(timeout_s=2.0, attempts=2, backoff_s=0.0)
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        for entry in seed.seeded_conversations():
            server.put_conversation(entry, key=str(entry.get("id")))
        yield server


@pytest.fixture
def ws(workspace: Workspace, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("BOTDESK_PUBLISH_TOKEN", TOKEN)
    publish.remember_target(workspace, receiver.url, "acme")
    return workspace


def run_pull(
    ws: Workspace, job: Job | None = None, backends: Backends = BACKENDS, **options: Any
) -> conversations.PullSummary:
    options.setdefault("page_size", 10)
    return asyncio.run(conversations.pull(ws, job or Job("Pull"), backends=backends, **options))


def count(ws: Workspace, table: str) -> int:
    return int(ws.scalar(f"select count(*) from {table}") or 0)


def test_pull_stores_pages_skips_malformed_and_expired_and_is_idempotent(
    ws: Workspace, receiver: Receiver
) -> None:
    job = Job("Pull")
    summary = run_pull(ws, job)
    sent = len(seed.seeded_conversations())
    assert summary.received == sent and summary.pages == -(-sent // 10)
    assert summary.skipped == 1 and [e.item for e in job.errors] == ["conversation broken-1"]
    assert "messages is not a list" in job.errors[0].reason
    assert summary.expired == 1  # old-1 is past the 90 days
    stored = count(ws, "conversations")
    assert summary.new == stored == sent - 2
    messages = count(ws, "conversation_messages")
    # Twice: nothing new, nothing duplicated, and only one (empty) page asked for.
    before = len(receiver.server.requests_seen)
    again = run_pull(ws)
    assert again.new == again.updated == 0 and again.resumed
    assert count(ws, "conversations") == stored and count(ws, "conversation_messages") == messages
    assert len(receiver.server.requests_seen) - before == 1
    last = conversations.last_pull(ws)
    assert last is not None and last.last_summary["new"] == 0


def test_a_conversation_that_grew_replaces_the_stored_one(
    ws: Workspace, receiver: Receiver
) -> None:
    run_pull(ws)
    first = next(e for e in seed.seeded_conversations() if e["id"] == "gift-0")
    later = seed.NOW - timedelta(hours=1)
    receiver.put_conversation(seed.grown(first, "And gift wrapping?", later))
    summary = run_pull(ws)
    assert summary.updated == 1 and summary.new == 0
    view = conversations.show(ws, "gift-0")
    assert [m.message.text for m in view.messages][-2] == "And gift wrapping?"
    assert count(ws, "conversations where remote_id = 'gift-0'") == 1
    assert view.summary.questions == 2 and view.summary.declined == 2


def test_an_interrupted_pull_resumes_after_the_last_saved_page(
    ws: Workspace, receiver: Receiver
) -> None:
    job = Job("Pull")

    def fail_after_two_pages(event: JobEvent) -> None:
        if event.message == "page 2" and not receiver.store.faults:
            receiver.fault("GET", "500")
            receiver.fault("GET", "500")  # both attempts of the next page fail

    job.listeners.append(fail_after_two_pages)
    with pytest.raises(PublishError) as failure:
        run_pull(ws, job)
    assert "HTTP 500, 2 attempts" in str(failure.value) and "Pages already pulled" in str(
        failure.value
    )
    assert count(ws, "conversations") == 19  # two pages of 10, old-1 expired
    cursor = ws.scalar("select cursor from conversation_pulls")
    assert cursor
    receiver.server.requests_seen.clear()
    summary = run_pull(ws)
    assert summary.resumed
    first_get = next(p for m, p in receiver.server.requests_seen if m == "GET")
    assert "after=" in first_get
    total = len(seed.seeded_conversations()) - 2
    assert count(ws, "conversations") == total and summary.new == total - 19


def test_a_cancel_keeps_the_pages_saved(ws: Workspace) -> None:
    job = Job("Pull")
    job.listeners.append(lambda e: job.cancel() if e.message == "page 1" else None)
    with pytest.raises(CancelledError):
        run_pull(ws, job)
    assert count(ws, "conversations") == 9


def test_masking_and_retention_on_the_workspace_file(ws: Workspace, tmp_path: Path) -> None:
    run_pull(ws)
    lead = conversations.list_leads(ws)
    assert lead[0].email == seed.EMAIL  # lead fields are kept as captured
    view = conversations.show(ws, "personal-1")
    assert view.messages[0].message.text == (
        "Mail me at [email] or call [phone] about my order 12345"
    )
    # Retention: 80 days later every seeded conversation is past 90 days.
    run_pull(ws, backends=with_changes(BACKENDS, clock=lambda: seed.NOW + timedelta(days=80)))
    assert count(ws, "conversations") == 0 and count(ws, "conversation_leads") == 0
    path = ws.path
    ws.close()
    data = path.read_bytes()
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    assert b"jo.visitor" not in data  # neither the masked text nor the deleted lead
    assert b"Oslo" not in data and b"oslo" not in data  # messages and their FTS tokens
    conn = apsw.Connection(str(path))
    hits = conn.execute(
        "select count(*) from conversation_messages_fts"
        " where conversation_messages_fts match 'oslo'"
    ).fetchall()
    conn.close()
    assert hits == [(0,)]


def test_masking_can_be_switched_off(ws: Workspace) -> None:
    conversations.set_privacy(ws, mask=False)
    run_pull(ws)
    text = conversations.show(ws, "personal-1").messages[0].message.text
    assert seed.EMAIL in text and seed.PHONE in text


def test_html_and_a_huge_message_are_kept_as_text(ws: Workspace) -> None:
    summary = run_pull(ws)
    assert summary.truncated == 1
    html = conversations.show(ws, "html-1").messages[0].message
    assert html.text == seed.HTML_TEXT
    big = conversations.show(ws, "big-1").messages[0].message
    assert big.truncated and len(big.text) == 32_000


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("401", "rejected the publish token (HTTP 401)"),
        ("500", "HTTP 500, 2 attempts"),
    ],
)
def test_endpoint_errors_are_plain_and_keep_what_was_saved(
    ws: Workspace, receiver: Receiver, fault: str, expected: str
) -> None:
    run_pull(ws)
    stored = count(ws, "conversations")
    for _ in range(2):
        receiver.fault("GET", fault)
    with pytest.raises(PublishError) as failure:
        run_pull(ws)
    assert expected in str(failure.value) and TOKEN not in str(failure.value)
    assert count(ws, "conversations") == stored


def test_429_is_retried_after_retry_after(ws: Workspace, receiver: Receiver) -> None:
    receiver.fault("GET", "429", retry_after="0")
    summary = run_pull(ws)
    assert summary.new == len(seed.seeded_conversations()) - 2


def test_filters_and_full_text_search(ws: Workspace) -> None:
    run_pull(ws)
    declined = {c.id for c in conversations.list_conversations(ws, kind="declined")}
    assert {"norway-0", "gift-2", "html-1", "big-1"} <= declined and "fill-001" not in declined
    assert {c.id for c in conversations.list_conversations(ws, kind="down")} == {
        "norway-3",
        "gone-1",
    }
    assert {c.id for c in conversations.list_conversations(ws, kind="lead")} == {"personal-1"}
    uncited = {c.id for c in conversations.list_conversations(ws, kind="uncited")}
    assert uncited == {"norway-3"}  # gone-1 cited a passage, even one that is gone now
    rel2 = conversations.list_conversations(ws, release_id="rel-2")
    assert rel2 and all(c.release_id == "rel-2" for c in rel2)
    assert {c.id for c in conversations.list_conversations(ws, text="Norway")} >= {
        "norway-0",
        "norway-2",
    }
    assert conversations.list_conversations(ws, text='"; drop table') == []
    assert conversations.list_conversations(ws, since="2099-01-01") == []


def test_forget_deletes_here_and_on_the_service(ws: Workspace, receiver: Receiver) -> None:
    run_pull(ws)
    result = asyncio.run(conversations.forget(ws, "personal-1", backends=BACKENDS))
    assert result.deleted_on_service and receiver.store.forgotten == ["personal-1"]
    assert "personal-1" not in receiver.store.conversations
    assert count(ws, "conversations where remote_id = 'personal-1'") == 0
    assert count(ws, "conversation_erasures") == 0


def test_forget_when_the_service_fails_is_retried_at_the_next_pull(
    ws: Workspace, receiver: Receiver
) -> None:
    run_pull(ws)
    receiver.fault("DELETE", "500")
    receiver.fault("DELETE", "500")
    result = asyncio.run(conversations.forget(ws, "gift-1", backends=BACKENDS))
    assert not result.deleted_on_service and "HTTP 500" in result.service_error
    assert count(ws, "conversations where remote_id = 'gift-1'") == 0
    # The service still serves it; it grows; the next pull sends the DELETE, never stores it.
    entry = next(e for e in seed.seeded_conversations() if e["id"] == "gift-1")
    receiver.put_conversation(seed.grown(entry, "still there?", seed.NOW - timedelta(hours=2)))
    summary = run_pull(ws)
    assert summary.erasures_sent == 1 and receiver.store.forgotten == ["gift-1"]
    assert count(ws, "conversations where remote_id = 'gift-1'") == 0


def test_to_test_prefills_expectations(ws: Workspace, tmp_path: Path) -> None:
    sample_workspace(ws, str(tmp_path))
    run_pull(ws)
    declined = conversations.proposed_test(ws, "norway-0")
    assert declined.question == "Do you ship to Norway?" and declined.should_decline is False
    uncited = conversations.proposed_test(ws, "norway-3")
    assert uncited.should_decline is True
    sourced = conversations.proposed_test(ws, "fill-001")
    assert sourced.expected_source == "https://example.com/shipping"
    question, report = conversations.add_to_test_set(ws, "norway-0")
    assert report.added == 1
    from desktop.services import answers

    assert [q.question for q in answers.list_questions(ws)] == [question.question]


def test_cited_passages_as_they_are_now(ws: Workspace, tmp_path: Path) -> None:
    ids = sample_workspace(ws, str(tmp_path)).ids
    assert ids["shipping"] == 1
    # Release rel-1 as this workspace published it, holding the shipping passage.
    ws.execute(
        "insert into publish_releases(endpoint, bot_id, release_id, version, status,"
        " bundle_sha256, created_at) values ('x', 'acme', 'rel-1', 1, 'published', 'h', 'now')"
    )
    release_row = ws.last_insert_id()
    ws.execute(
        "insert into publish_release_passages(release_row_id, passage_id, text_hash)"
        " values (?, ?, 'old-hash')",
        (release_row, ids["shipping"]),
    )
    run_pull(ws)
    edited = conversations.show(ws, "fill-001").messages[1].cited[0]
    assert edited.change == "edited" and edited.text.startswith("Shipping is free")
    unknown = conversations.show(ws, "fill-000").messages[1].cited[0]  # rel-2: not ours
    assert unknown.change == "unknown"
    gone = conversations.show(ws, "gone-1").messages[1].cited[0]
    assert gone.change == "removed" and gone.text == ""
    ws.execute("update passages set excluded = 1 where id = ?", (ids["shipping"],))
    assert conversations.show(ws, "fill-001").messages[1].cited[0].change == "excluded"


def test_release_stats(ws: Workspace) -> None:
    run_pull(ws)
    stats = {s.release_id: s for s in conversations.release_stats(ws)}
    rel2 = stats["rel-2"]
    assert rel2.conversations == 20 and rel2.cited_pct == 100.0 and rel2.declined_pct == 0.0
    rel1 = stats["rel-1"]
    assert rel1.declined_pct > 0 and rel1.down_pct > 0


def test_leads_csv_neutralises_formulas(ws: Workspace, tmp_path: Path) -> None:
    run_pull(ws)
    out = tmp_path / "leads.csv"
    assert conversations.export_leads_csv(ws, out) == 1
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0]["email"] == seed.EMAIL and rows[0]["company"] == "'=HYPERLINK(1)"


class CountingEmbedder:
    """A deterministic embedder (tests/helpers/fake_embeddings) that counts its inputs."""

    spec = ModelSpec("ollama", "fake-embed")
    max_batch = 16
    max_input_tokens = 512

    def __init__(self) -> None:
        self.inputs = 0

    async def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        self.inputs += len(texts)
        return [embed_text(t, 64) for t in texts]


def test_gaps_group_failed_questions_largest_first(ws: Workspace) -> None:
    run_pull(ws)
    report = asyncio.run(conversations.find_gaps(ws, backends=BACKENDS))
    assert report.method == "keyword" and "no embedder" in report.note
    first = report.gaps[0]
    assert {q.conversation_id for q in first.questions} == {f"norway-{i}" for i in range(4)}
    assert "norway" in first.label.lower() and first.declined == 3 and first.down == 1
    gift = next(g for g in report.gaps if "gift" in g.label.lower())
    assert len(gift.questions) == 3


def test_gaps_with_the_embedder_use_the_cache(ws: Workspace) -> None:
    run_pull(ws)
    ws.set_setting("embedder", "ollama:fake-embed")
    embedder = CountingEmbedder()
    counted = test_backends(embedder=embedder)  # type: ignore[arg-type]
    report = asyncio.run(conversations.find_gaps(ws, backends=counted))
    assert report.method == "ollama:fake-embed" and embedder.inputs == report.questions
    norway = [sum(q.conversation_id.startswith("norway") for q in g.questions) for g in report.gaps]
    assert max(norway) >= 2
    again = asyncio.run(conversations.find_gaps(ws, backends=counted))
    assert embedder.inputs == report.questions  # all from the cache
    assert [len(g.questions) for g in again.gaps] == [len(g.questions) for g in report.gaps]


def test_nothing_of_the_conversations_goes_into_a_bundle(ws: Workspace, tmp_path: Path) -> None:
    sample_workspace(ws, str(tmp_path))
    run_pull(ws)
    built = publish.build_bundle(ws, tmp_path / "b.sqlite")
    data = built.path.read_bytes()
    assert b"Norway" not in data and seed.EMAIL.encode() not in data
