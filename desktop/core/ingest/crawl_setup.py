"""What a crawl or a discovery needs before its first request: the canonical start URL,
the address rule for private hosts, and an HTTP client when the caller brings none."""

from __future__ import annotations

import httpx

from desktop.core.errors import FetchError
from desktop.core.ingest.fetch import AddressGuard
from desktop.core.ingest.types import SiteConfig
from desktop.core.ingest.urls import InvalidURL, canonicalize_url, host_port
from desktop.core.tls import shared_ssl_context


async def prepare_crawl(
    config: SiteConfig,
    *,
    client: httpx.AsyncClient | None,
    allow_private_hosts: bool | None,
    guard: AddressGuard | None,
) -> tuple[str, AddressGuard, httpx.AsyncClient | None]:
    """The canonical start URL, the address guard, and a client to close (ours) if any.

    `allow_private_hosts`: None means private addresses are reachable only for the start
    URL's own host when that host is private; True allows them all; False none. A given
    `guard` replaces the rule entirely.
    """
    try:
        start = canonicalize_url(config.start_url)
    except InvalidURL as exc:
        raise FetchError(f"Not a usable start URL: {exc}.", reason="bad-url") from None
    if guard is None:
        guard = await _address_guard(start, allow_private_hosts)
    own = None
    if client is None:
        own = httpx.AsyncClient(
            timeout=httpx.Timeout(config.timeout_s),
            limits=httpx.Limits(max_connections=max(config.concurrency, 1) * 2 + 2),
            follow_redirects=False,
            headers={"User-Agent": config.user_agent},
            verify=shared_ssl_context(),
        )
    return start, guard, own


async def _address_guard(start: str, allow_private_hosts: bool | None) -> AddressGuard:
    if allow_private_hosts is not None:
        return AddressGuard(allow_all_private=allow_private_hosts)
    host, port = host_port(start)
    probe = AddressGuard()
    private = await probe.is_private(start)
    guard = AddressGuard(allowed=[(host, port)] if private else [])
    guard.remember(probe)  # the start host's addresses: not resolved twice
    return guard
