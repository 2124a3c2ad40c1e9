"""The website crawl: breadth-first over one site, within the user's rules and the site's.

`crawl_site` fetches each page once (canonical URLs, redirects and `<link
rel=canonical>` deduplicated), starting from the start URL, the sitemaps and the URLs
the last sync stored (revisited with conditional GETs, so a 404/410 is seen and the
page marked removed). It obeys robots.txt, the include/exclude globs, max pages and
max depth, keeps to `concurrency` requests at a time per host with the delay the site
asks for, and never reaches a private address the user did not type. A crawl trap
(endless calendars, session ids) simply runs into those limits. Every URL not fetched
is reported with a reason; one bad page never ends the crawl.

The parts: the frontier (desktop.core.ingest.frontier), the requests
(desktop.core.ingest.site_fetch), the report (desktop.core.ingest.crawl_report); the
crawl preview's cheaper discovery is desktop.core.ingest.discover.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlsplit

import httpx

from desktop.core.errors import BlockedAddressError, FetchError
from desktop.core.ingest.crawl_report import SKIP_REASONS, CrawlLog, CrawlReport
from desktop.core.ingest.crawl_setup import prepare_crawl
from desktop.core.ingest.fetch import PRIVATE_REASON, AddressGuard, Response, http_reason
from desktop.core.ingest.frontier import FRONTIER_FACTOR, Frontier
from desktop.core.ingest.links import PageLinks, extract_links
from desktop.core.ingest.politeness import HostLimiter
from desktop.core.ingest.robots import RobotsCache, header_noindex, origin_of
from desktop.core.ingest.site_fetch import TRANSIENT_REASONS, SiteFetcher
from desktop.core.ingest.sitemap import read_sitemaps
from desktop.core.ingest.traps import CrawlMemory, TrapGuard
from desktop.core.ingest.types import FetchedPage, KnownPage, SiteConfig
from desktop.core.ingest.urls import pattern_problem, shape_problem, site_key, try_canonicalize
from desktop.core.jobs import Job

MAX_HOST_FAILURES = 5  # consecutive timeouts/network errors before a host is given up
LINKS_IN_THREAD_BYTES = 256 * 1024  # bigger HTML is parsed for links off the event loop
POLL_S = 0.2  # how often a waiting crawl looks at job.check()
# A retried page still in flight when the rest of a sync is done gets this long more.
RETRY_GRACE_S = 3.0

OnPage = Callable[[FetchedPage], Awaitable[None]]
Visits = set[asyncio.Task[None]]


class Crawl:
    """One crawl of one site: seeded, then run; its outcome is `report`."""

    def __init__(
        self,
        config: SiteConfig,
        *,
        known: Mapping[str, KnownPage],
        on_page: OnPage | None,
        job: Job | None,
        client: httpx.AsyncClient,
        guard: AddressGuard,
        start: str,
        memory: CrawlMemory | None = None,
    ) -> None:
        self.config, self.known, self.on_page, self.job = config, known, on_page, job
        self.memory = memory if memory is not None else CrawlMemory()
        self.traps = TrapGuard(config.family_cap, self.memory)
        self.start = start
        self.report = CrawlReport()
        self.log = CrawlLog(self.report, job, self.memory)
        self.fetcher = SiteFetcher(config, client=client, guard=guard, job=job)
        self.robots = RobotsCache(self.fetcher.robots_txt, config.user_agent)
        self.frontier = Frontier(
            config, start=start, traps=self.traps, memory=self.memory, guard=guard, log=self.log
        )
        self.moved: dict[str, str] = {}  # known URL -> why it now leads elsewhere
        self._total: int | None = None

    def reconfigure(self, config: SiteConfig) -> None:
        """New limits for the rest of the crawl (discovery: fewer pages once seeded)."""
        self.config = self.frontier.config = self.fetcher.config = config

    def _update_total(self) -> None:
        if self.job is None:
            return
        total = min(self.config.max_pages, self.frontier.started + len(self.frontier.waiting))
        if total != self._total:
            self._total = total
            self.job.set_total(total)

    # -- seeds ---------------------------------------------------------------------------
    async def seed(self, *, with_known: bool) -> None:
        """The start URL, the pages due for a retry, then the sitemaps' URLs, then what
        the last sync knew. Retries come first: fetched alongside the rest, never last."""
        frontier = self.frontier
        frontier.enqueue(self.start, 0, "start")
        if with_known:
            for url in self.memory.due():
                frontier.enqueue(url, 1, "retry")
            for url in self.known:
                self.traps.count_kept(url)
        rules = await self.robots.rules_for(self.start)
        if rules.state == "unavailable":
            self.log.fail(self.start, rules.refusal())
            return
        for url in await self._sitemap_urls(rules.sitemaps):
            frontier.enqueue(url, 1, "sitemap")
        if with_known:
            for raw in self.known:
                page = try_canonicalize(raw)
                if page is not None:
                    frontier.enqueue(page, 1, "known")

    async def _sitemap_urls(self, declared: list[str]) -> list[str]:
        """The canonical page URLs of the sitemaps robots.txt names (else /sitemap.xml,
        whose absence is no failure); a sitemap that could not be read is one."""
        seeds = [u for u in (try_canonicalize(s) for s in declared) if u]
        guessed = origin_of(self.start) + "/sitemap.xml"
        quiet = frozenset() if seeds else frozenset({guessed})
        max_urls = FRONTIER_FACTOR * self.config.max_pages
        if self.frontier.found is not None:
            max_urls = max(max_urls, self.frontier.max_found)
        result = await read_sitemaps(
            seeds or [guessed], self.fetcher.sitemap, max_urls=max_urls, quiet=quiet
        )
        for url, reason in result.problems.items():
            self.log.fail(url, f"sitemap not read: {reason}")
        return [u for u in (try_canonicalize(raw) for raw in result.urls) if u is not None]

    # -- the loop ------------------------------------------------------------------------
    async def run(self) -> None:
        tasks: Visits = set()
        retries: dict[asyncio.Task[None], str] = {}  # retry fetches in flight -> url
        try:
            while True:
                if self.job is not None:
                    self.job.check()
                self._start_visits(tasks, retries)
                self._update_total()
                if not tasks:
                    break
                if not self.frontier.waiting and tasks.issubset(retries):
                    await self._cut_retries(tasks, retries)
                    break
                done, _ = await asyncio.wait(
                    tasks, timeout=POLL_S, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    tasks.discard(task)
                    task.result()  # a bug or a cancel in on_page ends the crawl
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        self.frontier.drop_rest()

    def _start_visits(self, tasks: Visits, retries: dict[asyncio.Task[None], str]) -> None:
        """Visits of waiting pages, up to `concurrency` in flight."""
        while len(tasks) < max(self.config.concurrency, 1):
            entry = self.frontier.take()
            if entry is None:
                return
            url, depth, via = entry
            task = asyncio.create_task(self.visit(url, depth, via))
            tasks.add(task)
            if via == "retry":
                retries[task] = url

    async def _cut_retries(self, tasks: Visits, retries: dict[asyncio.Task[None], str]) -> None:
        """Only retries of failed pages are left: the sync waits for them RETRY_GRACE_S more
        at most, not their whole timeout.

        A page that did not answer by then counts as failed again (its backoff grows); its
        stored passages stay. The grace keeps a page that is back up (it answers in
        milliseconds, but may have been fetched last) from being cut on a fast re-sync.
        """
        waiting = [task for task in tasks if not task.done()]
        if waiting:
            await asyncio.wait(waiting, timeout=RETRY_GRACE_S)
        pending = [task for task in tasks if not task.done()]
        for task in tasks:
            if task.done():
                task.result()  # finished meanwhile: as in run(), a bug ends the crawl
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for task in pending:
            url = retries[task]
            if url not in self.report.failed:
                self.log.fail(
                    url,
                    "still not answering (its retry was not waited for once the rest "
                    "of the sync was done)",
                    retry=True,
                )
                self.log.not_delivered(url)
        tasks.clear()

    # -- one page: the request -----------------------------------------------------------
    async def visit(self, url: str, depth: int, via: str) -> None:
        rules = await self.robots.rules_for(url)
        if not rules.allowed(url):
            self.frontier.started -= 1  # nothing fetched: the slot goes to another page
            self.log.skip("robots", url)
            return
        limiter = self.fetcher.limiter(url, rules)
        if limiter.failures >= MAX_HOST_FAILURES:
            self.log.fail(
                url,
                "not tried: the site stopped answering (several timeouts in a row)",
                retry=True,
            )
            self.log.not_delivered(url)
            return
        response = await self._fetch_page(url, via, limiter)
        if response is None:
            if url in self.moved:
                await self._gone_by_redirect(url, self.moved[url])
            else:
                self.log.not_delivered(url)
            return
        await self._handle(url, depth, via, response)

    async def _fetch_page(self, url: str, via: str, limiter: HostLimiter) -> Response | None:
        """The page's response, or None with the reason recorded (skipped or failed)."""
        try:
            return await self.fetcher.page(
                url,
                headers=self._request_headers(url, via),
                limiter=limiter,
                check_hop=self._hop_checker(via),
            )
        except BlockedAddressError:
            self.log.skip(PRIVATE_REASON, url)
        except FetchError as exc:
            if exc.reason in ("duplicate", "offsite") and url in self.known:
                self.moved[url] = exc.message
            if exc.reason in SKIP_REASONS:
                self.log.skip(exc.reason, url)
            else:
                transient = exc.reason in TRANSIENT_REASONS
                self.log.fail(url, exc.message, retry=transient or url in self.known)
        return None

    def _request_headers(self, url: str, via: str) -> dict[str, str]:
        headers = {"User-Agent": self.config.user_agent}
        known = self.known.get(url)
        # The start page is always read in full: a 304 has no links, and new sections of
        # a site usually appear in the navigation it shares. (The sync still sees it is
        # unchanged by its content hash.) Deeper new pages come from changed pages and
        # the sitemaps.
        if known is not None and via != "start":
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        return headers

    def _hop_checker(self, via: str) -> Callable[[str], Awaitable[None]]:
        async def check(url: str) -> None:
            problem = shape_problem(url)
            if problem:
                raise FetchError(f"Redirect to a refused URL ({problem}).", reason=problem)
            if via == "start":
                self.frontier.sites.add(site_key(urlsplit(url).hostname or ""))
            elif not self.frontier.in_site(url):
                raise FetchError(f"Redirect off the site to {url}.", reason="offsite")
            if url in self.frontier.claimed:  # that page is fetched anyway: not twice
                raise FetchError(f"Redirect to {url}, fetched on its own.", reason="duplicate")
            rules = await self.robots.rules_for(url)
            if not rules.allowed(url):
                raise FetchError(f"Redirect to {url}, {rules.refusal()}.", reason="robots")

        return check

    # -- one page: the response ----------------------------------------------------------
    async def _deliver(self, page: FetchedPage) -> None:
        self.report.seen_urls.add(page.url)
        if self.on_page is not None:
            await self.on_page(page)

    async def _gone_by_redirect(self, url: str, target: str) -> None:
        """A page the last sync stored now redirects elsewhere: its document goes.

        Reported to on_page as 410 (its final_url says where it went), so its passages
        leave the index instead of living on beside the target's.
        """
        self.report.gone += 1
        await self._deliver(FetchedPage(url, target, 410, "", b""))

    async def _handle(self, url: str, depth: int, via: str, response: Response) -> None:
        self.report.seen_urls.add(url)
        identity = await self._identity_after_redirect(url, via, response)
        if identity is None:
            return
        status = response.status
        if status < 500 and status != 429:
            self.memory.answered(url)
            self.memory.answered(identity)
        if status == 304:
            await self._not_modified(identity, depth, response)
        elif status in (404, 410):
            await self._gone(identity, response)
        elif status != 200:
            detail = " (rate limited)" if status == 429 else ""
            self.log.fail(
                identity, http_reason(status) + detail, retry=status >= 500 or status == 429
            )
            self.log.not_delivered(identity)
        else:
            await self._page(url, identity, depth, via, response)

    async def _identity_after_redirect(self, url: str, via: str, response: Response) -> str | None:
        """The page's identity: where its redirects led (claimed now), or None when that
        page is fetched on its own (a duplicate)."""
        final = try_canonicalize(response.final_url) or url
        if final == url:
            return url
        if url in self.known and via != "start":
            await self._gone_by_redirect(url, final)
        if final in self.frontier.claimed:
            self.log.skip("duplicate", url)
            if url not in self.known:
                self.log.not_delivered(url)
            return None
        self.frontier.claim(final)
        return final

    async def _not_modified(self, identity: str, depth: int, response: Response) -> None:
        self.report.unchanged += 1
        known = self.known.get(identity)
        await self._deliver(
            FetchedPage(
                identity,
                response.final_url,
                304,
                response.media_type,
                b"",
                etag=response.headers.get("etag") or (known.etag if known else None),
                last_modified=response.headers.get("last-modified")
                or (known.last_modified if known else None),
                depth=depth,
            )
        )

    async def _gone(self, identity: str, response: Response) -> None:
        self.report.gone += 1
        if identity not in self.known:
            self.log.fail(identity, f"{http_reason(response.status)} (broken link)")
        await self._deliver(
            FetchedPage(identity, response.final_url, response.status, response.media_type, b"")
        )

    async def _page(
        self, url: str, identity: str, depth: int, via: str, response: Response
    ) -> None:
        """A 200: delivered under its canonical URL unless left out; its links followed."""
        links = PageLinks()
        if response.kind == "html":
            links = await self._links(response)
            canonical = self._declared_canonical(links, identity)
            if canonical is not None:
                if canonical in self.frontier.claimed and canonical != url:
                    self.log.skip("duplicate", url)
                    self.log.not_delivered(url)
                    self.frontier.follow(links, depth, canonical)
                    return
                self.frontier.claim(canonical)
                identity = canonical
        if pattern_problem(identity, self.config.include, self.config.exclude):
            self.log.skip("pattern", identity)  # the start page, fetched for its links only
            self.log.not_delivered(identity)
        elif self.config.honour_noindex and (
            links.noindex
            or header_noindex(response.headers.get("x-robots-tag"), self.config.user_agent)
        ):
            await self._noindex(url, identity, response)
        else:
            await self._fetched(identity, depth, response)
        self.frontier.follow(links, depth, identity, first=via == "start")

    def _declared_canonical(self, links: PageLinks, identity: str) -> str | None:
        """The page's `<link rel=canonical>`, if it names another page the crawl may fetch."""
        canonical = links.canonical
        if (
            canonical
            and canonical != identity
            and self.frontier.in_site(canonical)
            and not shape_problem(canonical)
            and not pattern_problem(canonical, self.config.include, self.config.exclude)
        ):
            return canonical
        return None

    async def _fetched(self, identity: str, depth: int, response: Response) -> None:
        self.report.fetched += 1
        await self._deliver(
            FetchedPage(
                identity,
                response.final_url,
                200,
                response.media_type,
                response.body,
                charset=response.charset,
                etag=response.headers.get("etag"),
                last_modified=response.headers.get("last-modified"),
                depth=depth,
            )
        )

    async def _noindex(self, url: str, identity: str, response: Response) -> None:
        """A page that asks not to be indexed: left out, and gone if a sync stored it."""
        self.log.skip("noindex", identity)
        self.report.noindex += 1
        stored = next((u for u in (identity, url) if u in self.known), None)
        if stored is None:
            self.log.not_delivered(identity)
            return
        await self._deliver(
            FetchedPage(
                stored, response.final_url, 410, response.media_type, b"", why_gone="noindex"
            )
        )

    async def _links(self, response: Response) -> PageLinks:
        args = (response.body, response.final_url)
        if len(response.body) > LINKS_IN_THREAD_BYTES:
            return await asyncio.to_thread(extract_links, *args, charset=response.charset)
        return extract_links(*args, charset=response.charset)


