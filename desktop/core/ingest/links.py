"""Links out of an HTML page: `<a>`/`<area>` hrefs and `<link rel=canonical>`, http(s) only.

Hrefs are resolved against `<base href>` (if any) and the page's URL, and
canonicalised; `javascript:`, `mailto:`, `data:` and the like are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.etree
import lxml.html

from desktop.core.ingest.encoding import decode_text
from desktop.core.ingest.urls import try_canonicalize

MAX_LINKS = 2000  # per page: a page of a million links is a trap, not a site map
_REFRESH = re.compile(r"url\s*=\s*(\S+)", re.I)
_PARSER = lxml.html.HTMLParser(recover=True, no_network=True, remove_comments=True, remove_pis=True)


@dataclass
class PageLinks:
    links: list[str] = field(default_factory=list)  # canonical, unique, in page order
    canonical: str | None = None  # from <link rel=canonical>, canonicalised
    nofollow: bool = False  # <meta name=robots content=nofollow>
    noindex: bool = False  # <meta name=robots content=noindex>: not to be stored


def _rels(element: lxml.html.HtmlElement) -> set[str]:
    return {r.lower() for r in (element.get("rel") or "").split()}


def extract_links(
    body: bytes, page_url: str, *, charset: str | None = None, max_links: int = MAX_LINKS
) -> PageLinks:
    """The http(s) links and canonical URL of an HTML page."""
    result = PageLinks()
    text = decode_text(body, declared_charset=charset, is_html=True)
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text)
    if not text.strip():
        return result
    try:
        root = lxml.html.document_fromstring(text, parser=_PARSER)
    except (lxml.etree.ParserError, ValueError):
        return result
    base = page_url
    for element in root.iter("base"):
        href = element.get("href")
        resolved = try_canonicalize(href, page_url) if href else None
        if resolved:
            base = resolved
        break
    seen: set[str] = set()
    for element in root.iter("meta"):
        if (element.get("name") or "").lower() in ("robots", "botdeskbot"):
            content = (element.get("content") or "").lower()
            words = {w.strip() for w in content.split(",")}
            if "nofollow" in content or "none" in words:
                result.nofollow = True
            if "noindex" in words or "none" in words:
                result.noindex = True
        elif (element.get("http-equiv") or "").lower() == "refresh":
            # <meta http-equiv=refresh content="0; url=/new">: old sites' redirects
            match = _REFRESH.search(element.get("content") or "")
            target = try_canonicalize(match.group(1).strip("'\" "), base) if match else None
            if target and target not in seen:
                seen.add(target)
                result.links.append(target)
    for element in root.iter("a", "area", "link"):
        href = element.get("href")
        if not href:
            continue
        if element.tag == "link":
            if "canonical" in _rels(element) and result.canonical is None:
                result.canonical = try_canonicalize(href, base)
            continue
        url = try_canonicalize(href, base)
        if url is None or url in seen:
            continue
        seen.add(url)
        result.links.append(url)
        if len(result.links) >= max_links:
            break
    return result
