"""What a crawl tells its caller: the report, and why a URL was not fetched.

`CrawlReport` counts what the crawl did and lists every URL it did not fetch with the
reason; `CrawlLog` writes those outcomes as the crawl goes (into the report, the job's
progress and errors, and the retry memory). `url_allowed` is the rule check without
network that the crawl preview applies live.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from desktop.core.ingest.fetch import PRIVATE_REASON
from desktop.core.ingest.traps import CrawlMemory, TrapReport
from desktop.core.ingest.types import SiteConfig
from desktop.core.ingest.urls import (
    InvalidURL,
    canonicalize_url,
    pattern_problem,
    shape_problem,
    site_key,
    unwanted_suffix,
)
from desktop.core.jobs import Job

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
)


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


class CrawlLog:
    """Records each URL's outcome: in the report, on the job, and in the retry memory."""

    def __init__(self, report: CrawlReport, job: Job | None, memory: CrawlMemory) -> None:
        self.report, self.job, self.memory = report, job, memory
        self._skipped_seen: set[tuple[str, str]] = set()

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

    def not_delivered(self, url: str) -> None:
        """A page the crawl started on ends without a page for on_page: progress moves on."""
        if self.job is not None:
            self.job.advance(1, url)


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
