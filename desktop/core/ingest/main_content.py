"""Choosing between trafilatura's main content and the page minus navigation.

On listing and service pages trafilatura often keeps one teaser or one section and drops
the item grid or the other sections. When its text is a small share of the page minus
navigation, the fuller text is kept instead. Product pages are the exception: there the
fuller text is mostly "customers also viewed" grids and reviews, so a page declaring a
schema.org Product in JSON-LD, or with an "add to cart" button, keeps trafilatura's choice.

Measured on WCXB dev (bench/extraction_wcxb.py), the share chosen on odd page ids and
confirmed on even ones (so were the product signals; microdata and og:type=product
measured lower than these two). Also measured and not kept: trafilatura's favor_recall and
favor_precision (both lower), dropping blocks headed "also viewed" / "similar items"
(no gain), and adding a JSON-LD product's name and price when the text lacks them (−0.004
on product pages: the reference texts rarely hold them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import lxml.html

# trafilatura's text below this share of the page minus navigation: keep the fuller text.
FULLER_MIN_SHARE = 0.5
_ADD_TO_CART = re.compile(r"\badd to (cart|basket|bag)\b", re.I)
_WORD = re.compile(r"\w+")


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def kept_too_little(main_markdown: str, fuller_text: str) -> bool:
    """Whether trafilatura's text is too small a share of the page minus navigation.

    Counted on the fuller page's plain text, so its Markdown is only made when it is kept.
    """
    return _words(main_markdown) < FULLER_MIN_SHARE * _words(fuller_text)


def _json_ld_objects(root: lxml.html.HtmlElement) -> Iterator[dict[str, Any]]:
    for script in root.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue  # broken JSON-LD is common: the page's text still counts
        pending = [data]
        while pending:
            item = pending.pop()
            if isinstance(item, list):
                pending.extend(item)
            elif isinstance(item, dict):
                yield item
                pending.extend(v for k, v in item.items() if k in ("@graph", "mainEntity"))


def declares_product(root: lxml.html.HtmlElement) -> bool:
    """Whether the page's JSON-LD holds a schema.org Product (call before scripts go)."""
    for item in _json_ld_objects(root):
        kind = item.get("@type")
        kinds = kind if isinstance(kind, list) else [kind]
        if any(isinstance(k, str) and k.lower() == "product" for k in kinds):
            return True
    return False


def _has_add_to_cart(root: lxml.html.HtmlElement) -> bool:
    for element in root.iter("button", "input"):
        label = element.text_content() if element.tag == "button" else element.get("value", "")
        if _ADD_TO_CART.search(" ".join(str(label).split())):
            return True
    return False


def looks_like_product_page(root: lxml.html.HtmlElement) -> bool:
    """A schema.org Product in JSON-LD or an "add to cart" button (call before sanitising)."""
    return declares_product(root) or _has_add_to_cart(root)
