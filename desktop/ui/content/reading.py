"""The Content page's reading panels: a document's extracted Markdown with every passage's
span highlighted, and the passages list (or full-text search results) with the chosen
passage in full.

The Markdown is shown as plain text (never rendered: scraped pages are hostile input).
Passages are named by their stable id ("Passage #1234"), the same on every screen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import accumulate

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QColor, QKeySequence, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.core.content.models import DocumentDetail, PassageInfo, passage_name
from desktop.ui.content.models import (
    STATE_COLOUR,
    STATE_TEXT,
    PassagesModel,
    document_status,
)
from desktop.ui.content.panels import Quiet
from desktop.ui.widgets import debounce, plain_label, read_only_text, table_view

SEARCH_DEBOUNCE_MS = 200


def qt_positions(text: str) -> Callable[[int], int]:
    """Map a Python index into `text` to a QPlainTextEdit position (UTF-16 units; the
    editor turns CRLF into one paragraph break)."""
    if "\r\n" not in text and (text.isascii() or len(text.encode("utf-16-le")) == 2 * len(text)):
        return lambda index: index
    units = [
        0 if ch == "\r" and text[i + 1 : i + 2] == "\n" else (2 if ord(ch) > 0xFFFF else 1)
        for i, ch in enumerate(text)
    ]
    prefix = [0, *accumulate(units)]
    return lambda index: prefix[max(0, min(index, len(text)))]


def passage_caption(passage: PassageInfo) -> str:
    """ "Passage #1234: included, 212 tokens, cut from the document, page 3" and its heading."""
    page = f", page {passage.page}" if passage.page else ""
    origin = "added by hand" if passage.origin == "manual" else "cut from the document"
    state = STATE_TEXT[passage.state]
    if passage.document_excluded and passage.state == "excluded" and not passage.excluded:
        state += " (its whole document is)"
    heading = f"\n{passage.heading_path}" if passage.heading_path else ""
    return f"{passage_name(passage.id)}: {state}, {passage.tokens} tokens, {origin}{page}{heading}"


class MarkdownPanel(QWidget):
    """A document's extracted Markdown, its title and status, and the passages' spans."""

    def __init__(self) -> None:
        super().__init__()
        self.document: DocumentDetail | None = None
        self._to_position: Callable[[int], int] = lambda index: index
        self.label = plain_label()
        self.view = QPlainTextEdit()
        self.view.setObjectName("markdown-view")
        self.view.setReadOnly(True)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.view.setPlaceholderText("Choose a document to read what was extracted.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.view, 1)

    def show_document(self, detail: DocumentDetail | None) -> None:
        previous, self.document = self.document, detail
        if detail is None:
            self.view.clear()
            self.label.setText("")
            return
        if previous is None or previous.id != detail.id or previous.markdown != detail.markdown:
            self.view.setPlainText(detail.markdown)
            self._to_position = qt_positions(detail.markdown)
        self.label.setText(
            f"{detail.title or detail.uri} — {document_status(detail)}\n{detail.uri}"
        )

    def highlight(self, passages: Sequence[PassageInfo], selected: set[int]) -> None:
        """Every passage's span tinted (alternating, so boundaries show), the chosen ones
        stronger; excluded passages greyed and struck through."""
        detail = self.document
        if detail is None:
            self.view.setExtraSelections([])
            return
        palette = self.palette()
        accent = palette.color(palette.ColorRole.Highlight)
        tints = [QColor(accent), QColor(accent)]
        tints[0].setAlpha(30)
        tints[1].setAlpha(75)
        strong = QColor(accent)
        strong.setAlpha(110)
        review = QColor(STATE_COLOUR["needs_review"])
        review.setAlpha(70)
        grey = palette.color(palette.ColorGroup.Disabled, palette.ColorRole.Text)
        selections: list[QTextEdit.ExtraSelection] = []
        first_selected: int | None = None
        ordered = sorted(
            (p for p in passages if p.document_id == detail.id and p.char_end is not None),
            key=lambda p: (p.id in selected, p.ordinal),
        )
        for passage in ordered:
            start = self._to_position(passage.char_start or 0)
            end = self._to_position(passage.char_end or 0)
            if end <= start:
                continue
            fmt = QTextCharFormat()
            if passage.id in selected:
                fmt.setBackground(strong)
                first_selected = start if first_selected is None else min(first_selected, start)
            elif passage.needs_review:
                fmt.setBackground(review)
            else:
                fmt.setBackground(tints[passage.ordinal % 2])
            if passage.state == "excluded":
                fmt.setFontStrikeOut(True)
                if passage.id not in selected:
                    fmt.setForeground(grey)
            cursor = QTextCursor(self.view.document())
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            selection = QTextEdit.ExtraSelection()
            selection.cursor = cursor
            selection.format = fmt
            selections.append(selection)
        self.view.setExtraSelections(selections)
        if first_selected is not None:
            cursor = self.view.textCursor()
            cursor.setPosition(first_selected)
            self.view.setTextCursor(cursor)
            self.view.centerCursor()


class PassagesPanel(Quiet, QWidget):
    """The passages of the chosen document, or the passages matching a search; the
    chosen passage in full below; edit, exclude, include, add."""

    search_changed = Signal(str)  # once typing pauses, or on Enter
    selection_changed = Signal()
    edit_requested = Signal()
    exclude_requested = Signal(bool)  # True: exclude, False: include
    add_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search all passages (Ctrl+F)")
        self.search_edit.setClearButtonEnabled(True)
        self._search_timer = debounce(self, self._emit_search, SEARCH_DEBOUNCE_MS)
        self.search_edit.textChanged.connect(self._search_timer.start)
        self.search_edit.returnPressed.connect(self._emit_search)
        self.model = PassagesModel()
        self.table = table_view(self.model, stretch=4, multi=True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 56), (1, 110), (2, 52)):
            self.table.setColumnWidth(column, width)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.doubleClicked.connect(lambda _index: self.edit_requested.emit())
        self.exclude_action = QAction("Exclude", self.table)
        self.exclude_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.exclude_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.exclude_action.triggered.connect(lambda: self.exclude_requested.emit(True))
        self.table.addAction(self.exclude_action)
        self.view = read_only_text(placeholder="Choose a passage to read it whole.")
        self.view.setObjectName("passage-view")
        self.label = plain_label()
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(self.edit_requested)
        self.exclude_button = QPushButton("Exclude")
        self.exclude_button.clicked.connect(lambda: self.exclude_requested.emit(True))
        self.include_button = QPushButton("Include")
        self.include_button.clicked.connect(lambda: self.exclude_requested.emit(False))
        self.add_button = QPushButton("Add passage…")
        self.add_button.clicked.connect(self.add_requested)
        self.setLayout(self._layout())

    def _layout(self) -> QVBoxLayout:
        buttons = QHBoxLayout()
        for button in (self.edit_button, self.exclude_button, self.include_button, self.add_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.search_edit)
        top_layout.addWidget(self.table, 1)
        top_layout.addLayout(buttons)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.label)
        bottom_layout.addWidget(self.view, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setSizes([420, 200])
        layout = QVBoxLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        return layout

    # -- search --------------------------------------------------------------------------
    def query(self) -> str:
        return self.search_edit.text().strip()

    def _emit_search(self) -> None:
        self._search_timer.stop()
        self.search_changed.emit(self.query())

    def focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def clear_search(self) -> None:
        """Empty the search box without asking for a search."""
        self.search_edit.blockSignals(True)
        self.search_edit.clear()
        self.search_edit.blockSignals(False)
        self._search_timer.stop()

    # -- rows and selection --------------------------------------------------------------
    @property
    def passages(self) -> list[PassageInfo]:
        return self.model.rows

    @property
    def search_results(self) -> bool:
        return self.model.search_results

    def set_passages(self, passages: Sequence[PassageInfo], *, search_results: bool) -> None:
        """Show `passages`, keeping the chosen ones that are still listed."""
        selected = self.selected_ids()
        with self.quietly():
            self.model.set_passages(passages, search_results=search_results)
            self.select_ids(selected)

    def selected_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.passages[row].id for row in rows if row < len(self.passages)]

    def selected(self) -> list[PassageInfo]:
        wanted = set(self.selected_ids())
        return [p for p in self.passages if p.id in wanted]

    def select_ids(self, ids: Sequence[int]) -> None:
        wanted = set(ids)
        selection = self.table.selectionModel()
        with self.quietly():
            selection.clearSelection()
            for row, passage in enumerate(self.passages):
                if passage.id in wanted:
                    flags = selection.SelectionFlag.Select | selection.SelectionFlag.Rows
                    selection.select(self.model.index(row, 0), flags)
        self.selection_changed.emit()

    def _on_selection(self, *_: object) -> None:
        if not self._quiet:
            self.selection_changed.emit()

    def show_chosen(self, chosen: Sequence[PassageInfo]) -> None:
        """The chosen passage in full (both texts when its source changed), or a count."""
        if len(chosen) == 1:
            passage = chosen[0]
            if passage.needs_review:
                new = passage.review_source_text or passage.source_text
                self.view.setPlainText(f"{passage.text}\n\n── The source now says ──\n{new}")
            else:
                self.view.setPlainText(passage.text)
            self.label.setText(passage_caption(passage))
        else:
            self.view.setPlainText("")
            self.label.setText(f"{len(chosen)} passages chosen" if chosen else "")

    def update_state(self, *, has_document: bool) -> None:
        chosen = self.selected()
        one = len(chosen) == 1
        self.edit_button.setEnabled(one)
        self.edit_button.setText("Review…" if one and chosen[0].needs_review else "Edit…")
        self.exclude_button.setEnabled(any(not p.excluded for p in chosen))
        self.include_button.setEnabled(any(p.excluded for p in chosen))
        self.add_button.setEnabled(has_document)
