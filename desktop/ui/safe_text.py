"""Showing scraped or server-sent text literally: Qt guesses rich text in tooltips."""

from __future__ import annotations

import html


def escaped_tooltip(text: str) -> str:
    """A tooltip that shows `text` as it is (tooltips render HTML-looking text otherwise)."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"
