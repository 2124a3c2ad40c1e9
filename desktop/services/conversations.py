"""Conversations as the UI and the CLI use them: pull, list, show, to-test, forget, gaps, leads.

The hosted bot's conversations come back through the publish client (same endpoint, bot id
and token as publishing; the same retries and messages). Visitors' words stay in the
workspace, masked by default, kept for the retention period, and never put in a bundle.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop.core.answering.testbench import ImportReport, TestQuestion
from desktop.core.content.models import SourceInfo
from desktop.core.conversations import gaps as gaps_core
from desktop.core.conversations import pull as pull_core
from desktop.core.conversations import store
from desktop.core.conversations.gaps import Gap
from desktop.core.conversations.protocol import Lead
from desktop.core.conversations.pull import PullSummary
from desktop.core.conversations.stats import (
    CitedPassage,
    ReleaseStats,
    cited_passages,
    release_stats,
)
from desktop.core.conversations.store import (
    ConversationFilter,
    ConversationSummary,
    FailedQuestion,
    LeadRow,
    MessageView,
    PullState,
)
from desktop.core.errors import BotdeskError, ConfigError
from desktop.core.index import store as index_store
from desktop.core.index.embed import truncate_to_tokens
from desktop.core.jobs import Job
from desktop.core.model_specs import ModelSpec
from desktop.core.publish import client as client_core
from desktop.core.store.workspace import Workspace
from desktop.core.text import sha256_hex
from desktop.providers.base import Embedder
from desktop.services import answers, content, content_sources, publish
from desktop.services.backends import Backends

__all__ = [
    "ConversationFilter",
    "ConversationSummary",
    "ConversationView",
    "FailedQuestion",
    "ForgetResult",
    "Gap",
    "GapReport",
    "LeadRow",
    "PullState",
    "PullSummary",
    "ReleaseStats",
    "ThreadMessage",
    "add_qa_passage",
    "add_to_test_set",
    "export_leads_csv",
    "find_gaps",
    "forget",
    "last_pull",
    "list_conversations",
    "list_leads",
    "proposed_test",
    "pull",
    "release_stats",
    "show",
]


# -- the endpoint ------------------------------------------------------------------------
def resolve_target(
    ws: Workspace, endpoint: str | None = None, bot_id: str | None = None
) -> tuple[str, str]:
    """The endpoint and bot id given, else the ones remembered for publishing."""
    saved_endpoint, saved_bot = publish.get_target(ws)
    chosen_endpoint, chosen_bot = endpoint or saved_endpoint, bot_id or saved_bot
    if not chosen_endpoint or not chosen_bot:
        raise ConfigError(
            "No endpoint or bot id to pull conversations from.",
            hint="Publish once, or pass --endpoint URL --bot-id ID.",
        )
    return client_core.normalize_endpoint(chosen_endpoint), chosen_bot


# -- pulling -----------------------------------------------------------------------------
async def pull(
    ws: Workspace,
    job: Job | None = None,
    *,
    endpoint: str | None = None,
    bot_id: str | None = None,
    backends: Backends,
    page_size: int = 100,
) -> PullSummary:
    """Pull what changed since the last pull (a job: progress per page, cancellable).
    Retention counts from `backends.now()`."""
    job = job or Job("Pull conversations")
    endpoint, bot_id = resolve_target(ws, endpoint, bot_id)
    api = backends.publish_client(endpoint, bot_id)
    target = store.target_key(endpoint, bot_id)
    return await pull_core.pull(
        ws, api, job, target=target, page_size=page_size, now=backends.now()
    )


def last_pull(ws: Workspace) -> PullState | None:
    """When the last complete pull ran and what it brought (None before the first)."""
    return store.latest_pull(ws)


def privacy_settings(ws: Workspace) -> tuple[bool, int]:
    """(mask e-mail and phone in visitor text, retention in days)."""
    return store.masking_enabled(ws), store.retention_days(ws)


def set_privacy(
    ws: Workspace, *, mask: bool | None = None, retention_days: int | None = None
) -> None:
    store.set_privacy(ws, mask=mask, days=retention_days)


# -- reading -----------------------------------------------------------------------------
def list_conversations(
    ws: Workspace,
    *,
    kind: str = "all",
    release_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    text: str | None = None,
    limit: int | None = None,
) -> list[ConversationSummary]:
    """Newest first; kind is all, declined, down, uncited (answered without a citation) or
    lead; `text` is a full-text search of the messages."""
    filters = ConversationFilter(kind, release_id, since, until, text, limit)  # type: ignore[arg-type]
    return store.list_conversations(ws, filters)


@dataclass(frozen=True)
class ThreadMessage:
    """A message of the thread, with an answer's cited passages as they are now."""

    message: MessageView
    cited: tuple[CitedPassage, ...]

    def to_json(self) -> dict[str, Any]:
        data = self.message.to_json()
        data["cited_passages"] = [c.to_json() for c in self.cited]
        return data


