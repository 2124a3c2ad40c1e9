"""The sync of a website source: the crawl, and each page it delivers stored.

The crawl revisits the pages the last sync stored with their validators (a 304 is an
unchanged mark), carries the source's crawl memory from sync to sync, and reports what
it left out; a page whose content hash (session ids in its links blanked) is unchanged
is not extracted again.
"""

from __future__ import annotations

import httpx

from desktop.core.content.models import SyncSummary
from desktop.core.content.source_settings import (
    CRAWL_MEMORY_KEY,
    left_out_because,
    site_config,
    source_settings,
)
from desktop.core.content.source_sync import SourceSync
from desktop.core.errors import ExtractionError, NoTextError
from desktop.core.ingest.crawl import OnPage, crawl_site
from desktop.core.ingest.crawl_report import CrawlReport
from desktop.core.ingest.traps import CrawlMemory
from desktop.core.ingest.types import ExtractedDocument, FetchedPage, KnownPage, SiteConfig
from desktop.core.ingest.urls import session_values_blanked
from desktop.core.text import sha256_hex


async def sync_site(state: SourceSync, client: httpx.AsyncClient | None) -> None:
    known = _known_pages(state)
    state.job.stage("fetch")
    memory = CrawlMemory.from_json(source_settings(state.source).get(CRAWL_MEMORY_KEY))
    state.crawl_memory = memory
    config = site_config(state.source)
    if memory.honour_noindex is not None and memory.honour_noindex != config.honour_noindex:
        # noindex honoured now and not before (or the reverse): the pages are read in
        # full, as a 304 would not say whether a stored page asks not to be indexed
        known = {uri: KnownPage(uri, content_hash=page.content_hash) for uri, page in known.items()}
    memory.honour_noindex = config.honour_noindex
    report = await crawl_site(
        config,
        known=known,
        on_page=_page_keeper(state, memory),
        job=state.job,
        client=client,
        memory=memory,
    )
    memory.syncs += 1
    _summarise(state.summary, report, config)


def _known_pages(state: SourceSync) -> dict[str, KnownPage]:
    """The source's stored pages a re-sync can keep, with their validators."""
    return {
        row["uri"]: KnownPage(row["uri"], row["etag"], row["last_modified"], row["content_hash"])
        for row in state.ws.fetch_all(
            "select uri, etag, last_modified, content_hash from documents where source_id = ?"
            " and status in ('ok', 'unchanged', 'no_text')",
            (state.source["id"],),
        )
    }


def _page_keeper(state: SourceSync, memory: CrawlMemory) -> OnPage:
    """The crawl's on_page: each delivered page removed, marked unchanged or stored."""
    job = state.job

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
        await _store_page(state, page, content_hash)

    return on_page


async def _store_page(state: SourceSync, page: FetchedPage, content_hash: str) -> None:
    """A new or changed page: extracted and stored, or failed with the extractor's reason."""
    uri = page.url
    try:
        extracted = await state.extractor.extract(
            page.body,
            content_type=page.content_type,
            url=page.final_url or uri,
            charset=page.charset,
        )
    except NoTextError:
        extracted = ExtractedDocument(title=uri, markdown="")
    except ExtractionError as exc:
        state.failed(uri, exc.message)
        state.job.advance(1)
        return
    await state.store_async(
        uri,
        content_hash=content_hash,
        extracted=extracted,
        content_type=page.content_type,
        etag=page.etag,
        last_modified=page.last_modified,
    )
    state.job.advance(1, uri)


def _summarise(summary: SyncSummary, report: CrawlReport, config: SiteConfig) -> None:
    """The crawl's traps, noindex pages, skipped and failed URLs, into the sync summary."""
    summary.notes.extend(trap.line() for trap in report.traps)
    if report.noindex:
        summary.notes.append(
            f"{report.noindex} page{'s' if report.noindex != 1 else ''} left out: marked noindex"
        )
    for reason, urls in report.skipped.items():
        if urls:
            summary.skip(reason, len(urls))
        for url in urls:
            summary.skip_url(url, left_out_because(url, reason, config))
    for url, reason in report.failed.items():
        summary.failed[url] = reason
