"""The crawl's frontier: the URLs waiting to be fetched, each admitted once.

A URL joins the queue only if it is on the site, within the user's rules and depth, not
waiting for a later retry, not past its family's cap (a crawl trap's chain links) and
there is room (FRONTIER_FACTOR x max_pages); otherwise it is reported skipped with the
reason. Every URL is tracked once, canonical and without volatile parameters, and a
page is claimed when its fetch starts, so no page is fetched twice.
"""

from __future__ import annotations

from collections import deque
from urllib.parse import urlsplit

from desktop.core.ingest.crawl_report import CrawlLog
from desktop.core.ingest.fetch import PRIVATE_REASON, AddressGuard, is_private_literal
from desktop.core.ingest.links import PageLinks
from desktop.core.ingest.traps import CrawlMemory, TrapGuard
from desktop.core.ingest.types import SiteConfig
from desktop.core.ingest.urls import (
    host_port,
    pattern_problem,
    shape_problem,
    site_key,
    unwanted_suffix,
)

FRONTIER_FACTOR = 4  # URLs kept waiting, as a multiple of max_pages (the rest: max-pages)

Entry = tuple[str, int, str]  # url, depth, via


class Frontier:
    """The URLs waiting (breadth first), those seen, and those claimed by a fetch."""

    def __init__(
        self,
        config: SiteConfig,
        *,
        start: str,
        traps: TrapGuard,
        memory: CrawlMemory,
        guard: AddressGuard,
        log: CrawlLog,
    ) -> None:
        self.config, self.traps, self.memory, self.guard, self.log = (
            config,
            traps,
            memory,
            guard,
            log,
        )
        self.sites = {site_key(urlsplit(start).hostname or "")}
        self.waiting: deque[Entry] = deque()
        self.queued: set[str] = set()
        self.claimed: set[str] = set()  # page identities fetched or being fetched
        self.started = 0  # pages taken for a fetch: the max-pages budget
        self.found: dict[str, str] | None = None  # discovery: url -> via
        self.max_found = 0
        # Past this many distinct URLs (a trap of pages with thousands of fresh links)
        # new ones are dropped unreported: memory stays bounded.
        self.max_tracked = max(50_000, 50 * config.max_pages)
        self._front: list[Entry] | None = None  # see follow

    def in_site(self, url: str) -> bool:
        return site_key(urlsplit(url).hostname or "") in self.sites

    def claim(self, url: str) -> None:
        """`url` is the identity of a page being fetched: never queued or fetched again."""
        self.claimed.add(url)
        self.queued.add(url)

    # -- in ------------------------------------------------------------------------------
    def enqueue(self, url: str, depth: int, via: str, page_url: str | None = None) -> None:
        url = self.traps.strip(url)
        if url in self.queued or len(self.queued) >= self.max_tracked:
            return
        self.queued.add(url)
        if not self.in_site(url):
            host = urlsplit(url).hostname or ""
            if is_private_literal(host) and not self.guard.may_be_private(*host_port(url)):
                self.log.skip(PRIVATE_REASON, url)
            return  # other sites' pages are not ours to crawl (and not worth reporting)
        if self.found is not None and len(self.found) < self.max_found:
            self.found.setdefault(url, via)
        reason = self._refusal(url, depth, via, page_url)
        if reason is not None:
            self.log.skip(reason, url)
            return
        if self._front is not None:
            self._front.append((url, depth, via))
        else:
            self.waiting.append((url, depth, via))

    def _refusal(self, url: str, depth: int, via: str, page_url: str | None) -> str | None:
        """Why an on-site URL is not queued, or None. The family cap is checked last: a
        chain link counts toward it only when nothing else refuses it."""
        reason = shape_problem(url) or ("type" if unwanted_suffix(url) else None)
        if reason is None and via != "start":
            reason = pattern_problem(url, self.config.include, self.config.exclude)
        if reason is None and depth > self.config.max_depth:
            reason = "depth"
        if reason is None and self.memory.waiting(url) is not None:
            reason = "retry-later"
        if reason is None and page_url is not None and not self.traps.admit(url, page_url):
            reason = "trap"
        if reason is None and len(self.waiting) >= FRONTIER_FACTOR * self.config.max_pages:
            reason = "max-pages"
        return reason

    def follow(self, links: PageLinks, depth: int, page_url: str, *, first: bool = False) -> None:
        """Queue a page's links; the start page's go first, ahead of the sitemap's URLs:
        its navigation is the site's main pages, and a dead one among them then times
        out alongside the rest of the crawl instead of at its end."""
        if links.nofollow:
            return
        self._front = [] if first else None
        linked: list[str] = []
        try:
            for link in links.links:
                url = self.traps.observe_link(link, page_url)
                self.enqueue(url, depth + 1, "link", page_url)
                linked.append(self.traps.strip(url))
            if self._front is not None:
                self._to_front(self._front, linked, depth + 1)
        finally:
            self._front = None

    def _to_front(self, admitted: list[Entry], linked: list[str], depth: int) -> None:
        """The start page's links, in its order, ahead of the rest: those it admitted, and
        those still waiting from before it was handled (listed by the sitemap, or linked
        from a page that shares its navigation and answered first; else a dead page in
        the navigation would start its timeout only at the end of the crawl). A moved
        entry's depth becomes that of the start page's links if smaller."""
        ahead = {url for url, _depth, _via in admitted}
        earlier = set(linked) - ahead
        moved: dict[str, Entry] = {}
        if earlier:
            for url, was, via in self.waiting:
                if url in earlier:
                    moved[url] = (url, min(was, depth), via)
            if moved:
                self.waiting = deque(e for e in self.waiting if e[0] not in moved)
        entries = {entry[0]: entry for entry in admitted} | moved
        front = [entries[url] for url in dict.fromkeys(linked) if url in entries]
        self.waiting.extendleft(reversed(front))

    # -- out -----------------------------------------------------------------------------
    def take(self) -> Entry | None:
        """The next page to fetch, claimed; None when none is waiting or max_pages are
        taken. A parameter found volatile since the URL was queued is dropped now."""
        while self.waiting and self.started < self.config.max_pages:
            url, depth, via = self.waiting.popleft()
            bare = self.traps.strip(url)
            if bare != url:
                if bare in self.queued:
                    continue
                self.queued.add(bare)
                url = bare
            if url in self.claimed:
                continue
            self.claimed.add(url)
            self.started += 1
            return url, depth, via
        return None

    def drop_rest(self) -> None:
        """The crawl is over: what still waits was left out by max-pages."""
        for url, _depth, _via in self.waiting:
            if url not in self.claimed:
                self.log.skip("max-pages", url)
        self.waiting.clear()
