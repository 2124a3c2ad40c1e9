"""The Content page's panels: toolbar, sources, documents, the sync summary, the empty
state. Each shows what it is given and emits what the user asks for; none calls a service.

Selection signals fire only for the user's own changes: while the page refills a panel
(`quietly()`), the panel keeps or restores its selection without emitting.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.content.models import DocumentInfo, SourceInfo
from desktop.ui.content.models import EMPTY_TEXT, DocumentsModel, KeyedRowsModel, SourcesModel
from desktop.ui.widgets import ElidedLabel, plain_label, table_view

FILE_FILTER = "Documents (*.pdf *.html *.htm *.md *.markdown *.txt);;All files (*)"


def heading(text: str) -> QLabel:
    label = plain_label(text)
    label.setStyleSheet("font-weight: 600;")
    return label


class Quiet:
    """While `quietly()` runs, the panel's own refills emit no selection signal."""

    _quiet = False

    @contextmanager
    def quietly(self) -> Iterator[None]:
        quiet, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = quiet


class SelectingPanel(Quiet, QWidget):
    """A panel around one single-selection table: the current row's id, quiet refills."""

    selection_changed = Signal()

    def __init__(self, model: KeyedRowsModel[Any], table: QTableView) -> None:
        super().__init__()
        self.model_ = model
        self.table = table
        table.selectionModel().selectionChanged.connect(self._on_selection)

    def _on_selection(self, *_: object) -> None:
        if not self._quiet:
            self.selection_changed.emit()

    def current_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.model_.rows):
            return None
        found = self.model_.row_id(self.model_.rows[rows[0].row()])
        return int(found) if found is not None else None

    def select(self, row_id: int | None) -> None:
        """Select the row with this id (quietly); none when it is not listed."""
        with self.quietly():
            row = self.model_.row_of(row_id)
            if row is None:
                self.table.clearSelection()
                return
            self.table.selectRow(row)
            self.table.scrollTo(self.model_.index(row, 0))

    def keep_selection(self, wanted: int | None) -> int | None:
        """After a refill: keep `wanted` if still listed, else the first row; the result."""
        ids = [self.model_.row_id(r) for r in self.model_.rows]
        chosen = wanted if wanted in ids else (ids[0] if ids else None)
        if chosen != self.current_id() or chosen is None:
            self.select(chosen)
        return chosen


class ContentToolbar(QWidget):
    """Add a website, files, text or a Q&A pair; the repeated passages; sync."""

    add_site_requested = Signal()
    add_files_requested = Signal(object)  # list of paths
    add_text_requested = Signal()
    add_qa_requested = Signal()
    repeated_requested = Signal()
    flagged_requested = Signal()
    sync_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.add_site_button = QPushButton("Add website…")
        self.add_site_button.clicked.connect(self.add_site_requested)
        self.add_files_button = QToolButton()
        self.add_files_button.setText("Add files…")
        self.add_files_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.add_files_button)
        menu.addAction("Files…", self.choose_files)
        menu.addAction("Folder…", self.choose_folder)
        self.add_files_button.setMenu(menu)
        self.add_text_button = QPushButton("Add text…")
        self.add_text_button.clicked.connect(self.add_text_requested)
        self.add_qa_button = QPushButton("Add Q&&A…")  # && shows one &, not a shortcut
        self.add_qa_button.clicked.connect(self.add_qa_requested)
        self.boilerplate_button = QPushButton("Repeated passages…")
        self.boilerplate_button.clicked.connect(self.repeated_requested)
        self.flagged_button = QPushButton("Flagged passages…")
        self.flagged_button.setToolTip("Passages that speak to the bot itself (prompt injection)")
        self.flagged_button.clicked.connect(self.flagged_requested)
        self.sync_button = QPushButton("Sync (F5)")
        self.sync_button.clicked.connect(self.sync_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in self.add_buttons():
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(self.boilerplate_button)
        layout.addWidget(self.flagged_button)
        layout.addWidget(self.sync_button)

    def add_buttons(self) -> list[QWidget]:
        return [
            self.add_site_button,
            self.add_files_button,
            self.add_text_button,
            self.add_qa_button,
        ]

    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add files", str(Path.home()), FILE_FILTER)
        if paths:
            self.add_files_requested.emit(paths)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a folder", str(Path.home()))
        if path:
            self.add_files_requested.emit([path])

    def update_state(self, *, has_workspace: bool, has_sources: bool, syncing: bool) -> None:
        for widget in self.add_buttons():
            widget.setEnabled(has_workspace)
        self.sync_button.setEnabled(has_workspace and has_sources and not syncing)
        self.boilerplate_button.setEnabled(has_workspace and has_sources)
        self.flagged_button.setEnabled(has_workspace and has_sources)


class SourcesPanel(SelectingPanel):
    """The sources, with the chosen one's location, last sync and first failures."""

    settings_requested = Signal()
    sync_requested = Signal()
    remove_requested = Signal()

    def __init__(self) -> None:
        self.model = SourcesModel()
        super().__init__(self.model, table_view(self.model, stretch=0))
        for column, width in ((1, 50), (2, 64), (3, 50)):
            self.table.setColumnWidth(column, width)
        # One line, cut to the width (the full text in its tooltip): a long path or failure
        # must not push the buttons out of a short window.
        self.label = ElidedLabel()
        self.settings_button = QPushButton("Settings…")
        self.settings_button.clicked.connect(self.settings_requested)
        self.sync_button = QPushButton("Sync this")
        self.sync_button.clicked.connect(self.sync_requested)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.clicked.connect(self.remove_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.settings_button)
        buttons.addWidget(self.sync_button)
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading("Sources"))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.label)
        layout.addLayout(buttons)

    def set_sources(self, sources: Sequence[SourceInfo]) -> int | None:
        """Show `sources`, keeping the chosen one (or the first); returns the chosen id."""
        wanted = self.current_id()
        with self.quietly():
            self.model.update_rows(sources)
        chosen = self.keep_selection(wanted)
        self.describe(self.current())
        return chosen

    def current(self) -> SourceInfo | None:
        row = self.model.row_of(self.current_id())
        return self.model.rows[row] if row is not None else None

    def describe(self, source: SourceInfo | None) -> None:
        if source is None:
            self.label.setText("")
            return
        failed = (source.last_sync_summary or {}).get("failed") or {}
        synced = (source.last_synced_at or "")[:16].replace("T", " ")
        parts = [source.location or source.title]
        parts.append(f"last sync {synced}" if synced else "not synced yet: press Sync (F5)")
        if failed:
            uri, reason = next(iter(failed.items()))
            parts.append(f"{len(failed)} failed, first {uri} — {reason}")
        self.label.setText(" · ".join(parts))

    def update_state(self, *, syncing: bool) -> None:
        chosen = self.current() is not None
        self.sync_button.setEnabled(chosen and not syncing)
        self.remove_button.setEnabled(chosen and not syncing)
        self.settings_button.setEnabled(chosen)


