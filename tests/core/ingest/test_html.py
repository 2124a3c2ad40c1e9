"""HTML extraction: main content as Markdown, title, hostile and broken input."""

from __future__ import annotations

import pytest

from desktop.core.ingest import html as html_module
from desktop.core.ingest.html import extract_html

PARAGRAPH = (
    "Our support team answers every question within one business day, and the "
    "enterprise plan adds a named contact who knows your installation in detail. "
)


def page(main: str, *, head: str = "<title>Acme Support</title>") -> str:
    return f"""<!doctype html><html><head>{head}</head><body>
    <header><a href="/">Acme home</a></header>
    <nav><ul><li><a href="/a">Navigation alpha</a></li>
    <li><a href="/b">Navigation beta</a></li></ul></nav>
    <div id="cookie-banner">We use cookies. Accept all cookies?</div>
    <main><article>{main}</article></main>
    <footer>Copyright footer text 2026 Acme Incorporated</footer>
    <script>var secretTracker = 1;</script>
    </body></html>"""


ARTICLE = f"""<h1>Support plans</h1><p>{PARAGRAPH * 3}</p>
<h2>What is included</h2>
<ul><li>Email answers within a day</li><li>Phone line for urgent incidents</li></ul>
<p>{PARAGRAPH * 2}</p>
<table><tr><th>Plan</th><th>Price</th></tr><tr><td>Basic</td><td>10 euros</td></tr>
<tr><td>Enterprise</td><td>90 euros</td></tr></table>
<p>{PARAGRAPH}</p>"""


def test_main_content_with_structure_and_without_clutter() -> None:
    document = extract_html(page(ARTICLE), url="https://acme.test/support")
    markdown = document.markdown
    assert document.title == "Acme Support"
    assert "Support plans" in markdown
    assert "## What is included" in markdown
    assert "- Email answers within a day" in markdown
    assert "| Enterprise | 90 euros |" in markdown
    for clutter in ("Navigation alpha", "Copyright footer", "cookies", "secretTracker"):
        assert clutter not in markdown
    assert document.warnings == []


def test_title_prefers_og_title_then_title_then_h1() -> None:
    og = '<meta property="og:title" content="Open Graph title"><title>Tab title</title>'
    assert extract_html(page(ARTICLE, head=og)).title == "Open Graph title"
    assert extract_html(page(ARTICLE, head="")).title == "Support plans"


def test_invisible_and_hostile_elements_do_not_leak() -> None:
    hostile = f"""<h1>Page</h1><p>{PARAGRAPH * 3}</p>
    <noscript>NOSCRIPT-LEAK</noscript><template>TEMPLATE-LEAK</template>
    <iframe src="https://evil.test">IFRAME-LEAK</iframe><svg><text>SVG-LEAK</text></svg>
    <object>OBJECT-LEAK</object><embed src="x"><style>.STYLE-LEAK{{}}</style>
    <form action="https://evil.test"><input value="INPUT-LEAK"><button>BUTTON-LEAK</button></form>
    <p>{PARAGRAPH}</p>"""
    markdown = extract_html(page(hostile)).markdown
    for leak in (
        "NOSCRIPT",
        "TEMPLATE",
        "IFRAME",
        "SVG-LEAK",
        "OBJECT",
        "STYLE",
        "INPUT",
        "BUTTON",
    ):
        assert leak not in markdown
    assert "support team" in markdown


def test_a_page_wrapped_in_a_form_keeps_its_content() -> None:
    # ASP.NET wraps whole pages in one <form>: dropping forms would drop everything.
    document = extract_html(page(f'<form action="/postback">{ARTICLE}</form>'))
    assert "## What is included" in document.markdown


def test_unsafe_links_lose_their_target_but_keep_their_text() -> None:
    links = f"""<h1>Links</h1><p>{PARAGRAPH * 3}
    <a href="javascript:alert(1)">Run me</a> <a href="data:text/html,x">Data link</a>
    <a href="file:///etc/passwd">Local file</a> <a href="VBScript:x">VB link</a>
    <a href="java&#9;script:alert(4)">Tab link</a>
    <img src="javascript:alert(2)" onerror="alert(3)"></p>"""
    document = extract_html(page(links))
    for text in ("Run me", "Data link", "Local file", "VB link", "Tab link"):
        assert text in document.markdown
    lowered = document.markdown.lower()
    for scheme in ("javascript:", "script:", "data:", "file:", "vbscript:", "onerror"):
        assert scheme not in lowered


def test_fallback_path_keeps_link_text_without_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html_module, "_main_html", lambda cleaned, url: None)
    html = (
        '<html><body><div>Call us: <a href="java&#10;script:alert(1)">here</a> or '
        '<a href="https://acme.test/contact">contact</a>.</div></body></html>'
    )
    document = extract_html(html)
    assert "Call us: here or contact." in document.markdown
    assert document.warnings == ["main content not found; kept the page minus navigation"]
    assert "acme.test" not in document.markdown and "script" not in document.markdown


def test_escaped_markup_stays_text() -> None:
    escaped = f"<h1>Escaped</h1><p>{PARAGRAPH * 3} &lt;img src=x onerror=alert(1)&gt; ok</p>"
    markdown = extract_html(page(escaped)).markdown
    assert "<img" not in markdown.replace("\\<img", "")
    assert "\\<img src=x onerror=alert(1)>" in markdown


def test_deep_nesting_does_not_crash() -> None:
    for depth in (400, 5000):
        nested = "<div>" * depth + "Deeply nested words here." + "</div>" * depth
        html = f"<html><body><p>{PARAGRAPH}</p>{nested}<p>Closing words.</p></body></html>"
        document = extract_html(html)
        assert "support team" in document.markdown
    deep = extract_html("<html><body>" + "<div>" * 400 + "Deeply nested words." + "</body>")
    assert "Deeply nested words." in deep.markdown


def test_recursion_past_the_depth_cap_falls_back_to_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html_module, "MAX_DEPTH", 100_000)
    nested = "<div>" * 1500 + "Deeply nested words here." + "</div>" * 1500
    document = extract_html(f"<html><body>{nested}</body></html>")
    assert "Deeply nested words here." in document.markdown
    assert document.warnings == ["page nested too deeply; kept as plain text"]


def test_broken_markup_still_extracts() -> None:
    broken = (
        "<html><head><title>Broken</title><body><div><p>"
        + PARAGRAPH * 3
        + "<table><tr><td>cell<p>unclosed <b>bold <i>italic</div></span></body"
    )
    document = extract_html(broken)
    assert document.title == "Broken"
    assert "support team" in document.markdown


def test_empty_pages_give_empty_markdown_and_a_warning() -> None:
    for html in ("", "   ", "<html><body></body></html>", "<html><body><script>x=1</script>"):
        document = extract_html(html)
        assert document.markdown == ""
        assert document.warnings == ["no text"]


def test_short_page_without_article_falls_back_to_the_body() -> None:
    html = "<html><body><nav>Menu entry</nav><div>Opening hours: 9 to 5.</div></body></html>"
    document = extract_html(html)
    assert "Opening hours: 9 to 5." in document.markdown
    assert "Menu entry" not in document.markdown
