"""Reading sources, documents and passages as the content models: the SQL and the row
mapping the services and the CLI/UI list from (services decide; this reads)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from desktop.core.content.curation import INCLUDED_WHERE
from desktop.core.content.models import (
    ContentStats,
    DocumentDetail,
    DocumentInfo,
    PassageInfo,
    PassageState,
    SourceInfo,
)
from desktop.core.content.source_settings import source_settings
from desktop.core.store.db import Row
from desktop.core.store.workspace import Workspace


# -- sources ---------------------------------------------------------------------------
def source_info(row: dict[str, Any]) -> SourceInfo:
    summary = json.loads(row["last_sync_summary"]) if row.get("last_sync_summary") else None
    return SourceInfo(
        id=row["id"],
        kind=row["kind"],
        location=row["location"],
        title=row["title"],
        settings=source_settings(row),
        created_at=row["created_at"],
        last_synced_at=row["last_synced_at"],
        documents=int(row.get("n_documents") or 0),
        passages=int(row.get("n_passages") or 0),
        last_sync_summary=summary,
    )


SOURCE_SQL = """
select s.*,
  (select count(*) from documents d where d.source_id = s.id and d.status != 'removed')
    as n_documents,
  (select count(*) from passages p join documents d on d.id = p.document_id
    where d.source_id = s.id and p.removed = 0) as n_passages
from sources s
"""


def sources(ws: Workspace) -> list[SourceInfo]:
    return [source_info(r) for r in ws.fetch_all(SOURCE_SQL + " order by s.id")]


def source(ws: Workspace, source_id: int) -> SourceInfo | None:
    row = ws.fetch_one(SOURCE_SQL + " where s.id = ?", (source_id,))
    return None if row is None else source_info(row)


def source_row(ws: Workspace, source_id: int) -> Row | None:
    """A source's own row, its settings as stored (source_settings.py reads them)."""
    return ws.fetch_one("select * from sources where id = ?", (source_id,))


# -- documents -------------------------------------------------------------------------
_DOCUMENT_FIELDS = (
    "id",
    "source_id",
    "uri",
    "title",
    "content_type",
    "status",
    "status_reason",
    "excluded",
    "fetched_at",
    "updated_at",
)
DOCUMENT_COLUMNS = {
    **{name: f"d.{name}" for name in _DOCUMENT_FIELDS},
    "n_passages": "(select count(*) from passages p where p.document_id = d.id and p.removed = 0)",
}
DOCUMENT_SQL = (
    "select "
    + ", ".join(f"{expr} as {name}" for name, expr in DOCUMENT_COLUMNS.items())
    + " from documents d"
)


def document_info(row: dict[str, Any]) -> DocumentInfo:
    return DocumentInfo(
        id=row["id"],
        source_id=row["source_id"],
        uri=row["uri"],
        title=row["title"],
        content_type=row["content_type"],
        status=row["status"],
        status_reason=row["status_reason"],
        excluded=bool(row["excluded"]),
        passages=int(row["n_passages"]),
        fetched_at=row["fetched_at"],
        updated_at=row["updated_at"],
    )


def documents(ws: Workspace, *, source_id: int | None = None) -> list[DocumentInfo]:
    """The documents (of one source), by URI. Read packed: the window reads this list of
    thousands while a sync runs on a thread of its own (see db.fetch_all_packed)."""
    if source_id is None:
        rows = ws.fetch_all_packed(
            DOCUMENT_COLUMNS, "from documents d", order_by="d.source_id, d.uri"
        )
    else:
        rows = ws.fetch_all_packed(
            DOCUMENT_COLUMNS,
            "from documents d where d.source_id = ?",
            (source_id,),
            order_by="d.uri",
        )
    return [document_info(r) for r in rows]


def document(ws: Workspace, document_id: int) -> DocumentDetail | None:
    """A document with its Markdown and page spans, or None."""
    row = ws.fetch_one(DOCUMENT_SQL + " where d.id = ?", (document_id,))
    if row is None:
        return None
    extra = ws.fetch_one("select markdown, pages from documents where id = ?", (document_id,))
    assert extra is not None
    info = document_info(row)
    pages = [(int(p), int(s), int(e)) for p, s, e in json.loads(extra["pages"] or "[]")]
    return DocumentDetail(**info.__dict__, markdown=extra["markdown"] or "", pages=pages)


def stored_markdown(ws: Workspace, source_id: int) -> list[Row]:
    """The source's documents that have Markdown (id, uri, title, markdown, pages), by URI:
    what a chunking preview cuts again without fetching."""
    return ws.fetch_all(
        "select id, uri, title, markdown, pages from documents where source_id = ?"
        " and status != 'removed' and markdown is not null order by uri",
        (source_id,),
    )


