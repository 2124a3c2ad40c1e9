"""One HTTP GET for the crawler, with the limits a hostile site cannot get around.

- Size: counted on the bytes *after* decompression, which we do ourselves from the raw
  stream (httpx's decoders cannot be capped: a 316-byte brotli body became 200 MB in one
  chunk), so a gzip or brotli bomb stops at the limit.
- Time: one deadline for the whole response, redirects included (httpx's read timeout is
  per chunk, so a slow drip would never time out on its own).
- Redirects: followed by hand, at most `max_redirects`, loops detected, and every hop's
  address checked before connecting (`AddressGuard`: loopback, private, link-local,
  ULA and IPv4-mapped addresses are refused unless the user typed that host).
- Types: HTML and PDF only, by Content-Type, or by sniffing when the server is vague.
- Conditional GET: If-None-Match / If-Modified-Since from the last sync.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import zlib
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import brotli
import httpx

from desktop.core.errors import BlockedAddressError, FetchError
from desktop.core.ingest.urls import (
    DEFAULT_PORTS,
    InvalidURL,
    canonicalize_url,
    host_port,
    literal_address,
)

PRIVATE_REASON = "private-address"
ACCEPT = "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.5"
ACCEPT_ENCODING = "gzip, deflate, br"  # only encodings we can decompress within a limit
SNIFF_BYTES = 1024
BROTLI_STEP = 64 * 1024
DRAIN_BYTES = 64 * 1024  # error bodies up to this size are read to keep the connection
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
VAGUE_TYPES = frozenset({"", "application/octet-stream", "text/plain", "binary/octet-stream"})
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]


# -- addresses -------------------------------------------------------------------------
def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address hidden in an IPv6 one (mapped, NAT64, 6to4, compatible), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in ipaddress.IPv6Network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # deprecated ::a.b.c.d
        return ipaddress.IPv4Address(int(address))
    return None


def is_public_address(address: Address) -> bool:
    """False for loopback, private, link-local, ULA, shared, reserved and multicast ranges."""
    inner = embedded_ipv4(address)
    if inner is not None and not is_public_address(inner):
        return False
    return bool(address.is_global) and not address.is_multicast


def is_private_literal(host: str) -> bool:
    """A host that is, without any DNS lookup, a non-public address or `localhost`."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = literal_address(host)
    return address is not None and not is_public_address(address)