@dataclass(frozen=True)
class ConversationView:
    summary: ConversationSummary
    messages: tuple[ThreadMessage, ...]
    lead: Lead | None

    def to_json(self) -> dict[str, Any]:
        data = self.summary.to_json()
        data["messages"] = [m.to_json() for m in self.messages]
        data["lead"] = None if self.lead is None else self.lead.__dict__.copy()
        return data


def show(ws: Workspace, conversation_id: str) -> ConversationView:
    detail = store.get_conversation(ws, conversation_id)
    release = detail.summary.release_id
    thread = tuple(
        ThreadMessage(m, tuple(cited_passages(ws, release, m.citations))) for m in detail.messages
    )
    return ConversationView(detail.summary, thread, detail.lead)


def _question_and_answer(
    view: ConversationView, message_id: str | None
) -> tuple[MessageView, MessageView | None]:
    messages = [m.message for m in view.messages]
    pairs: list[tuple[MessageView, MessageView | None]] = []
    for index, message in enumerate(messages):
        if message.role != "visitor":
            continue
        after = messages[index + 1] if index + 1 < len(messages) else None
        pairs.append((message, after if after is not None and after.role == "assistant" else None))
    if not pairs:
        raise ConfigError(f"Conversation {view.summary.id} has no visitor question.")
    if message_id is not None:
        for pair in pairs:
            if pair[0].id == message_id:
                return pair
        raise ConfigError(
            f"No visitor message {message_id!r} in conversation {view.summary.id}.",
            hint="`botdesk conversations show WS ID --json` lists the message ids.",
        )
    for pair in pairs:  # the first question that went wrong, else the first question
        if pair[1] is not None and (pair[1].declined or pair[1].feedback == "down"):
            return pair
    return pairs[0]


def proposed_test(
    ws: Workspace, conversation_id: str, message_id: str | None = None
) -> TestQuestion:
    """A test question from a visitor's question, expectations taken from what happened:
    declined -> it should answer; answered with no citation -> it should decline; answered
    from sources (no thumbs down) -> those sources are expected."""
    view = show(ws, conversation_id)
    question, answer = _question_and_answer(view, message_id)
    text = " ".join(question.text.split())[:2000]
    if answer is None:
        return TestQuestion(text)
    if answer.declined:
        return TestQuestion(text, should_decline=False)
    if not answer.citations:
        return TestQuestion(text, should_decline=True)
    if answer.feedback == "down":
        return TestQuestion(text)
    urls = sorted({c.url for c in answer.citations if c.url})
    sources = urls or [f"#{c.passage_id}" for c in answer.citations if c.passage_id is not None]
    return TestQuestion(text, expected_source="|".join(sources), should_decline=False)


def add_to_test_set(
    ws: Workspace,
    conversation_id: str,
    message_id: str | None = None,
    *,
    question: TestQuestion | None = None,
) -> tuple[TestQuestion, ImportReport]:
    """Save the proposed test question (or the edited `question`) in the test set."""
    chosen = question or proposed_test(ws, conversation_id, message_id)
    return chosen, answers.add_question(ws, chosen)


# -- forgetting --------------------------------------------------------------------------
@dataclass(frozen=True)
class ForgetResult:
    conversation_id: str
    deleted_here: bool
    deleted_on_service: bool
    service_error: str = ""  # why the service was not told; retried at the next pull

    def line(self) -> str:
        if self.deleted_on_service:
            return f"Forgot conversation {self.conversation_id} here and on the service."
        return (
            f"Forgot conversation {self.conversation_id} here; the service could not be told "
            f"yet ({self.service_error}). The next pull asks again."
        )

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


async def forget(
    ws: Workspace,
    conversation_id: str,
    *,
    backends: Backends,
) -> ForgetResult:
    """Delete the conversation here (at once, whatever happens next), then ask the service."""
    summary = store.delete_local(ws, conversation_id)
    endpoint, _, bot_id = summary.target.rpartition(" ")
    try:
        api = backends.publish_client(endpoint, bot_id)
        await api.delete_conversation(summary.id)
    except BotdeskError as exc:
        return ForgetResult(summary.id, True, False, str(exc))
    with ws.transaction():
        store.erasure_done(ws, summary.target, summary.id)
    return ForgetResult(summary.id, True, True)


