"""URL canonicalisation, numeric hosts, limits and the user's globs."""

from __future__ import annotations

import ipaddress

import pytest

from desktop.core.ingest.crawl_report import url_allowed
from desktop.core.ingest.fetch import is_private_literal, is_public_address
from desktop.core.ingest.types import SiteConfig
from desktop.core.ingest.urls import (
    InvalidURL,
    canonicalize_url,
    glob_matches,
    parse_ipv4_host,
    shape_problem,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("HTTP://Example.COM/", "http://example.com/"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("http://example.com/a#section", "http://example.com/a"),
        ("http://example.com/a?b=2&a=1", "http://example.com/a?a=1&b=2"),
        ("http://example.com/?utm_source=x&utm_medium=y&id=3", "http://example.com/?id=3"),
        ("http://example.com/?gclid=1&fbclid=2&msclkid=3", "http://example.com/"),
        ("http://example.com/?PHPSESSID=abc&page=2", "http://example.com/?page=2"),
        ("http://example.com/cart;jsessionid=A1B2?x=1", "http://example.com/cart?x=1"),
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/a/b/..", "http://example.com/a/"),
        ("http://example.com/docs/", "http://example.com/docs/"),  # trailing slash kept
        ("http://example.com/docs", "http://example.com/docs"),
        ("http://example.com/%7Euser/%61", "http://example.com/~user/a"),  # unreserved decoded
        ("http://example.com/a%2fb", "http://example.com/a%2Fb"),  # reserved kept, upper hex
        ("http://example.com/caf%c3%a9", "http://example.com/caf%C3%A9"),
        ("http://example.com/café", "http://example.com/caf%C3%A9"),
        ("http://example.com/a b", "http://example.com/a%20b"),
        ("http://example.com/?q=a+b", "http://example.com/?q=a%20b"),
        ("http://example.com/?q=a%26b", "http://example.com/?q=a%26b"),
        ("http://user:secret@example.com/", "http://example.com/"),
        ("http://bücher.example/", "http://xn--bcher-kva.example/"),
        ("http://example.com./", "http://example.com/"),
        (" http://example.com/\n", "http://example.com/"),
        ("http://2130706433/", "http://127.0.0.1/"),
        ("http://0x7f000001/", "http://127.0.0.1/"),
        ("http://0177.0.0.1/", "http://127.0.0.1/"),
        ("http://127.1/", "http://127.0.0.1/"),
        ("http://[::FFFF:127.0.0.1]/", "http://[::ffff:127.0.0.1]/"),
        ("http://[0:0:0:0:0:0:0:1]:8080/", "http://[::1]:8080/"),
    ],
)
def test_canonical_form(given: str, expected: str) -> None:
    assert canonicalize_url(given) == expected
    assert canonicalize_url(expected) == expected  # idempotent


def test_relative_urls_resolve_against_the_base() -> None:
    base = "http://example.com/docs/install"
    assert canonicalize_url("faq", base) == "http://example.com/docs/faq"
    assert canonicalize_url("../pricing?utm_source=x", base) == "http://example.com/pricing"
    assert canonicalize_url("//other.example/x", base) == "http://other.example/x"
    assert canonicalize_url("#top", base) == base


@pytest.mark.parametrize(
    "bad",
    [
        "javascript:alert(1)",
        "mailto:a@example.com",
        "ftp://example.com/",
        "file:///etc/passwd",
        "data:text/html,hi",
        "http://",
        "http://exa mple.com/",
        "http://example.com:99999/",
        "not a url",
    ],
)
def test_unusable_urls_are_refused(bad: str) -> None:
    with pytest.raises(InvalidURL):
        canonicalize_url(bad)


def test_numeric_ipv4_forms() -> None:
    assert parse_ipv4_host("2130706433") == ipaddress.IPv4Address("127.0.0.1")
    assert parse_ipv4_host("0x7f.0.0.1") == ipaddress.IPv4Address("127.0.0.1")
    assert parse_ipv4_host("10.1") == ipaddress.IPv4Address("10.0.0.1")
    assert parse_ipv4_host("192.168.257") == ipaddress.IPv4Address("192.168.1.1")
    assert parse_ipv4_host("256.0.0.1") is None
    assert parse_ipv4_host("1.2.3.4.5") is None
    assert parse_ipv4_host("example.com") is None
    assert parse_ipv4_host("0x") == ipaddress.IPv4Address("0.0.0.0")


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "app.localhost",
        "10.0.0.8",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "[::1]",
        "[fd00::1]",
        "[fe80::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:10.0.0.1]",
        "[64:ff9b::a00:1]",
        "[2002:7f00:1::]",
        "2130706433",
        "0x7f000001",
        "017700000001",
        "127.1",
    ],
)
def test_private_hosts_are_recognised_without_dns(host: str) -> None:
    assert is_private_literal(host)


def test_public_addresses() -> None:
    assert is_public_address(ipaddress.ip_address("93.184.216.34"))
    assert is_public_address(ipaddress.ip_address("2606:2800:220:1::1"))
    assert not is_private_literal("example.com")  # a name: decided after resolving
    assert not is_private_literal("8.8.8.8")


def test_shape_limits() -> None:
    assert shape_problem("http://example.com/" + "a" * 3000) == "url-too-long"
    deep = "http://example.com/" + "/".join(f"s{i}" for i in range(25))
    assert shape_problem(deep) == "path-too-deep"
    assert shape_problem("http://example.com/a/b/a/b/a/b/a/b") == "repeating-path"
    assert shape_problem("http://example.com/docs/install") is None


@pytest.mark.parametrize(
    ("url", "pattern", "matches"),
    [
        ("http://x.com/docs/a", "/docs/*", True),
        ("http://x.com/docs/a/b", "/docs/*", True),  # * crosses slashes
        ("http://x.com/docs/", "/docs/*", True),
        ("http://x.com/docsearch", "/docs/*", False),
        ("http://x.com/blog/2026/post", "/blog/*", True),
        ("http://x.com/a/blog/x", "/blog/*", False),  # anchored at the path's start
        ("http://x.com/a.pdf", "*.pdf", True),
        ("http://x.com/a/blog/x", "blog", True),  # a bare word matches anywhere
        ("http://x.com/p?lang=de", "*lang=de*", True),
        ("https://x.com/docs/a", "https://x.com/docs/*", True),
        ("http://x.com/docs/a", "https://x.com/docs/*", False),
        ("http://x.com/Docs/a", "/docs/*", False),
    ],
)
def test_globs(url: str, pattern: str, matches: bool) -> None:
    assert glob_matches(url, pattern) is matches


def test_url_allowed_reasons() -> None:
    config = SiteConfig(
        "https://www.example.com/", include=("/docs/*", "/pricing"), exclude=("/docs/old/*",)
    )
    assert url_allowed("https://www.example.com/docs/a", config) is None
    assert url_allowed("https://example.com/pricing", config) is None  # www and bare: one site
    assert url_allowed("https://www.example.com/about", config) == "pattern"
    assert url_allowed("https://www.example.com/docs/old/a", config) == "pattern"
    assert url_allowed("https://other.example/docs/a", config) == "offsite"
    assert url_allowed("https://www.example.com/docs/logo.png", config) == "type"
    assert url_allowed("javascript:alert(1)", config) == "bad-url"
    long_url = "https://www.example.com/docs/" + "a" * 3000
    assert url_allowed(long_url, config) == "url-too-long"
    assert url_allowed("https://www.example.com/docs/a?utm_source=x#f", config) is None
