"""The crawl's requests to a site: robots.txt, sitemaps and pages, each within its limits.

Pages go through the host's `HostLimiter` (requests in flight, their spacing, the
robots.txt Crawl-delay), are asked once more after a 429/503 (once its Retry-After has
passed), and count the host's consecutive timeouts and network errors, by which the
crawl gives up a host that stopped answering.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from desktop.core.errors import FetchError
from desktop.core.ingest.fetch import (
    AddressGuard,
    FetchLimits,
    HopCheck,
    Response,
    fetch,
    http_reason,
)
from desktop.core.ingest.politeness import HostLimiter, retry_after_seconds
from desktop.core.ingest.robots import ROBOTS_MAX_BYTES, ROBOTS_MAX_REDIRECTS, RobotsRules
from desktop.core.ingest.sitemap import SITEMAP_MAX_BYTES
from desktop.core.ingest.types import SiteConfig
from desktop.core.ingest.urls import host_port
from desktop.core.jobs import Job

TRANSIENT_REASONS = frozenset({"timeout", "network"})  # worth a retry in a later sync


class SiteFetcher:
    """GETs for one crawl: the client, the address guard, and one limiter per host."""

    def __init__(
        self,
        config: SiteConfig,
        *,
        client: httpx.AsyncClient,
        guard: AddressGuard,
        job: Job | None = None,
    ) -> None:
        self.config, self.client, self.guard, self.job = config, client, guard, job
        self.limits = FetchLimits(config.max_bytes, config.timeout_s, config.max_redirects)
        self.limiters: dict[str, HostLimiter] = {}
        self.kinds: tuple[str, ...] = ("html", "pdf")

    def limiter(self, url: str, rules: RobotsRules) -> HostLimiter:
        host = "{}:{}".format(*host_port(url))
        if host not in self.limiters:
            interval = max(self.config.delay_s, rules.crawl_delay or 0.0)
            self.limiters[host] = HostLimiter(self.config.concurrency, interval)
        return self.limiters[host]

    async def robots_txt(self, url: str) -> tuple[int, str]:
        size = min(ROBOTS_MAX_BYTES, self.config.max_bytes)
        limits = FetchLimits(size, self.config.timeout_s, ROBOTS_MAX_REDIRECTS)
        response = await self._any_type(url, limits, truncate=True)
        return response.status, response.body.decode("utf-8", errors="replace")

    async def sitemap(self, url: str) -> bytes:
        if self.job is not None:
            self.job.check()
        limits = FetchLimits(
            max(SITEMAP_MAX_BYTES, self.config.max_bytes),
            self.config.timeout_s,
            self.config.max_redirects,
        )
        response = await self._any_type(url, limits)
        if response.status != 200:
            raise FetchError(http_reason(response.status), reason=f"http-{response.status}")
        return response.body

    async def _any_type(self, url: str, limits: FetchLimits, *, truncate: bool = False) -> Response:
        """A GET whose body is read whatever its type (robots.txt, a sitemap)."""
        return await fetch(
            self.client,
            url,
            guard=self.guard,
            limits=limits,
            headers={"User-Agent": self.config.user_agent},
            kinds=None,
            truncate=truncate,
        )

    async def page(
        self,
        url: str,
        *,
        headers: Mapping[str, str],
        limiter: HostLimiter,
        check_hop: HopCheck,
    ) -> Response:
        """The page's response (any status but a redirect), asked again once after a
        429/503; raises FetchError as `fetch` does."""
        for attempt in range(2):
            await limiter.acquire()
            try:
                response = await fetch(
                    self.client,
                    url,
                    guard=self.guard,
                    limits=self.limits,
                    headers=headers,
                    kinds=self.kinds,
                    check_hop=check_hop,
                )
            except FetchError as exc:
                if exc.reason in TRANSIENT_REASONS:
                    limiter.failures += 1
                raise
            finally:
                limiter.release()
            limiter.failures = 0
            if response.status in (429, 503) and attempt == 0:
                limiter.pause(retry_after_seconds(response.headers.get("retry-after")))
                continue
            return response
        return response
