"""The site crawl against the loopback website: rules, limits, re-sync, traps, hostile input."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from desktop.core.errors import CancelledError
from desktop.core.ingest.crawl import crawl_site
from desktop.core.ingest.crawl_report import CrawlReport
from desktop.core.ingest.discover import discover_site
from desktop.core.ingest.fetch import AddressGuard
from desktop.core.ingest.politeness import HostLimiter, retry_after_seconds
from desktop.core.ingest.types import FetchedPage, KnownPage, SiteConfig
from desktop.core.jobs import Job, JobEvent
from tests.helpers.site_server import Page, PublicNameTransport, SiteServer, brotli_bomb, gzip_bomb

FAST: dict[str, Any] = {"timeout_s": 1.0, "max_bytes": 1024 * 1024}


def _crawl(
    start: str,
    *,
    known: Mapping[str, KnownPage] | None = None,
    job: Job | None = None,
    client: httpx.AsyncClient | None = None,
    **config: Any,
) -> tuple[CrawlReport, list[FetchedPage]]:
    pages: list[FetchedPage] = []

    async def on_page(page: FetchedPage) -> None:
        pages.append(page)

    settings = {**FAST, **config}
    guard = settings.pop("guard", None)
    allow = settings.pop("allow_private_hosts", None)
    report = asyncio.run(
        crawl_site(
            SiteConfig(start, **settings),
            known=known or {},
            on_page=on_page,
            job=job or Job("crawl"),
            client=client,
            allow_private_hosts=allow,
            guard=guard,
        )
    )
    return report, pages


def _paths(site: SiteServer, urls: Any) -> set[str]:
    return {u.removeprefix(site.url) for u in urls}


def _fetch_counts(site: SiteServer) -> collections.Counter[str]:
    return collections.Counter(site.paths_requested())


def test_crawls_the_site_once_per_page(site_server: SiteServer) -> None:
    report, pages = _crawl(site_server.at("/"))
    delivered = _paths(site_server, (p.url for p in pages))
    assert delivered == {
        "/",
        "/about",
        "/pricing",
        "/docs/",
        "/docs/install",
        "/docs/faq",
        "/orphan",  # only in the sitemap
        "/sheet.pdf",
    }
    assert report.fetched == 8 and all(p.status == 200 for p in pages)
    by_path = {p.url.removeprefix(site_server.url): p for p in pages}
    assert by_path["/sheet.pdf"].content_type == "application/pdf"
    assert by_path["/pricing"].charset == "utf-8" and by_path["/pricing"].etag
    assert by_path["/"].depth == 0 and by_path["/docs/install"].depth == 2
    assert _paths(site_server, report.skipped["robots"]) == {"/private/secret"}
    assert _paths(site_server, report.skipped["type"]) == {"/logo.png"}  # never requested
    # /old-pricing redirects to /pricing and /docs/install?print=1 names /docs/install as
    # its canonical: neither is delivered twice.
    assert _paths(site_server, report.skipped["duplicate"]) == {
        "/old-pricing",
        "/docs/install?print=1",
    }
    counts = _fetch_counts(site_server)
    assert counts["/robots.txt"] == 1 and counts["/pricing"] == 1
    assert max(counts.values()) == 1
    assert "/private/secret" not in counts and "/logo.png" not in counts
    assert report.failed == {}


def test_resync_uses_validators_and_sees_removed_pages(site_server: SiteServer) -> None:
    _, first = _crawl(site_server.at("/"))
    known = {p.url: KnownPage(p.url, p.etag, p.last_modified) for p in first}
    del site_server.pages["/about"]
    site_server.requests_seen.clear()
    report, pages = _crawl(site_server.at("/"), known=known)
    statuses = {p.url.removeprefix(site_server.url): p.status for p in pages}
    assert statuses["/about"] == 404 and pages[0].url  # known, so revisited
    assert statuses["/pricing"] == 304 and statuses["/docs/install"] == 304
    # The start page is read in full (for its links); the others answer 304.
    assert statuses["/"] == 200
    assert report.unchanged == 6 and report.fetched == 1 and report.gone == 1
    assert report.failed == {}  # a known page gone is a removal, not a failure
    gone = next(p for p in pages if p.status == 404)
    assert gone.gone and gone.body == b""
    unchanged = next(p for p in pages if p.url.endswith("/pricing"))
    assert unchanged.not_modified and unchanged.etag == known[unchanged.url].etag


def test_include_and_exclude(site_server: SiteServer) -> None:
    report, pages = _crawl(site_server.at("/"), include=("/docs/*",), exclude=("*faq*",))
    assert _paths(site_server, (p.url for p in pages)) == {"/docs/", "/docs/install"}
    # The start page is read for its links but not kept; excluded pages are not requested.
    assert site_server.at("/") in report.skipped["pattern"]
    assert "/docs/faq" not in _fetch_counts(site_server)
    assert "/about" not in _fetch_counts(site_server)


def test_max_pages_and_max_depth(site_server: SiteServer) -> None:
    report, pages = _crawl(site_server.at("/"), max_pages=3)
    assert len(pages) <= 3 and report.skipped["max-pages"]
    report, pages = _crawl(site_server.at("/"), max_depth=0)
    assert [p.url for p in pages] == [site_server.at("/")]
    assert site_server.at("/about") in report.skipped["depth"]


def test_the_start_pages_links_go_first_even_when_another_page_answered_first(
    empty_site: SiteServer,
) -> None:
    # Every page shares the navigation; the start page is handled last of the first
    # pages in flight (a home page is often the slowest). Its links still go ahead of
    # the sitemap's URLs: the sitemap pages that answered first had queued them behind.
    pages = [f"/p{i}" for i in range(120)]
    empty_site.pages["/"] = Page.html("Home", links=["/nav"])
    empty_site.pages["/nav"] = Page.html("Nav")
    for path in pages:
        empty_site.pages[path] = Page.html(path, links=["/nav"])
    empty_site.sitemap = pages

    answered: list[str] = []

    async def on_page(page: FetchedPage) -> None:
        answered.append(page.url)
        while page.url == empty_site.at("/") and len(answered) < 6:
            await asyncio.sleep(0.01)  # until five sitemap pages are handled

    asyncio.run(
        crawl_site(
            SiteConfig(empty_site.at("/"), concurrency=2, **FAST),
            known={},
            on_page=on_page,
            job=Job("crawl"),
            allow_private_hosts=True,
        )
    )
    order = [path for path in empty_site.paths_requested() if path.startswith(("/p", "/nav"))]
    assert order.count("/nav") == 1
    assert order.index("/nav") < len(pages) // 2  # not after all the sitemap pages


def test_crawl_traps_end_at_the_limits(empty_site: SiteServer) -> None:
    empty_site.pages["/"] = Page.html(
        "Home", links=["/calendar?month=2026-01", "/session", "/a/b/", "/loop/"]
    )
    empty_site.pages["/a/b/"] = Page.html("Relative loop", links=["a/b/"])  # /a/b/a/b/...
    report, pages = _crawl(empty_site.at("/"), max_pages=25, max_depth=100)
    assert len(pages) <= 25 and report.skipped["max-pages"]
    counts = _fetch_counts(empty_site)
    # The session page links to itself with a new ?sid= each time: one fetch.
    assert sum(n for path, n in counts.items() if path.startswith("/session")) == 1
    report, pages = _crawl(empty_site.at("/"), max_pages=500, max_depth=6)
    assert report.skipped["depth"] and all(p.depth <= 6 for p in pages)


def test_repeating_relative_links_are_cut(empty_site: SiteServer) -> None:
    empty_site.pages["/"] = Page.html("Home", links=["/a/b/"])
    empty_site.pages["/a/b/"] = Page.html("Loop", links=["a/b/"])
    for depth in range(1, 6):
        empty_site.pages["/a/b" * depth + "/a/b/"] = Page.html("Loop", links=["a/b/"])
    report, _ = _crawl(empty_site.at("/"), max_depth=50)
    assert report.skipped["repeating-path"]


def test_bad_pages_fail_with_a_reason_and_the_crawl_goes_on(empty_site: SiteServer) -> None:
    bad = [
        "/status/500",
        "/status/429",
        "/missing",
        "/slow",
        "/hang",
        "/big",
        "/big-chunked",
        "/bomb/gzip",
        "/bomb/br",
        "/loop/a",
        "/redirect/12",
    ]
    empty_site.pages["/"] = Page.html("Home", links=[*bad, "/good"])
    empty_site.pages["/good"] = Page.html("Good", "Still crawled.")
    gzip_bomb(), brotli_bomb()  # built before the clock runs: the deadline is 0.5 s
    report, pages = _crawl(empty_site.at("/"), timeout_s=0.5)
    delivered = {p.url.removeprefix(empty_site.url): p.status for p in pages}
    assert delivered["/"] == 200 and delivered["/good"] == 200
    assert delivered["/missing"] == 404  # delivered (a removed page if it was known)...
    failed = {u.removeprefix(empty_site.url): r for u, r in report.failed.items()}
    assert failed["/missing"] == "HTTP 404 (broken link)"  # ...and reported
    assert failed["/status/500"] == "HTTP 500"
    assert failed["/status/429"] == "HTTP 429 (rate limited)"
    assert _fetch_counts(empty_site)["/status/429"] == 2  # one retry after Retry-After
    assert "0.5 s" in failed["/slow"] and "0.5 s" in failed["/hang"]
    assert "loop" in failed["/loop/a"].lower()
    assert "redirects" in failed["/redirect/12"]
    assert _paths(empty_site, report.skipped["size"]) == {
        "/big",
        "/big-chunked",
        "/bomb/gzip",
        "/bomb/br",
    }


def test_a_host_that_keeps_timing_out_is_given_up(empty_site: SiteServer) -> None:
    empty_site.pages["/"] = Page.html("Home", links=[f"/hang?n={i}" for i in range(12)])
    report, _ = _crawl(empty_site.at("/"), timeout_s=0.3, concurrency=2)
    reasons = list(report.failed.values())
    assert len(reasons) == 12
    assert any("stopped answering" in r for r in reasons)
    assert sum(1 for path in empty_site.paths_requested() if path.startswith("/hang")) < 12


def test_robots_forbidding_everything(site_server: SiteServer) -> None:
    site_server.robots = "User-agent: *\nDisallow: /\n"
    report, pages = _crawl(site_server.at("/"))
    assert pages == [] and site_server.at("/") in report.skipped["robots"]
    assert set(site_server.paths_requested()) <= {"/robots.txt", "/sitemap.xml"}


@pytest.mark.parametrize("status", [500, 503, 429])
def test_robots_unavailable_means_nothing_is_crawled(site_server: SiteServer, status: int) -> None:
    site_server.robots = status
    report, pages = _crawl(site_server.at("/"))
    assert pages == []
    assert f"HTTP {status}" in report.failed[site_server.at("/")]
    assert site_server.paths_requested() == ["/robots.txt"]


def test_robots_missing_means_allowed(site_server: SiteServer) -> None:
    site_server.robots = None
    _, pages = _crawl(site_server.at("/"))
    assert site_server.at("/private/secret") in {p.url for p in pages}


def test_sitemap_index_gzip_and_junk_urls(site_server: SiteServer) -> None:
    site_server.robots = "User-agent: *\nSitemap: {origin}/sitemap_index.xml\n"
    site_server.pages["/"] = Page.html("Home")  # no links: only the sitemaps lead on
    site_server.state["parts"] = (
        ["/about", "/pricing", "http://10.0.0.1/x"],
        ["/orphan"],
    )
    _report, pages = _crawl(site_server.at("/"))
    paths = _paths(site_server, (p.url for p in pages))
    assert paths == {"/", "/about", "/pricing", "/orphan"}
    assert "/sitemap.xml" not in site_server.paths_requested()  # robots named the index


def test_broken_sitemap_is_reported_and_links_still_followed(site_server: SiteServer) -> None:
    site_server.pages["/sitemap.xml"] = Page(b"<urlset><url><loc>oops", "application/xml")
    report, pages = _crawl(site_server.at("/"))
    assert "not valid XML" in report.failed[site_server.at("/sitemap.xml")]
    assert site_server.at("/about") in {p.url for p in pages}


def test_links_and_redirects_to_other_private_hosts_are_refused(
    site_server: SiteServer,
) -> None:
    port = site_server.port
    targets = [
        f"http://127.0.0.2:{port}/",
        f"http://localhost:{port}/",
        "http://10.0.0.1/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]:1/",
        "http://2130706433:1/",
        "http://0x7f000001:2/",
    ]
    site_server.pages["/"] = Page.html(
        "Home", links=[*targets, "/to?url=http://192.168.1.1/", "/about"]
    )
    report, pages = _crawl(site_server.at("/"))
    assert site_server.at("/about") in {p.url for p in pages}  # its own host: fine
    refused = set(report.skipped["private-address"])
    assert {
        f"http://127.0.0.2:{port}/",
        f"http://localhost:{port}/",
        "http://10.0.0.1/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:127.0.0.1]:1/",
        "http://127.0.0.1:1/",  # 2130706433 is 127.0.0.1: same host, another port
        "http://127.0.0.1:2/",
        site_server.at("/to?url=http://192.168.1.1/"),
    } == refused


def test_a_public_site_never_reaches_loopback(site_server: SiteServer) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return {"site.test": ["93.184.216.34"]}.get(host, ["127.0.0.1"])

    site_server.pages["/"] = Page.html(
        "Home",
        links=[
            "/about",
            site_server.at("/pricing"),  # the same server, by its loopback address
            "/to?url=" + site_server.at("/docs/"),  # a redirect to it
            "http://localhost/",
        ],
    )
    site_server.robots = None
    site_server.sitemap = None

    async def go() -> tuple[CrawlReport, list[str]]:
        urls: list[str] = []

        async def on_page(page: FetchedPage) -> None:
            urls.append(page.url)

        transport = PublicNameTransport("site.test", site_server.port)
        async with httpx.AsyncClient(transport=transport) as client:
            report = await crawl_site(
                SiteConfig("http://site.test/", **FAST),
                known={},
                on_page=on_page,
                job=Job("crawl"),
                client=client,
                guard=AddressGuard(resolver=resolve, check_peers=False),
            )
        return report, urls

    report, urls = asyncio.run(go())
    assert set(urls) == {"http://site.test/", "http://site.test/about", "http://site.test/pricing"}
    assert set(report.skipped["private-address"]) == {
        site_server.at("/pricing"),
        "http://site.test/to?url=" + site_server.at("/docs/"),
        "http://localhost/",
    }
    assert "/docs/" not in site_server.paths_requested()


def test_private_start_refused_when_not_allowed(site_server: SiteServer) -> None:
    report, pages = _crawl(site_server.at("/"), allow_private_hosts=False)
    assert pages == [] and site_server.at("/") in report.skipped["private-address"]
    assert site_server.paths_requested() == []


def test_unusable_start_urls(site_server: SiteServer) -> None:
    report, pages = _crawl("ftp://example.com/")
    assert pages == [] and "not an http(s) URL" in report.failed["ftp://example.com/"]
    report, _ = _crawl("http://does-not-exist.invalid/")
    assert "Cannot resolve" in report.failed["http://does-not-exist.invalid/"]


def test_start_page_that_fails(empty_site: SiteServer) -> None:
    report, _ = _crawl(empty_site.at("/"))
    assert report.failed == {empty_site.at("/"): "HTTP 404 (broken link)"}


def test_canonical_link_names_the_document(empty_site: SiteServer) -> None:
    empty_site.pages["/"] = Page.html("Home", links=["/item?id=1&ref=x"])
    empty_site.pages["/item?id=1&ref=x"] = Page.html(
        "Item", head='<link rel="canonical" href="/items/1">', links=["/items/1"]
    )
    empty_site.pages["/items/1"] = Page.html("Item")
    _report, pages = _crawl(empty_site.at("/"))
    assert sorted(p.url for p in pages) == [empty_site.at("/"), empty_site.at("/items/1")]
    assert _fetch_counts(empty_site)["/items/1"] == 0  # its twin was read instead
    item = next(p for p in pages if p.url.endswith("/items/1"))
    assert item.final_url == empty_site.at("/item?id=1&ref=x")


def test_meta_nofollow(empty_site: SiteServer) -> None:
    empty_site.pages["/"] = Page.html(
        "Home", head='<meta name="robots" content="nofollow">', links=["/next"]
    )
    empty_site.pages["/next"] = Page.html("Next")
    _, pages = _crawl(empty_site.at("/"))
    assert [p.url for p in pages] == [empty_site.at("/")]


def test_cancel_stops_the_crawl(site_server: SiteServer) -> None:
    job = Job("crawl")

    async def go() -> None:
        async def on_page(page: FetchedPage) -> None:
            job.cancel()

        await crawl_site(
            SiteConfig(site_server.at("/"), concurrency=1, **FAST),
            known={},
            on_page=on_page,
            job=job,
        )

    with pytest.raises(CancelledError):
        asyncio.run(go())
    pages_requested = [p for p in site_server.paths_requested() if "robots" not in p]
    assert len(pages_requested) <= 3  # the sitemap, the page that cancelled, at most one more


def test_job_progress(site_server: SiteServer) -> None:
    events: list[JobEvent] = []
    job = Job("crawl", listeners=[events.append])
    report, _pages = _crawl(site_server.at("/"), job=job)
    totals = [e.total for e in events if e.total is not None]
    assert totals and max(totals) >= report.fetched
    # Pages not handed to on_page (duplicates, failures) still move the bar.
    assert job.done == len(report.skipped["duplicate"])


def test_discover_site_lists_without_crawling(site_server: SiteServer) -> None:
    found = asyncio.run(
        discover_site(SiteConfig(site_server.at("/"), include=("/docs/*",), **FAST))
    )
    via = {d.url.removeprefix(site_server.url): d.via for d in found}
    assert found[0].via == "start"
    assert via["/orphan"] == "sitemap" and via["/docs/faq"] == "sitemap"
    assert via["/docs/install"] == "link" and via["/sheet.pdf"] == "link"
    assert "/about" in via  # rules are applied by the preview, not here
    assert "/private/secret" not in via  # robots.txt is
    assert "/sheet.pdf" in via and "/sheet.pdf" in site_server.paths_requested()
    # The PDF was asked for its type only; its body was never needed for links.
    assert len(found) <= 5000


def test_discover_site_caps(site_server: SiteServer) -> None:
    found = asyncio.run(discover_site(SiteConfig(site_server.at("/"), **FAST), max_urls=3))
    assert len(found) == 3


def test_host_limiter_spacing_with_a_fake_clock() -> None:
    now = [0.0]
    starts: list[float] = []

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    async def go() -> None:
        limiter = HostLimiter(2, 1.5, clock=lambda: now[0], sleep=sleep)

        async def one() -> None:
            await limiter.acquire()
            starts.append(now[0])
            limiter.release()

        await asyncio.gather(*(one() for _ in range(4)))
        limiter.pause(10)
        await one()

    asyncio.run(go())
    assert starts[:4] == [0.0, 1.5, 3.0, 4.5]
    assert starts[4] >= 14.5


def test_retry_after_values() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("100000") == 10.0  # capped
    assert retry_after_seconds("soon") == 1.0
    assert retry_after_seconds(None) == 1.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_a_stored_page_that_now_redirects_is_gone(site_server: SiteServer) -> None:
    _, first = _crawl(site_server.at("/"))
    known = {p.url: KnownPage(p.url, p.etag, p.last_modified) for p in first}
    site_server.pages["/about"] = Page(b"", status=301, headers={"Location": "/pricing"})
    site_server.pages["/docs/faq"] = Page(b"", status=301, headers={"Location": "/faq-new"})
    site_server.pages["/faq-new"] = Page.html("FAQ", "We open at seven.")
    report, pages = _crawl(site_server.at("/"), known=known)
    by_url = {(p.url.removeprefix(site_server.url), p.status) for p in pages}
    assert ("/about", 410) in by_url and ("/docs/faq", 410) in by_url
    assert ("/faq-new", 200) in by_url
    assert report.gone == 2


def test_crawl_delay_from_robots_sets_the_host_interval(site_server: SiteServer) -> None:
    from desktop.core.ingest.robots import parse_robots
    from desktop.core.ingest.site_fetch import SiteFetcher

    async def go() -> tuple[float, float]:
        async with httpx.AsyncClient() as client:
            fetcher = SiteFetcher(
                SiteConfig(site_server.at("/"), delay_s=0.2),
                client=client,
                guard=AddressGuard(allow_all_private=True),
            )
            polite = parse_robots(site_server.url, "User-agent: *\nCrawl-delay: 2\n", "Bot")
            plain = parse_robots("http://other.test", "User-agent: *\nAllow: /\n", "Bot")
            return (
                fetcher.limiter(site_server.at("/a"), polite).interval,
                fetcher.limiter("http://other.test/a", plain).interval,
            )

    assert asyncio.run(go()) == (2.0, 0.2)  # the site's Crawl-delay wins over ours
