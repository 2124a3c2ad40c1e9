"""HTML to Markdown: the page's main content only, sanitised, with its title.

Steps: parse with lxml; strip hostile and invisible elements and unsafe links; cap the
nesting depth (markdownify recurses per element and dies near 330 nested divs); find the
main content with trafilatura (as HTML, so headings, lists and tables survive), falling
back to the whole body minus navigation when it finds nothing or too small a share of it,
and dropping a product page's reviews and grids of other products first (main_content.py);
then markdownify.
bench/extraction_wcxb.py measured these choices on WCXB.
"""

from __future__ import annotations

import functools
import re
from html import escape
from html.parser import HTMLParser
from typing import Any

import lxml.etree
import lxml.html

from desktop.core.ingest.main_content import (
    drop_product_extras,
    kept_too_little,
    looks_like_product_page,
    sells_one_product,
)
from desktop.core.ingest.types import ExtractedDocument

MAX_DEPTH = 100  # below markdownify's ~330 recursion limit, deeper than real pages go
BANNER_MAX_WORDS = 150
NAV_MAX_SHARE = 0.5
DROP_NAV = True  # <nav> and cookie banners go before trafilatura sees the page

# Elements whose content never belongs in a bot's knowledge (or leaks through markdownify).
_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "svg",
    "math",
    "object",
    "embed",
    "applet",
    "canvas",
    "input",
    "select",
    "textarea",
    "button",
    "link",
    "meta",
    "head",
)
# ASP.NET and many CMSs wrap the whole page in a <form>: drop the tag, keep the content.
_UNWRAP_TAGS = ("form",)
_BOILERPLATE_TAGS = ("nav", "header", "footer", "aside")
_BOILERPLATE_HINT = re.compile(
    r"cookie|consent|gdpr|banner|navbar|menu|breadcrumb|footer|header|sidebar|social|share",
    re.I,
)
_CONSENT_HINT = re.compile(r"cookie|consent|gdpr", re.I)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")
_UNSAFE_SCHEME = re.compile(r"^\s*(javascript|data|vbscript|file)\s*:", re.I)
_BLANK_LINES = re.compile(r"\n{3,}")
# huge_tree lifts libxml2's 256-level limit (to 2,048), past which it drops the rest of the
# page (all of it, text included): such a page is flattened before parsing (_flatten_source).
_DEPTH_ERROR = "Excessive depth"
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)


@functools.cache
def _converter() -> type[Any]:
    """markdownify that keeps a literal "<" in text as text, never as a raw HTML tag.

    Built on first use: markdownify (with BeautifulSoup and soupsieve) takes about 0.08 s
    to import, and the window does not need it to start.
    """
    from markdownify import MarkdownConverter

    class Converter(MarkdownConverter):
        def escape(self, text: str, parent_tags: Any) -> str:
            escaped: str = MarkdownConverter.escape(self, text, parent_tags)  # type: ignore[attr-defined]
            return escaped.replace("<", "\\<")

    return Converter


def _to_markdown(html: str) -> str:
    md = _converter()(heading_style="ATX", bullets="-", strip=["img"]).convert(html)
    return _BLANK_LINES.sub("\n\n", str(md)).strip()


def _parse(html: str) -> lxml.html.HtmlElement | None:
    if not html.strip():
        return None
    # Encoding declarations in a str confuse lxml: drop an XML declaration first.
    html = re.sub(r"^\s*<\?xml[^>]*>", "", html)
    root = _parse_once(html)
    if root is _TOO_DEEP:
        root = _parse_once(_flatten_source(html, MAX_DEPTH))
    return None if root is _TOO_DEEP else root


_TOO_DEEP: Any = object()


def _parse_once(html: str) -> Any:
    """The parsed page, None when unparseable, _TOO_DEEP when libxml2 gave up on its depth."""
    parser = lxml.html.HTMLParser(huge_tree=True)  # one per call: parsers are not shared
    try:
        root = lxml.html.document_fromstring(html, parser=parser)
    except (lxml.etree.ParserError, ValueError):
        root = None
    if any(_DEPTH_ERROR in entry.message for entry in parser.error_log):
        return _TOO_DEEP
    return root


class _Flattener(HTMLParser):
    """Re-writes HTML with the tags nested deeper than `max_depth` dropped, their text kept.

    Event-driven (no recursion, no depth limit): only used for pages libxml2 refuses.
    """

    def __init__(self, max_depth: int) -> None:
        super().__init__(convert_charrefs=True)
        self.max_depth = max_depth
        self.out: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, written)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        written = len(self.stack) < self.max_depth
        if written:
            rendered = "".join(
                f' {name}="{escape(value or "")}"' for name, value in attrs if name.isidentifier()
            )
            self.out.append(f"<{tag}{rendered}>")
        if tag not in _VOID_TAGS:
            self.stack.append((tag, written))

    def handle_endtag(self, tag: str) -> None:
        if not any(open_tag == tag for open_tag, _ in self.stack):
            return
        while self.stack:
            open_tag, written = self.stack.pop()
            if written:
                self.out.append(f"</{open_tag}>")
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.stack and not self.stack[-1][1] and self.stack[-1][0] in _DROP_TAGS:
            return  # a script's or style's body, its tag too deep to be written
        self.out.append(escape(data, quote=False))


def _flatten_source(html: str, max_depth: int) -> str:
    flattener = _Flattener(max_depth)
    flattener.feed(html)
    flattener.close()
    return "".join(flattener.out)


