"""Writing one pulled conversation into the workspace, and what was counted doing it.

A conversation is keyed by the service's id within a target: erased here (its DELETE still
pending) or older than the retention period, it is not stored; stored with the same or a
later `updated_at`, it is left alone; otherwise its row is inserted or replaced together
with its messages (cut, and masked when asked) and its lead. The caller
(`store.save_page`) holds the transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from desktop.core.conversations.masking import mask_personal
from desktop.core.conversations.protocol import Conversation, Lead, Message
from desktop.core.store.workspace import Workspace, utc_now

MAX_MESSAGE_CHARS = 32_000


@dataclass
class SaveCounts:
    new: int = 0
    updated: int = 0
    unchanged: int = 0  # already stored with the same or a later updated_at
    expired: int = 0  # older than the retention period: not stored (or deleted)
    truncated: int = 0  # messages cut to MAX_MESSAGE_CHARS
    forgotten: int = 0  # forgotten here, the service's DELETE still pending: not stored

    def add(self, other: SaveCounts) -> None:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)


def save_conversation(
    ws: Workspace, target: str, conversation: Conversation, *, mask: bool, cutoff: str
) -> SaveCounts:
    """Store one conversation unless it is erased, expired or unchanged; what happened."""
    if _erased_here(ws, target, conversation.id):
        return SaveCounts(forgotten=1)
    existing = ws.fetch_one(
        "select id, updated_at from conversations where target = ? and remote_id = ?",
        (target, conversation.id),
    )
    if conversation.updated_at < cutoff:
        if existing is not None:
            ws.execute("delete from conversations where id = ?", (existing["id"],))
        return SaveCounts(expired=1)
    if existing is not None and existing["updated_at"] >= conversation.updated_at:
        return SaveCounts(unchanged=1)
    if existing is None:
        row_id = _insert_conversation(ws, target, conversation)
        counts = SaveCounts(new=1)
    else:
        row_id = int(existing["id"])
        _replace_conversation(ws, row_id, conversation)
        counts = SaveCounts(updated=1)
    counts.truncated = _insert_messages(ws, row_id, conversation.messages, mask=mask)
    if conversation.lead is not None:
        _insert_lead(ws, row_id, conversation.lead)
    return counts


def _erased_here(ws: Workspace, target: str, remote_id: str) -> bool:
    return bool(
        ws.scalar(
            "select 1 from conversation_erasures where target = ? and remote_id = ?",
            (target, remote_id),
        )
    )


def _counts(conversation: Conversation) -> dict[str, int]:
    answers = [m for m in conversation.messages if m.role == "assistant"]
    return {
        "messages": len(conversation.messages),
        "questions": len(conversation.messages) - len(answers),
        "answers": len(answers),
        "declined": sum(m.declined for m in answers),
        "down": sum(m.feedback == "down" for m in answers),
        "cited": sum(bool(m.citations) for m in answers),
        "uncited": sum(not m.declined and not m.citations for m in answers),
    }


def _row_columns(conversation: Conversation) -> tuple[list[str], tuple[Any, ...]]:
    """The conversations row's columns (without target and remote_id) and their values."""
    numbers = _counts(conversation)
    columns = ["started_at", "updated_at", "release_id", "page_url", *numbers, "pulled_at"]
    values = (
        conversation.started_at,
        conversation.updated_at,
        conversation.release_id,
        conversation.page_url,
        *numbers.values(),
        utc_now(),
    )
    return columns, values


def _insert_conversation(ws: Workspace, target: str, conversation: Conversation) -> int:
    columns, values = _row_columns(conversation)
    ws.execute(
        f"insert into conversations(target, remote_id, {', '.join(columns)})"
        f" values (?, ?, {', '.join('?' * len(values))})",
        (target, conversation.id, *values),
    )
    return ws.last_insert_id()


def _replace_conversation(ws: Workspace, row_id: int, conversation: Conversation) -> None:
    """Update the row; its messages and lead go, to be inserted again as they are now."""
    columns, values = _row_columns(conversation)
    assignments = ", ".join(f"{c} = ?" for c in columns)
    ws.execute(f"update conversations set {assignments} where id = ?", (*values, row_id))
    ws.execute("delete from conversation_messages where conversation_id = ?", (row_id,))
    ws.execute("delete from conversation_leads where conversation_id = ?", (row_id,))


def _stored_text(text: str, role: str, mask: bool) -> tuple[str, bool]:
    cut = len(text) > MAX_MESSAGE_CHARS
    if cut:
        text = text[:MAX_MESSAGE_CHARS]
    if mask and role == "visitor":
        text = mask_personal(text)
    return text, cut


def _insert_messages(ws: Workspace, row_id: int, messages: Sequence[Message], *, mask: bool) -> int:
    """Insert the messages in order; how many were cut to MAX_MESSAGE_CHARS."""
    rows = []
    truncated = 0
    for ordinal, message in enumerate(messages):
        text, cut = _stored_text(message.text, message.role, mask)
        truncated += cut
        rows.append(
            (
                row_id,
                ordinal,
                message.id,
                message.role,
                text,
                message.at,
                int(message.declined),
                message.feedback,
                json.dumps([c.to_json() for c in message.citations]),
                message.latency_ms,
                message.prompt_tokens,
                message.completion_tokens,
                int(cut),
            )
        )
    ws.conn.executemany(
        "insert into conversation_messages(conversation_id, ordinal, remote_id, role, text, at,"
        " declined, feedback, citations, latency_ms, prompt_tokens, completion_tokens, truncated)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return truncated


def _insert_lead(ws: Workspace, row_id: int, lead: Lead) -> None:
    ws.execute(
        "insert into conversation_leads(conversation_id, name, email, phone, company, message)"
        " values (?, ?, ?, ?, ?, ?)",
        (row_id, lead.name, lead.email, lead.phone, lead.company, lead.message),
    )
