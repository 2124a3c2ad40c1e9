"""Choosing between trafilatura's main content and the page minus navigation.

On listing and service pages trafilatura often keeps one teaser or one section and drops
the item grid or the other sections. When its text is a small share of the page minus
navigation, the fuller text is kept instead. Product pages are the exception: there the
fuller text is mostly "customers also viewed" grids and reviews, so a page declaring a
schema.org Product in JSON-LD, or with an "add to cart" button, keeps trafilatura's choice.

A page selling one product (one JSON-LD Product with offers, or none declared and one or two
"add to cart" buttons) first loses its review blocks and its grids of other priced products
(drop_product_extras): trafilatura keeps both, and the reference texts keep neither.

Measured on WCXB dev (bench/extraction_wcxb.py), the share chosen on odd page ids and
confirmed on even ones (so were the product signals; microdata and og:type=product
measured lower than these two). Also measured and not kept: trafilatura's favor_recall and
favor_precision (both lower), dropping blocks headed "also viewed" / "similar items"
(no gain), and adding a JSON-LD product's name and price when the text lacks them (−0.004
on product pages: the reference texts rarely hold them). drop_product_extras was chosen
on odd ids (product pages +0.026) and confirmed on even ones (+0.018); measured with it and
not kept: trafilatura's favor_precision on product pages (lower on both halves), dropping
FAQ, rating, "related" / "recommended" and carousel blocks too (reference texts keep some
FAQs; listings and services showing a Product lost more than product pages gained), and
the same drops on every page that looks like a product page (listings lost their grids).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import lxml.html

# trafilatura's text below this share of the page minus navigation: keep the fuller text.
FULLER_MIN_SHARE = 0.5
_ADD_TO_CART = re.compile(r"\badd to (cart|basket|bag)\b", re.I)
_WORD = re.compile(r"\w+")
# More buttons than this, and the page is a listing with a button per item.
ONE_PRODUCT_MAX_CARTS = 2
# Reviews: an element marked "review" by its id or class, unless it holds the page's h1 or
# more than this share of its words (a wrapper marked "has-reviews" holds the product too).
_REVIEWS_HINT = re.compile(r"review", re.I)
REVIEWS_MAX_SHARE = 0.6
# A grid of other products: at least this many children, most of them a card, that is a
# link with a price in at most CARD_MAX_WORDS words (larger "cards" are page sections).
CARD_GRID_MIN = 3
CARD_GRID_SHARE = 0.6
CARD_MAX_WORDS = 200
_PRICE = re.compile(
    r"(?:[$€£¥₹]|\b(?:USD|EUR|GBP|AUD|CAD|US)\s?\$?)\s?\d|\d[\d.,]*\s?(?:€|\$|£|kr\b|zł)", re.I
)


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


def _json_ld_products(root: lxml.html.HtmlElement) -> Iterator[dict[str, Any]]:
    for item in _json_ld_objects(root):
        kind = item.get("@type")
        kinds = kind if isinstance(kind, list) else [kind]
        if any(isinstance(k, str) and k.lower() == "product" for k in kinds):
            yield item


def declares_product(root: lxml.html.HtmlElement) -> bool:
    """Whether the page's JSON-LD holds a schema.org Product (call before scripts go)."""
    return next(_json_ld_products(root), None) is not None


def _add_to_cart_buttons(root: lxml.html.HtmlElement) -> Iterator[lxml.html.HtmlElement]:
    for element in root.iter("button", "input"):
        label = element.text_content() if element.tag == "button" else element.get("value", "")
        if _ADD_TO_CART.search(" ".join(str(label).split())):
            yield element


def looks_like_product_page(root: lxml.html.HtmlElement) -> bool:
    """A schema.org Product in JSON-LD or an "add to cart" button (call before sanitising)."""
    return declares_product(root) or next(_add_to_cart_buttons(root), None) is not None


def sells_one_product(root: lxml.html.HtmlElement) -> bool:
    """One JSON-LD Product with offers, or none declared and one or two "add to cart" buttons.

    Listings declare a Product per item or show a button per item; service pages declare a
    Product without offers for its rating stars. Call before sanitising.
    """
    products = list(_json_ld_products(root))
    if products:
        return sum(1 for product in products if product.get("offers")) == 1
    carts = sum(1 for _ in _add_to_cart_buttons(root))
    return 1 <= carts <= ONE_PRODUCT_MAX_CARTS


def _marker(element: lxml.html.HtmlElement) -> str:
    return f"{element.get('id', '')} {element.get('class', '')}"


def _is_priced_card(element: lxml.html.HtmlElement) -> bool:
    if element.tag != "a" and element.find(".//a") is None:
        return False
    text = element.text_content()
    return _PRICE.search(text) is not None and _words(text) <= CARD_MAX_WORDS


def _is_card_grid(element: lxml.html.HtmlElement) -> bool:
    children = [child for child in element if isinstance(child.tag, str)]
    if len(children) < CARD_GRID_MIN:
        return False
    cards = sum(1 for child in children if _is_priced_card(child))
    return cards >= CARD_GRID_MIN and cards >= CARD_GRID_SHARE * len(children)


def _drop_where(root: lxml.html.HtmlElement, is_extra: Callable[[Any], bool]) -> None:
    """Drop the outermost elements `is_extra` accepts, never one holding an h1."""
    # Held, not their id()s: lxml gives a node the same proxy object while one is alive.
    protected: set[Any] = set()
    for heading in root.iter("h1"):
        protected.add(heading)
        protected.update(heading.iterancestors())
    pending = [child for child in root if isinstance(child.tag, str)]
    while pending:
        element = pending.pop()
        droppable = element.tag not in ("head", "body") and element not in protected
        if droppable and is_extra(element):
            element.drop_tree()
            continue
        pending.extend(child for child in element if isinstance(child.tag, str))


def drop_product_extras(root: lxml.html.HtmlElement) -> None:
    """Drop review blocks and grids of other priced products (a page selling one product).

    Call after sanitising (scripts and buttons gone), before trafilatura.
    """
    body = root.find("body")
    page_words = _words(body.text_content()) if body is not None else 0

    def is_reviews(element: Any) -> bool:
        if element.tag == "main" or not _REVIEWS_HINT.search(_marker(element)):
            return False
        return _words(element.text_content()) <= REVIEWS_MAX_SHARE * page_words

    _drop_where(root, is_reviews)
    _drop_where(root, _is_card_grid)
