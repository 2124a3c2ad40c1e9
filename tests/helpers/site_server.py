"""A configurable website on 127.0.0.1 for crawler tests, speaking real HTTP.

    with SiteServer() as site:          # a small bakery site, robots.txt and a sitemap
        site.pages["/new"] = Page.html("New", links=["/"])
        site.robots = "User-agent: *\\nDisallow: /"
        crawl(site.url + "/")

Besides `pages` (path with query -> Page) it serves, by path:
  /robots.txt              `robots`: text, an int status, or None for 404
  /sitemap.xml             `sitemap`: a list of paths (a urlset), or None for 404
  /sitemap_index.xml       an index pointing at /sitemap-a.xml and /sitemap-b.xml.gz
  /sitemap-a.xml, /sitemap-b.xml.gz   `sitemap_parts`: two lists of paths (the second gzipped)
  /redirect/N              N redirects, then "/"
  /loop/a, /loop/b         a redirect loop
  /to?url=X                a redirect to X (an open redirect, for the address rules)
  /slow                    a body that drips one byte every 50 ms, forever
  /hang                    headers never sent
  /status/N                that status (429 and 503 carry Retry-After: 0)
  /calendar?month=YYYY-MM  a calendar linking to the next and previous month, endlessly
  /session                 a page linking to itself with a fresh ?sid= each time
  /calendar/YYYY/MM        a calendar by path, linking to the next and previous month with
                           a fresh ?session= on every link, endlessly
  /list?page=N             numbered pagination linking to page N+1, endlessly
  /visit                   a page linking to itself with a fresh ?visit= token (a session
                           id under a name no list knows)
  /bomb/gzip, /bomb/br     64 MiB of zeros in a few kilobytes (Content-Encoding)
  /big, /big-chunked       a 50 MiB page, with and without Content-Length
Pages answer conditional GETs: If-None-Match against their ETag, If-Modified-Since
against their Last-Modified.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import threading
import uuid
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import brotli
import httpx
import pytest

from tests.helpers.loopback import LoopbackServer, ScriptedHandler
from tests.helpers.pdfs import text_pdf

BIG_BYTES = 50 * 1024 * 1024
BOMB_BYTES = 64 * 1024 * 1024
LAST_MODIFIED = "Wed, 21 Oct 2026 07:28:00 GMT"


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: bool = True  # an ETag from the body's hash
    last_modified: str | None = None

    @classmethod
    def html(
        cls,
        title: str,
        text: str = "",
        *,
        links: Sequence[str] = (),
        head: str = "",
        **kwargs: Any,
    ) -> Page:
        nav = " ".join(f'<a href="{link}">{link}</a>' for link in links)
        body = (
            f"<!doctype html><html><head><title>{title}</title>{head}</head><body>"
            f"<nav>{nav}</nav><main><h1>{title}</h1><p>{text or title + ' page text.'}</p>"
            f"</main></body></html>"
        )
        return cls(body.encode(), **kwargs)


@functools.cache
def gzip_bomb() -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * (1024 * 1024)
    parts = [compressor.compress(block) for _ in range(BOMB_BYTES // len(block))]
    return b"".join(parts) + compressor.flush()


@functools.cache
def brotli_bomb() -> bytes:
    return bytes(brotli.compress(b"\0" * BOMB_BYTES, quality=5))


def bakery_pages() -> dict[str, Page]:
    """The default site: pages, a PDF, a redirect, a disallowed area, tracking links."""
    home_links = [
        "/about",
        "/pricing?utm_source=newsletter&utm_medium=email",
        "/docs/",
        "/sheet.pdf",
        "/private/secret",
        "/logo.png",
        "/old-pricing",
        "#top",
        "mailto:hello@example.com",
        "javascript:alert(1)",
        "https://example.org/elsewhere",
    ]
    return {
        "/": Page.html("Home", "Lumen Bakery Supplies, flour since 1990.", links=home_links),
        "/about": Page.html("About", "A family bakery supplier.", links=["/", "/pricing#plans"]),
        "/pricing": Page.html("Pricing", "Rye flour costs 40 euros a sack.", links=["/", "/about"]),
        "/old-pricing": Page(b"", status=301, headers={"Location": "/pricing"}, etag=False),
        "/docs/": Page.html("Docs", "Guides.", links=["install", "faq", "install?print=1"]),
        "/docs/install": Page.html(
            "Install",
            "Plug the oven in.",
            links=["/docs/"],
            head='<link rel="canonical" href="/docs/install">',
            last_modified=LAST_MODIFIED,
        ),
        "/docs/install?print=1": Page.html(
            "Install (print)",
            "Plug the oven in.",
            head='<link rel="canonical" href="http://{host}/docs/install">',
        ),
        "/docs/faq": Page.html("FAQ", "We open at seven.", links=["/docs/"]),
        "/orphan": Page.html("Orphan", "Only the sitemap knows me."),
        "/sheet.pdf": Page(text_pdf(["Sheet\nRye flour 40 EUR per sack."]), "application/pdf"),
        "/private/secret": Page.html("Secret", "Staff only."),
        "/logo.png": Page(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png"),
    }


def _linked(title: str, text: str, links: dict[str, str]) -> Page:
    """A page whose links have words of their own (a fresh token in a link's address
    leaves the page's text unchanged, as on real sites)."""
    nav = " ".join(f'<a href="{href}">{label}</a>' for href, label in links.items())
    body = (
        f"<!doctype html><html><head><title>{title}</title></head><body><nav>{nav}</nav>"
        f"<main><h1>{title}</h1><p>{text}</p></main></body></html>"
    )
    return Page(body.encode())


class SiteHandler(ScriptedHandler):
    """Serves a `SiteServer`'s state; see the module docstring for the routes."""

    def do_GET(self) -> None:
        self.record()
        # The crawler hangs up when it reaches a limit: expected.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._route()

    @property
    def origin(self) -> str:
        return f"http://{self.headers.get('Host') or '127.0.0.1'}"

    def _route(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        key = path + ("?" + parts.query if parts.query else "")
        pages: dict[str, Page] = self.state["pages"]
        if key in pages or path in pages:
            self._page(pages[key] if key in pages else pages[path])
        elif path == "/robots.txt":
            self._robots()
        elif path in ("/sitemap.xml", "/sitemap-a.xml"):
            paths = self.state["sitemap"] if path == "/sitemap.xml" else self.state["parts"][0]
            if paths is None:
                self.send_bytes(404, b"no sitemap", "text/plain")
            else:
                self.send_bytes(200, self._urlset(paths), "application/xml")
        elif path == "/sitemap-b.xml.gz":
            self.send_bytes(
                200, gzip.compress(self._urlset(self.state["parts"][1])), "application/gzip"
            )
        elif path == "/sitemap_index.xml":
            entries = "".join(
                f"<sitemap><loc>{self.origin}{p}</loc></sitemap>"
                for p in ("/sitemap-a.xml", "/sitemap-b.xml.gz")
            )
            body = (
                '<?xml version="1.0" encoding="UTF-8"?><sitemapindex '
                f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'
            )
            self.send_bytes(200, body.encode(), "application/xml")
        else:
            self._special(path, query)

    def _special(self, path: str, query: dict[str, list[str]]) -> None:
        if path.startswith("/redirect/"):
            n = int(path.rsplit("/", 1)[1] or 0)
            self._redirect(f"/redirect/{n - 1}" if n > 1 else "/")
        elif path == "/loop/a":
            self._redirect("/loop/b")
        elif path == "/loop/b":
            self._redirect("/loop/a")
        elif path == "/to":
            self._redirect(query["url"][0])
        elif path == "/slow":
            self._drip()
        elif path == "/hang":
            self.server.stopping.wait(30)  # type: ignore[attr-defined]
        elif path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
            extra = {"Retry-After": "0"} if status in (429, 503) else {}
            self.send_bytes(status, f"status {status}".encode(), "text/html", extra)
        elif path == "/calendar":
            self._calendar(query.get("month", ["2026-01"])[0])
        elif path.startswith("/calendar/"):
            self._path_calendar(path)
        elif path == "/list":
            n = int(query.get("page", ["1"])[0])
            self._page(
                Page.html(f"List page {n}", f"Items of page {n}.", links=[f"/list?page={n + 1}"])
            )
        elif path == "/visit":
            token = uuid.uuid4().hex
            self._page(
                _linked("Visit", "Same page, new token.", {f"/visit?visit={token}": "Again"})
            )
        elif path == "/session":
            sid = uuid.uuid4().hex
            page = Page.html("Session", "Same page, new id.", links=[f"/session?sid={sid}"])
            self._page(page)
        elif path == "/bomb/gzip":
            self.send_bytes(200, gzip_bomb(), "text/html", {"Content-Encoding": "gzip"})
        elif path == "/bomb/br":
            self.send_bytes(200, brotli_bomb(), "text/html", {"Content-Encoding": "br"})
        elif path in ("/big", "/big-chunked"):
            self._big(with_length=path == "/big")
        else:
            self.send_bytes(404, b"<h1>Not found</h1>", "text/html")

    # -- responses ---------------------------------------------------------------------
    def _page(self, page: Page) -> None:
        body = page.body.replace(b"{host}", (self.headers.get("Host") or "").encode())
        headers = dict(page.headers)
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"' if page.etag else None
        if etag:
            headers["ETag"] = etag
        if page.last_modified:
            headers["Last-Modified"] = page.last_modified
        if page.status == 200 and (
            (etag and self.headers.get("If-None-Match") == etag)
            or (page.last_modified and self.headers.get("If-Modified-Since") == page.last_modified)
        ):
            self.send_response(304)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_bytes(page.status, body, page.content_type, headers)

    def _robots(self) -> None:
        robots = self.state["robots"]
        if robots is None:
            self.send_bytes(404, b"not found", "text/html")
        elif isinstance(robots, int):
            self.send_bytes(robots, b"robots unavailable", "text/plain")
        else:
            text = str(robots).replace("{origin}", self.origin)
            self.send_bytes(200, text.encode(), "text/plain")

    def _urlset(self, paths: list[str]) -> bytes:
        urls = "".join(f"<url><loc>{self.origin}{p}</loc></url>" for p in paths)
        return (
            '<?xml version="1.0" encoding="UTF-8"?><urlset '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        ).encode()

    def _redirect(self, location: str, status: int = 302) -> None:
        self.send_bytes(status, b"", "text/html", {"Location": location})

    def _calendar(self, month: str) -> None:
        year, number = (int(x) for x in month.split("-"))
        index = year * 12 + number - 1
        nxt, prev = index + 1, index - 1
        links = [
            f"/calendar?month={nxt // 12:04d}-{nxt % 12 + 1:02d}",
            f"/calendar?month={prev // 12:04d}-{prev % 12 + 1:02d}",
        ]
        self._page(Page.html(f"Events {month}", "No events this month.", links=links))

    def _path_calendar(self, path: str) -> None:
        year, month = (int(x) for x in path.strip("/").split("/")[1:3])
        index = year * 12 + month - 1
        links = {
            f"/calendar/{i // 12:04d}/{i % 12 + 1:02d}?session={uuid.uuid4().hex}": label
            for i, label in ((index + 1, "Next month"), (index - 1, "Previous month"))
        }
        self._page(_linked(f"Events {year}-{month:02d}", "No events this month.", links))

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(10**6))
        self.end_headers()
        self.wfile.write(b"<html><body>")
        stopping: threading.Event = self.server.stopping  # type: ignore[attr-defined]
        for _ in range(600):
            if stopping.wait(0.05):
                return
            self.wfile.write(b"x")
            self.wfile.flush()

    def _big(self, *, with_length: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        if with_length:
            self.send_header("Content-Length", str(BIG_BYTES))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        chunk = b"<p>" + b"a" * (64 * 1024 - 7) + b"</p>\n"
        for _ in range(BIG_BYTES // len(chunk)):
            self.wfile.write(chunk)


class SiteServer(LoopbackServer):
    """The bakery site (or any pages) on 127.0.0.1; every route scriptable through attributes."""

    def __init__(self, pages: dict[str, Page] | None = None) -> None:
        super().__init__(SiteHandler)
        self.httpd.stopping = threading.Event()  # type: ignore[attr-defined]
        self.state["pages"] = bakery_pages() if pages is None else pages
        self.state["robots"] = "User-agent: *\nDisallow: /private/\nSitemap: {origin}/sitemap.xml\n"
        self.state["sitemap"] = ["/", "/about", "/pricing", "/docs/faq", "/orphan"]
        self.state["parts"] = (["/about", "/pricing"], ["/orphan", "/docs/faq"])

    @property
    def pages(self) -> dict[str, Page]:
        return self.state["pages"]  # type: ignore[no-any-return]

    @property
    def robots(self) -> str | int | None:
        return self.state["robots"]  # type: ignore[no-any-return]

    @robots.setter
    def robots(self, value: str | int | None) -> None:
        self.state["robots"] = value

    @property
    def sitemap(self) -> list[str] | None:
        return self.state["sitemap"]  # type: ignore[no-any-return]

    @sitemap.setter
    def sitemap(self, value: list[str] | None) -> None:
        self.state["sitemap"] = value

    def at(self, path: str) -> str:
        return self.url + path

    def paths_requested(self) -> list[str]:
        return [path for method, path in self.requests_seen if method == "GET"]

    def stop(self) -> None:
        self.httpd.stopping.set()  # type: ignore[attr-defined]
        super().stop()


class PublicNameTransport(httpx.AsyncBaseTransport):
    """Connects requests for `name` to the loopback server: a 'public' site in tests.

    Pair it with an AddressGuard whose resolver says `name` is public.
    """

    def __init__(self, name: str, port: int) -> None:
        self.name, self.port = name, port
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == self.name:
            request.url = request.url.copy_with(host="127.0.0.1", port=self.port)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def site_server() -> Iterator[SiteServer]:
    """The bakery site on loopback, fresh per test."""
    with SiteServer() as server:
        yield server


@pytest.fixture
def empty_site() -> Iterator[SiteServer]:
    """A site with no pages (add your own), no robots.txt and no sitemap."""
    with SiteServer(pages={}) as server:
        server.robots = None
        server.sitemap = None
        yield server
