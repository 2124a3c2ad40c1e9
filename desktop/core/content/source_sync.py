"""The sync of one source, document by document: what it stores, and how it commits.

`SourceSync` reads the states of the source's stored documents once, stores a fetched or
read document with its passages in one transaction (big ones cut in a worker thread),
marks unchanged documents in shared commits (MARKS_BATCH marks or MARKS_WAIT_S, and at
the end, cancel included), records failures and removals, and at the end saves the
source's settings (chunk settings used, the crawl's memory) and its summary.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from desktop.core.content import curation
from desktop.core.content.chunking import Chunk, chunk_markdown
from desktop.core.content.models import ChunkSettings, SyncSummary
from desktop.core.content.source_settings import (
    CRAWL_MEMORY_KEY,
    chunk_settings_key,
    effective_chunk_settings,
    excluded_url_patterns,
    matches_excluded_pattern,
    source_settings,
)
from desktop.core.ingest.extractor import Extractor
from desktop.core.ingest.traps import CrawlMemory
from desktop.core.ingest.types import ExtractedDocument, PageSpan
from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace, utc_now
from desktop.core.text import count_tokens, sha256_hex

NO_TEXT_REASON = "no text, scanned?"
USABLE_STATUSES = ("ok", "unchanged", "no_text")  # a stored document a re-sync can keep
MARKS_BATCH = 200  # unchanged marks committed together (a crash loses these marks only)
MARKS_WAIT_S = 1.0  # ...or those gathered over this long
CHUNK_IN_THREAD_CHARS = 200_000  # past this a document is cut in a worker thread


# -- chunking a document ---------------------------------------------------------------
def chunks_for(
    kind: str, markdown: str, pages: Sequence[PageSpan], settings: ChunkSettings, *, title: str = ""
) -> list[Chunk]:
    """The chunker for ordinary documents; a Q&A pair is one passage headed by its question."""
    if kind == "qa":
        text = markdown.strip()
        return [Chunk(text, title, None, 0, len(markdown), count_tokens(text))] if text else []
    return chunk_markdown(markdown, pages=pages, settings=settings)


def _pages_json(pages: Sequence[PageSpan]) -> str | None:
    return json.dumps([[p.page, p.start, p.end] for p in pages]) if pages else None


def pages_from(value: str | None) -> list[PageSpan]:
    if not value:
        return []
    return [PageSpan(int(p), int(s), int(e)) for p, s, e in json.loads(value)]


class SourceSync:
    """The sync of one source: the document-level steps, each committed alone."""

    def __init__(
        self,
        ws: Workspace,
        job: Job,
        source: dict[str, Any],
        summary: SyncSummary,
        extractor: Extractor | None = None,
    ):
        self.ws, self.job, self.source, self.summary = ws, job, source, summary
        self.extractor = extractor or Extractor()
        self.settings = effective_chunk_settings(ws, source)
        self.chunk_key = chunk_settings_key(self.settings)
        self.rechunk_all = source_settings(source).get("chunked_with") != self.chunk_key
        # The user's "exclude URL pattern" rules apply the moment a new document is stored,
        # so a sync cancelled before its end leaves no matching document included.
        self.excluded_patterns = excluded_url_patterns(ws)
        # uri -> (id, status, content_hash) of the documents this source had at the start,
        # read in one query; an entry is dropped once this sync writes that document.
        self._states: dict[str, tuple[int, str, str | None]] | None = None
        # Unchanged marks waiting for one shared commit: (etag, last_modified, now, id).
        self._marks: list[tuple[str | None, str | None, str, int]] = []
        self._marks_since = time.monotonic()
        # A site's crawl memory (capped URL families, volatile parameters, retries),
        # saved with the source's settings when the sync finishes.
        self.crawl_memory: CrawlMemory | None = None

    # -- documents ---------------------------------------------------------------------
    def document(self, uri: str) -> dict[str, Any] | None:
        return self.ws.fetch_one(
            "select * from documents where source_id = ? and uri = ?", (self.source["id"], uri)
        )

    def state(self, uri: str) -> tuple[int, str, str | None] | None:
        """(id, status, content_hash) of a document: without reading its Markdown, and
        for the documents this sync has not written yet, without a query per page."""
        if self._states is None:
            self._states = {
                row["uri"]: (int(row["id"]), str(row["status"]), row["content_hash"])
                for row in self.ws.fetch_all(
                    "select id, uri, status, content_hash from documents where source_id = ?",
                    (self.source["id"],),
                )
            }
        found = self._states.get(uri)
        if found is not None:
            return found
        row = self.ws.fetch_one(
            "select id, status, content_hash from documents where source_id = ? and uri = ?",
            (self.source["id"], uri),
        )
        return None if row is None else (int(row["id"]), str(row["status"]), row["content_hash"])

    def is_unchanged(self, uri: str, content_hash: str) -> bool:
        """The document is stored with this content hash and a usable status."""
        found = self.state(uri)
        return found is not None and found[2] == content_hash and found[1] in USABLE_STATUSES

    def _written(self, uri: str) -> None:
        if self._states is not None:
            self._states.pop(uri, None)

    def _ensure_document(self, uri: str) -> int:
        self._written(uri)
        row = self.ws.fetch_one(
            "select id from documents where source_id = ? and uri = ?", (self.source["id"], uri)
        )
        if row is not None:
            return int(row["id"])
        now = utc_now()
        excluded = matches_excluded_pattern(uri, self.excluded_patterns)
        self.ws.execute(
            "insert into documents(source_id, uri, status, excluded, updated_at)"
            " values (?, ?, 'pending', ?, ?)",
            (self.source["id"], uri, int(excluded), now),
        )
        return self.ws.last_insert_id()

    def store(
        self,
        uri: str,
        *,
        content_hash: str,
        extracted: ExtractedDocument,
        content_type: str = "",
        etag: str | None = None,
        last_modified: str | None = None,
        chunks: list[Chunk] | None = None,
    ) -> None:
        """Store a fetched/read document and (re-)chunk it, all in one transaction
        (`chunks`: already cut, off the event loop, by store_async)."""
        now = utc_now()
        markdown = extracted.markdown
        with self.ws.transaction():
            doc_id = self._ensure_document(uri)
            status, reason = ("ok", "") if markdown.strip() else ("no_text", NO_TEXT_REASON)
            if extracted.warnings and status == "ok":
                reason = "; ".join(extracted.warnings)[:500]
            self.ws.execute(
                "update documents set title = ?, content_type = ?, status = ?, status_reason = ?,"
                " etag = ?, last_modified = ?, content_hash = ?, markdown = ?, markdown_hash = ?,"
                " pages = ?, fetched_at = ?, updated_at = ? where id = ?",
                (
                    extracted.title or Path(uri).name,
                    content_type,
                    status,
                    reason,
                    etag,
                    last_modified,
                    content_hash,
                    markdown,
                    sha256_hex(markdown),
                    _pages_json(extracted.pages),
                    now,
                    now,
                    doc_id,
                ),
            )
            if status == "no_text":
                self.summary.no_text += 1
                self.summary.failed[uri] = NO_TEXT_REASON
            else:
                self.summary.fetched += 1
            self._chunk(doc_id, markdown, extracted.pages, extracted.title, chunks)

    async def store_async(
        self,
        uri: str,
        *,
        content_hash: str,
        extracted: ExtractedDocument,
        content_type: str = "",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """store(), with a big document cut in a worker thread: a 5 MB page takes the
        chunker seconds, which the window's event loop must not wait through."""
        chunks = None
        if len(extracted.markdown) > CHUNK_IN_THREAD_CHARS:
            chunks = await asyncio.to_thread(
                chunks_for,
                self.source["kind"],
                extracted.markdown,
                extracted.pages,
                self.settings,
                title=extracted.title,
            )
        self.store(
            uri,
            content_hash=content_hash,
            extracted=extracted,
            content_type=content_type,
            etag=etag,
            last_modified=last_modified,
            chunks=chunks,
        )

    def _chunk(
        self,
        doc_id: int,
        markdown: str,
        pages: Sequence[PageSpan],
        title: str,
        chunks: list[Chunk] | None = None,
    ) -> None:
        if chunks is None:
            chunks = chunks_for(self.source["kind"], markdown, pages, self.settings, title=title)
        result = curation.reconcile(self.ws, doc_id, chunks)
        self.summary.passages_added += result.added
        self.summary.passages_changed += result.changed
        self.summary.passages_removed += result.removed
        self.summary.needs_review += result.needs_review

    def unchanged(
        self, uri: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> None:
        """Nothing new for this document; re-chunk from stored Markdown if settings changed.

        Without a re-chunk the mark (status, validators) waits to share one commit with
        the next ones (flush_marks: every MARKS_BATCH marks or MARKS_WAIT_S, and at the
        end, cancel included): a crash loses at most those marks, never content, and the
        next sync simply asks those pages again.
        """
        if self.rechunk_all:
            row = self.document(uri)
            if row is None:
                return
            self._written(uri)
            with self.ws.transaction():
                self._mark_unchanged(row["id"], row["status"], etag, last_modified, utc_now())
                self.summary.unchanged += 1
                if row["markdown"]:
                    self._chunk(row["id"], row["markdown"], pages_from(row["pages"]), row["title"])
            return
        found = self.state(uri)
        if found is None:
            return
        self._written(uri)
        doc_id, status, _hash = found
        if status == "no_text":  # rare: kept out of the batch, which sets 'unchanged'
            with self.ws.transaction():
                self._mark_unchanged(doc_id, status, etag, last_modified, utc_now())
        else:
            self._marks.append((etag, last_modified, utc_now(), doc_id))
            if (
                len(self._marks) >= MARKS_BATCH
                or time.monotonic() - self._marks_since >= MARKS_WAIT_S
            ):
                self.flush_marks()
        self.summary.unchanged += 1

    def _mark_unchanged(
        self, doc_id: int, status: str, etag: str | None, last_modified: str | None, now: str
    ) -> None:
        self.ws.execute(
            "update documents set status = ?, etag = coalesce(?, etag),"
            " last_modified = coalesce(?, last_modified), updated_at = ? where id = ?",
            ("no_text" if status == "no_text" else "unchanged", etag, last_modified, now, doc_id),
        )

    def flush_marks(self) -> None:
        """Commit the waiting unchanged marks, all in one transaction."""
        marks, self._marks = self._marks, []
        self._marks_since = time.monotonic()
        if not marks:
            return
        with self.ws.transaction():
            self.ws.conn.executemany(
                "update documents set status = 'unchanged', etag = coalesce(?, etag),"
                " last_modified = coalesce(?, last_modified), updated_at = ? where id = ?",
                marks,
            )

    def failed(self, uri: str, reason: str, *, keep_status: bool = False) -> None:
        """A document that could not be fetched or extracted; its earlier passages stay."""
        self.summary.failed[uri] = reason
        self.job.item_error(uri, reason)
        with self.ws.transaction():
            doc_id = self._ensure_document(uri)
            if not keep_status:
                self.ws.execute(
                    "update documents set status = 'failed', status_reason = ?, updated_at = ?"
                    " where id = ?",
                    (reason, utc_now(), doc_id),
                )

    def removed(self, uri: str, reason: str) -> None:
        row = self.document(uri)
        if row is None or row["status"] == "removed":
            return
        self._written(uri)
        with self.ws.transaction():
            self.ws.execute(
                "update documents set status = 'removed', status_reason = ?, updated_at = ?"
                " where id = ?",
                (reason, utc_now(), row["id"]),
            )
            self.summary.passages_removed += curation.mark_document_removed(self.ws, row["id"])
            self.summary.removed += 1

    def finish(self) -> None:
        self.flush_marks()
        settings = source_settings(self.source)
        settings["chunked_with"] = self.chunk_key
        if self.crawl_memory is not None:
            settings[CRAWL_MEMORY_KEY] = self.crawl_memory.to_json()
        with self.ws.transaction():
            self.ws.execute(
                "update sources set settings = ?, last_synced_at = ?, last_sync_summary = ?"
                " where id = ?",
                (
                    json.dumps(settings),
                    utc_now(),
                    json.dumps(self.summary.to_json()),
                    self.source["id"],
                ),
            )
