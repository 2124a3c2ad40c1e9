"""The preview page: the customer's own page, made inert, with the widget's embed snippet.

The page is served from the preview server's origin (127.0.0.1), so anything that ran in it
would run with that origin's rights: it could drive the chat API (spending model calls) and
read the preview's conversations. Its scripts are therefore removed, with every other way
HTML runs code or leaves the page (event attributes, `javascript:` links, refresh, frames,
objects), and the server adds a Content-Security-Policy (`PAGE_POLICY`) that allows no
script but `widget.js` from our own origin, in case anything slipped through. Its images
and styles still load from the customer's site through a `<base href>`.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import lxml.etree
import lxml.html

WIDGET_PATH = "/widget.js"
# Elements that run code, embed other documents, or redirect the page.
_REMOVED_TAGS = (
    "script",
    "iframe",
    "frame",
    "frameset",
    "object",
    "applet",
    "portal",
)
# Void in HTML, but libxml2 does not know all of them and nests the rest of the page inside.
_VOID_REMOVED = ("embed", "base")
_URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "data", "poster")
_UNSAFE_SCHEMES = ("javascript:", "vbscript:", "data:text/html")
# lxml invents a doctype for a page without one; keep the page's own mode (quirks or not).
_DOCTYPE = re.compile(r"^\ufeff?\s*(?:<!--.*?-->\s*)*<!doctype", re.IGNORECASE | re.DOTALL)


def embed_snippet(widget_url: str, bot_id: str) -> str:
    """The one tag a website adds to show the widget (docs/widget-protocol.md)."""
    return (
        f'<script src="{html.escape(widget_url, quote=True)}" '
        f'data-bot-id="{html.escape(bot_id, quote=True)}" async></script>'
    )


def page_policy(page_url: str | None) -> str:
    """The preview page's Content-Security-Policy: no script but ours, no frames or forms."""
    base = "'none'"
    if page_url:
        parts = urlsplit(page_url)
        base = f"{parts.scheme}://{parts.netloc}"
    return (
        "default-src * data: blob: 'unsafe-inline'; script-src 'self'; connect-src 'self'; "
        "object-src 'none'; frame-src 'none'; worker-src 'none'; form-action 'none'; "
        f"base-uri {base}"
    )


def _unsafe_url(value: str) -> bool:
    compact = "".join(value.split()).lower()
    return compact.startswith(_UNSAFE_SCHEMES)


def _is_refresh_or_policy(element: lxml.html.HtmlElement) -> bool:
    equiv = (element.get("http-equiv") or "").strip().lower()
    return equiv in ("refresh", "content-security-policy", "set-cookie")


def prepare_page(page_html: str, *, page_url: str, widget_url: str, bot_id: str) -> str:
    """The customer's page, inert, with `<base href=page_url>` and the snippet at the end."""
    try:
        document = lxml.html.document_fromstring(page_html or "<html><body></body></html>")
    except (lxml.etree.ParserError, ValueError):
        document = lxml.html.document_fromstring("<html><body></body></html>")
    doctype = document.getroottree().docinfo.doctype if _DOCTYPE.match(page_html[:4096]) else ""
    for element in list(document.iter()):
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions run nothing
        tag = element.tag.lower()
        if tag in _VOID_REMOVED:
            element.drop_tag()  # libxml2 may nest what follows inside it: keep that
            continue
        if tag in _REMOVED_TAGS or (tag == "meta" and _is_refresh_or_policy(element)):
            element.drop_tree()
            continue
        if tag == "meta" and element.get("charset") is not None:
            element.drop_tree()  # the page is re-encoded as UTF-8 below
            continue
        for name in list(element.attrib):
            lowered = name.lower()
            runs_code = lowered.startswith("on") or lowered == "srcdoc"
            if runs_code or (lowered in _URL_ATTRIBUTES and _unsafe_url(element.attrib[name])):
                del element.attrib[name]
    head = document.find("head")
    if head is None:
        head = lxml.html.Element("head")
        document.insert(0, head)
    base = lxml.html.Element("base", href=page_url)
    charset = lxml.html.Element("meta", charset="utf-8")
    head.insert(0, base)
    head.insert(0, charset)
    body = document.find("body")
    if body is None:
        body = lxml.html.Element("body")
        document.append(body)
    body.append(lxml.html.fragment_fromstring(embed_snippet(widget_url, bot_id)))
    text = lxml.html.tostring(document, encoding="unicode", method="html")
    return f"{doctype}\n{text}" if doctype else text


def demo_page(*, bot_name: str, widget_url: str, bot_id: str) -> str:
    """A plain page with a real layout (header, columns, footer) for a preview with no URL."""
    name = html.escape(bot_name)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name}: widget preview</title>
<style>
body {{ margin: 0; font: 16px/1.6 Georgia, serif; color: #222; background: #fafaf7; }}
header {{ background: #2f3e46; color: #fff; padding: 18px 24px; }}
header h1 {{ margin: 0; font-size: 22px; }}
main {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 24px;
  max-width: 960px; margin: 24px auto; padding: 0 24px; }}
section {{ background: #fff; border: 1px solid #e4e4dc; border-radius: 6px; padding: 8px 20px; }}
footer {{ text-align: center; color: #777; padding: 24px; font-size: 14px; }}
</style></head>
<body>
<header><h1>{name}</h1></header>
<main>
<section><h2>A page of your site</h2><p>This demo page stands in for your website.
The chat widget sits in the corner, exactly as visitors will see it. Ask it something
your pages answer, and something they do not.</p></section>
<section><h2>What it answers from</h2><p>The passages of this workspace, with the answer
profile you chose: the same search and answering as the test bench.</p></section>
<section><h2>Your own page</h2><p>Give a page address to see the widget on your real
site instead.</p></section>
</main>
<footer>Botdesk widget preview, served from this computer only.</footer>
{embed_snippet(widget_url, bot_id)}
</body></html>
"""
