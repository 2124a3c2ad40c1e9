"""HTML nested past libxml2's depth limit keeps its text (it came out as "no text, scanned?")."""

from __future__ import annotations

import pytest

from desktop.core.ingest.html import extract_html


@pytest.mark.parametrize("depth", [1_000, 3_000, 20_000])
def test_deeply_nested_page_keeps_its_text(depth: int) -> None:
    html = (
        "<html><head><title>Hours</title></head><body><h1>Opening hours</h1>"
        + "<div>" * depth
        + "We open at nine &amp; close at five.<script>var tracker = 1;</script>"
        + "</div>" * depth
        + "<p>Closed on Sundays.</p></body></html>"
    )
    document = extract_html(html)
    assert "We open at nine & close at five." in document.markdown
    assert "Closed on Sundays." in document.markdown
    assert "tracker" not in document.markdown
    assert document.title == "Hours"
    assert "no text" not in document.warnings