async def _system_resolve(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    # The event loop's getaddrinfo runs in its executor: the loop never blocks on DNS.
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class AddressGuard:
    """Refuses connections to non-public addresses, except to the hosts the user typed.

    `allowed` holds the (host, port) pairs that may be private (the start URL's);
    `allow_all_private` lifts the rule (tests, or a user who said so). Every address a
    name resolves to is checked: one private address among public ones is enough to refuse.
    The address actually connected to is checked again before a body is read (a name
    that resolved to a public address may connect to a private one: DNS rebinding);
    `check_peers=False` skips that (tests that simulate a public site on loopback).
    """

    def __init__(
        self,
        *,
        allowed: Iterable[tuple[str, int]] = (),
        allow_all_private: bool = False,
        resolver: Resolver | None = None,
        check_peers: bool = True,
    ) -> None:
        self.allowed = set(allowed)
        self.check_peers = check_peers
        self.allow_all_private = allow_all_private
        self._resolve = resolver or _system_resolve
        self._cache: dict[tuple[str, int], list[Address]] = {}

    async def addresses(self, host: str, port: int) -> list[Address]:
        key = (host, port)
        if key not in self._cache:
            literal = literal_address(host)
            if literal is not None:
                self._cache[key] = [literal]
            else:
                try:
                    found = await self._resolve(host, port)
                except (OSError, UnicodeError) as exc:
                    raise FetchError(
                        f"Cannot resolve the host name {host}.",
                        hint="Check the address and your network connection.",
                        reason="dns",
                    ) from exc
                self._cache[key] = [ipaddress.ip_address(a.split("%", 1)[0]) for a in found]
        return self._cache[key]

    def remember(self, other: AddressGuard) -> None:
        """Reuse the addresses another guard already resolved (no second lookup)."""
        self._cache.update(other._cache)

    async def is_private(self, url: str) -> bool:
        host, port = host_port(url)
        if host == "localhost" or host.endswith(".localhost"):
            return True
        return any(not is_public_address(a) for a in await self.addresses(host, port))

    def may_be_private(self, host: str, port: int) -> bool:
        """Whether (host, port) is exempt from the rule (the user typed it)."""
        if self.allow_all_private or (host, port) in self.allowed:
            return True
        # The user's host on its other default port (an http -> https upgrade).
        defaults = set(DEFAULT_PORTS.values())
        return port in defaults and any(h == host and p in defaults for h, p in self.allowed)

    async def check(self, url: str) -> None:
        """Raise BlockedAddressError if `url` leads to an address the crawl may not reach."""
        host, port = host_port(url)
        if not host:
            raise FetchError(f"No host in {url}.", reason="bad-url")
        if self.may_be_private(host, port):
            return
        if await self.is_private(url):
            raise BlockedAddressError(
                f"Refused {url}: it leads to a private or loopback address.",
                hint="Only the host typed in the start URL may be on a private network.",
                reason=PRIVATE_REASON,
            )

    def check_peer(self, url: str, response: httpx.Response) -> None:
        """After connecting: refuse a response from a private address the name did not
        resolve to when checked (DNS rebinding), before any of its body is read."""
        host, port = host_port(url)
        if not self.check_peers or self.may_be_private(host, port):
            return
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if not peer:
            return  # a transport without sockets (tests, proxies): the name check stands
        try:
            address = ipaddress.ip_address(str(peer[0]).split("%", 1)[0])
        except ValueError:
            return
        if not is_public_address(address):
            raise BlockedAddressError(
                f"Refused {url}: the connection went to a private address ({address}).",
                hint="Only the host typed in the start URL may be on a private network.",
                reason=PRIVATE_REASON,
            )


# -- bounded decompression -------------------------------------------------------------
class SizeLimitExceeded(Exception):
    """More bytes than the limit, after decompression."""


class BoundedDecoder:
    """Decodes a Content-Encoding chunk by chunk, never producing more than `limit` bytes."""

    def __init__(self, encoding: str, limit: int) -> None:
        encoding = encoding.strip().lower()
        if encoding in ("x-gzip",):
            encoding = "gzip"
        if encoding not in ("", "identity", "gzip", "deflate", "br"):
            raise FetchError(
                f"Unsupported content encoding {encoding!r}.", reason="content-encoding"
            )
        self.encoding = encoding
        self.limit = limit
        self.total = 0
        self._zlib: zlib._Decompress | None = None
        self._brotli: brotli.Decompressor | None = None
        self._started = False
        if encoding == "gzip":
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj()
        elif encoding == "br":
            self._brotli = brotli.Decompressor()

    def _count(self, data: bytes) -> bytes:
        self.total += len(data)
        if self.total > self.limit:
            raise SizeLimitExceeded(data)  # the last piece, for callers that truncate
        return data

    def _room(self) -> int:
        return max(self.limit - self.total, 0) + 1

    def feed(self, data: bytes) -> bytes:
        try:
            if self._zlib is not None:
                return self._feed_zlib(data)
            if self._brotli is not None:
                return self._feed_brotli(data)
        except (zlib.error, brotli.error) as exc:
            raise FetchError(
                f"The response's {self.encoding} data is corrupt.", reason="content-encoding"
            ) from exc
        return self._count(data)

    def _feed_zlib(self, data: bytes) -> bytes:
        assert self._zlib is not None
        if not self._started and self.encoding == "deflate" and data:
            self._started = True
            try:  # "deflate" is zlib-wrapped by the spec, raw in some servers
                zlib.decompressobj().decompress(data[:64], 1)
            except zlib.error:
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        out: list[bytes] = []
        while data:
            out.append(self._count(self._zlib.decompress(data, self._room())))
            data = self._zlib.unconsumed_tail
            if self._zlib.eof:
                rest = self._zlib.unused_data
                if rest and self.encoding == "gzip" and rest[:2] == b"\x1f\x8b":
                    self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)  # next gzip member
                    data = rest
                else:
                    break
        return b"".join(out)

    def _feed_brotli(self, data: bytes) -> bytes:
        assert self._brotli is not None
        # Small output steps: brotli's buffer doubles past its limit, so one call with the
        # whole room could still allocate twice the limit.
        step = min(self._room(), BROTLI_STEP)
        out = [self._count(self._brotli.process(data, output_buffer_limit=step))]
        while not self._brotli.can_accept_more_data():
            step = min(self._room(), BROTLI_STEP)
            out.append(self._count(self._brotli.process(b"", output_buffer_limit=step)))
        return b"".join(out)


