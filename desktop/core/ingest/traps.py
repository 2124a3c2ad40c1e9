"""Crawl traps: URL families that go on forever, volatile parameters, pages to retry later.

A *family* is a URL with its numeric and date parts written as `{n}`:
`/calendar/2024/01` and `/calendar/2031/12` are both `/calendar/{n}/{n}`, `/news?page=7` is
`/news?page={n}`. A family grows without end when its pages link to more of it (the next
month, the next page); `TrapGuard` lets at most `cap` such chain links in per family and
names the families it capped. Members listed by the sitemap, the start URL and the pages
the last sync kept are not chain links: a shop's `/product/{n}` pages listed in its
sitemap are never capped, and a re-sync refetches what it kept but never goes further.

A *volatile* parameter changes its value on every visit of the same page (a session id
under a name the canonical form does not know): a token-like value on a link back to
the page itself, or two token values for the same page. Once seen, the crawl drops it.

`CrawlMemory` is what one sync hands the next: capped families with their counts,
volatile parameter names, and pages that failed, retried after 1, 2, 4... syncs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from desktop.core.ingest.urls import without_params

MAX_BACKOFF_SYNCS = 16  # a failing page is tried at least every this many syncs
VOLATILE_VALUES = 2  # distinct token values for one page before a parameter is volatile
MAX_VALUES_TRACKED = 20_000  # (page, parameter) pairs remembered for the volatile check
_NUMERIC = re.compile(r"\d+|\d{4}-\d{1,2}(?:-\d{1,2})?|\d{1,2}-\d{1,2}-\d{4}")
_TOKEN = re.compile(r"[0-9a-zA-Z_\-]{12,}")


def _generalised(text: str) -> tuple[str, bool]:
    if _NUMERIC.fullmatch(text):
        return "{n}", True
    return text, False


def url_family(url: str) -> str | None:
    """The URL's family (`/calendar/{n}/{n}`, `/list?page={n}`), None without a number."""
    parts = urlsplit(url)
    numbered = False
    segments: list[str] = []
    for segment in parts.path.split("/"):
        shape, numeric = _generalised(segment)
        numbered |= numeric
        segments.append(shape)
    query: list[str] = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        shape, numeric = _generalised(value)
        numbered |= numeric
        query.append(f"{name}={shape}")
    if not numbered:
        return None
    return "/".join(segments) + ("?" + "&".join(query) if query else "")


def looks_like_token(value: str) -> bool:
    """A session-id-like value: long, letters and digits mixed (not a word, not a number)."""
    return bool(_TOKEN.fullmatch(value)) and any(c.isdigit() for c in value) and not value.isdigit()


@dataclass
class RetryState:
    failures: int  # consecutive failed syncs
    next_sync: int  # the sync number at which it is tried again
    reason: str = ""


@dataclass
class CrawlMemory:
    """What the crawl of one source remembers between syncs (JSON in its settings)."""

    syncs: int = 0  # syncs done so far
    families: dict[str, int] = field(default_factory=dict)  # capped family -> pages kept
    volatile: set[str] = field(default_factory=set)  # parameter names, lower case
    retry: dict[str, RetryState] = field(default_factory=dict)  # url -> backoff
    honour_noindex: bool | None = None  # as the last sync did (a change reads pages anew)

    @classmethod
    def from_json(cls, value: Any) -> CrawlMemory:
        if not isinstance(value, dict):
            return cls()
        memory = cls(syncs=int(value.get("syncs") or 0))
        if isinstance(value.get("honour_noindex"), bool):
            memory.honour_noindex = value["honour_noindex"]
        families = value.get("families") or {}
        if isinstance(families, dict):
            memory.families = {str(k): int(v) for k, v in families.items()}
        memory.volatile = {str(v).lower() for v in value.get("volatile") or ()}
        retry = value.get("retry") or {}
        if isinstance(retry, dict):
            for url, item in retry.items():
                if isinstance(item, dict):
                    memory.retry[str(url)] = RetryState(
                        int(item.get("failures") or 1),
                        int(item.get("next_sync") or 0),
                        str(item.get("reason") or ""),
                    )
        return memory

    def to_json(self) -> dict[str, Any]:
        return {
            "syncs": self.syncs,
            "honour_noindex": self.honour_noindex,
            "families": dict(sorted(self.families.items())),
            "volatile": sorted(self.volatile),
            "retry": {
                url: {"failures": s.failures, "next_sync": s.next_sync, "reason": s.reason}
                for url, s in sorted(self.retry.items())
            },
        }

    # -- retries -----------------------------------------------------------------------
    def waiting(self, url: str) -> RetryState | None:
        """The backoff of a page not to be tried in this sync (number `syncs + 1`)."""
        state = self.retry.get(url)
        return state if state is not None and state.next_sync > self.syncs + 1 else None

    def due(self) -> list[str]:
        """Pages that failed before and are tried again in this sync."""
        return [url for url in self.retry if self.waiting(url) is None]

    def failed(self, url: str, reason: str) -> None:
        """`url` failed in this sync: skipped for the next 1, 2, 4... syncs."""
        previous = self.retry.get(url)
        failures = previous.failures + 1 if previous else 1
        wait = min(2 ** (failures - 1), MAX_BACKOFF_SYNCS)
        self.retry[url] = RetryState(failures, self.syncs + 1 + wait + 1, reason)

    def answered(self, url: str) -> None:
        self.retry.pop(url, None)


