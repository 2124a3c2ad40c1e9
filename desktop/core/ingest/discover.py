"""The crawl preview's discovery: a site's URLs without a full crawl.

`discover_site` reads the sitemaps and the links of the first DISCOVERY_PAGES pages, with
the crawler's own machinery (robots.txt, addresses, traps), and names the URL families
whose pages kept linking to more of themselves: possible crawl traps.
"""

from __future__ import annotations

from dataclasses import replace

import httpx

from desktop.core.ingest.crawl import Crawl
from desktop.core.ingest.crawl_report import DiscoveredUrl
from desktop.core.ingest.crawl_setup import prepare_crawl
from desktop.core.ingest.fetch import AddressGuard
from desktop.core.ingest.traps import TrapReport
from desktop.core.ingest.types import SiteConfig
from desktop.core.jobs import Job

DISCOVERY_PAGES = 20  # pages fetched for their links by discover_site
DISCOVERY_TRAP_LINKS = 3  # chain links of one URL family in discovery: a possible trap


async def discover_site(
    config: SiteConfig,
    *,
    job: Job | None = None,
    client: httpx.AsyncClient | None = None,
    max_urls: int = 5000,
    allow_private_hosts: bool | None = None,
    guard: AddressGuard | None = None,
    traps: list[TrapReport] | None = None,
) -> list[DiscoveredUrl]:
    """The site's URLs from its sitemaps and the links of its first pages (no full crawl).

    Include/exclude rules are not applied (the preview applies them live); robots.txt
    is: a disallowed URL is not listed. At most `max_urls` URLs. `traps`, if given,
    receives the URL families whose pages kept linking to more of themselves.
    """
    start, guard, own = await prepare_crawl(
        config, client=client, allow_private_hosts=allow_private_hosts, guard=guard
    )
    http = client or own
    assert http is not None
    pages = max(1, min(config.max_pages, DISCOVERY_PAGES))
    rules_free = replace(config, include=(), exclude=(), max_pages=pages)
    crawl = Crawl(
        rules_free, known={}, on_page=None, job=job, client=http, guard=guard, start=start
    )
    found: dict[str, str] = {}
    crawl.frontier.found = found
    crawl.frontier.max_found = max_urls
    crawl.fetcher.kinds = ("html",)  # pages are read for their links only: no PDF downloads
    try:
        if job is not None:
            job.stage("discover")
        await crawl.seed(with_known=False)
        # Sitemaps found plenty: only the start page is fetched for its links.
        if len(found) >= max_urls:
            crawl.reconfigure(replace(rules_free, max_pages=1))
        await crawl.run()
        if traps is not None:
            traps.extend(
                TrapReport(family, count, family in crawl.traps.capped)
                for family, count in sorted(crawl.traps.counts.items())
                if count >= DISCOVERY_TRAP_LINKS
            )
        result: list[DiscoveredUrl] = []
        for url, via in list(found.items())[:max_urls]:
            rules = await crawl.robots.rules_for(url)
            if rules.allowed(url):
                result.append(DiscoveredUrl(url, via))
        return result
    finally:
        if own is not None:
            await own.aclose()
