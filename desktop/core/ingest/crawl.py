"""The website crawl: breadth-first over one site, within the user's rules and the site's.

`crawl_site` fetches each page once (canonical URLs, redirects and `<link
rel=canonical>` deduplicated), starting from the start URL, the sitemaps and the URLs
the last sync stored (revisited with conditional GETs, so a 404/410 is seen and the
page marked removed). It obeys robots.txt, the include/exclude globs, max pages and
max depth, keeps to `concurrency` requests at a time per host with the delay the site
asks for, and never reaches a private address the user did not type. A crawl trap
(endless calendars, session ids) simply runs into those limits. Every URL not fetched
is reported with a reason; one bad page never ends the crawl.

`discover_site` is the cheap version for the crawl preview: sitemaps and the links of a
few pages, no full crawl. `url_allowed` is the rule check without network.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

import httpx

from desktop.core.errors import BlockedAddressError, FetchError
from desktop.core.ingest.fetch import (
    PRIVATE_REASON,
    AddressGuard,
    FetchLimits,
    Response,
    fetch,
    http_reason,
    is_private_literal,
)
from desktop.core.ingest.links import PageLinks, extract_links
from desktop.core.ingest.politeness import HostLimiter, retry_after_seconds
from desktop.core.ingest.robots import (
    ROBOTS_MAX_BYTES,
    ROBOTS_MAX_REDIRECTS,
    RobotsCache,
    RobotsRules,
    header_noindex,
    origin_of,
)
from desktop.core.ingest.sitemap import SITEMAP_MAX_BYTES, read_sitemaps
from desktop.core.ingest.traps import CrawlMemory, TrapGuard, TrapReport
from desktop.core.ingest.types import FetchedPage, KnownPage, SiteConfig
from desktop.core.ingest.urls import (
    InvalidURL,
    canonicalize_url,
    host_port,
    pattern_problem,
    shape_problem,
    site_key,
    try_canonicalize,
    unwanted_suffix,
)
from desktop.core.jobs import Job
from desktop.core.tls import shared_ssl_context

MAX_HOST_FAILURES = 5  # consecutive timeouts/network errors before a host is given up
FRONTIER_FACTOR = 4  # URLs kept waiting, as a multiple of max_pages (the rest: max-pages)
DISCOVERY_PAGES = 20  # pages fetched for their links by discover_site
DISCOVERY_TRAP_LINKS = 3  # chain links of one URL family in discovery: a possible trap
LINKS_IN_THREAD_BYTES = 256 * 1024  # bigger HTML is parsed for links off the event loop
POLL_S = 0.2
# A retried page still in flight when the rest of a sync is done gets this long more.
RETRY_GRACE_S = 3.0
# Fetch refusals reported as skipped (the user's or the site's rules); the rest are failures.
SKIP_REASONS = frozenset(
    {
        "size",
        "type",
        "robots",
        "offsite",
        "duplicate",
        PRIVATE_REASON,
        "url-too-long",
        "path-too-deep",
        "repeating-path",
        "trap",
        "retry-later",
    }
)  # how often a waiting crawl looks at job.check()


@dataclass
class CrawlReport:
    """What a crawl did: counts, and every URL not fetched with its reason."""

    fetched: int = 0
    unchanged: int = 0
    gone: int = 0
    skipped: dict[str, list[str]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    seen_urls: set[str] = field(default_factory=set)
    traps: list[TrapReport] = field(default_factory=list)  # families capped
    noindex: int = 0  # pages left out because they ask not to be indexed


@dataclass(frozen=True)
class DiscoveredUrl:
    url: str
    via: str  # "start" | "sitemap" | "link"


OnPage = Callable[[FetchedPage], Awaitable[None]]


# -- rules without network -------------------------------------------------------------
def url_allowed(url: str, config: SiteConfig) -> str | None:
    """None if the crawl may fetch `url` by the config's rules, else the reason.

    Reasons: bad-url, offsite, url-too-long, path-too-deep, repeating-path, type
    (an image, archive... by its suffix), pattern. Robots and addresses need the
    network and are checked by the crawl itself.
    """
    try:
        canonical = canonicalize_url(url)
        start = canonicalize_url(config.start_url)
    except InvalidURL:
        return "bad-url"
    if site_key(urlsplit(canonical).hostname or "") != site_key(urlsplit(start).hostname or ""):
        return "offsite"
    problem = shape_problem(canonical)
    if problem:
        return problem
    if unwanted_suffix(canonical):
        return "type"
    return pattern_problem(canonical, config.include, config.exclude)


# -- the crawl -------------------------------------------------------------------------
class _Crawl:
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
        self.client, self.guard, self.start = client, guard, start
        self.report = CrawlReport()
        self.sites = {site_key(urlsplit(start).hostname or "")}
        self.limits = FetchLimits(config.max_bytes, config.timeout_s, config.max_redirects)
        self.robots = RobotsCache(self._fetch_robots, config.user_agent)
        self.frontier: deque[tuple[str, int, str]] = deque()
        self.queued: set[str] = set()
        self.claimed: set[str] = set()  # page identities fetched or being fetched
        self.started = 0
        self.limiters: dict[str, HostLimiter] = {}
        self.found: dict[str, str] | None = None  # discovery: url -> via
        self.max_found = 0
        self.moved: dict[str, str] = {}  # known URL -> why it now leads elsewhere
        self.kinds: tuple[str, ...] = ("html", "pdf")
        # Past this many distinct URLs (a trap of pages with thousands of fresh links)
        # new ones are dropped unreported: memory stays bounded.
        self.max_tracked = max(50_000, 50 * config.max_pages)
        self._total: int | None = None
        self._skipped_seen: set[tuple[str, str]] = set()
        self._front: list[tuple[str, int, str]] | None = None  # see _follow

    # -- bookkeeping ---------------------------------------------------------------------
    def skip(self, reason: str, url: str) -> None:
        if (reason, url) not in self._skipped_seen:
            self._skipped_seen.add((reason, url))
            self.report.skipped.setdefault(reason, []).append(url)

    def fail(self, url: str, reason: str, *, retry: bool = False) -> None:
        """`url` was not fetched; `retry`: a timeout, network or server error, tried
        again after 1, 2, 4... syncs (its stored passages stay meanwhile)."""
        self.report.failed[url] = reason
        if retry:
            self.memory.failed(url, reason)
        if self.job is not None:
            self.job.item_error(url, reason)

    def _not_delivered(self, url: str) -> None:
        if self.job is not None:
            self.job.advance(1, url)

    def _update_total(self) -> None:
        if self.job is None:
            return
        total = min(self.config.max_pages, self.started + len(self.frontier))
        if total != self._total:
            self._total = total
            self.job.set_total(total)

    def in_site(self, url: str) -> bool:
        return site_key(urlsplit(url).hostname or "") in self.sites

    # -- fetch helpers -------------------------------------------------------------------
    async def _fetch_robots(self, url: str) -> tuple[int, str]:
        size = min(ROBOTS_MAX_BYTES, self.config.max_bytes)
        limits = FetchLimits(size, self.config.timeout_s, ROBOTS_MAX_REDIRECTS)
        response = await fetch(
            self.client,
            url,
            guard=self.guard,
            limits=limits,
            headers={"User-Agent": self.config.user_agent},
            kinds=None,
            truncate=True,
        )
        return response.status, response.body.decode("utf-8", errors="replace")

    async def _fetch_sitemap(self, url: str) -> bytes:
        if self.job is not None:
            self.job.check()
        limits = FetchLimits(
            max(SITEMAP_MAX_BYTES, self.config.max_bytes),
            self.config.timeout_s,
            self.config.max_redirects,
        )
        response = await fetch(
            self.client,
            url,
            guard=self.guard,
            limits=limits,
            headers={"User-Agent": self.config.user_agent},
            kinds=None,
        )
        if response.status != 200:
            raise FetchError(http_reason(response.status), reason=f"http-{response.status}")
        return response.body

    def limiter(self, url: str, rules: RobotsRules) -> HostLimiter:
        host = "{}:{}".format(*host_port(url))
        if host not in self.limiters:
            interval = max(self.config.delay_s, rules.crawl_delay or 0.0)
            self.limiters[host] = HostLimiter(self.config.concurrency, interval)
        return self.limiters[host]

    # -- the frontier --------------------------------------------------------------------
    def enqueue(self, url: str, depth: int, via: str, page_url: str | None = None) -> None:
        url = self.traps.strip(url)
        if url in self.queued or len(self.queued) >= self.max_tracked:
            return
        self.queued.add(url)
        if not self.in_site(url):
            host = urlsplit(url).hostname or ""
            if is_private_literal(host) and not self.guard.may_be_private(*host_port(url)):
                self.skip(PRIVATE_REASON, url)
            return  # other sites' pages are not ours to crawl (and not worth reporting)
        if self.found is not None and len(self.found) < self.max_found:
            self.found.setdefault(url, via)
        reason = shape_problem(url) or ("type" if unwanted_suffix(url) else None)
        if reason is None and via != "start":
            reason = pattern_problem(url, self.config.include, self.config.exclude)
        if reason is None and depth > self.config.max_depth:
            reason = "depth"
        if reason is None and self.memory.waiting(url) is not None:
            reason = "retry-later"
        if reason is None and page_url is not None and not self.traps.admit(url, page_url):
            reason = "trap"
        if reason is None and len(self.frontier) >= FRONTIER_FACTOR * self.config.max_pages:
            reason = "max-pages"
        if reason is not None:
            self.skip(reason, url)
            return
        if self._front is not None:
            self._front.append((url, depth, via))
        else:
            self.frontier.append((url, depth, via))

    async def seed(self, *, with_known: bool) -> None:
        """The start URL, the pages due for a retry, then the sitemaps' URLs, then what
        the last sync knew. Retries come first: fetched alongside the rest, never last."""
        self.enqueue(self.start, 0, "start")
        if with_known:
            for url in self.memory.due():
                self.enqueue(url, 1, "retry")
            for url in self.known:
                self.traps.count_kept(url)
        rules = await self.robots.rules_for(self.start)
        if rules.state == "unavailable":
            self.fail(self.start, rules.refusal())
            return
        seeds = [u for u in (try_canonicalize(s) for s in rules.sitemaps) if u]
        guessed = origin_of(self.start) + "/sitemap.xml"
        quiet = frozenset() if seeds else frozenset({guessed})
        max_urls = FRONTIER_FACTOR * self.config.max_pages
        if self.found is not None:
            max_urls = max(max_urls, self.max_found)
        result = await read_sitemaps(
            seeds or [guessed], self._fetch_sitemap, max_urls=max_urls, quiet=quiet
        )
        for url, reason in result.problems.items():
            self.fail(url, f"sitemap not read: {reason}")
        for raw in result.urls:
            page = try_canonicalize(raw)
            if page is not None:
                self.enqueue(page, 1, "sitemap")
        if with_known:
            for raw in self.known:
                page = try_canonicalize(raw)
                if page is not None:
                    self.enqueue(page, 1, "known")

    async def run(self) -> None:
        tasks: set[asyncio.Task[None]] = set()
        retries: dict[asyncio.Task[None], str] = {}  # retry fetches in flight -> url
        parallel = max(self.config.concurrency, 1)
        try:
            while True:
                if self.job is not None:
                    self.job.check()
                while self.frontier and len(tasks) < parallel:
                    if self.started >= self.config.max_pages:
                        break
                    url, depth, via = self.frontier.popleft()
                    bare = self.traps.strip(url)  # a parameter found volatile since
                    if bare != url:
                        if bare in self.queued:
                            continue
                        self.queued.add(bare)
                        url = bare
                    if url in self.claimed:
                        continue
                    self.claimed.add(url)
                    self.started += 1
                    task = asyncio.create_task(self.visit(url, depth, via))
                    tasks.add(task)
                    if via == "retry":
                        retries[task] = url
                self._update_total()
                if not tasks:
                    break
                if not self.frontier and tasks.issubset(retries):
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
        for url, _depth, _via in self.frontier:
            if url not in self.claimed:
                self.skip("max-pages", url)
        self.frontier.clear()

    async def _cut_retries(
        self, tasks: set[asyncio.Task[None]], retries: dict[asyncio.Task[None], str]
    ) -> None:
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
                self.fail(
                    url,
                    "still not answering (its retry was not waited for once the rest "
                    "of the sync was done)",
                    retry=True,
                )
                self._not_delivered(url)
        tasks.clear()

    # -- one page ------------------------------------------------------------------------
    async def visit(self, url: str, depth: int, via: str) -> None:
        rules = await self.robots.rules_for(url)
        if not rules.allowed(url):
            self.started -= 1  # nothing fetched: the slot goes to another page
            self.skip("robots", url)
            return
        limiter = self.limiter(url, rules)
        if limiter.failures >= MAX_HOST_FAILURES:
            self.fail(
                url,
                "not tried: the site stopped answering (several timeouts in a row)",
                retry=True,
            )
            self._not_delivered(url)
            return
        response = await self._fetch_page(url, via, limiter)
        if response is None:
            if url in self.moved:
                await self._gone_by_redirect(url, self.moved[url])
            else:
                self._not_delivered(url)
            return
        await self._handle(url, depth, via, response)

    async def _gone_by_redirect(self, url: str, target: str) -> None:
        """A page the last sync stored now redirects elsewhere: its document goes.

        Reported to on_page as 410 (its final_url says where it went), so its passages
        leave the index instead of living on beside the target's.
        """
        self.report.gone += 1
        await self._deliver(FetchedPage(url, target, 410, "", b""))

    async def _fetch_page(self, url: str, via: str, limiter: HostLimiter) -> Response | None:
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
                    check_hop=self._hop_checker(via),
                )
            except BlockedAddressError:
                self.skip(PRIVATE_REASON, url)
                return None
            except FetchError as exc:
                if exc.reason in ("duplicate", "offsite") and url in self.known:
                    self.moved[url] = exc.message
                if exc.reason in SKIP_REASONS:
                    self.skip(exc.reason, url)
                else:
                    transient = exc.reason in ("timeout", "network")
                    if transient:
                        limiter.failures += 1
                    self.fail(url, exc.message, retry=transient or url in self.known)
                return None
            finally:
                limiter.release()
            limiter.failures = 0
            if response.status in (429, 503) and attempt == 0:
                limiter.pause(retry_after_seconds(response.headers.get("retry-after")))
                continue
            return response
        return response

    def _hop_checker(self, via: str) -> Callable[[str], Awaitable[None]]:
        async def check(url: str) -> None:
            problem = shape_problem(url)
            if problem:
                raise FetchError(f"Redirect to a refused URL ({problem}).", reason=problem)
            if via == "start":
                self.sites.add(site_key(urlsplit(url).hostname or ""))
            elif not self.in_site(url):
                raise FetchError(f"Redirect off the site to {url}.", reason="offsite")
            if url in self.claimed:  # that page is fetched anyway: not twice
                raise FetchError(f"Redirect to {url}, fetched on its own.", reason="duplicate")
            rules = await self.robots.rules_for(url)
            if not rules.allowed(url):
                raise FetchError(f"Redirect to {url}, {rules.refusal()}.", reason="robots")

        return check

    async def _deliver(self, page: FetchedPage) -> None:
        self.report.seen_urls.add(page.url)
        if self.on_page is not None:
            await self.on_page(page)

    async def _handle(self, url: str, depth: int, via: str, response: Response) -> None:
        final = try_canonicalize(response.final_url) or url
        self.report.seen_urls.add(url)
        identity = url
        if final != url:
            if url in self.known and via != "start":
                await self._gone_by_redirect(url, final)
            if final in self.claimed:
                self.skip("duplicate", url)
                if url not in self.known:
                    self._not_delivered(url)
                return
            self.claimed.add(final)
            self.queued.add(final)
            identity = final
        status = response.status
        known = self.known.get(identity)
        if status < 500 and status != 429:
            self.memory.answered(url)
            self.memory.answered(identity)
        if status == 304:
            self.report.unchanged += 1
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
            return
        if status in (404, 410):
            self.report.gone += 1
            if identity not in self.known:
                self.fail(identity, f"{http_reason(status)} (broken link)")
            await self._deliver(
                FetchedPage(identity, response.final_url, status, response.media_type, b"")
            )
            return
        if status != 200:
            detail = " (rate limited)" if status == 429 else ""
            self.fail(identity, http_reason(status) + detail, retry=status >= 500 or status == 429)
            self._not_delivered(identity)
            return
        kind = response.kind
        links = PageLinks()
        if kind == "html":
            links = await self._links(response)
            canonical = links.canonical
            if (
                canonical
                and canonical != identity
                and self.in_site(canonical)
                and not shape_problem(canonical)
                and not pattern_problem(canonical, self.config.include, self.config.exclude)
            ):
                if canonical in self.claimed and canonical != url:
                    self.skip("duplicate", url)
                    self._not_delivered(url)
                    self._follow(links, depth, canonical)
                    return
                self.claimed.add(canonical)
                self.queued.add(canonical)
                identity = canonical
        if pattern_problem(identity, self.config.include, self.config.exclude):
            self.skip("pattern", identity)  # the start page, fetched for its links only
            self._not_delivered(identity)
        elif self.config.honour_noindex and (
            links.noindex
            or header_noindex(response.headers.get("x-robots-tag"), self.config.user_agent)
        ):
            await self._noindex(url, identity, response)
        else:
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
        self._follow(links, depth, identity, first=via == "start")

    async def _noindex(self, url: str, identity: str, response: Response) -> None:
        """A page that asks not to be indexed: left out, and gone if a sync stored it."""
        self.skip("noindex", identity)
        self.report.noindex += 1
        stored = next((u for u in (identity, url) if u in self.known), None)
        if stored is None:
            self._not_delivered(identity)
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

    def _follow(self, links: PageLinks, depth: int, page_url: str, *, first: bool = False) -> None:
        """Queue a page's links; the start page's go first, ahead of the sitemap's URLs:
        its navigation is the site's main pages, and a dead one among them then times
        out alongside the rest of the crawl instead of at its end."""
        if links.nofollow:
            return
        self._front = [] if first else None
        try:
            for link in links.links:
                self.enqueue(self.traps.observe_link(link, page_url), depth + 1, "link", page_url)
            if self._front:
                self.frontier.extendleft(reversed(self._front))
        finally:
            self._front = None


async def _prepare(
    config: SiteConfig,
    *,
    client: httpx.AsyncClient | None,
    allow_private_hosts: bool | None,
    guard: AddressGuard | None,
) -> tuple[str, AddressGuard, httpx.AsyncClient | None]:
    """The canonical start URL, the address guard, and a client to close (ours) if any."""
    try:
        start = canonicalize_url(config.start_url)
    except InvalidURL as exc:
        raise FetchError(f"Not a usable start URL: {exc}.", reason="bad-url") from None
    if guard is None:
        host, port = host_port(start)
        if allow_private_hosts is None:
            probe = AddressGuard()
            private = await probe.is_private(start)
            guard = AddressGuard(allowed=[(host, port)] if private else [])
            guard.remember(probe)
        else:
            guard = AddressGuard(allow_all_private=allow_private_hosts)
    own = None
    if client is None:
        own = client = httpx.AsyncClient(
            timeout=httpx.Timeout(config.timeout_s),
            limits=httpx.Limits(max_connections=max(config.concurrency, 1) * 2 + 2),
            follow_redirects=False,
            headers={"User-Agent": config.user_agent},
            verify=shared_ssl_context(),
        )
    return start, guard, own


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
        start, guard, own = await _prepare(
            config, client=client, allow_private_hosts=allow_private_hosts, guard=guard
        )
    except FetchError as exc:
        report = CrawlReport()
        report.failed[config.start_url] = exc.message
        job.item_error(config.start_url, exc.message)
        return report
    http = client or own
    assert http is not None
    crawl = _Crawl(
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
    start, guard, own = await _prepare(
        config, client=client, allow_private_hosts=allow_private_hosts, guard=guard
    )
    http = client or own
    assert http is not None
    pages = max(1, min(config.max_pages, DISCOVERY_PAGES))
    rules_free = replace(config, include=(), exclude=(), max_pages=pages)
    crawl = _Crawl(
        rules_free, known={}, on_page=None, job=job, client=http, guard=guard, start=start
    )
    crawl.found = {}
    crawl.max_found = max_urls
    crawl.kinds = ("html",)  # pages are read for their links only: no PDF downloads
    try:
        if job is not None:
            job.stage("discover")
        await crawl.seed(with_known=False)
        # Sitemaps found plenty: only the start page is fetched for its links.
        if len(crawl.found) >= max_urls:
            crawl.config = replace(rules_free, max_pages=1)
        await crawl.run()
        if traps is not None:
            traps.extend(
                TrapReport(family, count, family in crawl.traps.capped)
                for family, count in sorted(crawl.traps.counts.items())
                if count >= DISCOVERY_TRAP_LINKS
            )
        found = list(crawl.found.items())[:max_urls]
        result: list[DiscoveredUrl] = []
        for url, via in found:
            rules = await crawl.robots.rules_for(url)
            if rules.allowed(url):
                result.append(DiscoveredUrl(url, via))
        return result
    finally:
        if own is not None:
            await own.aclose()