class DocumentsPanel(SelectingPanel):
    """The chosen source's documents: title, address, status; exclude one, or a pattern."""

    exclude_toggled = Signal()
    pattern_requested = Signal()

    def __init__(self) -> None:
        self.model = DocumentsModel()
        super().__init__(self.model, table_view(self.model, stretch=1))
        # Title and address share the spare width; both elide in the middle, where two
        # pages of one site differ least.
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in ((2, 72), (3, 62)):
            self.table.setColumnWidth(column, width)
        self.exclude_button = QPushButton("Exclude document")
        self.exclude_button.clicked.connect(self.exclude_toggled)
        self.pattern_button = QPushButton("Exclude URL pattern…")
        self.pattern_button.clicked.connect(self.pattern_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.exclude_button)
        buttons.addWidget(self.pattern_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading("Documents"))
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    @property
    def documents(self) -> list[DocumentInfo]:
        return self.model.rows

    def set_documents(self, documents: Sequence[DocumentInfo], root: str = "") -> int | None:
        """Show `documents`, keeping the chosen one (or the first); returns the chosen id."""
        wanted = self.current_id()
        palette = self.palette()
        self.model.grey = palette.color(palette.ColorGroup.Disabled, palette.ColorRole.Text)
        with self.quietly():
            self.model.set_documents(documents, root)
        return self.keep_selection(wanted)

    def current(self) -> DocumentInfo | None:
        row = self.model.row_of(self.current_id())
        return self.model.rows[row] if row is not None else None

    def update_state(self) -> None:
        doc = self.current()
        self.exclude_button.setEnabled(doc is not None)
        excluded = doc is not None and doc.excluded
        self.exclude_button.setText("Include document" if excluded else "Exclude document")
        self.pattern_button.setEnabled(bool(self.documents))


class SummaryBar(QWidget):
    """How the last sync went, with what failed and what was skipped one click away."""

    errors_requested = Signal()
    skipped_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.label = ElidedLabel()
        self.errors_button = QPushButton("What failed…")
        self.errors_button.clicked.connect(self.errors_requested)
        self.skipped_button = QPushButton("What was skipped…")
        self.skipped_button.clicked.connect(self.skipped_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.skipped_button)
        layout.addWidget(self.errors_button)
        self.show_counts(0, 0)

    def show_counts(self, failed: int, skipped: int) -> None:
        self.errors_button.setVisible(bool(failed))
        self.errors_button.setText(f"What failed ({failed})…")
        self.skipped_button.setVisible(bool(skipped))
        self.skipped_button.setText(f"What was skipped ({skipped})…")

    def clear(self) -> None:
        self.label.setText("")
        self.show_counts(0, 0)


class EmptyState(QWidget):
    """What to do next in a workspace with no sources."""

    def __init__(self) -> None:
        super().__init__()
        self.label = QLabel(EMPTY_TEXT)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setStyleSheet("font-size: 16pt;")
        self.label.setWordWrap(True)
        self.hint = plain_label(
            "Add your website (Botdesk previews its pages first) or your PDF, HTML, Markdown "
            "and text files, then sync to see every passage the bot will be given."
        )
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.label)
        layout.addWidget(self.hint)
        layout.addStretch(2)