@dataclass
class TrapReport:
    family: str
    pages: int  # of the family's chain, fetched or kept
    capped: bool

    def line(self) -> str:
        return f"possible crawl trap: {self.family}, {self.pages} pages" + (
            ", capped" if self.capped else ""
        )


class TrapGuard:
    """Counts the chain links of each URL family and refuses those over the cap."""

    def __init__(self, cap: int, memory: CrawlMemory) -> None:
        self.cap = max(cap, 1)
        self.memory = memory
        self.counts: dict[str, int] = {}
        self.capped: set[str] = set()
        self.volatile = set(memory.volatile)
        self._values: dict[tuple[str, str], set[str]] = {}

    # -- volatile parameters -----------------------------------------------------------
    def strip(self, url: str) -> str:
        return without_params(url, self.volatile)

    def observe_link(self, link: str, page_url: str) -> str:
        """`link` (found on `page_url`) with volatile parameters dropped; learns new ones."""
        parts = urlsplit(link)
        if not parts.query:
            return link
        page_bare = urlsplit(page_url)._replace(query="").geturl()
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            lowered = name.lower()
            if lowered in self.volatile or not looks_like_token(value):
                continue
            rest = without_params(link, {lowered})
            if rest == without_params(page_url, {lowered}) or rest == page_bare:
                self.volatile.add(lowered)  # a fresh token on a link to the same page
                continue
            key = (rest, lowered)
            seen = self._values.get(key)
            if seen is None:
                if len(self._values) >= MAX_VALUES_TRACKED:
                    continue
                seen = self._values[key] = set()
            seen.add(value)
            if len(seen) >= VOLATILE_VALUES:
                self.volatile.add(lowered)
        return self.strip(link)

    # -- families ----------------------------------------------------------------------
    def count_kept(self, url: str) -> None:
        """A page the last sync kept, of a family it capped: it counts toward the cap."""
        family = url_family(url)
        if family is not None and family in self.memory.families:
            self.counts[family] = self.counts.get(family, 0) + 1
            if self.counts[family] >= self.cap:
                self.capped.add(family)

    def admit(self, url: str, page_url: str) -> bool:
        """May a link from `page_url` to `url` be followed? False once its family's chain
        (links between members of one family) reached the cap."""
        family = url_family(url)
        if family is None or url_family(page_url) != family:
            return True
        count = self.counts.get(family, 0)
        if count >= self.cap:
            self.capped.add(family)
            return False
        self.counts[family] = count + 1
        return True

    def reports(self) -> list[TrapReport]:
        return [
            TrapReport(family, self.counts.get(family, 0), family in self.capped)
            for family in sorted(self.counts)
            if family in self.capped
        ]

    def remember(self) -> None:
        """Into the memory: the capped families (kept next time) and the volatile names."""
        for family in self.capped:
            self.memory.families[family] = self.counts.get(family, 0)
        self.memory.volatile |= self.volatile