async def crawl_site(
    config: SiteConfig,
    *,
    known: Mapping[str, KnownPage],
    on_page: OnPage,
    job: Job,
    client: httpx.AsyncClient | None = None,
    allow_private_hosts: bool | None = None,
    guard: AddressGuard | None = None,
    memory: CrawlMemory | None = None,
) -> CrawlReport:
    """Crawl one site; `on_page` gets each 200 (HTML/PDF), 304 and 404/410 page.

    `memory` (updated in place) carries what the last syncs learnt: capped URL families,
    volatile parameters and failed pages waiting for their retry; the caller counts syncs.

    `known` maps the canonical URLs the last sync stored to their validators; they are
    revisited (conditional GET) so unchanged pages cost a 304 and removed ones are seen.
    `allow_private_hosts`: None means private addresses are reachable only for the start
    URL's own host when that host is private; True allows them all; False none.
    `guard` replaces the address rule entirely (tests use a fake resolver).
    """
    try:
        start, guard, own = await prepare_crawl(
            config, client=client, allow_private_hosts=allow_private_hosts, guard=guard
        )
    except FetchError as exc:
        report = CrawlReport()
        report.failed[config.start_url] = exc.message
        job.item_error(config.start_url, exc.message)
        return report
    http = client or own
    assert http is not None
    crawl = Crawl(
        config,
        known=known,
        on_page=on_page,
        job=job,
        client=http,
        guard=guard,
        start=start,
        memory=memory,
    )
    try:
        job.message = "robots.txt and sitemaps"
        await crawl.seed(with_known=True)
        await crawl.run()
    finally:
        if own is not None:
            await own.aclose()
        crawl.traps.remember()
    crawl.report.traps = crawl.traps.reports()
    return crawl.report
