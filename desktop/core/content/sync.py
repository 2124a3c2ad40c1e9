"""Sync: fetch or read each source, extract, store documents, chunk and reconcile.

Each document is stored and reconciled in its own transaction, so a cancel or a crash
loses at most the item in flight; the next sync picks up where this one stopped and
skips what is unchanged (HTTP validators, content hashes, the chunker settings used).
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from desktop.core.content import boilerplate, curation
from desktop.core.content.chunking import Chunk, chunk_markdown, settings_from
from desktop.core.content.models import ChunkSettings, SyncSummary, skip_reason_text
from desktop.core.errors import (
    BotdeskError,
    CancelledError,
    ExtractionError,
    NoTextError,
    SourceError,
)
from desktop.core.ingest.crawl import crawl_site
from desktop.core.ingest.extractor import Extractor
from desktop.core.ingest.traps import CrawlMemory
from desktop.core.ingest.types import (
    ExtractedDocument,
    FetchedPage,
    KnownPage,
    PageSpan,
    SiteConfig,
)
from desktop.core.ingest.urls import pattern_rule, session_values_blanked
from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace, utc_now
from desktop.core.text import count_tokens, sha256_hex

NO_TEXT_REASON = "no text, scanned?"
USABLE_STATUSES = ("ok", "unchanged", "no_text")  # a stored document a re-sync can keep
MARKS_BATCH = 200  # unchanged marks committed together (a crash loses these marks only)
MARKS_WAIT_S = 1.0  # ...or those gathered over this long
CHUNK_IN_THREAD_CHARS = 200_000  # past this a document is cut in a worker thread


# -- settings --------------------------------------------------------------------------
def source_settings(row: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(row.get("settings") or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def workspace_chunk_settings(ws: Workspace) -> ChunkSettings:
    return settings_from(ws.setting("chunking", None) or {})


def effective_chunk_settings(ws: Workspace, source_row: dict[str, Any]) -> ChunkSettings:
    """Workspace defaults overridden by the source's own `chunking` settings."""
    return settings_from(
        source_settings(source_row).get("chunking") or {}, workspace_chunk_settings(ws)
    )


def _chunk_key(settings: ChunkSettings) -> str:
    return sha256_hex(json.dumps(settings.to_json(), sort_keys=True))[:16]


def excluded_url_patterns(ws: Workspace) -> list[str]:
    return [str(p) for p in ws.setting("excluded_url_patterns", [])]


def matches_excluded_pattern(uri: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(uri, pattern) for pattern in patterns)


def site_config(row: dict[str, Any]) -> SiteConfig:
    settings = source_settings(row)
    kwargs: dict[str, Any] = {
        "include": tuple(settings.get("include") or ()),
        "exclude": tuple(settings.get("exclude") or ()),
    }
    if settings.get("max_pages"):
        kwargs["max_pages"] = int(settings["max_pages"])
    if settings.get("max_depth") is not None:
        kwargs["max_depth"] = int(settings["max_depth"])
    # politeness and traps: absent means the polite defaults of SiteConfig
    if settings.get("concurrency"):
        kwargs["concurrency"] = int(settings["concurrency"])
    if settings.get("timeout_s"):
        kwargs["timeout_s"] = float(settings["timeout_s"])
    if settings.get("family_cap"):
        kwargs["family_cap"] = int(settings["family_cap"])
    if settings.get("honour_noindex") is not None:
        kwargs["honour_noindex"] = bool(settings["honour_noindex"])
    return SiteConfig(start_url=row["location"], **kwargs)


CRAWL_MEMORY_KEY = "crawl_memory"  # in a site source's settings: what the next sync needs


def left_out_because(url: str, reason: str, config: SiteConfig) -> str:
    """Why a site's rules or the crawl left `url` out, in words; a URL rule is named."""
    rule = pattern_rule(url, config.include, config.exclude) if reason == "pattern" else None
    return rule or skip_reason_text(reason)


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


def _pages_from(value: str | None) -> list[PageSpan]:
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
        self.chunk_key = _chunk_key(self.settings)
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
                    self._chunk(row["id"], row["markdown"], _pages_from(row["pages"]), row["title"])
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


# -- per kind --------------------------------------------------------------------------
async def _extract(state: SourceSync, data: bytes, **kwargs: Any) -> ExtractedDocument:
    return await state.extractor.extract(data, **kwargs)


