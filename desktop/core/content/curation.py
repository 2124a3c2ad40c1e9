"""Passages in the workspace: reconciling a new cut with the user's curation, and curating.

Identity across re-syncs is the chunk's source_hash: the same text keeps its passage id
and everything the user did to it. A curated passage (edited or excluded) whose source
text changed is re-pointed at the best-overlapping new chunk and flagged needs_review
with both texts; it is never overwritten or dropped. Manual passages are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from desktop.core.content.chunking import Chunk
from desktop.core.errors import SourceError
from desktop.core.store.workspace import Workspace, utc_now
from desktop.core.text import count_tokens, sha256_hex

# The contract's definition of a passage the bot may use (aliases p = passages,
# d = documents): not excluded, not removed, its document neither excluded nor removed.
INCLUDED_WHERE = "p.excluded = 0 and p.removed = 0 and d.excluded = 0 and d.status != 'removed'"

_WORD = re.compile(r"\w+", re.UNICODE)
REVIEW_MIN_OVERLAP = 0.3  # word-set Jaccard below which an old passage has no successor


@dataclass
class ReconcileResult:
    added: int = 0
    changed: int = 0
    removed: int = 0
    needs_review: int = 0


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _similarity(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass
class _Reconciling:
    """One document's new cut being matched against its old passages."""

    ws: Workspace
    now: str
    old_rows: list[dict[str, Any]]  # the document's chunker passages before the new cut
    used: set[int] = field(default_factory=set)  # ids of old passages that live on
    result: ReconcileResult = field(default_factory=ReconcileResult)


def reconcile(ws: Workspace, document_id: int, chunks: Sequence[Chunk]) -> ReconcileResult:
    """Replace a document's chunker passages with `chunks`, keeping curation.

    Call inside a transaction.
    """
    now = utc_now()
    old_rows = ws.fetch_all(
        "select * from passages where document_id = ? and origin = 'chunker' order by ordinal, id",
        (document_id,),
    )
    run = _Reconciling(ws, now, old_rows)
    unmatched = _keep_unchanged(run, chunks)
    remaining = _repoint_curated(run, unmatched)
    for ordinal, chunk in remaining:
        insert_passage(ws, document_id, chunk, ordinal=ordinal, now=run.now)
        run.result.added += 1
    _retire_unused(run)
    return run.result


def _is_curated(row: dict[str, Any]) -> bool:
    return row["edited_text"] is not None or bool(row["excluded"]) or bool(row["needs_review"])


def _keep_unchanged(run: _Reconciling, chunks: Sequence[Chunk]) -> list[tuple[int, Chunk]]:
    """Old passages whose source text is a new chunk's take its place (a removed one comes
    back); the chunks with no such passage, with their ordinals."""
    by_hash: dict[str, list[dict[str, Any]]] = {}
    for row in run.old_rows:
        by_hash.setdefault(row["source_hash"], []).append(row)
    unmatched: list[tuple[int, Chunk]] = []
    for ordinal, chunk in enumerate(chunks):
        candidates = by_hash.get(sha256_hex(chunk.text), [])
        match = next((row for row in candidates if row["id"] not in run.used), None)
        if match is None:
            unmatched.append((ordinal, chunk))
            continue
        run.used.add(match["id"])
        if match["removed"]:
            run.result.added += 1
        run.ws.execute(
            "update passages set ordinal = ?, heading_path = ?, page = ?, char_start = ?,"
            " char_end = ?, removed = 0, updated_at = ? where id = ?",
            (
                ordinal,
                chunk.heading_path,
                chunk.page,
                chunk.char_start,
                chunk.char_end,
                run.now,
                match["id"],
            ),
        )
    return unmatched


def _repoint_curated(
    run: _Reconciling, unmatched: list[tuple[int, Chunk]]
) -> list[tuple[int, Chunk]]:
    """Curated passages whose source changed: each is re-pointed at its best-overlapping
    successor chunk and flagged for review. The chunks no passage took."""
    curated = [
        row
        for row in run.old_rows
        if row["id"] not in run.used and not row["removed"] and _is_curated(row)
    ]
    remaining = list(unmatched)
    for row in curated:
        best = _successor(row, remaining)
        if best is None:
            continue
        remaining.remove(best)
        ordinal, chunk = best
        run.used.add(row["id"])
        run.ws.execute(
            "update passages set ordinal = ?, heading_path = ?, page = ?, char_start = ?,"
            " char_end = ?, source_hash = ?, review_source_text = ?, needs_review = 1,"
            " removed = 0, updated_at = ? where id = ?",
            (
                ordinal,
                chunk.heading_path,
                chunk.page,
                chunk.char_start,
                chunk.char_end,
                sha256_hex(chunk.text),
                chunk.text,
                run.now,
                row["id"],
            ),
        )
        run.result.changed += 1
        run.result.needs_review += 1
    return remaining


def _successor(
    row: dict[str, Any], chunks: Sequence[tuple[int, Chunk]]
) -> tuple[int, Chunk] | None:
    """The chunk sharing most words with the passage's old source, if enough of them."""
    old_words = _words(row["source_text"])
    best, best_score = None, 0.0
    for item in chunks:
        score = _similarity(old_words, _words(item[1].text))
        if score > best_score:
            best, best_score = item, score
    if best is None or best_score < REVIEW_MIN_OVERLAP:
        return None
    return best


