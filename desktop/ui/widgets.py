"""Generic widget helpers shared by every page (one home; pages append, never rewrite).

Showing scraped or server-sent text literally lives here too: Qt guesses rich text in
labels and tooltips, so every label of outside text goes through `plain_label`.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def escaped_tooltip(text: str) -> str:
    """A tooltip that shows `text` as it is (tooltips render HTML-looking text otherwise)."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"


def plain_label(text: str = "", *, wrap: bool = True) -> QLabel:
    """A label that never reads its text as HTML (QLabel guesses rich text otherwise)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    return label
