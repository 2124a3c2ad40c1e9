"""Sync: fetch or read each source, extract, store documents, chunk and reconcile.

Each document is stored and reconciled in its own transaction, so a cancel or a crash
loses at most the item in flight; the next sync picks up where this one stopped and
skips what is unchanged (HTTP validators, content hashes, the chunker settings used).
Here: the sources in turn and the passes over the workspace after them; one source's
documents are desktop.core.content.source_sync, a site's crawl site_sync, a folder's
files file_sync.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx

from desktop.core.content import boilerplate
from desktop.core.content.file_sync import sync_files
from desktop.core.content.models import SyncSummary
from desktop.core.content.site_sync import sync_site
from desktop.core.content.source_settings import (
    excluded_url_patterns,
    matches_excluded_pattern,
    source_settings,
)
from desktop.core.content.source_sync import SourceSync
from desktop.core.errors import BotdeskError, CancelledError
from desktop.core.ingest.extractor import Extractor
from desktop.core.ingest.types import ExtractedDocument
from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace
from desktop.core.text import sha256_hex


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