def _retire_unused(run: _Reconciling) -> None:
    """Old passages with no place in the new cut: deleted, or kept out of the index when
    the user curated them."""
    for row in run.old_rows:
        if row["id"] in run.used or row["removed"]:
            continue
        run.result.removed += 1
        if _is_curated(row):
            # The user's work stays on file, out of the index.
            run.ws.execute(
                "update passages set removed = 1, updated_at = ? where id = ?", (run.now, row["id"])
            )
        else:
            run.ws.execute("delete from passages where id = ?", (row["id"],))


def insert_passage(
    ws: Workspace,
    document_id: int,
    chunk: Chunk,
    *,
    ordinal: int,
    now: str,
    origin: str = "chunker",
) -> int:
    text_hash = sha256_hex(chunk.text)
    ws.execute(
        "insert into passages(document_id, ordinal, origin, heading_path, page, char_start,"
        " char_end, source_text, source_hash, text, text_hash, tokens, created_at, updated_at)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            document_id,
            ordinal,
            origin,
            chunk.heading_path,
            chunk.page,
            chunk.char_start if origin == "chunker" else None,
            chunk.char_end if origin == "chunker" else None,
            chunk.text,
            text_hash,
            chunk.text,
            text_hash,
            chunk.tokens,
            now,
            now,
        ),
    )
    return ws.last_insert_id()


def mark_document_removed(ws: Workspace, document_id: int) -> int:
    """A gone page: its passages leave the index (kept on file for the user's curation)."""
    n = int(
        ws.scalar(
            "select count(*) from passages where document_id = ? and removed = 0", (document_id,)
        )
    )
    ws.execute(
        "update passages set removed = 1, updated_at = ? where document_id = ? and removed = 0",
        (utc_now(), document_id),
    )
    return n


# -- curation --------------------------------------------------------------------------
def _passage(ws: Workspace, passage_id: int) -> dict[str, Any]:
    row = ws.fetch_one("select * from passages where id = ?", (passage_id,))
    if row is None:
        raise SourceError(f"No passage with id {passage_id}.")
    return row


def edit_passage(ws: Workspace, passage_id: int, text: str) -> None:
    """The user's text replaces the chunker's; editing back to the source text un-edits."""
    text = text.strip()
    if not text:
        raise SourceError("A passage cannot be empty.", hint="Exclude it instead.")
    row = _passage(ws, passage_id)
    edited = None if (text == row["source_text"] and row["origin"] == "chunker") else text
    if row["origin"] == "manual":
        ws.execute(
            "update passages set source_text = ?, source_hash = ?, text = ?, text_hash = ?,"
            " tokens = ?, updated_at = ? where id = ?",
            (
                text,
                sha256_hex(text),
                text,
                sha256_hex(text),
                count_tokens(text),
                utc_now(),
                passage_id,
            ),
        )
        return
    ws.execute(
        "update passages set edited_text = ?, text = ?, text_hash = ?, tokens = ?, updated_at = ?"
        " where id = ?",
        (edited, text, sha256_hex(text), count_tokens(text), utc_now(), passage_id),
    )


def set_excluded(ws: Workspace, passage_ids: Sequence[int], excluded: bool) -> int:
    count = 0
    with ws.transaction():
        for passage_id in passage_ids:
            _passage(ws, passage_id)
            ws.execute(
                "update passages set excluded = ?, updated_at = ? where id = ?",
                (int(excluded), utc_now(), passage_id),
            )
            count += 1
    return count


def add_manual(ws: Workspace, document_id: int, text: str, heading_path: str = "") -> int:
    text = text.strip()
    if not text:
        raise SourceError("A passage cannot be empty.")
    if ws.fetch_one("select id from documents where id = ?", (document_id,)) is None:
        raise SourceError(f"No document with id {document_id}.")
    ordinal = int(
        ws.scalar(
            "select coalesce(max(ordinal), -1) + 1 from passages where document_id = ?",
            (document_id,),
        )
    )
    chunk = Chunk(text, heading_path, None, 0, 0, count_tokens(text))
    return insert_passage(ws, document_id, chunk, ordinal=ordinal, now=utc_now(), origin="manual")


def resolve_review(ws: Workspace, passage_id: int, keep: Literal["edit", "source"]) -> None:
    """Settle a needs_review passage: keep the user's edit, or take the new source text."""
    row = _passage(ws, passage_id)
    if not row["needs_review"]:
        raise SourceError(f"Passage {passage_id} does not need review.")
    new_source = row["review_source_text"] or row["source_text"]
    now = utc_now()
    if keep == "edit" and row["edited_text"] is not None:
        ws.execute(
            "update passages set source_text = ?, source_hash = ?, review_source_text = null,"
            " needs_review = 0, updated_at = ? where id = ?",
            (new_source, sha256_hex(new_source), now, passage_id),
        )
        return
    if keep not in ("edit", "source"):
        raise SourceError(f"keep must be 'edit' or 'source', not {keep!r}.")
    ws.execute(
        "update passages set source_text = ?, source_hash = ?, edited_text = null, text = ?,"
        " text_hash = ?, tokens = ?, review_source_text = null, needs_review = 0,"
        " updated_at = ? where id = ?",
        (
            new_source,
            sha256_hex(new_source),
            new_source,
            sha256_hex(new_source),
            count_tokens(new_source),
            now,
            passage_id,
        ),
    )
