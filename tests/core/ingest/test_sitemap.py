"""Sitemaps: urlsets, indexes, gzip, text lists; unsafe XML, bombs and junk refused."""

from __future__ import annotations

import asyncio
import gzip

import pytest

from desktop.core.errors import FetchError
from desktop.core.ingest.sitemap import SitemapError, parse_sitemap, read_sitemaps
from tests.helpers.site_server import gzip_bomb

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def _urlset(*urls: str) -> bytes:
    entries = "".join(f"<url><loc> {u} </loc><lastmod>2026-01-01</lastmod></url>" for u in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{entries}</urlset>'.encode()


def _index(*urls: str) -> bytes:
    entries = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in urls)
    return f"<sitemapindex {NS}>{entries}</sitemapindex>".encode()


def test_urlset_index_gzip_and_text() -> None:
    assert parse_sitemap(_urlset("https://x.com/a", "https://x.com/b")).locations == [
        "https://x.com/a",
        "https://x.com/b",
    ]
    index = parse_sitemap(_index("https://x.com/s1.xml"))
    assert index.kind == "sitemapindex" and index.locations == ["https://x.com/s1.xml"]
    assert parse_sitemap(gzip.compress(_urlset("https://x.com/z"))).locations == ["https://x.com/z"]
    text = parse_sitemap(b"https://x.com/a\nhttps://x.com/b\n")
    assert text.locations == ["https://x.com/a", "https://x.com/b"]
    no_ns = b"<urlset><url><loc>https://x.com/a</loc></url></urlset>"
    assert parse_sitemap(no_ns).locations == ["https://x.com/a"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
            b'"&lol;&lol;&lol;">]><urlset><url><loc>&lol2;</loc></url></urlset>',
            "unsafe XML",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<urlset><url><loc>&x;</loc></url></urlset>",
            "unsafe XML",
        ),
        (b"<urlset><url><loc>https://x.com/a</loc></url>", "not valid XML"),
        (b"<html><body>Not found</body></html>", "not a sitemap"),
        (b"hello world\nthis is not a sitemap", "not a sitemap"),
        (b"\x1f\x8bgarbage", "corrupt gzip"),
    ],
)
def test_bad_sitemaps_say_why(data: bytes, words: str) -> None:
    with pytest.raises(SitemapError) as info:
        parse_sitemap(data)
    assert words in str(info.value)


def test_size_caps_hold_after_decompression() -> None:
    with pytest.raises(SitemapError, match="larger than"):
        parse_sitemap(gzip_bomb(), max_bytes=1024 * 1024)
    with pytest.raises(SitemapError, match="larger than"):
        parse_sitemap(_urlset(*(f"https://x.com/{i}" for i in range(100))), max_bytes=500)
    many = parse_sitemap(_urlset(*(f"https://x.com/{i}" for i in range(100))), max_urls=10)
    assert len(many.locations) == 10


def test_read_follows_indexes_within_caps() -> None:
    files = {
        "https://x.com/index.xml": _index(
            "https://x.com/a.xml", "https://x.com/b.xml.gz", "https://x.com/missing.xml"
        ),
        "https://x.com/a.xml": _urlset("https://x.com/1", "https://x.com/2"),
        "https://x.com/b.xml.gz": gzip.compress(_urlset("https://x.com/3")),
        "https://x.com/loop.xml": _index("https://x.com/loop.xml"),
    }

    async def fetch(url: str) -> bytes:
        if url not in files:
            raise FetchError("HTTP 404", reason="http-404")
        return files[url]

    result = asyncio.run(read_sitemaps(["https://x.com/index.xml"], fetch))
    assert result.urls == ["https://x.com/1", "https://x.com/2", "https://x.com/3"]
    assert result.problems == {"https://x.com/missing.xml": "HTTP 404"}
    capped = asyncio.run(read_sitemaps(["https://x.com/index.xml"], fetch, max_urls=1))
    assert len(capped.urls) == 1
    looped = asyncio.run(read_sitemaps(["https://x.com/loop.xml"], fetch))
    assert looped.urls == [] and looped.read == ["https://x.com/loop.xml"]
    quiet = asyncio.run(
        read_sitemaps(
            ["https://x.com/sitemap.xml"], fetch, quiet=frozenset({"https://x.com/sitemap.xml"})
        )
    )
    assert quiet.problems == {}