def gunzip_bounded(data: bytes, limit: int) -> bytes:
    """A gzip file's content (a sitemap.xml.gz), at most `limit` bytes or SizeLimitExceeded."""
    decoder = BoundedDecoder("gzip", limit)
    return decoder.feed(data)


# -- types -----------------------------------------------------------------------------
def sniff_kind(data: bytes) -> str | None:
    """'html' or 'pdf' from a body's first bytes, else None."""
    head = data[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"%pdf-"):
        return "pdf"
    markers = (b"<!doctype html", b"<html", b"<head", b"<body", b"<title", b"<meta", b"<p>")
    if head.startswith(markers) or (head.startswith(b"<!--") and b"<html" in head):
        return "html"
    return None


def kind_of(media_type: str) -> str | None:
    if media_type in HTML_TYPES:
        return "html"
    if media_type in PDF_TYPES:
        return "pdf"
    return None


# -- the fetch -------------------------------------------------------------------------
@dataclass
class Response:
    """A final (non-redirect) response, its body read within the limits."""

    url: str
    final_url: str
    status: int
    media_type: str
    charset: str | None
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    redirects: list[str] = field(default_factory=list)
    truncated: bool = False

    @property
    def kind(self) -> str | None:
        return kind_of(self.media_type) or sniff_kind(self.body)


HopCheck = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int
    timeout_s: float
    max_redirects: int


def _media_type(headers: httpx.Headers) -> str:
    return str(headers.get("content-type", "")).split(";", 1)[0].strip().lower()


def _too_big(limit: int) -> FetchError:
    return FetchError(f"The response is larger than {limit:,} bytes.", reason="size")


async def _read_body(response: httpx.Response, limit: int, *, truncate: bool) -> tuple[bytes, bool]:
    decoder = BoundedDecoder(response.headers.get("content-encoding", ""), limit)
    parts: list[bytes] = []
    try:
        async for raw in response.aiter_raw():
            parts.append(decoder.feed(raw))
    except SizeLimitExceeded as exc:
        if not truncate:
            raise _too_big(limit) from None
        parts.extend(exc.args[:1])
        return b"".join(parts)[:limit], True
    return b"".join(parts), False


async def _drain(response: httpx.Response) -> None:
    """Read a small non-200 body (a 304's is empty) so the connection can be reused;
    closing a response with unread body closes its connection."""
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) <= DRAIN_BYTES:
        async for _ in response.aiter_raw():
            pass