def _limit_depth(root: lxml.html.HtmlElement) -> None:
    """Flatten everything nested deeper than MAX_DEPTH into its ancestor's text."""
    stack: list[tuple[Any, int]] = [(root, 0)]
    while stack:
        element, depth = stack.pop()
        if depth >= MAX_DEPTH:
            lxml.etree.strip_tags(element, "*")
            continue
        stack.extend((child, depth + 1) for child in element)


def _sanitise(root: lxml.html.HtmlElement) -> None:
    for element in list(root.iter(lxml.etree.Comment, lxml.etree.ProcessingInstruction)):
        element.drop_tree()
    for element in list(root.iter(*_DROP_TAGS)):
        if element.getparent() is not None:
            element.drop_tree()
    lxml.etree.strip_tags(root, *_UNWRAP_TAGS)
    if DROP_NAV:
        # An unclosed <nav> swallows the rest of the page in lxml's recovery: a <nav>
        # holding most of the page's words is left to trafilatura to judge.
        page_words = _words(root.text_content())
        for element in list(root.iter("nav")):
            small = _words(element.text_content()) <= NAV_MAX_SHARE * page_words
            if small and element.getparent() is not None:
                element.drop_tree()
        for element in list(root.iter()):
            marker = f"{element.get('id', '')} {element.get('class', '')}"
            keep = element.tag in ("body", "html", "main", "article")
            if keep or element.getparent() is None or not _CONSENT_HINT.search(marker):
                continue
            # Sites mark whole wrappers "gdpr-ok" or "cookie-consent-enabled": only a short
            # element is a banner.
            if _words(element.text_content()) <= BANNER_MAX_WORDS:
                element.drop_tree()
    for element in list(root.iter("a", "area")):
        href = element.get("href")
        # Browsers ignore tabs, newlines and control characters inside a scheme.
        if href is not None and _UNSAFE_SCHEME.match(_INVISIBLE.sub("", href)):
            element.drop_tag() if element.tag == "a" else element.drop_tree()
    for element in list(root.iter("img", "source", "video", "audio", "picture")):
        if element.getparent() is not None:
            element.drop_tree()  # images carry no text we index; their URLs are noise
    for element in root.iter():
        for attribute in list(element.attrib):
            if attribute.lower().startswith("on"):
                del element.attrib[attribute]


def _title(root: lxml.html.HtmlElement) -> str:
    for xpath in ("//meta[@property='og:title']/@content", "//title//text()", "//h1//text()"):
        found = " ".join(str(v) for v in root.xpath(xpath)).strip()
        if found:
            return " ".join(found.split())
    return ""


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def _main_html(cleaned: str, url: str | None) -> str | None:
    """trafilatura's main content as HTML (headings, lists, tables), or None."""
    # Imported on first use: trafilatura with courlan, htmldate and justext takes about
    # 0.15 s to load, and the window does not need it to start.
    import trafilatura

    # A favor_recall retry when nothing is found measured worse on WCXB than our own
    # fallback (the page minus navigation): it brings menus back.
    found: str | None = trafilatura.extract(
        cleaned,
        url=url,
        output_format="html",
        include_tables=True,
        include_links=False,
        include_images=False,
        include_comments=False,
        with_metadata=False,
    )
    return found


def _without_boilerplate(root: lxml.html.HtmlElement) -> str:
    """The whole body minus navigation, headers, footers and cookie banners."""
    for element in list(root.iter(*_BOILERPLATE_TAGS)):
        if element.getparent() is not None:
            element.drop_tree()
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element.getparent() is None:
            continue
        marker = f"{element.get('id', '')} {element.get('class', '')} {element.get('role', '')}"
        if _BOILERPLATE_HINT.search(marker) and element.tag not in ("body", "html", "main"):
            element.drop_tree()
    # Links go as on the main path (text only): no URL from the page reaches the Markdown.
    lxml.etree.strip_tags(root, "a")
    body = root.find("body")
    return str(lxml.html.tostring(body if body is not None else root, encoding="unicode"))


def extract_html(html: str, *, url: str | None = None) -> ExtractedDocument:
    """The page's main content as Markdown, with its title; an empty page gives a warning."""
    root = _parse(html)
    if root is None:
        return ExtractedDocument(title="", markdown="", warnings=["no text"])
    title = _title(root)  # before sanitising, which drops <head>
    product_page = looks_like_product_page(root)  # before sanitising drops scripts, buttons
    one_product = sells_one_product(root)
    _sanitise(root)
    _limit_depth(root)
    if one_product:  # its reviews and "also viewed" grids, which trafilatura keeps
        drop_product_extras(root)
    body = root.find("body")
    page_words = _words(body.text_content()) if body is not None else 0
    cleaned = str(lxml.html.tostring(root, encoding="unicode"))
    warnings: list[str] = []
    try:
        main = _main_html(cleaned, url) if page_words else None
        if main:
            markdown = _to_markdown(main)
            if not product_page:  # listing grids trafilatura dropped (main_content.py)
                fuller = _without_boilerplate(root)  # leaves root as the page minus navigation
                if kept_too_little(markdown, root.text_content()):
                    markdown = _to_markdown(fuller)
        else:
            markdown = _to_markdown(_without_boilerplate(root)) if page_words else ""
            if markdown:
                warnings.append("main content not found; kept the page minus navigation")
    except RecursionError:
        # The depth cap should prevent this; a small thread stack (macOS) may not. Plain
        # text beats losing the page.
        markdown = _BLANK_LINES.sub("\n\n", root.text_content()).strip().replace("<", "\\<")
        warnings.append("page nested too deeply; kept as plain text")
    if not markdown:
        warnings.append("no text")
    return ExtractedDocument(title=title, markdown=markdown, warnings=warnings)
