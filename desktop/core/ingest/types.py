"""The values that pass between ingestion stages: crawl settings, fetched pages, extracted text.

Shared by the crawler (urls, robots, sitemap, fetch, crawl), the extractors (html, pdf,
files) and the sync that stores their results.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_MAX_PAGES = 500
DEFAULT_MAX_DEPTH = 10
DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # per response, after decompression
DEFAULT_TIMEOUT_S = 20.0  # overall deadline per response, not per chunk
DEFAULT_MAX_REDIRECTS = 10
DEFAULT_CONCURRENCY = 4  # per host
DEFAULT_DELAY_S = 0.0  # between requests to one host, per worker; robots Crawl-delay wins
DEFAULT_FAMILY_CAP = 50  # chain-linked pages per URL family (/calendar/{n}/{n}) per crawl
USER_AGENT = "BotdeskBot/0.1 (+https://botdesk.app/bot)"


@dataclass(frozen=True)
class SiteConfig:
    """How to crawl one website source."""

    start_url: str
    include: tuple[str, ...] = ()  # URL globs; empty means everything on the site
    exclude: tuple[str, ...] = ()
    max_pages: int = DEFAULT_MAX_PAGES
    max_depth: int = DEFAULT_MAX_DEPTH
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    concurrency: int = DEFAULT_CONCURRENCY
    delay_s: float = DEFAULT_DELAY_S
    user_agent: str = USER_AGENT
    family_cap: int = DEFAULT_FAMILY_CAP
    honour_noindex: bool = True  # <meta name=robots content=noindex>, X-Robots-Tag


@dataclass(frozen=True)
class KnownPage:
    """What the last sync stored for a URL: lets the crawl ask 'changed since?'."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None


@dataclass(frozen=True)
class FetchedPage:
    """One response the crawl got for a page (HTML or PDF), after redirects."""

    url: str  # canonical URL: the document's identity
    final_url: str  # where the last redirect led
    status: int  # 200, 304 (not modified), 404, 410...
    content_type: str  # media type only, lower case: "text/html", "application/pdf"
    body: bytes  # empty for 304 and errors
    charset: str | None = None  # from the Content-Type header, if any
    etag: str | None = None
    last_modified: str | None = None
    depth: int = 0
    why_gone: str = ""  # for a gone page the crawl decided on (noindex), in words

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def gone(self) -> bool:
        """The page disappeared: its document is marked removed on a re-sync."""
        return self.status in (404, 410)


@dataclass(frozen=True)
class PageSpan:
    """A PDF page's span in the extracted Markdown (for page numbers in citations)."""

    page: int  # 1-based
    start: int
    end: int


@dataclass
class ExtractedDocument:
    """Main content as Markdown, with the title and, for PDFs, the page spans."""

    title: str
    markdown: str
    pages: list[PageSpan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # shown beside the document
