"""Conversations in the workspace: save a pulled page, retention, filters, leads, forget.

A page is saved in one transaction together with the cursor that follows it, so a pull that
stops anywhere resumes after the last page it saved, and saving the same page twice changes
nothing (conversations are keyed by the service's id; a later `updated_at` replaces one).
Writing one conversation (what is stored, replaced or skipped) is in `saving`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from desktop.core.conversations.masking import MASK_SETTING
from desktop.core.conversations.protocol import Citation, Conversation, Lead
from desktop.core.conversations.saving import SaveCounts, save_conversation
from desktop.core.errors import ConfigError
from desktop.core.index.query import ALL_WORDS, fts_query
from desktop.core.store.workspace import Workspace, utc_now

RETENTION_SETTING = "conversations_retention_days"
DEFAULT_RETENTION_DAYS = 90
FILTERS = ("all", "declined", "down", "uncited", "lead")
FilterKind = Literal["all", "declined", "down", "uncited", "lead"]
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def target_key(endpoint: str, bot_id: str) -> str:
    return f"{endpoint} {bot_id}"


# -- settings ----------------------------------------------------------------------------
def masking_enabled(ws: Workspace) -> bool:
    return bool(ws.setting(MASK_SETTING, True))


def retention_days(ws: Workspace) -> int:
    value = ws.setting(RETENTION_SETTING, DEFAULT_RETENTION_DAYS)
    return int(value) if isinstance(value, int) and value > 0 else DEFAULT_RETENTION_DAYS


def set_privacy(ws: Workspace, *, mask: bool | None = None, days: int | None = None) -> None:
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 1):
        raise ConfigError(f"The retention period is a number of days, 1 or more, not {days!r}.")
    with ws.transaction():
        if mask is not None:
            ws.set_setting(MASK_SETTING, bool(mask))
        if days is not None:
            ws.set_setting(RETENTION_SETTING, days)


def retention_cutoff(now: datetime, days: int) -> str:
    return (now - timedelta(days=days)).strftime(TIME_FORMAT)


@contextmanager
def secure_delete(ws: Workspace) -> Iterator[None]:
    """Deleted rows' bytes are overwritten while inside: visitors' words do not linger."""
    before = int(ws.scalar("pragma secure_delete") or 0)
    ws.execute("pragma secure_delete = on")
    try:
        yield
    finally:
        ws.execute(f"pragma secure_delete = {before:d}")


# -- saving ------------------------------------------------------------------------------
def save_page(
    ws: Workspace,
    target: str,
    conversations: Sequence[Conversation],
    cursor: str | None,
    *,
    mask: bool,
    cutoff: str,
) -> SaveCounts:
    """Store a page's conversations and the cursor after it, all in one transaction."""
    total = SaveCounts()
    with ws.transaction():
        for conversation in conversations:
            total.add(save_conversation(ws, target, conversation, mask=mask, cutoff=cutoff))
        if cursor is not None:
            ws.execute(
                "insert into conversation_pulls(target, cursor) values (?, ?)"
                " on conflict(target) do update set cursor = excluded.cursor",
                (target, cursor),
            )
    return total


def apply_retention(ws: Workspace, cutoff: str) -> int:
    """Delete conversations whose last activity is older than `cutoff`; how many."""
    with ws.transaction():
        count = int(
            ws.scalar("select count(*) from conversations where updated_at < ?", (cutoff,)) or 0
        )
        if count:
            ws.execute("delete from conversations where updated_at < ?", (cutoff,))
    return count


# -- pull state --------------------------------------------------------------------------
@dataclass(frozen=True)
class PullState:
    target: str
    cursor: str | None
    last_pull_at: str | None
    last_summary: dict[str, Any] = field(default_factory=dict)


def pull_state(ws: Workspace, target: str) -> PullState:
    row = ws.fetch_one("select * from conversation_pulls where target = ?", (target,))
    if row is None:
        return PullState(target, None, None)
    return PullState(target, row["cursor"], row["last_pull_at"], json.loads(row["last_summary"]))


def latest_pull(ws: Workspace) -> PullState | None:
    row = ws.fetch_one(
        "select * from conversation_pulls where last_pull_at is not null"
        " order by last_pull_at desc limit 1"
    )
    if row is None:
        return None
    return PullState(
        row["target"], row["cursor"], row["last_pull_at"], json.loads(row["last_summary"])
    )


def record_pull(ws: Workspace, target: str, summary: dict[str, Any]) -> None:
    with ws.transaction():
        ws.execute(
            "insert into conversation_pulls(target, last_pull_at, last_summary) values (?, ?, ?)"
            " on conflict(target) do update set last_pull_at = excluded.last_pull_at,"
            " last_summary = excluded.last_summary",
            (target, utc_now(), json.dumps(summary)),
        )


