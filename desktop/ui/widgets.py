"""Generic widget helpers shared by every page (one home; pages append, never rewrite).

Showing scraped or server-sent text literally lives here too: Qt guesses rich text in
labels and tooltips, so every label of outside text goes through `plain_label`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
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


Row = TypeVar("Row")
Index = QModelIndex | QPersistentModelIndex


class RowsModel(QAbstractTableModel, Generic[Row]):
    """A read-only table model over a list of rows (dataclasses): a subclass names its
    `headers` and gives one function per column (`columns`), and colours or tooltips in
    `role_data`. It adapts the rows it is handed (`set_rows`); it never reads storage."""

    headers: tuple[str, ...] = ()
    header_tips: ClassVar[Mapping[int, str]] = {}

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []

    def set_rows(self, rows: Sequence[Row]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Row | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.headers):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.header_tips.get(section)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index.row()) if index.isValid() else None
        if row is None or not 0 <= index.column() < len(self.headers):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns()[index.column()](row)
        return self.role_data(row, index.column(), role)

    def columns(self) -> Sequence[Callable[[Row], str]]:
        raise NotImplementedError

    def role_data(self, row: Row, column: int, role: int) -> Any:
        """Colours and tooltips, where a subclass has them."""
        return None


def fit_columns(view: QTableView) -> None:
    """Headers are never clipped ("xpected sourc"): each column but the stretching one is
    as wide as its header and its contents (measured once per reload, not continuously),
    and the stretching one never narrower than its header; a narrow window scrolls."""
    header = view.horizontalHeader()
    for column in range(header.count()):
        wanted = max(header.sectionSizeFromContents(column).width(), view.sizeHintForColumn(column))
        if header.sectionResizeMode(column) == QHeaderView.ResizeMode.Stretch:
            header.setMinimumSectionSize(
                min(wanted, header.sectionSizeFromContents(column).width())
            )
        else:
            header.resizeSection(column, wanted)


class CompactTextEdit(QPlainTextEdit):
    """A text box that may shrink to `lines` lines when room is short (Qt's default minimum
    is 70 px, more than a laptop's column of settings can give every box)."""

    def __init__(self, lines: int = 2) -> None:
        super().__init__()
        self.lines = lines

    def minimumSizeHint(self) -> QSize:
        frame = 2 * self.frameWidth() + int(self.document().documentMargin() * 2)
        height = self.fontMetrics().lineSpacing() * self.lines + frame
        return QSize(super().minimumSizeHint().width(), height)


class TableDialog(QDialog):
    """A dialog over a table whose rows are chosen together and acted on: an intro, the
    table, a note under it, then the `actions` buttons (in that order), a gap and Close.

    A subclass fills the model, connects `action_buttons`, writes the note and overrides
    update_buttons(), which runs whenever the selection changes.
    """

    def __init__(
        self,
        parent: QWidget | None,
        *,
        title: str,
        intro: str,
        model: QAbstractItemModel,
        stretch: int,
        size: QSize,
        actions: Sequence[str],
    ) -> None:
        super().__init__(parent)
        # Deleted by Qt on the GUI thread when closed, never by Python's GC in a worker.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(title)
        self.resize(size)
        self.table = table_view(model, stretch=stretch, multi=True)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.note = plain_label()
        self.action_buttons = [QPushButton(text) for text in actions]
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for button in self.action_buttons:
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(intro))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        layout.addLayout(buttons)

    def selected_rows(self) -> list[int]:
        """The chosen rows, in table order."""
        return sorted({index.row() for index in self.table.selectionModel().selectedRows()})

    def update_buttons(self) -> None:
        """Enable the actions that need a selection (the subclass knows which)."""

    def _selection_changed(self, *_: object) -> None:
        self.update_buttons()


def lay_out_form(dialog: QDialog, form: QFormLayout, *, intro: str = "") -> QDialogButtonBox:
    """A small form dialog's layout: the intro (plain text, if any), the form, then Save
    and Cancel, which accept and reject the dialog."""
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    if intro:
        layout.addWidget(plain_label(intro))
    layout.addLayout(form)
    layout.addWidget(buttons)
    return buttons
