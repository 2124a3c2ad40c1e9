"""Helpers of the Content page tests: waiting for a sync, reading a table's cells, sample
content, and a small website on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import Qt

from desktop.core.store.workspace import Workspace
from desktop.ui.content.page import ContentPage
from desktop.ui.main_window import MainWindow
from tests.helpers.loopback import ScriptedHandler


def messages(window: MainWindow) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    window.messages.message_shown.connect(lambda level, text: seen.append((level, text)))
    return seen


def sync_and_wait(page: ContentPage, qloop: Any, source_ids: list[int] | None = None) -> None:
    job = page.start_sync(source_ids)
    assert job is not None
    wait_for_sync(page, qloop)


def wait_for_sync(page: ContentPage, qloop: Any) -> None:
    """Until the sync has ended and the page has shown its outcome (staged over two turns)."""
    qloop.wait_until(lambda: page.sync_job is None and not page.refresh_pending, timeout=60)


def cells(view: Any, column: int) -> list[str]:
    model = view.model()
    return [str(model.index(row, column).data()) for row in range(model.rowCount())]


def open_workspace(window: MainWindow) -> Workspace:
    """The window's workspace, which the test has opened."""
    assert window.workspace is not None
    return window.workspace


def header(view: Any, column: int) -> str:
    return str(view.model().headerData(column, Qt.Orientation.Horizontal))


def long_text(*topics: str, words: int = 220) -> str:
    sections = []
    for topic in topics:
        body = " ".join(f"{topic}{i % 17}" for i in range(words))
        sections.append(f"## About {topic}\n\n{body}.\n")
    return "\n".join(sections)


def states(page: ContentPage) -> list[str]:
    return [p.state for p in page.passages.passages]


SITE_PATHS = ["/", "/about", "/blog/first-post", "/blog/second-post", "/docs/setup"]


class SiteHandler(ScriptedHandler):
    """A small site with a sitemap; each page links to the next one."""

    def do_GET(self) -> None:
        self.record()
        path = urlsplit(self.path).path
        origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        if path == "/robots.txt":
            self.send_bytes(
                200, f"User-agent: *\nAllow: /\nSitemap: {origin}/sitemap.xml\n".encode()
            )
        elif path == "/sitemap.xml":
            locs = "".join(f"<url><loc>{origin}{p}</loc></url>" for p in SITE_PATHS)
            body = (
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{locs}</urlset>"
            )
            self.send_bytes(200, body.encode(), "application/xml")
        elif path in SITE_PATHS:
            words = " ".join(f"{path.strip('/') or 'home'} word{i}" for i in range(80))
            html_page = (
                f"<html><head><title>Page {path}</title></head><body><main>"
                f"<h1>Page {path}</h1><p>{words}</p></main></body></html>"
            )
            self.send_bytes(200, html_page.encode(), "text/html; charset=utf-8")
        else:
            self.send_bytes(404, b"not found")


def write_pages(folder: Path, n: int, footer: str) -> None:
    """`n` pages, each one passage of its own words then the same footer as a passage
    (the body stays under one passage's size, so the footer is never cut into it)."""
    folder.mkdir()
    for i in range(n):
        body = " ".join(f"subject{i} term{j}" for j in range(60))
        (folder / f"page{i}.md").write_text(
            f"# Page {i}\n\n{body}\n\n## Legal\n\n{footer}\n", encoding="utf-8"
        )


FOOTER_TEXT = (
    "Lumen Bakery Supplies GmbH, registered in Hamburg, all prices exclude VAT and "
    "delivery, terms and conditions apply to every order placed with us."
)