# -- reading -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ConversationSummary:
    id: str  # the service's id
    row_id: int
    target: str
    started_at: str
    updated_at: str
    release_id: str | None
    page_url: str | None
    messages: int
    questions: int
    answers: int
    declined: int
    down: int
    uncited: int
    cited: int
    has_lead: bool
    first_question: str  # the first visitor message, cut to 200 characters

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["row_id"]
        return data


@dataclass(frozen=True)
class MessageView:
    id: str
    ordinal: int
    role: str
    text: str
    at: str
    declined: bool
    feedback: str | None
    citations: tuple[Citation, ...]
    latency_ms: int | None
    prompt_tokens: int | None
    completion_tokens: int | None
    truncated: bool

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["citations"] = [c.to_json() for c in self.citations]
        return data


@dataclass(frozen=True)
class ConversationDetail:
    summary: ConversationSummary
    messages: tuple[MessageView, ...]
    lead: Lead | None


_SUMMARY_SQL = """
select c.*, (l.conversation_id is not null) as has_lead,
  (select substr(m.text, 1, 200) from conversation_messages m
    where m.conversation_id = c.id and m.role = 'visitor' order by m.ordinal limit 1)
    as first_question
from conversations c left join conversation_leads l on l.conversation_id = c.id
"""


def _summary(row: dict[str, Any]) -> ConversationSummary:
    return ConversationSummary(
        id=str(row["remote_id"]),
        row_id=int(row["id"]),
        target=str(row["target"]),
        started_at=str(row["started_at"]),
        updated_at=str(row["updated_at"]),
        release_id=row["release_id"],
        page_url=row["page_url"],
        messages=int(row["messages"]),
        questions=int(row["questions"]),
        answers=int(row["answers"]),
        declined=int(row["declined"]),
        down=int(row["down"]),
        uncited=int(row["uncited"]),
        cited=int(row["cited"]),
        has_lead=bool(row["has_lead"]),
        first_question=str(row["first_question"] or ""),
    )


@dataclass(frozen=True)
class ConversationFilter:
    kind: FilterKind = "all"
    release_id: str | None = None
    since: str | None = None  # ISO date or time, compared with updated_at
    until: str | None = None
    text: str | None = None  # full-text search in the messages
    limit: int | None = None


def list_conversations(ws: Workspace, filters: ConversationFilter) -> list[ConversationSummary]:
    """Newest activity first."""
    if filters.kind not in FILTERS:
        raise ConfigError(f"Unknown filter {filters.kind!r}.", hint=f"Use {', '.join(FILTERS)}.")
    where: list[str] = []
    params: list[Any] = []
    kind_sql = {
        "declined": "c.declined > 0",
        "down": "c.down > 0",
        "uncited": "c.uncited > 0",
        "lead": "l.conversation_id is not null",
    }
    if filters.kind != "all":
        where.append(kind_sql[filters.kind])
    if filters.release_id:
        where.append("c.release_id = ?")
        params.append(filters.release_id)
    if filters.since:
        where.append("c.updated_at >= ?")
        params.append(filters.since)
    if filters.until:
        where.append("substr(c.updated_at, 1, ?) <= ?")
        params.extend([len(filters.until), filters.until])
    if filters.text and filters.text.strip():
        where.append(
            "c.id in (select m.conversation_id from conversation_messages_fts f"
            " join conversation_messages m on m.id = f.rowid"
            " where conversation_messages_fts match ?)"
        )
        params.append(fts_query(filters.text, ALL_WORDS))
    sql = _SUMMARY_SQL + (" where " + " and ".join(where) if where else "")
    sql += " order by c.updated_at desc, c.id desc"
    if filters.limit:
        sql += f" limit {int(filters.limit):d}"
    return [_summary(r) for r in ws.fetch_all(sql, params)]


def _find_row(ws: Workspace, conversation_id: str) -> dict[str, Any]:
    row = ws.fetch_one(
        _SUMMARY_SQL + " where c.remote_id = ? order by c.updated_at desc limit 1",
        (conversation_id,),
    )
    if row is None:
        raise ConfigError(
            f"No conversation {conversation_id!r} in this workspace.",
            hint="List them with `botdesk conversations WS`; pull new ones first.",
        )
    return row


