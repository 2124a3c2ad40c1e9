"""Site sync against a loopback website: fetch, 304s on re-sync, a page gone (404), a PDF.

Runs with the real crawler (desktop.core.ingest.crawl) when it is present; until then a
minimal stand-in crawler with the same contract drives the same real HTTP server, so
the sync's handling of 200/304/404 pages is tested either way.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import re
import sys
import types
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from desktop.core.ingest.types import FetchedPage, KnownPage, SiteConfig
from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace
from desktop.services import content
from tests.helpers.loopback import LoopbackServer, ScriptedHandler
from tests.helpers.pdfs import text_pdf

FOOTER = "<footer><p>Copyright 2026 Acme Bakery. All rights reserved worldwide.</p></footer>"


def _page(title: str, body: str, links: list[str]) -> bytes:
    nav = "".join(f'<a href="{link}">{link}</a> ' for link in links)
    return (
        f"<html><head><title>{title}</title></head><body><nav>{nav}</nav><main><h1>{title}</h1>"
        f"{body}<p>{nav}</p></main>{FOOTER}</body></html>"
    ).encode()


class SiteHandler(ScriptedHandler):
    def do_GET(self) -> None:
        self.record()
        pages: dict[str, tuple[str, bytes]] = self.state["pages"]
        path = urlsplit(self.path).path
        if path not in pages:
            self.send_bytes(404, b"not found", "text/html")
            return
        content_type, body = pages[path]
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_bytes(200, body, content_type, {"ETag": etag})


@dataclass
class _Report:
    fetched: int = 0
    unchanged: int = 0
    skipped: dict[str, list[str]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    seen_urls: set[str] = field(default_factory=set)


async def _standin_crawl_site(
    config: SiteConfig,
    *,
    known: Mapping[str, KnownPage],
    on_page: Callable[[FetchedPage], Awaitable[None]],
    job: Job,
    client: httpx.AsyncClient | None = None,
    allow_private_hosts: bool | None = None,
) -> _Report:
    """Breadth-first over same-host links plus every known URL, with If-None-Match."""
    report = _Report()
    queue = [config.start_url, *known]
    seen: set[str] = set()
    async with httpx.AsyncClient() as http:
        while queue and len(seen) < config.max_pages:
            url = queue.pop(0)
            if url in seen:
                continue
            seen.add(url)
            job.check()
            headers = {}
            if url in known and known[url].etag:
                headers["If-None-Match"] = str(known[url].etag)
            response = await http.get(url, headers=headers)
            media = response.headers.get("content-type", "").split(";")[0]
            page = FetchedPage(
                url,
                url,
                response.status_code,
                media,
                response.content,
                etag=response.headers.get("etag"),
            )
            await on_page(page)
            if response.status_code == 200 and media == "text/html":
                report.fetched += 1
                for href in re.findall(r'href="([^"]+)"', response.text):
                    queue.append(urljoin(url, href))
    return report


@pytest.fixture
def crawler(monkeypatch: pytest.MonkeyPatch) -> str:
    try:
        importlib.import_module("desktop.core.ingest.crawl")
        return "real"
    except ImportError:
        module = types.ModuleType("desktop.core.ingest.crawl")
        module.crawl_site = _standin_crawl_site  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "desktop.core.ingest.crawl", module)
        return "stand-in"


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with LoopbackServer(SiteHandler) as server:
        links = ["/", "/pricing", "/faq", "/sheet.pdf"]
        server.state["pages"] = {
            "/": (
                "text/html",
                _page("Home", "<p>Welcome to Acme Bakery, bread since 1990.</p>", links),
            ),
            "/pricing": (
                "text/html",
                _page("Pricing", "<p>Bread costs 3 euros a loaf.</p>", links),
            ),
            "/faq": ("text/html", _page("FAQ", "<p>We open at seven every morning.</p>", links)),
            "/sheet.pdf": ("application/pdf", text_pdf(["Sheet\nRye flour 40 EUR per sack."])),
        }
        yield server


def _sync(ws: Workspace) -> content.SyncSummary:
    return asyncio.run(content.sync(ws, Job("sync")))


def test_site_sync_resync_and_gone_page(
    workspace: Workspace, site: LoopbackServer, crawler: str
) -> None:
    content.add_site(workspace, site.url + "/")
    first = _sync(workspace)
    assert first.fetched == 4, (crawler, first.to_json())
    docs = {urlsplit(d.uri).path: d for d in content.list_documents(workspace)}
    assert docs["/pricing"].title == "Pricing" and docs["/pricing"].status == "ok"
    pdf = [p for p in content.list_passages(workspace) if p.uri.endswith("sheet.pdf")]
    assert [p.page for p in pdf] == [1]
    # The footer repeats on every HTML page: flagged when the extractor keeps it.
    ids = {p.id for p in content.list_passages(workspace)}

    del site.state["pages"]["/faq"]
    second = _sync(workspace)
    assert second.removed == 1
    assert second.unchanged == 3 and second.fetched == 0
    docs = {urlsplit(d.uri).path: d for d in content.list_documents(workspace)}
    assert docs["/faq"].status == "removed"
    assert not [p for p in content.list_passages(workspace) if p.document_id == docs["/faq"].id]
    assert {p.id for p in content.list_passages(workspace)} <= ids
    included = workspace.fetch_all(content.INCLUDED_PASSAGES_SQL)
    assert all(row["document_id"] != docs["/faq"].id for row in included)


def test_changed_page_is_refetched_and_rechunked(
    workspace: Workspace, site: LoopbackServer, crawler: str
) -> None:
    content.add_site(workspace, site.url + "/")
    _sync(workspace)
    links = ["/", "/pricing", "/faq", "/sheet.pdf"]
    site.state["pages"]["/pricing"] = (
        "text/html",
        _page("Pricing", "<p>Bread now costs 4 euros a loaf.</p>", links),
    )
    summary = _sync(workspace)
    assert summary.fetched == 1 and summary.unchanged == 3
    texts = " ".join(p.text for p in content.list_passages(workspace))
    assert "4 euros" in texts and "3 euros" not in texts
