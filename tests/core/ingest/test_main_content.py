"""Business pages: a listing grid trafilatura drops is kept; product pages keep its choice,
minus their reviews and grids of other products."""

from __future__ import annotations

import lxml.html
import pytest

from desktop.core.ingest import main_content
from desktop.core.ingest.html import extract_html
from desktop.core.ingest.main_content import (
    declares_product,
    drop_product_extras,
    kept_too_little,
    looks_like_product_page,
    sells_one_product,
)

INTRO = (
    "<p>Hand-made garden furniture from sustainably grown oak, built in our workshop in "
    "Devon and delivered across the country by our own team.</p>"
)
PRODUCT_JSON_LD = """<script type="application/ld+json">
{"@context": "https://schema.org", "@type": "Product", "name": "Oak garden bench",
 "offers": {"@type": "Offer", "price": "349.00", "priceCurrency": "EUR"}}</script>"""


def grid(extra: str = "") -> str:
    """24 product cards, `extra` inside the first."""
    return "".join(
        f'<div class="card"><h3><a href="/p/{i}">Oak garden bench model B{i:02d}</a></h3>'
        f'<span class="price">{100 + i} euros</span>{extra if i == 1 else ""}</div>'
        for i in range(1, 25)
    )


def shop_page(main: str, *, head: str = "") -> str:
    return f"""<!doctype html><html><head><title>Benches</title>{head}</head><body>
    <nav><a href="/">Home</a> <a href="/shop">Shop everything</a></nav>
    <main><h1>Garden benches</h1>{main}</main>
    <footer>Copyright 2026 Oakworks Limited</footer></body></html>"""


def test_listing_grid_that_trafilatura_drops_is_kept() -> None:
    markdown = extract_html(shop_page(INTRO + f'<div class="grid">{grid()}</div>')).markdown
    assert "Hand-made garden furniture" in markdown
    assert "Oak garden bench model B01" in markdown
    assert "Oak garden bench model B24" in markdown
    assert "124 euros" in markdown
    assert "Shop everything" not in markdown
    assert "Copyright" not in markdown


def test_without_the_fuller_choice_the_grid_is_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    # The grid above is kept by the share rule, not by trafilatura: with the share at 0 it goes.
    monkeypatch.setattr(main_content, "FULLER_MIN_SHARE", 0.0)
    markdown = extract_html(shop_page(INTRO + f'<div class="grid">{grid()}</div>')).markdown
    assert "Hand-made garden furniture" in markdown
    assert "Oak garden bench model B24" not in markdown


def test_product_page_keeps_trafilaturas_choice() -> None:
    main = INTRO + f'<h2>Customers also viewed</h2><div class="grid">{grid()}</div>'
    markdown = extract_html(shop_page(main, head=PRODUCT_JSON_LD)).markdown
    assert "Hand-made garden furniture" in markdown
    assert "Oak garden bench model B24" not in markdown


def test_product_page_with_add_to_cart_keeps_trafilaturas_choice() -> None:
    main = (
        INTRO
        + "<form><button type='submit'>Add to cart</button></form>"
        + f'<h2>You may also like</h2><div class="grid">{grid()}</div>'
    )
    markdown = extract_html(shop_page(main)).markdown
    assert "Hand-made garden furniture" in markdown
    assert "Oak garden bench model B24" not in markdown
    assert "Add to cart" not in markdown  # buttons are dropped as before


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<button>\n  Add to\n  Basket </button>", True),
        ('<input type="submit" value="Add to bag">', True),
        ("<button>Subscribe</button><p>Add to cart</p>", False),  # text, not a control
    ],
)
def test_looks_like_product_page(body: str, expected: bool) -> None:
    root = lxml.html.document_fromstring(f"<html><body>{body}</body></html>")
    assert looks_like_product_page(root) is expected


def test_fuller_text_is_sanitised_like_the_main_path() -> None:
    hostile = (
        '<a href="javascript:alert(1)">Open quick view</a>'
        '<img src="x.png" onerror="stealCookies()">'
        '<span onclick="track()">Free delivery</span>'
        "<script>var secretTracker = 1;</script><style>.x{color:red}</style>"
    )
    markdown = extract_html(shop_page(INTRO + f'<div class="grid">{grid(hostile)}</div>')).markdown
    assert "Oak garden bench model B24" in markdown  # the fuller text was the one kept
    assert "Free delivery" in markdown
    for unsafe in ("javascript", "stealCookies", "onclick", "track()", "secretTracker", "color:"):
        assert unsafe not in markdown
    assert "](" not in markdown  # links are kept as text only, no page URL reaches it