# -- passages --------------------------------------------------------------------------
PASSAGE_COLUMNS = "p.*, d.uri, d.title, d.excluded as document_excluded"
PASSAGE_SQL = f"""
select {PASSAGE_COLUMNS} from passages p join documents d on d.id = p.document_id
"""


def passage_state(row: dict[str, Any]) -> PassageState:
    if row["needs_review"]:
        return "needs_review"
    if row["excluded"] or row["document_excluded"]:  # an excluded document's passages too
        return "excluded"
    if row["edited_text"] is not None:
        return "edited"
    return "included"


def passage_info(row: dict[str, Any]) -> PassageInfo:
    return PassageInfo(
        id=row["id"],
        document_id=row["document_id"],
        uri=row["uri"],
        title=row["title"],
        ordinal=row["ordinal"],
        heading_path=row["heading_path"],
        page=row["page"],
        char_start=row["char_start"],
        char_end=row["char_end"],
        text=row["text"],
        source_text=row["source_text"],
        review_source_text=row["review_source_text"],
        state=passage_state(row),
        excluded=bool(row["excluded"]),
        edited=row["edited_text"] is not None,
        needs_review=bool(row["needs_review"]),
        removed=bool(row["removed"]),
        tokens=row["tokens"],
        boilerplate=bool(row["boilerplate"]),
        origin=row["origin"],
        text_hash=row["text_hash"],
        document_excluded=bool(row["document_excluded"]),
    )


def passages(
    ws: Workspace,
    *,
    document_id: int | None = None,
    match: str | None = None,
    include_removed: bool = False,
) -> list[PassageInfo]:
    """Passages in document order, or best match first for `match` (an FTS5 query, built by
    `core.index.query.fts_query`: content sits below the index and does not build it)."""
    where: list[str] = []
    params: list[Any] = []
    if not include_removed:
        where.append("p.removed = 0")
    if document_id is not None:
        where.append("p.document_id = ?")
        params.append(document_id)
    order = " order by d.source_id, d.uri, p.ordinal, p.id"
    sql = PASSAGE_SQL
    if match:
        sql = (
            f"select {PASSAGE_COLUMNS} from passages_fts f join passages p on p.id = f.rowid"
            " join documents d on d.id = p.document_id"
        )
        where.append("passages_fts match ?")
        params.append(match)
        order = " order by f.rank"
    if where:
        sql += " where " + " and ".join(where)
    return [passage_info(r) for r in ws.fetch_all(sql + order, params)]


def passage(ws: Workspace, passage_id: int) -> PassageInfo | None:
    row = ws.fetch_one(PASSAGE_SQL + " where p.id = ?", (passage_id,))
    return None if row is None else passage_info(row)


def included_fingerprint(ws: Workspace) -> str:
    """What the bot knows, in a few bytes: the included passages' ids and text hashes."""
    digest = hashlib.sha256()
    for passage_id, text_hash in ws.conn.execute(
        "select p.id, p.text_hash from passages p join documents d on d.id = p.document_id"
        f" where {INCLUDED_WHERE} order by p.id"
    ):
        digest.update(f"{passage_id}:{text_hash};".encode())
    return digest.hexdigest()[:32]


# -- counts ----------------------------------------------------------------------------
def stats(ws: Workspace) -> ContentStats:
    """How many sources, documents and passages, and passages by state."""
    row = ws.fetch_one(
        "select count(*) as passages,"
        " coalesce(sum(p.excluded = 0 and d.excluded = 0 and d.status != 'removed'), 0)"
        " as included,"
        " coalesce(sum(p.excluded = 1 or d.excluded = 1), 0) as excluded,"
        " coalesce(sum(p.edited_text is not null), 0) as edited,"
        " coalesce(sum(p.needs_review), 0) as needs_review,"
        " coalesce(sum(p.boilerplate), 0) as boilerplate"
        " from passages p join documents d on d.id = p.document_id where p.removed = 0"
    )
    assert row is not None
    return ContentStats(
        sources=int(ws.scalar("select count(*) from sources")),
        documents=int(ws.scalar("select count(*) from documents where status != 'removed'")),
        passages=int(row["passages"]),
        included=int(row["included"]),
        excluded=int(row["excluded"]),
        edited=int(row["edited"]),
        needs_review=int(row["needs_review"]),
        boilerplate=int(row["boilerplate"]),
    )
