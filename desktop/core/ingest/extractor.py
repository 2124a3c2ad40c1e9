"""Where a sync extracts its bodies: a worker thread, or a pool of processes for many pages.

trafilatura and markdownify are pure Python, about 20 ms of CPU per ordinary page. In a
thread they hold the GIL against the crawl, the chunker and the database (every call that
releases the GIL then waits for it), and one core does everything. Past POOL_AFTER HTML
bodies in one sync, HTML goes to a pool of child processes instead (spawned, as the PDF
worker is: safe in a threaded Qt process; niced, so the window keeps its priority), and
the crawl keeps fetching while pages are extracted on the other cores. Small syncs never
pay for starting the pool. PDFs keep their own killable child (desktop.core.ingest.pdf);
Markdown and text are cheap and stay in a thread. The same function runs either way, so
the result is the same.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import multiprocessing
import os
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from desktop.core.children import die_with_parent
from desktop.core.ingest.files import extract_bytes, extract_html_bytes, html_kind
from desktop.core.ingest.types import ExtractedDocument

POOL_AFTER = 32  # HTML bodies extracted in threads before the pool starts
MAX_POOL_WORKERS = 4
# 5 still let a sync of 1,000 pages hold the window 100-850 ms now and then on 2 cores;
# 10 (weight 110 against the window's 1,024) kept every gap under 100 ms, pages/s alike.
WORKER_NICENESS = 10


def pool_workers() -> int:
    """One worker per core, at most MAX_POOL_WORKERS (the crawl has no more pages in flight)."""
    return max(1, min(MAX_POOL_WORKERS, os.cpu_count() or 1))


def _worker_start() -> None:
    die_with_parent()
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(WORKER_NICENESS)


class Extractor:
    """extract_bytes off the event loop, for the lifetime of one sync; `aclose()` at the end."""

    def __init__(self, *, pool_after: int = POOL_AFTER, workers: int | None = None) -> None:
        self.pool_after = pool_after
        self.workers = workers or pool_workers()
        self.html_seen = 0
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._pool_broken = False

    @property
    def pooled(self) -> bool:
        return self._pool is not None

    async def extract(self, data: bytes, **kwargs: Any) -> ExtractedDocument:
        """As extract_bytes (same keyword arguments, same errors), without blocking the loop."""
        if html_kind(
            data,
            content_type=kwargs.get("content_type"),
            filename=kwargs.get("filename"),
            url=kwargs.get("url"),
        ):
            self.html_seen += 1
            pool = self._get_pool()
            if pool is not None:
                args = {k: kwargs.get(k) for k in ("charset", "filename", "url")}
                try:
                    return await asyncio.get_running_loop().run_in_executor(
                        pool, _extract_html, data, args
                    )
                except BrokenProcessPool:
                    # A worker died (killed, out of memory): this page and the rest go on
                    # in threads, as in a small sync.
                    self._pool_broken = True
                    self._shutdown(wait=False)
        return await asyncio.to_thread(extract_bytes, data, **kwargs)

    def _get_pool(self) -> concurrent.futures.ProcessPoolExecutor | None:
        if self._pool is None and not self._pool_broken and self.html_seen > self.pool_after:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_start,
            )
        return self._pool

    def _shutdown(self, *, wait: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)

    async def aclose(self) -> None:
        """Stop the pool: queued bodies dropped, its workers joined off the event loop."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        pool.shutdown(wait=False, cancel_futures=True)
        await asyncio.to_thread(pool.shutdown, wait=True)


def _extract_html(data: bytes, args: dict[str, Any]) -> ExtractedDocument:
    return extract_html_bytes(data, **args)