def _root(head: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(f"<html><head>{head}</head><body>x</body></html>")


@pytest.mark.parametrize(
    ("json_ld", "expected"),
    [
        ('{"@type": "Product", "name": "Bench"}', True),
        ('{"@type": ["Product", "IndividualProduct"]}', True),
        ('{"@graph": [{"@type": "Organization"}, {"@type": "Product"}]}', True),
        ('[{"@type": "BreadcrumbList"}, {"@type": "product"}]', True),
        ('{"@type": "WebPage", "mainEntity": {"@type": "Product"}}', True),
        ('{"@type": "ItemList", "name": "Benches"}', False),
        ('{"@type": "Product", "name": "Bench",', False),  # broken JSON: ignored
        ("", False),
    ],
)
def test_declares_product(json_ld: str, expected: bool) -> None:
    head = f'<script type="application/ld+json">{json_ld}</script>'
    assert declares_product(_root(head)) is expected


def test_declares_product_ignores_other_scripts() -> None:
    assert not declares_product(_root('<script>var x = {"@type": "Product"};</script>'))


def test_kept_too_little_below_half_the_fuller_words() -> None:
    fuller = " ".join(f"word{i}" for i in range(100))
    assert not kept_too_little("a " * 50, fuller)
    assert kept_too_little("a " * 49, fuller)
    assert not kept_too_little("", "")


DESCRIPTION = (
    "<p>Our oak garden bench seats three, weathers to a silver grey and comes with a "
    "ten-year guarantee on every joint.</p>"
)
ALSO_VIEWED = "".join(
    f'<li><a href="/p/{i}">Teak garden chair T{i}</a><span>€{80 + i}.00</span></li>'
    for i in range(1, 7)
)
REVIEWS = (
    '<section class="product-reviews"><h2>Reviews</h2>'
    "<p>Lovely bench, arrived quickly and the delivery driver carried it round.</p>"
    "<p>Sturdy, but the finish faded after one winter outside.</p></section>"
)


def product_page(*, head: str = PRODUCT_JSON_LD, carts: int = 0) -> str:
    buttons = "<button>Add to cart</button>" * carts
    main = (
        f"{DESCRIPTION}<p>Price: €349.00</p>{buttons}{REVIEWS}"
        f'<h2>Customers also viewed</h2><ul class="grid">{ALSO_VIEWED}</ul>'
    )
    return shop_page(main, head=head)


def test_product_page_drops_reviews_and_also_viewed_grid() -> None:
    root = lxml.html.document_fromstring(product_page())
    assert sells_one_product(root)
    drop_product_extras(root)
    text = root.text_content()
    assert "ten-year guarantee" in text
    assert "€349.00" in text  # the product's own price is no card
    assert "Garden benches" in text  # the h1
    assert "Lovely bench" not in text
    assert "Teak garden chair" not in text
    assert "€81.00" not in text


def test_product_page_extraction_keeps_the_product_text() -> None:
    markdown = extract_html(product_page()).markdown
    assert "ten-year guarantee" in markdown
    assert "Lovely bench" not in markdown
    assert "Teak garden chair T1" not in markdown


def test_block_holding_the_h1_is_never_dropped() -> None:
    page = shop_page(DESCRIPTION, head=PRODUCT_JSON_LD).replace("<main>", '<main class="review">')
    wrapped = page.replace("<main", "<div class='has-reviews'><main").replace(
        "</main>", "</main></div>"
    )
    root = lxml.html.document_fromstring(wrapped)
    drop_product_extras(root)
    assert "ten-year guarantee" in root.text_content()


LISTING_JSON_LD = """<script type="application/ld+json">
[{"@type": "Product", "name": "Bench", "offers": {"price": "349"}},
 {"@type": "Product", "name": "Chair", "offers": {"price": "89"}}]</script>"""
SERVICE_JSON_LD = """<script type="application/ld+json">
{"@type": "Product", "name": "Pest control", "aggregateRating": {"ratingValue": "4.9"}}
</script>"""


@pytest.mark.parametrize(
    ("head", "carts", "expected"),
    [
        (PRODUCT_JSON_LD, 0, True),
        ("", 1, True),
        ("", 2, True),
        ("", 3, False),  # a button per item: a listing
        (LISTING_JSON_LD, 0, False),
        (SERVICE_JSON_LD, 1, False),  # a Product without offers: rating stars on a service
        ("", 0, False),
    ],
)
def test_sells_one_product(head: str, carts: int, expected: bool) -> None:
    root = lxml.html.document_fromstring(product_page(head=head, carts=carts))
    assert sells_one_product(root) is expected


def test_listing_keeps_its_priced_grid() -> None:
    markdown = extract_html(product_page(head=LISTING_JSON_LD)).markdown
    assert "Teak garden chair T6" in markdown
