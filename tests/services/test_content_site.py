"""Site sync against a loopback website: fetch, 304s on re-sync, a page gone (404), a PDF.

The real crawler (desktop.core.ingest.crawl) against a small scripted site: the sync's
handling of 200, 304 and 404 pages, end to end.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace
from desktop.services import content, content_sources
from tests.helpers.backends import OFFLINE
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
    return asyncio.run(content.sync(ws, Job("sync"), backends=OFFLINE))


def test_site_sync_resync_and_gone_page(workspace: Workspace, site: LoopbackServer) -> None:
    content_sources.add_site(workspace, site.url + "/")
    first = _sync(workspace)
    assert first.fetched == 4, first.to_json()
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
    workspace: Workspace, site: LoopbackServer
) -> None:
    content_sources.add_site(workspace, site.url + "/")
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
