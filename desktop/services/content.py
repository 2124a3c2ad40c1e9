"""Content services: sync, documents, passages and their curation (UI and CLI call these).

Every function takes the open Workspace first. Values returned are the plain dataclasses
of desktop.core.content.models. A passage the bot may use is one of
`INCLUDED_PASSAGES_SQL` (not excluded, not removed, its document neither excluded nor
removed); its effective text is `passages.text`, and `passages.text_hash` keys the
embedding cache. Sources, their settings and the previews of them: content_sources.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from desktop.core.content import boilerplate, curation, queries
from desktop.core.content import sync as content_sync
from desktop.core.content.curation import INCLUDED_WHERE
from desktop.core.content.models import (
    BoilerplateGroup,
    ContentStats,
    DocumentDetail,
    DocumentInfo,
    PassageInfo,
    SyncSummary,
)
from desktop.core.content.source_settings import excluded_url_patterns
from desktop.core.errors import SourceError
from desktop.core.index.query import ALL_WORDS, fts_query
from desktop.core.jobs import Job
from desktop.core.publish import passage_checks
from desktop.core.publish.passage_checks import FlaggedPassage
from desktop.core.store.lock import WorkspaceLock
from desktop.core.store.workspace import Workspace, utc_now
from desktop.services import index
from desktop.services.backends import Backends

INCLUDED_PASSAGES_SQL = f"""
select p.* from passages p join documents d on d.id = p.document_id
where {INCLUDED_WHERE}
"""


# -- sync ------------------------------------------------------------------------------
async def sync(
    ws: Workspace,
    job: Job,
    *,
    source_ids: Sequence[int] | None = None,
    backends: Backends,
) -> SyncSummary:
    """Fetch/read, extract, chunk and reconcile every source (or those given), incrementally,
    then embed the included passages that have no vector yet, with the workspace's embedder
    as `backends` make it.

    Each document commits alone: a cancel (CancelledError) keeps what was done, and the
    next sync resumes, skipping what is unchanged.
    """
    # Raises WorkspaceBusyError ("a sync of this workspace is already running (pid N, since
    # HH:MM)") while another process runs a long job on it; a refresh holding it goes on.
    ws.refuse_if_readonly()
    with WorkspaceLock.unless_held(ws.path, "sync"):
        summary = await content_sync.sync_workspace(
            ws, job, source_ids=source_ids, client=backends.site_http
        )
        # The embed stage: vectors for what changed (each batch commits; a cancel keeps them).
        embedded = await index.embed_pending(ws, job, backends=backends)
    job.finish(f"{summary.line()}; {embedded.line()}")
    return summary


# -- documents -------------------------------------------------------------------------
def list_documents(ws: Workspace, *, source_id: int | None = None) -> list[DocumentInfo]:
    return queries.documents(ws, source_id=source_id)


def get_document(ws: Workspace, document_id: int) -> DocumentDetail:
    found = queries.document(ws, document_id)
    if found is None:
        raise SourceError(f"No document with id {document_id}.")
    return found


def exclude_document(ws: Workspace, document_id: int, excluded: bool = True) -> None:
    """Keep a whole document out of (or back in) the bot's knowledge."""
    get_document(ws, document_id)
    with ws.transaction():
        ws.execute(
            "update documents set excluded = ?, updated_at = ? where id = ?",
            (int(excluded), utc_now(), document_id),
        )


def exclude_url_pattern(ws: Workspace, pattern: str) -> int:
    """Exclude every document whose URL or path matches a glob, now and in future syncs."""
    pattern = pattern.strip()
    if not pattern:
        raise SourceError("The URL pattern is empty.")
    patterns = excluded_url_patterns(ws)
    if pattern not in patterns:
        patterns.append(pattern)
        ws.set_setting("excluded_url_patterns", patterns)
    return content_sync.apply_url_patterns(ws)


# -- passages --------------------------------------------------------------------------
def list_passages(
    ws: Workspace,
    *,
    document_id: int | None = None,
    state: str | None = None,
    query: str | None = None,
    include_removed: bool = False,
) -> list[PassageInfo]:
    """Passages in document order; state filters by included/excluded/edited/needs_review
    (or "boilerplate"); query is a full-text search (FTS5, best match first)."""
    match = None
    if query and query.strip():
        match = fts_query(query, ALL_WORDS)
        if not match:
            return []
    passages = queries.passages(
        ws, document_id=document_id, match=match, include_removed=include_removed
    )
    if state:
        if state == "boilerplate":
            return [p for p in passages if p.boilerplate]
        if state not in ("included", "excluded", "edited", "needs_review"):
            raise SourceError(
                f"Unknown state {state!r}.",
                hint="Use included, excluded, edited, needs_review or boilerplate.",
            )
        passages = [p for p in passages if p.state == state]
    return passages


