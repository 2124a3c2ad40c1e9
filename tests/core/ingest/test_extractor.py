"""The sync's extractor: threads for a few bodies, a process pool past POOL_AFTER HTML ones."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest

from desktop.core.errors import ExtractionError
from desktop.core.ingest import extractor as extractor_module
from desktop.core.ingest.extractor import Extractor
from desktop.core.ingest.files import extract_bytes
from desktop.core.ingest.types import ExtractedDocument


def _page(i: int) -> bytes:
    return (
        f"<html><head><title>Page {i}</title></head><body><nav><a href='/'>Home</a></nav>"
        f"<main><h1>Page {i}</h1><p>Fresh rye bread {i} is baked every morning from organic"
        " flour, proofed overnight and delivered before eight to every customer.</p>"
        "<table><tr><th>Item</th><th>Price</th></tr><tr><td>Rye</td><td>4 EUR</td></tr>"
        "</table></main><footer>Copyright</footer></body></html>"
    ).encode()


def test_pool_gives_what_a_thread_gives_and_starts_only_past_the_threshold() -> None:
    bodies = [_page(i) for i in range(6)]
    kwargs: dict[str, Any] = {"content_type": "text/html", "url": "http://127.0.0.1/p"}

    async def run() -> tuple[list[ExtractedDocument], list[bool]]:
        extractor = Extractor(pool_after=2, workers=1)
        pooled: list[bool] = []
        try:
            results = []
            for body in bodies:
                results.append(await extractor.extract(body, **kwargs))
                pooled.append(extractor.pooled)
            return results, pooled
        finally:
            await extractor.aclose()

    results, pooled = asyncio.run(run())
    assert pooled == [False, False, True, True, True, True]
    assert results == [extract_bytes(body, **kwargs) for body in bodies]
    assert results[3].title == "Page 3"
    assert "Fresh rye bread 3" in results[3].markdown


def test_other_types_and_errors_are_as_extract_bytes() -> None:
    async def run() -> tuple[ExtractedDocument, str]:
        extractor = Extractor(pool_after=0, workers=1)
        try:
            text = await extractor.extract(b"# Notes\n\nSome notes.", filename="notes.md")
            with pytest.raises(ExtractionError) as caught:
                await extractor.extract(b"\x89PNG....", content_type="image/png")
            assert not extractor.pooled  # no HTML yet: no pool
            return text, caught.value.message
        finally:
            await extractor.aclose()

    text, message = asyncio.run(run())
    assert text.title == "Notes"
    assert "Unsupported content type" in message


def _die(data: bytes, args: dict[str, Any]) -> ExtractedDocument:
    os._exit(1)  # a worker killed mid-page (out of memory...)


def test_a_broken_pool_falls_back_to_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extractor_module, "_extract_html", _die)

    async def run() -> tuple[ExtractedDocument, bool]:
        extractor = Extractor(pool_after=0, workers=1)
        try:
            document = await extractor.extract(_page(1), content_type="text/html")
            return document, extractor.pooled
        finally:
            await extractor.aclose()

    try:
        document, pooled = asyncio.run(run())
    except BrokenProcessPool:  # pragma: no cover - the point of the test
        pytest.fail("a dead worker ended the extraction")
    assert document.title == "Page 1"
    assert not pooled


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no process priorities here")
def test_pool_workers_run_at_a_lower_priority_than_the_window() -> None:
    """The window's thread must win the CPU from extraction on a 2-core laptop: niced 5,
    a 1,000-page sync still showed GUI gaps of 100-850 ms; niced 10 none over 100 ms."""
    extractor = Extractor(pool_after=0, workers=1)
    extractor.html_seen = 1
    pool = extractor._get_pool()
    assert pool is not None
    try:
        niceness = pool.submit(os.nice, 0).result(timeout=60)
    finally:
        asyncio.run(extractor.aclose())
    assert extractor_module.WORKER_NICENESS >= 10
    assert niceness == min(19, os.nice(0) + extractor_module.WORKER_NICENESS)  # 19: the floor
