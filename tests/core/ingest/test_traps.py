"""URL families, volatile parameters, retry backoff and X-Robots-Tag, without network."""

from __future__ import annotations

from desktop.core.ingest.robots import header_noindex
from desktop.core.ingest.traps import CrawlMemory, TrapGuard, looks_like_token, url_family
from desktop.core.ingest.urls import canonicalize_url, session_values_blanked, without_params

SITE = "https://shop.example"


def test_session_parameters_are_dropped_when_canonicalising() -> None:
    for name in ("session", "sid", "PHPSESSID", "jsessionid", "sessid", "sessionid"):
        assert canonicalize_url(f"{SITE}/cal?{name}=ab12cd34&month=3") == f"{SITE}/cal?month=3"
    assert canonicalize_url(f"{SITE}/cart;jsessionid=AB12?x=1") == f"{SITE}/cart?x=1"
    assert without_params(f"{SITE}/a?v=1&k=2", {"v"}) == f"{SITE}/a?k=2"


def test_url_families_generalise_numbers_and_dates() -> None:
    assert url_family(f"{SITE}/calendar/2024/01") == "/calendar/{n}/{n}"
    assert url_family(f"{SITE}/news?page=7") == "/news?page={n}"
    assert url_family(f"{SITE}/events/2024-05-01") == "/events/{n}"
    assert url_family(f"{SITE}/about") is None
    assert url_family(f"{SITE}/sku/QX0005") is None  # a product code is not a number


def test_the_cap_counts_chain_links_only_and_a_resync_keeps_it() -> None:
    memory = CrawlMemory()
    guard = TrapGuard(3, memory)
    home, cal = f"{SITE}/", f"{SITE}/calendar/2024/"
    assert guard.admit(cal + "01", home)  # the entry, from another page: not counted
    assert [guard.admit(cal + f"{m:02d}", cal + f"{m - 1:02d}") for m in range(2, 7)] == [
        True,
        True,
        True,
        False,
        False,
    ]
    # a sitemap-like listing of numbered pages from a page of another family: never capped
    assert all(guard.admit(f"{SITE}/product/{n}", home) for n in range(100))
    (report,) = guard.reports()
    assert report.line() == "possible crawl trap: /calendar/{n}/{n}, 3 pages, capped"
    guard.remember()

    again = TrapGuard(3, CrawlMemory.from_json(memory.to_json()))
    for m in range(1, 5):  # the pages kept last time fill the cap
        again.count_kept(cal + f"{m:02d}")
    assert not again.admit(cal + "05", cal + "04")


def test_a_parameter_changing_on_every_visit_is_learnt_and_dropped() -> None:
    guard = TrapGuard(50, CrawlMemory())
    page = f"{SITE}/events"
    assert guard.observe_link(f"{SITE}/events?visit=9f8e7d6c5b4a3921", page) == page
    assert "visit" in guard.volatile
    assert guard.strip(f"{SITE}/list?visit=0a1b2c3d4e5f6789&page=2") == f"{SITE}/list?page=2"
    # two token values for one other page also tell
    other = TrapGuard(50, CrawlMemory())
    for token in ("a1b2c3d4e5f6a7b8", "c9d8e7f6a5b4c3d2"):
        other.observe_link(f"{SITE}/shop?t={token}", f"{SITE}/")
    assert "t" in other.volatile
    # ordinary values are not tokens
    assert not looks_like_token("price") and not looks_like_token("2024")
    assert guard.observe_link(f"{SITE}/shop?sort=price", page) == f"{SITE}/shop?sort=price"


def test_failed_pages_wait_one_two_four_syncs() -> None:
    memory = CrawlMemory()
    url = f"{SITE}/dead"
    tried: list[int] = []
    for sync in range(1, 16):  # memory.syncs is the number of syncs done before this one
        if memory.waiting(url) is None:
            tried.append(sync)
            memory.failed(url, "timed out")
        memory.syncs += 1
    assert tried == [1, 3, 6, 11]  # gaps of 1, 2, 4 skipped syncs
    assert CrawlMemory.from_json(memory.to_json()).retry[url].failures == 4
    memory.answered(url)
    assert memory.due() == [] and memory.waiting(url) is None


def test_x_robots_tag() -> None:
    agent = "BotdeskBot/0.1 (+https://botdesk.app/bot)"
    assert header_noindex("noindex", agent)
    assert header_noindex("noarchive, none", agent)
    assert header_noindex("BotdeskBot: noindex", agent)
    assert not header_noindex("googlebot: noindex", agent)
    assert not header_noindex("nofollow", agent)
    assert not header_noindex(None, agent)
    assert not CrawlMemory.from_json("not a dict").retry


def test_session_values_are_blanked_for_the_content_hash() -> None:
    body = b'<a href="/c/2024/02?session=ab12&amp;x=1">Next</a> <a href="/v?visit=99f">'
    assert session_values_blanked(body, {"visit"}) == (
        b'<a href="/c/2024/02?session=&amp;x=1">Next</a> <a href="/v?visit=">'
    )
    assert session_values_blanked(b'<a href="/p?ssid=1">') == b'<a href="/p?ssid=1">'