def _message_view(row: dict[str, Any]) -> MessageView:
    return MessageView(
        id=str(row["remote_id"]),
        ordinal=int(row["ordinal"]),
        role=str(row["role"]),
        text=str(row["text"]),
        at=str(row["at"]),
        declined=bool(row["declined"]),
        feedback=row["feedback"],
        citations=tuple(
            Citation(int(c.get("n") or 0), c.get("passage_id"), str(c.get("url") or ""))
            for c in json.loads(row["citations"])
        ),
        latency_ms=row["latency_ms"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        truncated=bool(row["truncated"]),
    )


def get_conversation(ws: Workspace, conversation_id: str) -> ConversationDetail:
    row = _find_row(ws, conversation_id)
    messages = ws.fetch_all(
        "select * from conversation_messages where conversation_id = ? order by ordinal",
        (row["id"],),
    )
    lead_row = ws.fetch_one(
        "select * from conversation_leads where conversation_id = ?", (row["id"],)
    )
    lead = None
    if lead_row is not None:
        lead = Lead(
            lead_row["name"],
            lead_row["email"],
            lead_row["phone"],
            lead_row["company"],
            lead_row["message"],
        )
    return ConversationDetail(_summary(row), tuple(_message_view(m) for m in messages), lead)


def delete_local(ws: Workspace, conversation_id: str) -> ConversationSummary:
    """Delete a conversation with its messages and lead (bytes overwritten) and note the
    erasure for the service until it confirms; returns what was deleted."""
    summary = _summary(_find_row(ws, conversation_id))
    with secure_delete(ws), ws.transaction():
        ws.execute("delete from conversations where id = ?", (summary.row_id,))
        ws.execute(
            "insert or ignore into conversation_erasures(target, remote_id, requested_at)"
            " values (?, ?, ?)",
            (summary.target, summary.id, utc_now()),
        )
    return summary


def pending_erasures(ws: Workspace, target: str) -> list[str]:
    rows = ws.fetch_all(
        "select remote_id from conversation_erasures where target = ? order by requested_at",
        (target,),
    )
    return [str(r["remote_id"]) for r in rows]


def erasure_done(ws: Workspace, target: str, conversation_id: str) -> None:
    ws.execute(
        "delete from conversation_erasures where target = ? and remote_id = ?",
        (target, conversation_id),
    )


# -- leads -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LeadRow:
    conversation_id: str
    updated_at: str
    page_url: str | None
    name: str
    email: str
    phone: str
    company: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


LEAD_COLUMNS = (
    "conversation_id",
    "updated_at",
    "page_url",
    "name",
    "email",
    "phone",
    "company",
    "message",
)


def list_leads(ws: Workspace) -> list[LeadRow]:
    rows = ws.fetch_all(
        "select c.remote_id, c.updated_at, c.page_url, l.* from conversation_leads l"
        " join conversations c on c.id = l.conversation_id order by c.updated_at desc, c.id desc"
    )
    return [
        LeadRow(
            str(r["remote_id"]),
            str(r["updated_at"]),
            r["page_url"],
            r["name"],
            r["email"],
            r["phone"],
            r["company"],
            r["message"],
        )
        for r in rows
    ]


# -- failed questions (for gaps) ---------------------------------------------------------
@dataclass(frozen=True)
class FailedQuestion:
    """A visitor's question whose answer declined or got a thumbs down."""

    conversation_id: str
    message_id: str
    text: str
    declined: bool
    down: bool
    release_id: str | None
    cited_passages: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["cited_passages"] = list(self.cited_passages)
        return data


def question_pairs(
    ws: Workspace, row_ids: Sequence[int] | None = None
) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """(a visitor message row, the assistant reply right after it or None), in order."""
    sql = (
        "select m.*, c.remote_id as conversation_remote_id, c.release_id"
        " from conversation_messages m join conversations c on c.id = m.conversation_id"
    )
    params: list[Any] = []
    if row_ids is not None:
        sql += " where c.id in (select value from json_each(?))"
        params.append(json.dumps(list(row_ids)))
    sql += " order by m.conversation_id, m.ordinal"
    pending: dict[str, Any] | None = None
    for row in ws.fetch_all(sql, params):
        if pending is not None and pending["conversation_id"] != row["conversation_id"]:
            yield pending, None
            pending = None
        if row["role"] == "visitor":
            if pending is not None:
                yield pending, None
            pending = row
        elif pending is not None:
            yield pending, row
            pending = None
    if pending is not None:
        yield pending, None


def failed_questions(ws: Workspace) -> list[FailedQuestion]:
    """Visitor questions answered by a decline or a thumbs down, oldest first."""
    row_ids = [
        int(r["id"])
        for r in ws.fetch_all("select id from conversations where declined > 0 or down > 0")
    ]
    found: list[FailedQuestion] = []
    for question, answer in question_pairs(ws, row_ids):
        if answer is None or not (answer["declined"] or answer["feedback"] == "down"):
            continue
        cited = tuple(
            int(c["passage_id"])
            for c in json.loads(answer["citations"])
            if isinstance(c.get("passage_id"), int)
        )
        found.append(
            FailedQuestion(
                conversation_id=str(question["conversation_remote_id"]),
                message_id=str(question["remote_id"]),
                text=str(question["text"]),
                declined=bool(answer["declined"]),
                down=answer["feedback"] == "down",
                release_id=question["release_id"],
                cited_passages=cited,
            )
        )
    return found