async def _get(
    client: httpx.AsyncClient,
    url: str,
    *,
    guard: AddressGuard,
    limits: FetchLimits,
    headers: Mapping[str, str],
    kinds: Collection[str] | None,
    check_hop: HopCheck | None,
    truncate: bool,
) -> Response:
    hops: list[str] = []  # the URLs that redirected, in order
    current = url
    while True:
        await guard.check(current)
        if check_hop is not None and hops:
            await check_hop(current)
        request_headers = {"Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING}
        if not hops:
            request_headers.update(headers)  # the caller's (validators) go to its URL only
        async with client.stream(
            "GET", current, headers=request_headers, follow_redirects=False
        ) as response:
            guard.check_peer(current, response)
            if response.status_code in REDIRECT_CODES and "location" in response.headers:
                current = _next_hop(current, response.headers["location"], hops, limits)
                continue
            return await _final_response(
                url, current, response, hops, limits=limits, kinds=kinds, truncate=truncate
            )


def _next_hop(current: str, location: str, hops: list[str], limits: FetchLimits) -> str:
    """Where a redirect leads, canonical; `current` joins `hops`. Refuses an unusable
    target, a loop, and more than `max_redirects` hops."""
    try:
        target = canonicalize_url(urljoin(current, location))
    except InvalidURL as exc:
        raise FetchError(f"Redirect to an unusable address: {exc}", reason="bad-redirect") from None
    hops.append(current)
    if target in hops or target == current:
        raise FetchError(f"Redirect loop at {target}.", reason="redirect-loop")
    if len(hops) > limits.max_redirects:
        raise FetchError(
            f"More than {limits.max_redirects} redirects.", reason="too-many-redirects"
        )
    return target


async def _final_response(
    url: str,
    current: str,
    response: httpx.Response,
    hops: list[str],
    *,
    limits: FetchLimits,
    kinds: Collection[str] | None,
    truncate: bool,
) -> Response:
    """The response at the end of the redirects; a 200's body read within the limits and
    its type checked (sniffed when the server is vague), any other's drained."""
    media = _media_type(response.headers)
    result = Response(
        url=url,
        final_url=current,
        status=response.status_code,
        media_type=media,
        charset=response.charset_encoding,
        body=b"",
        headers=dict(response.headers),
        redirects=hops,
    )
    if result.status != 200:
        await _drain(response)
        return result
    if kinds is not None and media not in VAGUE_TYPES and kind_of(media) not in kinds:
        raise FetchError(f"Not HTML or PDF ({media}).", reason="type")
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > limits.max_bytes and not truncate:
        raise _too_big(limits.max_bytes)
    result.body, result.truncated = await _read_body(response, limits.max_bytes, truncate=truncate)
    if kinds is not None and media in VAGUE_TYPES:
        kind = sniff_kind(result.body)
        if kind not in kinds:
            raise FetchError(f"Not HTML or PDF ({media or 'no type'}).", reason="type")
        result.media_type = "text/html" if kind == "html" else "application/pdf"
        result.charset = result.charset if kind == "html" else None
    return result


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    guard: AddressGuard,
    limits: FetchLimits,
    headers: Mapping[str, str] | None = None,
    kinds: Collection[str] | None = ("html", "pdf"),
    check_hop: HopCheck | None = None,
    truncate: bool = False,
) -> Response:
    """GET `url` within the limits; redirects followed by hand, each hop checked.

    Returns the final response (any status but a redirect; the body is read for 200
    only). Raises FetchError with a short `reason`: private-address, size, type,
    timeout, redirect-loop, too-many-redirects, network, dns...
    With `kinds` None any type is read (robots.txt, sitemaps); `truncate` keeps the
    first `max_bytes` instead of failing.
    """
    try:
        async with asyncio.timeout(limits.timeout_s):
            return await _get(
                client,
                url,
                guard=guard,
                limits=limits,
                headers=headers or {},
                kinds=kinds,
                check_hop=check_hop,
                truncate=truncate,
            )
    except TimeoutError:
        raise FetchError(
            f"No complete answer within {limits.timeout_s:g} s.", reason="timeout"
        ) from None
    except httpx.TimeoutException:
        raise FetchError(
            f"The server stopped answering (timeout after {limits.timeout_s:g} s).",
            reason="timeout",
        ) from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise FetchError(f"Unusable address: {exc}", reason="bad-url") from None
    except httpx.HTTPError as exc:
        host = urlsplit(url).hostname or url
        raise FetchError(
            f"Network error talking to {host}: {type(exc).__name__} {exc}".strip(),
            hint="Check the address and that the site is up.",
            reason="network",
        ) from None


def http_reason(status: int) -> str:
    """A short reason for a status the crawl cannot use: 'HTTP 500', 'HTTP 429'..."""
    return f"HTTP {status}"
