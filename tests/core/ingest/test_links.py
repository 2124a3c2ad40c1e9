"""Links out of HTML: hrefs, base, canonical, nofollow, unsafe schemes, broken markup."""

from __future__ import annotations

from desktop.core.ingest.links import extract_links

PAGE = "https://example.com/docs/guide"


def test_links_resolved_canonicalised_and_unique() -> None:
    html = b"""<html><head><link rel="canonical" href="/docs/guide?utm_source=x">
    <link rel="stylesheet" href="/style.css"></head><body>
    <a href="install">Install</a> <a href="install#step-2">Step 2</a>
    <a href="/pricing?b=2&a=1">Pricing</a> <a href="https://other.example/">Other</a>
    <area href="/map-target"> <a>no href</a> <a href="">empty</a>
    <a href="javascript:alert(1)">js</a> <a href=" JaVaScRiPt:alert(1)">js</a>
    <a href="mailto:x@example.com">mail</a> <a href="tel:+331">tel</a>
    <a href="data:text/html,<script>alert(1)</script>">data</a>
    <a href="file:///etc/passwd">file</a> <a href="ftp://example.com/x">ftp</a>
    </body></html>"""
    links = extract_links(html, PAGE)
    assert links.canonical == "https://example.com/docs/guide"
    assert links.links == [
        "https://example.com/docs/install",
        "https://example.com/pricing?a=1&b=2",
        "https://other.example/",
        "https://example.com/map-target",
    ]
    assert not links.nofollow


def test_base_href_and_meta_nofollow() -> None:
    html = (
        b'<head><base href="https://example.com/v2/"><meta name="robots" content="nofollow">'
        b'</head><a href="page">p</a>'
    )
    links = extract_links(html, PAGE)
    assert links.links == ["https://example.com/v2/page"] and links.nofollow


def test_bad_markup_charsets_and_limits() -> None:
    assert extract_links(b"", PAGE).links == []
    assert extract_links(b"\x00\xff\xfe garbage", PAGE).links == []
    broken = b"<a href='/a'>unclosed <div><a href=/b>b</a></p></td>"
    assert extract_links(broken, PAGE).links == ["https://example.com/a", "https://example.com/b"]
    deep = b"<div>" * 5000 + b'<a href="/deep">x</a>' + b"</div>" * 5000
    assert isinstance(extract_links(deep, PAGE).links, list)  # no crash, no recursion error
    latin = '<meta charset="iso-8859-1"><a href="/caf\xe9">x</a>'.encode("latin-1")
    assert extract_links(latin, PAGE).links == ["https://example.com/caf%C3%A9"]
    many = b"".join(b'<a href="/p%d">x</a>' % i for i in range(5000))
    assert len(extract_links(many, PAGE, max_links=100).links) == 100
    xml_decl = b'<?xml version="1.0" encoding="utf-8"?><html><a href="/x">x</a></html>'
    assert extract_links(xml_decl, PAGE).links == ["https://example.com/x"]


def test_meta_refresh_is_a_link() -> None:
    html = b"<head><meta http-equiv='Refresh' content='0; URL=/moved-here'></head><p>Moved</p>"
    assert extract_links(html, PAGE).links == ["https://example.com/moved-here"]
