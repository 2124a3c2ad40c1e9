"""What the preview shows, fetched: the customer's page and the widget file.

The page comes through the crawler's fetcher and its address rule (a private or loopback
address only when it is the host the user typed); core/publish/preview_page.py then makes
it inert and adds the widget.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from desktop.core.errors import ConfigError, FetchError
from desktop.core.ingest.encoding import decode_text
from desktop.core.ingest.fetch import AddressGuard, FetchLimits, fetch
from desktop.core.ingest.types import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_TIMEOUT_S,
    USER_AGENT,
)
from desktop.core.ingest.urls import InvalidURL, canonicalize_url, host_port
from desktop.core.paths import resource_path
from desktop.core.tls import shared_ssl_context


def widget_file() -> bytes:
    """The widget as shipped: the same file the hosted service serves."""
    return resource_path("widget", "widget.js").read_bytes()


def page_address(url: str) -> str:
    """The canonical http(s) address of a page the user typed, or a ConfigError."""
    try:
        start = canonicalize_url(url.strip())
    except InvalidURL as exc:
        raise ConfigError(f"Not a page address: {exc}.", hint="Write https://… .") from None
    if urlsplit(start).scheme not in ("http", "https"):
        raise ConfigError(f"Not a web page address: {url}.", hint="Write https://… .")
    return start


async def fetch_page(url: str, *, client: httpx.AsyncClient | None = None) -> tuple[str, str]:
    """(final URL, HTML) of one page, through the crawler's fetcher and its address rule:
    a private or loopback address is reachable only when it is the host the user typed."""
    start = page_address(url)
    probe = AddressGuard()
    host, port = host_port(start)
    guard = AddressGuard(allowed=[(host, port)] if await probe.is_private(start) else [])
    guard.remember(probe)
    limits = FetchLimits(DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S, DEFAULT_MAX_REDIRECTS)
    own = client is None
    http = client or httpx.AsyncClient(
        timeout=httpx.Timeout(DEFAULT_TIMEOUT_S),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        verify=shared_ssl_context(),
    )
    try:
        response = await fetch(http, start, guard=guard, limits=limits, kinds=("html",))
    finally:
        if own:
            await http.aclose()
    if response.status != 200:
        raise FetchError(
            f"{response.final_url} answered HTTP {response.status}.",
            hint="Check the address; the preview needs a page that opens in a browser.",
            reason="status",
        )
    text = decode_text(response.body, declared_charset=response.charset, is_html=True)
    return response.final_url, text
