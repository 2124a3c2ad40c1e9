"""Sitemaps: urlsets, sitemap indexes, gzip and plain-text lists, read safely.

XML goes through defusedxml (no DTDs, no entity expansion: a "billion laughs" sitemap
is refused), gzip is decompressed within a size cap, and the number of sitemaps and
URLs read is bounded, so a hostile or enormous sitemap cannot stall the crawl.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from desktop.core.errors import FetchError
from desktop.core.ingest.fetch import SizeLimitExceeded, gunzip_bounded

SITEMAP_MAX_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit, uncompressed
MAX_SITEMAP_URLS = 50_000  # per file, also the sitemaps.org limit
MAX_SITEMAPS = 50  # files read per crawl (indexes included)
MAX_INDEX_DEPTH = 3


class SitemapError(ValueError):
    """A sitemap that cannot be read: the reason is its message."""


@dataclass
class Sitemap:
    kind: str  # "urlset" or "sitemapindex"
    locations: list[str]


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1].lower()


def _locs(root: Element, child: str, limit: int) -> list[str]:
    found: list[str] = []
    for entry in root:
        if _local(entry.tag) != child:
            continue
        for item in entry:
            if _local(item.tag) == "loc" and item.text and item.text.strip():
                found.append(item.text.strip())
                break
        if len(found) >= limit:
            break
    return found


def parse_sitemap(
    data: bytes, *, max_bytes: int = SITEMAP_MAX_BYTES, max_urls: int = MAX_SITEMAP_URLS
) -> Sitemap:
    """A sitemap's kind and locations (gzip detected by its magic bytes)."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gunzip_bounded(data, max_bytes)
        except SizeLimitExceeded:
            raise SitemapError(f"larger than {max_bytes:,} bytes uncompressed") from None
        except FetchError as exc:
            raise SitemapError("corrupt gzip data") from exc
    if len(data) > max_bytes:
        raise SitemapError(f"larger than {max_bytes:,} bytes")
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped.startswith(b"<"):
        return _text_sitemap(stripped, max_urls)
    try:
        root = fromstring(stripped, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise SitemapError(f"unsafe XML refused ({type(exc).__name__})") from None
    except (ParseError, ValueError) as exc:
        raise SitemapError(f"not valid XML ({exc})") from None
    kind = _local(root.tag)
    if kind == "urlset":
        return Sitemap("urlset", _locs(root, "url", max_urls))
    if kind == "sitemapindex":
        return Sitemap("sitemapindex", _locs(root, "sitemap", max_urls))
    raise SitemapError(f"not a sitemap (root element <{kind}>)")


def _text_sitemap(data: bytes, max_urls: int) -> Sitemap:
    """The plain-text format: one URL per line."""
    text = data.decode("utf-8", errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    urls = [line for line in lines if line.lower().startswith(("http://", "https://"))]
    if not urls or len(urls) < len(lines) / 2:
        raise SitemapError("not a sitemap (neither XML nor a list of URLs)")
    return Sitemap("urlset", urls[:max_urls])


# A sitemap fetch: (url) -> body bytes; raises FetchError.
SitemapFetch = Callable[[str], Awaitable[bytes]]


@dataclass
class SitemapResult:
    urls: list[str] = field(default_factory=list)  # page URLs, in order, not deduplicated
    read: list[str] = field(default_factory=list)  # sitemap files read
    problems: dict[str, str] = field(default_factory=dict)  # sitemap URL -> reason


async def read_sitemaps(
    seeds: list[str],
    fetch: SitemapFetch,
    *,
    max_urls: int = MAX_SITEMAP_URLS,
    max_sitemaps: int = MAX_SITEMAPS,
    max_bytes: int = SITEMAP_MAX_BYTES,
    quiet: frozenset[str] = frozenset(),
) -> SitemapResult:
    """Read sitemaps breadth-first from `seeds`, following indexes, within the caps.

    A seed in `quiet` (the guessed /sitemap.xml) is not reported when it is missing.
    """
    result = SitemapResult()
    queue: list[tuple[str, int]] = [(seed, 0) for seed in dict.fromkeys(seeds)]
    seen = set(s for s, _ in queue)
    while queue and len(result.read) < max_sitemaps and len(result.urls) < max_urls:
        url, depth = queue.pop(0)
        try:
            data = await fetch(url)
            sitemap = parse_sitemap(data, max_bytes=max_bytes, max_urls=max_urls)
        except FetchError as exc:
            if url not in quiet:
                result.problems[url] = exc.message
            continue
        except SitemapError as exc:
            if url not in quiet:
                result.problems[url] = str(exc)
            continue
        result.read.append(url)
        if sitemap.kind == "urlset":
            result.urls.extend(sitemap.locations[: max_urls - len(result.urls)])
        elif depth < MAX_INDEX_DEPTH:
            for child in sitemap.locations:
                if child not in seen:
                    seen.add(child)
                    queue.append((child, depth + 1))
        else:
            result.problems[url] = "sitemap index nested too deep"
    return result
