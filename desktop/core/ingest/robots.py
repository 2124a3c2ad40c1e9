"""robots.txt: fetched once per host, read with Protego, answered as Google does.

Status handling follows Google's documented behaviour: 2xx is parsed; redirects are
followed (at most 5); 4xx other than 429 means "no rules, crawl everything"; 429, 5xx
and network failures mean "crawl nothing for now" (the site may be down or
overloaded, and an unreadable robots.txt must not become a licence). Only the first
500 KiB are read, as Google does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

from desktop.core.errors import FetchError

ROBOTS_MAX_BYTES = 500 * 1024
ROBOTS_MAX_REDIRECTS = 5
MAX_CRAWL_DELAY_S = 30.0  # a Crawl-delay of an hour would make a sync never end


@dataclass
class RobotsRules:
    """The rules of one origin: `allowed(url)`, `crawl_delay`, `sitemaps`."""

    origin: str
    state: str  # "parsed", "missing" (4xx: allow all), "unavailable" (5xx/429/network)
    detail: str = ""
    parser: Protego | None = None
    agent: str = "*"
    sitemaps: list[str] = field(default_factory=list)

    def allowed(self, url: str) -> bool:
        if self.state == "unavailable":
            return False
        if self.parser is None:
            return True
        return bool(self.parser.can_fetch(url, self.agent))

    @property
    def crawl_delay(self) -> float | None:
        """Seconds between requests the site asks for (Crawl-delay or Request-rate)."""
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(self.agent)
        rate = self.parser.request_rate(self.agent)
        if rate is not None and rate.requests:
            per_request = rate.seconds / rate.requests
            delay = max(delay or 0.0, per_request)
        if delay is None:
            return None
        return min(max(float(delay), 0.0), MAX_CRAWL_DELAY_S)

    def refusal(self) -> str:
        """Why a URL was refused, for the summary."""
        if self.state == "unavailable":
            return f"robots.txt unavailable ({self.detail}): nothing crawled, as Google does"
        return "disallowed by robots.txt"


def product_token(user_agent: str) -> str:
    """`BotdeskBot` from `BotdeskBot/0.1 (+https://...)`: what robots.txt groups name."""
    return user_agent.split("/", 1)[0].split(" ", 1)[0] or "*"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def parse_robots(origin: str, text: str, user_agent: str) -> RobotsRules:
    parser = Protego.parse(text)
    return RobotsRules(
        origin,
        "parsed",
        parser=parser,
        agent=product_token(user_agent),
        sitemaps=[str(s) for s in parser.sitemaps],
    )


# A robots fetch: (url) -> (status, body text); raises FetchError on network failures.
RobotsFetch = Callable[[str], Awaitable[tuple[int, str]]]


def rules_from_response(origin: str, status: int, text: str, user_agent: str) -> RobotsRules:
    if 200 <= status < 300:
        return parse_robots(origin, text, user_agent)
    if status == 429 or status >= 500:
        return RobotsRules(origin, "unavailable", detail=f"HTTP {status}")
    return RobotsRules(origin, "missing", detail=f"HTTP {status}")  # 4xx: no rules at all


class RobotsCache:
    """One robots.txt per origin, fetched once even when many workers ask at once."""

    def __init__(self, fetch: RobotsFetch, user_agent: str) -> None:
        self._fetch = fetch
        self.user_agent = user_agent
        self._rules: dict[str, RobotsRules] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def rules_for(self, url: str) -> RobotsRules:
        origin = origin_of(url)
        if origin in self._rules:
            return self._rules[origin]
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            if origin not in self._rules:
                self._rules[origin] = await self._load(origin)
        return self._rules[origin]

    async def _load(self, origin: str) -> RobotsRules:
        try:
            status, text = await self._fetch(origin + "/robots.txt")
        except FetchError as exc:
            if exc.reason in ("private-address", "bad-url", "redirect-loop", "too-many-redirects"):
                # A robots.txt redirected somewhere we may not go: treated as missing (4xx).
                return RobotsRules(origin, "missing", detail=exc.message)
            return RobotsRules(origin, "unavailable", detail=exc.message)
        return rules_from_response(origin, status, text, self.user_agent)


def header_noindex(value: str | None, user_agent: str) -> bool:
    """Does an X-Robots-Tag header keep the page out of an index (ours)?

    `noindex` or `none`, either for every robot or prefixed with our product token
    (`BotdeskBot: noindex`); rules for other named robots are ignored. Several values
    arrive joined by commas.
    """
    if not value:
        return False
    ours = product_token(user_agent).lower()
    applies = True
    for raw in value.split(","):
        part = raw.strip().lower()
        if ":" in part:
            name, _, rest = part.partition(":")
            name = name.strip()
            if name not in ("noindex", "nofollow", "none", "unavailable_after", "max-snippet"):
                applies = name == ours
                part = rest.strip()
        if applies and part in ("noindex", "none"):
            return True
    return False