NOT_UTF8_NAME = (
    "the file name is not valid UTF-8 (as names from Windows or zip archives can be): "
    "rename the file to sync it"
)


def readable_path(path: Path) -> str:
    """The path as text a database and a terminal accept: an undecodable byte in a name
    (kept by Python as a lone surrogate) becomes U+FFFD."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", errors="replace")
    return text


async def sync_files(state: SourceSync) -> None:
    from desktop.core.ingest.files import list_files

    ws, job, source = state.ws, state.job, state.source
    root = Path(source["location"])
    try:
        files = list_files([root])
    except SourceError as exc:
        state.summary.failed[str(root)] = exc.message
        job.item_error(str(root), exc.message)
        return
    job.stage("read", len(files))
    present = {readable_path(path.resolve()) for path in files}
    for path in files:
        job.check()
        uri = readable_path(path.resolve())
        if uri != str(path.resolve()):
            state.failed(uri, NOT_UTF8_NAME)
            job.advance(1)
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            state.failed(uri, f"cannot read the file: {exc.strerror or exc}")
            job.advance(1)
            continue
        content_hash = sha256_hex(data)
        if state.is_unchanged(uri, content_hash):
            state.unchanged(uri)
            job.advance(1, path.name)
            continue
        try:
            extracted = await _extract(state, data, filename=path.name)
        except NoTextError:
            extracted = ExtractedDocument(title=path.name, markdown="")
        except ExtractionError as exc:
            state.failed(uri, exc.message)
            job.advance(1)
            continue
        if not extracted.title:
            extracted.title = path.name
        await state.store_async(
            uri,
            content_hash=content_hash,
            extracted=extracted,
            content_type=path.suffix.lower().lstrip("."),
        )
        job.advance(1, path.name)
    for row in ws.fetch_all(
        "select uri from documents where source_id = ? and status != 'removed'", (source["id"],)
    ):
        if row["uri"] not in present:
            state.removed(row["uri"], "file no longer there")


async def sync_text(state: SourceSync) -> None:
    source = state.source
    settings = source_settings(source)
    kind = source["kind"]
    if kind == "qa":
        question, answer = str(settings.get("question", "")), str(settings.get("answer", ""))
        markdown, title = f"Q: {question}\nA: {answer}", question
    else:
        markdown, title = str(settings.get("text", "")), source["title"]
    uri = f"{kind}:{source['id']}"
    content_hash = sha256_hex(markdown)
    row = state.document(uri)
    if row is not None and row["content_hash"] == content_hash and row["status"] != "failed":
        state.unchanged(uri)
        return
    state.store(
        uri,
        content_hash=content_hash,
        content_type="text/markdown",
        extracted=ExtractedDocument(title=title, markdown=markdown),
    )


async def sync_site(state: SourceSync, client: httpx.AsyncClient | None) -> None:
    ws, job, source = state.ws, state.job, state.source
    known = {
        row["uri"]: KnownPage(row["uri"], row["etag"], row["last_modified"], row["content_hash"])
        for row in ws.fetch_all(
            "select uri, etag, last_modified, content_hash from documents where source_id = ?"
            " and status in ('ok', 'unchanged', 'no_text')",
            (source["id"],),
        )
    }
    job.stage("fetch")
    memory = CrawlMemory.from_json(source_settings(source).get(CRAWL_MEMORY_KEY))
    state.crawl_memory = memory

    async def on_page(page: FetchedPage) -> None:
        uri = page.url
        if page.gone:
            state.removed(uri, page.why_gone or f"HTTP {page.status}")
            job.advance(1, uri)
            return
        if page.not_modified:
            state.unchanged(uri, etag=page.etag, last_modified=page.last_modified)
            job.advance(1, uri)
            return
        # A page whose links carry a fresh session id on every visit is still unchanged.
        content_hash = sha256_hex(session_values_blanked(page.body, memory.volatile))
        if state.is_unchanged(uri, content_hash):
            state.unchanged(uri, etag=page.etag, last_modified=page.last_modified)
            job.advance(1, uri)
            return
        try:
            extracted = await _extract(
                state,
                page.body,
                content_type=page.content_type,
                url=page.final_url or uri,
                charset=page.charset,
            )
        except NoTextError:
            extracted = ExtractedDocument(title=uri, markdown="")
        except ExtractionError as exc:
            state.failed(uri, exc.message)
            job.advance(1)
            return
        await state.store_async(
            uri,
            content_hash=content_hash,
            extracted=extracted,
            content_type=page.content_type,
            etag=page.etag,
            last_modified=page.last_modified,
        )
        job.advance(1, uri)

    config = site_config(source)
    if memory.honour_noindex is not None and memory.honour_noindex != config.honour_noindex:
        # noindex honoured now and not before (or the reverse): the pages are read in
        # full, as a 304 would not say whether a stored page asks not to be indexed
        known = {uri: KnownPage(uri, content_hash=page.content_hash) for uri, page in known.items()}
    memory.honour_noindex = config.honour_noindex
    report = await crawl_site(
        config, known=known, on_page=on_page, job=job, client=client, memory=memory
    )
    memory.syncs += 1
    state.summary.notes.extend(trap.line() for trap in report.traps)
    if report.noindex:
        state.summary.notes.append(
            f"{report.noindex} page{'s' if report.noindex != 1 else ''} left out: marked noindex"
        )
    for reason, urls in report.skipped.items():
        if urls:
            state.summary.skip(reason, len(urls))
        for url in urls:
            state.summary.skip_url(url, left_out_because(url, reason, config))
    for url, reason in report.failed.items():
        state.summary.failed[url] = reason


async def sync_source(
    ws: Workspace,
    job: Job,
    source: dict[str, Any],
    *,
    client: httpx.AsyncClient | None = None,
    extractor: Extractor | None = None,
) -> SyncSummary:
    """Sync one source; `extractor` (shared by the sources of one sync) is not closed here."""
    summary = SyncSummary(sources=1)
    own = None
    if extractor is None:
        own = extractor = Extractor()
    try:
        return await _sync_source(SourceSync(ws, job, source, summary, extractor), client)
    finally:
        if own is not None:
            await own.aclose()


async def _sync_source(state: SourceSync, client: httpx.AsyncClient | None) -> SyncSummary:
    job, source, summary = state.job, state.source, state.summary
    kind = source["kind"]
    try:
        try:
            if kind == "files":
                await sync_files(state)
            elif kind in ("text", "qa"):
                await sync_text(state)
            elif kind == "site":
                await sync_site(state, client)
        finally:
            state.flush_marks()  # a cancel keeps what was done, the unchanged marks too
    except CancelledError:
        raise
    except BotdeskError as exc:
        summary.failed[source["location"] or f"source {source['id']}"] = exc.message
        job.item_error(source["location"], exc.message)
        return summary
    state.finish()
    return summary


async def sync_workspace(
    ws: Workspace,
    job: Job,
    *,
    source_ids: Sequence[int] | None = None,
    client: httpx.AsyncClient | None = None,
) -> SyncSummary:
    sources = ws.fetch_all("select * from sources order by id")
    if source_ids is not None:
        wanted = set(source_ids)
        sources = [s for s in sources if s["id"] in wanted]
    total = SyncSummary()
    extractor = Extractor()
    try:
        for source in sources:
            job.check()
            total.merge(await sync_source(ws, job, source, client=client, extractor=extractor))
    finally:
        await extractor.aclose()
    job.stage("curate")
    total.boilerplate = await boilerplate.refresh(ws)
    # Each step below is a pass over the workspace: the event loop (the window's) gets a
    # turn between them instead of one long stall.
    await asyncio.sleep(0)
    boilerplate.apply_remembered(ws)
    await asyncio.sleep(0)
    apply_url_patterns(ws)
    await asyncio.sleep(0)
    total.needs_review = int(
        ws.scalar("select count(*) from passages where needs_review = 1 and removed = 0")
    )
    return total


def apply_url_patterns(ws: Workspace) -> int:
    """Exclude documents whose URL or path matches a pattern the user excluded."""
    patterns = excluded_url_patterns(ws)
    if not patterns:
        return 0
    n = 0
    with ws.transaction():
        for row in ws.fetch_all("select id, uri from documents where excluded = 0"):
            if matches_excluded_pattern(row["uri"], patterns):
                ws.execute("update documents set excluded = 1 where id = ?", (row["id"],))
                n += 1
    return n