def get_passage(ws: Workspace, passage_id: int) -> PassageInfo:
    found = queries.passage(ws, passage_id)
    if found is None:
        raise SourceError(f"No passage with id {passage_id}.")
    return found


def edit_passage(ws: Workspace, passage_id: int, text: str) -> PassageInfo:
    """Replace a passage's text with the user's (kept across re-syncs)."""
    with ws.transaction():
        curation.edit_passage(ws, passage_id, text)
    return get_passage(ws, passage_id)


def exclude_passages(ws: Workspace, ids: Sequence[int]) -> int:
    return curation.set_excluded(ws, ids, True)


def include_passages(ws: Workspace, ids: Sequence[int]) -> int:
    return curation.set_excluded(ws, ids, False)


def add_passage(
    ws: Workspace, document_id: int, text: str, *, heading_path: str = ""
) -> PassageInfo:
    """A passage written by hand under a document; never touched by a re-sync."""
    with ws.transaction():
        passage_id = curation.add_manual(ws, document_id, text, heading_path)
    return get_passage(ws, passage_id)


def resolve_review(
    ws: Workspace, passage_id: int, *, keep: Literal["edit", "source"]
) -> PassageInfo:
    """Settle a passage whose source changed under the user's curation."""
    with ws.transaction():
        curation.resolve_review(ws, passage_id, keep)
    return get_passage(ws, passage_id)


# -- boilerplate and stats -------------------------------------------------------------
def boilerplate_groups(ws: Workspace) -> list[BoilerplateGroup]:
    return boilerplate.groups(ws)


def exclude_boilerplate(ws: Workspace, group_key: str) -> int:
    """Exclude a whole group of repeated passages (and its future members)."""
    return boilerplate.exclude_group(ws, group_key)


def content_stats(ws: Workspace) -> ContentStats:
    return queries.stats(ws)


# -- undo (the inverses the window's undo stack needs) ----------------------------------
# Passage columns that curation changes; a snapshot of them restores a passage exactly.
_CURATION_COLUMNS = (
    "edited_text",
    "text",
    "text_hash",
    "tokens",
    "source_text",
    "source_hash",
    "review_source_text",
    "needs_review",
    "excluded",
)


def curation_snapshot(ws: Workspace, passage_id: int) -> dict[str, Any]:
    """What curation may change on a passage, to put back exactly (undo)."""
    row = ws.fetch_one(
        f"select {', '.join(_CURATION_COLUMNS)} from passages where id = ?", (passage_id,)
    )
    if row is None:
        raise SourceError(f"No passage with id {passage_id}.")
    return {key: row[key] for key in _CURATION_COLUMNS}


def restore_curation(ws: Workspace, passage_id: int, snapshot: dict[str, Any]) -> None:
    """Undo any curation since `snapshot` was taken (an edit, a settled review...)."""
    sets = ", ".join(f"{key} = ?" for key in _CURATION_COLUMNS)
    with ws.transaction():
        ws.execute(
            f"update passages set {sets}, updated_at = ? where id = ?",
            (*(snapshot[key] for key in _CURATION_COLUMNS), utc_now(), passage_id),
        )


def delete_added_passage(ws: Workspace, passage_id: int) -> None:
    """Take back a hand-written passage (never one the chunker made)."""
    with ws.transaction():
        ws.execute("delete from passages where id = ? and origin = 'manual'", (passage_id,))


def forget_setting_items(ws: Workspace, key: str, items: Sequence[str]) -> None:
    """Drop items from a remembered list (excluded URL patterns, boilerplate groups)."""
    kept = [value for value in ws.setting(key, []) if value not in items]
    with ws.transaction():
        ws.set_setting(key, kept)


# -- passages that address the model ---------------------------------------------------
def flagged_passages(ws: Workspace) -> list[FlaggedPassage]:
    """Included passages whose text addresses the model (prompt injection), with the words
    matched; the publish check 'model-address' warns about those not accepted."""
    return passage_checks.flagged_passages(ws)


def accept_flagged(ws: Workspace, passage_ids: Sequence[int]) -> int:
    """Accept these passages as harmless until their text changes; returns how many."""
    with ws.transaction():
        return passage_checks.accept_flagged(ws, list(passage_ids))