# -- gaps --------------------------------------------------------------------------------
@dataclass(frozen=True)
class GapReport:
    method: str  # "keyword" or the embedder, e.g. "ollama:all-minilm"
    note: str  # why keyword grouping was used, when it was
    questions: int
    gaps: list[Gap]

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "note": self.note,
            "questions": self.questions,
            "gaps": [g.to_json() for g in self.gaps],
        }


async def question_vectors(
    ws: Workspace, texts: Sequence[str], embedder: Embedder, ident: ModelSpec
) -> gaps_core.Matrix:
    """One vector per text, from the embedding cache where it has them (keyed by the text's
    hash, like passages); the rest embedded in batches and cached."""
    hashes = [sha256_hex(t) for t in texts]
    cached = index_store.cached_vectors(ws, ident, hashes)
    missing = sorted({h: t for h, t in zip(hashes, texts, strict=True) if h not in cached}.items())
    batch = max(1, embedder.max_batch)
    for start in range(0, len(missing), batch):
        part = missing[start : start + batch]
        inputs = [truncate_to_tokens(t, embedder.max_input_tokens) for _, t in part]
        vectors = await embedder.embed_batch([text for text, _ in inputs])
        if len(vectors) != len(part):
            raise ConfigError(f"{ident} returned {len(vectors)} vectors for {len(part)} texts.")
        checked = [
            (h, index_store.check_vector(v, None, ident), cut)
            for (h, _), v, (_, cut) in zip(part, vectors, inputs, strict=True)
        ]
        with ws.transaction():
            index_store.store_vectors(ws, ident, checked)
        cached.update({h: v for h, v, _ in checked})
    return gaps_core.normalise(np.stack([cached[h] for h in hashes]))


async def find_gaps(
    ws: Workspace,
    *,
    backends: Backends,
    use_embedder: bool = True,
) -> GapReport:
    """Declined or thumbs-down visitor questions grouped by meaning, largest group first."""
    questions = store.failed_questions(ws)
    ident = index_store.workspace_embedder(ws)
    if not questions:
        return GapReport("none", "", 0, [])
    if ident is None or not use_embedder:
        note = "" if not use_embedder else "the workspace has no embedder: grouped by shared words"
        return GapReport("keyword", note, len(questions), gaps_core.find_gaps(questions))
    try:
        chosen = backends.embedder(ident)
        vectors = await question_vectors(ws, [q.text for q in questions], chosen, ident)
    except BotdeskError as exc:
        note = f"grouped by shared words: the embedder failed ({exc.message})"
        return GapReport("keyword", note, len(questions), gaps_core.find_gaps(questions))
    return GapReport(str(ident), "", len(questions), gaps_core.find_gaps(questions, vectors))


def has_failed_questions(ws: Workspace) -> bool:
    """Whether any pulled answer declined or got a thumbs down (cheap: one indexed count)."""
    return bool(ws.scalar("select 1 from conversations where declined > 0 or down > 0 limit 1"))


def failed_questions(ws: Workspace) -> list[FailedQuestion]:
    return store.failed_questions(ws)


# -- fixes -------------------------------------------------------------------------------
async def add_qa_passage(
    ws: Workspace, question: str, answer: str, *, backends: Backends, job: Job | None = None
) -> SourceInfo:
    """A Q&A passage for a gap or a question (the content service's Q&A source), synced
    now so the bot can be given it at once; publish to make it live."""
    source = content_sources.add_qa(ws, question, answer)
    await content.sync(ws, job or Job("Add Q&A"), source_ids=[source.id], backends=backends)
    return content_sources.get_source(ws, source.id)


# -- leads -------------------------------------------------------------------------------
def list_leads(ws: Workspace) -> list[LeadRow]:
    return store.list_leads(ws)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str | None) -> str:
    # A lead is typed by a visitor: never let a spreadsheet run it as a formula.
    text = value or ""
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_leads_csv(ws: Workspace, path: Path | str) -> int:
    """Write the leads to a CSV file (UTF-8 with a BOM, for Excel); how many."""
    leads = store.list_leads(ws)
    path = Path(path)
    try:
        with path.open("w", encoding="utf-8-sig", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(store.LEAD_COLUMNS)
            for lead in leads:
                writer.writerow(
                    [_cell(str(v) if v is not None else "") for v in lead.to_json().values()]
                )
    except OSError as exc:
        raise ConfigError(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    return len(leads)


def release_label(stats: ReleaseStats) -> str:
    if stats.release_id is None:
        return "unknown release"
    return f"release {stats.version} ({stats.release_id})" if stats.version else stats.release_id
