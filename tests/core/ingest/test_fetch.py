"""The crawler's GET: limits after decompression, deadline, redirects by hand, addresses, types."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable
from typing import Any

import brotli
import httpx
import pytest

from desktop.core.errors import BlockedAddressError, FetchError
from desktop.core.ingest.fetch import (
    AddressGuard,
    BoundedDecoder,
    FetchLimits,
    Response,
    SizeLimitExceeded,
    fetch,
)
from desktop.core.ingest.urls import host_port
from tests.helpers.site_server import (
    LAST_MODIFIED,
    Page,
    PublicNameTransport,
    SiteServer,
    brotli_bomb,
    gzip_bomb,
)

LIMITS = FetchLimits(max_bytes=1024 * 1024, timeout_s=2.0, max_redirects=10)


def _guard(site: SiteServer) -> AddressGuard:
    """The rule as the crawl sets it when the user typed this loopback site."""
    return AddressGuard(allowed=[host_port(site.url)])


def _get(
    site: SiteServer,
    path_or_url: str,
    *,
    limits: FetchLimits = LIMITS,
    guard: AddressGuard | None = None,
    **kwargs: Any,
) -> Response:
    url = site.at(path_or_url) if path_or_url.startswith("/") else path_or_url

    async def go() -> Response:
        async with httpx.AsyncClient() as client:
            return await fetch(client, url, guard=guard or _guard(site), limits=limits, **kwargs)

    return asyncio.run(go())


def _reason(call: Callable[[], object]) -> str:
    with pytest.raises(FetchError) as info:
        call()
    assert info.value.message  # a sentence for the user, not only a code
    return info.value.reason


def test_html_page(site_server: SiteServer) -> None:
    response = _get(site_server, "/pricing")
    assert response.status == 200
    assert response.media_type == "text/html" and response.charset == "utf-8"
    assert b"40 euros" in response.body and response.kind == "html"
    assert response.headers["etag"].startswith('"')


def test_compressed_pages_are_decoded(site_server: SiteServer) -> None:
    html = Page.html("Zipped", "Compressed but small.").body
    site_server.pages["/gz"] = Page(gzip.compress(html), headers={"Content-Encoding": "gzip"})
    site_server.pages["/br"] = Page(brotli.compress(html), headers={"Content-Encoding": "br"})
    assert _get(site_server, "/gz").body == html
    assert _get(site_server, "/br").body == html


@pytest.mark.parametrize("path", ["/bomb/gzip", "/bomb/br"])
def test_decompression_bombs_stop_at_the_limit(site_server: SiteServer, path: str) -> None:
    assert _reason(lambda: _get(site_server, path)) == "size"


@pytest.mark.parametrize(("encoding", "bomb"), [("gzip", gzip_bomb), ("br", brotli_bomb)])
def test_decoder_never_holds_more_than_the_limit(encoding: str, bomb: Callable[[], bytes]) -> None:
    limit = 100_000
    decoder = BoundedDecoder(encoding, limit)
    data = bomb()
    with pytest.raises(SizeLimitExceeded):
        for i in range(0, len(data), 4096):
            decoder.feed(data[i : i + 4096])
    assert decoder.total <= 2 * limit  # stopped at the limit, not at 64 MiB


def test_corrupt_and_unknown_encodings(site_server: SiteServer) -> None:
    site_server.pages["/corrupt"] = Page(b"not gzip at all", headers={"Content-Encoding": "gzip"})
    site_server.pages["/zstd"] = Page(b"xx", headers={"Content-Encoding": "zstd"})
    assert _reason(lambda: _get(site_server, "/corrupt")) == "content-encoding"
    assert _reason(lambda: _get(site_server, "/zstd")) == "content-encoding"


def test_a_50_mb_response_is_refused(site_server: SiteServer) -> None:
    assert _reason(lambda: _get(site_server, "/big")) == "size"  # by its Content-Length
    assert _reason(lambda: _get(site_server, "/big-chunked")) == "size"  # while streaming


def test_truncate_keeps_the_start(site_server: SiteServer) -> None:
    limits = FetchLimits(1000, 2.0, 5)
    response = _get(site_server, "/big-chunked", limits=limits, kinds=None, truncate=True)
    assert len(response.body) == 1000 and response.truncated


@pytest.mark.parametrize("path", ["/slow", "/hang"])
def test_overall_deadline(site_server: SiteServer, path: str) -> None:
    limits = FetchLimits(LIMITS.max_bytes, 0.5, 10)
    assert _reason(lambda: _get(site_server, path, limits=limits)) == "timeout"


def test_redirects_followed_by_hand(site_server: SiteServer) -> None:
    response = _get(site_server, "/redirect/3")
    assert response.status == 200 and response.final_url == site_server.at("/")
    assert len(response.redirects) == 3
    hops: list[str] = []

    async def check(url: str) -> None:
        hops.append(url)

    _get(site_server, "/redirect/2", check_hop=check)
    assert hops == [site_server.at("/redirect/1"), site_server.at("/")]


def test_redirect_limits_and_loops(site_server: SiteServer) -> None:
    assert _reason(lambda: _get(site_server, "/redirect/12")) == "too-many-redirects"
    assert _reason(lambda: _get(site_server, "/loop/a")) == "redirect-loop"
    site_server.pages["/nowhere"] = Page(b"", status=302, headers={"Location": "ftp://x/"})
    assert _reason(lambda: _get(site_server, "/nowhere")) == "bad-redirect"


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{port}/",
        "http://localhost:{port}/",
        "http://[::ffff:127.0.0.1]:1/",
        "http://2130706433:1/",
        "http://0x7f000001:1/",
        "http://127.1:1/",
        "http://10.0.0.1/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:1/",
        "http://[fd12::1]/",
    ],
)
def test_every_redirect_hop_is_checked(site_server: SiteServer, target: str) -> None:
    url = target.format(port=site_server.port)
    with pytest.raises(BlockedAddressError) as info:
        _get(site_server, "/to?url=" + url)
    assert info.value.reason == "private-address"
    # Refused before connecting: the loopback site saw only the first request.
    assert site_server.paths_requested() == ["/to?url=" + url]


def test_the_typed_host_is_reachable_and_only_it(site_server: SiteServer) -> None:
    assert _get(site_server, "/", guard=_guard(site_server)).status == 200
    other_port = AddressGuard(allowed=[("127.0.0.1", site_server.port + 1)])
    for guard in (other_port, AddressGuard()):
        with pytest.raises(BlockedAddressError):
            _get(site_server, "/", guard=guard)
    assert _get(site_server, "/", guard=AddressGuard(allow_all_private=True)).status == 200


def _resolver(table: dict[str, list[str]]) -> Callable[[str, int], Awaitable[list[str]]]:
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("unknown host")
        return table[host]

    return resolve


def test_names_are_resolved_and_every_address_checked() -> None:
    guard = AddressGuard(
        resolver=_resolver(
            {
                "public.test": ["93.184.216.34"],
                "mixed.test": ["93.184.216.34", "10.0.0.5"],
                "mapped.test": ["::ffff:127.0.0.1"],
            }
        )
    )

    async def check(url: str) -> None:
        await guard.check(url)

    asyncio.run(check("https://public.test/"))
    for url in ("https://mixed.test/", "https://mapped.test/"):
        with pytest.raises(BlockedAddressError):
            asyncio.run(check(url))
    with pytest.raises(FetchError) as info:
        asyncio.run(check("https://unknown.test/"))
    assert info.value.reason == "dns"


def test_conditional_get(site_server: SiteServer) -> None:
    etag = _get(site_server, "/pricing").headers["etag"]
    assert _get(site_server, "/pricing", headers={"If-None-Match": etag}).status == 304
    since = {"If-Modified-Since": LAST_MODIFIED}
    assert _get(site_server, "/docs/install", headers=since).status == 304
    assert _get(site_server, "/pricing", headers={"If-None-Match": '"old"'}).status == 200


def test_error_statuses_are_returned_not_raised(site_server: SiteServer) -> None:
    assert _get(site_server, "/missing").status == 404
    assert _get(site_server, "/status/500").status == 500
    assert _get(site_server, "/status/410").body == b""


def test_types_html_and_pdf_only(site_server: SiteServer) -> None:
    assert _get(site_server, "/sheet.pdf").kind == "pdf"
    assert _reason(lambda: _get(site_server, "/logo.png")) == "type"
    pdf = site_server.pages["/sheet.pdf"].body
    site_server.pages["/download"] = Page(pdf, "application/octet-stream")
    site_server.pages["/vague"] = Page(b"<!DOCTYPE html><html><p>hi</p></html>", "")
    site_server.pages["/notes.txt"] = Page(b"just some notes", "text/plain")
    sniffed = _get(site_server, "/download")
    assert sniffed.media_type == "application/pdf" and sniffed.kind == "pdf"
    assert _get(site_server, "/vague").media_type == "text/html"
    assert _reason(lambda: _get(site_server, "/notes.txt")) == "type"
    assert _get(site_server, "/notes.txt", kinds=None).body == b"just some notes"


def test_connection_refused_is_a_network_failure(site_server: SiteServer) -> None:
    url = "http://127.0.0.1:9/"  # discard port: nothing listens
    guard = AddressGuard(allow_all_private=True)
    assert _reason(lambda: _get(site_server, url, guard=guard)) == "network"


def test_dns_rebinding_is_caught_after_connecting(site_server: SiteServer) -> None:
    # The name resolves to a public address when checked, then connects to loopback.
    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    async def go(check_peers: bool) -> Response:
        transport = PublicNameTransport("rebind.test", site_server.port)
        guard = AddressGuard(resolver=resolve, check_peers=check_peers)
        async with httpx.AsyncClient(transport=transport) as client:
            return await fetch(client, "http://rebind.test/", guard=guard, limits=LIMITS)

    with pytest.raises(BlockedAddressError) as info:
        asyncio.run(go(True))
    assert "connection went to a private address" in info.value.message
    assert asyncio.run(go(False)).status == 200  # what the check alone stops
