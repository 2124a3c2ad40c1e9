"""The customer's page made inert for the preview, with the snippet and a base."""

from __future__ import annotations

from desktop.core.publish.preview_page import demo_page, embed_snippet, page_policy, prepare_page

WIDGET = "http://127.0.0.1:8765/widget.js"


def inert(page: str) -> str:
    return prepare_page(page, page_url="https://shop.example/a/", widget_url=WIDGET, bot_id="b1")


def test_every_way_a_page_runs_code_is_removed() -> None:
    page = inert(
        "<!doctype html><html><head><meta charset=latin-1>"
        "<meta http-equiv=refresh content='0;url=https://evil.example'>"
        "<meta http-equiv=Content-Security-Policy content=\"script-src 'none'\">"
        "<base href=https://evil.example/><script>alert(1)</script></head>"
        "<body onload=x()><a href=' JavaScript:alert(1)'>a</a><img src=a.png onerror=alert(1)>"
        "<iframe srcdoc='<script>1</script>'></iframe><object data=x></object><embed src=y>"
        "<form action='javascript:1'><button formaction=javascript:2>b</button></form>"
        "<svg><a xlink:href='javascript:3'>s</a></svg><p>Kept</p></body></html>"
    )
    lowered = page.lower()
    for gone in (
        "alert",
        "onload",
        "onerror",
        "javascript:",
        "refresh",
        "evil.example",
        "<iframe",
        "<object",
        "<embed",
        "latin-1",
        "srcdoc",
    ):
        assert gone not in lowered, gone
    assert page.startswith("<!DOCTYPE html>")
    assert '<base href="https://shop.example/a/">' in page and "<p>Kept</p>" in page
    assert '<img src="a.png">' in page
    assert page.count("<script") == 1 and embed_snippet(WIDGET, "b1") in page


def test_a_page_without_doctype_keeps_its_mode_and_broken_html_still_works() -> None:
    assert not inert("<p>quirks").lower().startswith("<!doctype")
    for broken in ("", "   ", "plain text", "<html><body><div><div>", "\x00\x01"):
        page = inert(broken)
        assert embed_snippet(WIDGET, "b1") in page and "<base" in page


def test_the_snippet_and_demo_page_escape_what_they_are_given() -> None:
    snippet = embed_snippet('https://x.example/w.js"><script>', 'id"x')
    assert snippet.count("<script") == 1 and "&quot;" in snippet
    demo = demo_page(bot_name="<b>Acme</b>", widget_url=WIDGET, bot_id="b1")
    assert "<b>Acme" not in demo and "&lt;b&gt;Acme" in demo


def test_the_policy_allows_only_our_scripts() -> None:
    policy = page_policy("https://shop.example/a/")
    assert "script-src 'self'" in policy and "base-uri https://shop.example" in policy
    assert "connect-src 'self'" in policy and "frame-src 'none'" in policy
    assert "base-uri 'none'" in page_policy(None)
