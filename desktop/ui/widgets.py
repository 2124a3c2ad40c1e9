"""Generic widget helpers shared by every page (one home; pages append, never rewrite).

Showing scraped or server-sent text literally lives here too: Qt guesses rich text in
labels and tooltips, so every label of outside text goes through `plain_label`.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtCore import QAbstractItemModel, QSize, Qt, QTimer
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QTableView,
    QWidget,
)


def escaped_tooltip(text: str) -> str:
    """A tooltip that shows `text` as it is (tooltips render HTML-looking text otherwise)."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"


def plain_label(text: str = "", *, wrap: bool = True) -> QLabel:
    """A label that never reads its text as HTML (QLabel guesses rich text otherwise)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    return label


def read_only_text(text: str = "", *, placeholder: str = "") -> QPlainTextEdit:
    """A read-only plain-text view (scraped text is never rendered), selectable to copy."""
    view = QPlainTextEdit()
    view.setReadOnly(True)
    view.setPlainText(text)
    view.setPlaceholderText(placeholder)
    return view


def debounce(parent: QWidget, slot: Callable[[], None], ms: int = 150) -> QTimer:
    """A single-shot timer that calls `slot` once typing pauses (connect edits to start)."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(ms)
    timer.timeout.connect(slot)
    return timer


def table_view(model: QAbstractItemModel, *, stretch: int, multi: bool = False) -> QTableView:
    """A read-only table of whole rows over `model`; column `stretch` takes the spare width,
    the others are sized by hand (resize-to-contents re-measures every row: slow at 1,000s).
    Middle elision keeps both ends of long addresses and names readable."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(
        QAbstractItemView.SelectionMode.ExtendedSelection
        if multi
        else QAbstractItemView.SelectionMode.SingleSelection
    )
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(22)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    header.setHighlightSections(False)
    return view


class ElidedLabel(QLabel):
    """One line of plain text that is cut with "…" to the width it is given, never wider.

    A long job summary or file name must not widen its dock and with it the window: the
    minimum width is small, the full text stays in `text()` and in the tooltip.
    """

    MIN_WIDTH = 60

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:
        one_line = " ".join(text.split())
        super().setText(one_line)
        self.setToolTip(escaped_tooltip(text) if text else "")

    def minimumSizeHint(self) -> QSize:
        return QSize(self.MIN_WIDTH, super().minimumSizeHint().height())

    def displayed_text(self) -> str:
        """The text as drawn at the current width ("…" where it was cut)."""
        return self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, max(0, self.contentsRect().width())
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        self.style().drawItemText(
            painter,
            self.contentsRect(),
            int(self.alignment()),
            self.palette(),
            self.isEnabled(),
            self.displayed_text(),
            self.foregroundRole(),
        )
