"""robots.txt: Protego rules, statuses handled as Google does, fetched once per host."""

from __future__ import annotations

import asyncio

import pytest

from desktop.core.errors import FetchError
from desktop.core.ingest.robots import (
    MAX_CRAWL_DELAY_S,
    RobotsCache,
    parse_robots,
    product_token,
    rules_from_response,
)

AGENT = "BotdeskBot/0.1 (+https://botdesk.app/bot)"
ORIGIN = "https://example.com"


def test_rules_for_our_agent_and_the_rest() -> None:
    rules = parse_robots(
        ORIGIN,
        "User-agent: *\nDisallow: /private/\n\n"
        "User-agent: BotdeskBot\nDisallow: /no-bots/\nAllow: /no-bots/ok\nCrawl-delay: 1.5\n"
        "Sitemap: https://example.com/sitemap.xml\nSitemap: https://cdn.example.com/s.xml.gz\n",
        AGENT,
    )
    assert product_token(AGENT) == "BotdeskBot"
    assert not rules.allowed(ORIGIN + "/no-bots/page")
    assert rules.allowed(ORIGIN + "/no-bots/ok")
    assert rules.allowed(ORIGIN + "/private/x")  # our own group replaces the * group
    assert rules.crawl_delay == 1.5
    assert rules.sitemaps == [ORIGIN + "/sitemap.xml", "https://cdn.example.com/s.xml.gz"]


def test_wildcards_and_forbid_everything() -> None:
    rules = parse_robots(ORIGIN, "User-agent: *\nDisallow: /*?sort=\nDisallow: /*.pdf$\n", AGENT)
    assert not rules.allowed(ORIGIN + "/list?sort=price")
    assert not rules.allowed(ORIGIN + "/a.pdf")
    assert rules.allowed(ORIGIN + "/a.pdf.html")
    everything = parse_robots(ORIGIN, "User-agent: *\nDisallow: /\n", AGENT)
    assert not everything.allowed(ORIGIN + "/")
    assert "robots.txt" in everything.refusal()


def test_absurd_delays_are_capped_and_request_rate_counts() -> None:
    slow = parse_robots(ORIGIN, "User-agent: *\nCrawl-delay: 3600\n", AGENT)
    assert slow.crawl_delay == MAX_CRAWL_DELAY_S
    rate = parse_robots(ORIGIN, "User-agent: *\nRequest-rate: 1/5\n", AGENT)
    assert rate.crawl_delay == 5.0
    assert parse_robots(ORIGIN, "User-agent: *\nAllow: /\n", AGENT).crawl_delay is None


def test_garbage_robots_means_no_rules() -> None:
    rules = parse_robots(ORIGIN, "<html><body>Welcome!</body></html>\n\x00\xff", AGENT)
    assert rules.allowed(ORIGIN + "/anything")


@pytest.mark.parametrize(
    ("status", "allowed", "state"),
    [
        (200, True, "parsed"),
        (404, True, "missing"),
        (410, True, "missing"),
        (403, True, "missing"),  # Google: 4xx other than 429 means no rules
        (429, False, "unavailable"),
        (500, False, "unavailable"),
        (503, False, "unavailable"),
    ],
)
def test_statuses_as_google_reads_them(status: int, allowed: bool, state: str) -> None:
    rules = rules_from_response(ORIGIN, status, "", AGENT)
    assert rules.state == state
    assert rules.allowed(ORIGIN + "/page") is allowed
    if not allowed:
        assert f"HTTP {status}" in rules.refusal()


def test_fetched_once_per_origin_even_when_asked_at_once() -> None:
    calls: list[str] = []

    async def fetch(url: str) -> tuple[int, str]:
        calls.append(url)
        await asyncio.sleep(0.01)
        return 200, "User-agent: *\nDisallow: /x\n"

    async def ask() -> None:
        cache = RobotsCache(fetch, AGENT)
        urls = [ORIGIN + f"/p{i}" for i in range(10)] + ["https://other.example/a"]
        found = await asyncio.gather(*(cache.rules_for(u) for u in urls))
        assert all(not rules.allowed(ORIGIN + "/x") for rules in found)

    asyncio.run(ask())
    assert sorted(calls) == [ORIGIN + "/robots.txt", "https://other.example/robots.txt"]


@pytest.mark.parametrize(
    ("reason", "state"),
    [("timeout", "unavailable"), ("network", "unavailable"), ("too-many-redirects", "missing")],
)
def test_fetch_failures(reason: str, state: str) -> None:
    async def fetch(url: str) -> tuple[int, str]:
        raise FetchError("nope", reason=reason)

    rules = asyncio.run(RobotsCache(fetch, AGENT).rules_for(ORIGIN + "/"))
    assert rules.state == state
