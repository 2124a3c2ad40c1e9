"""The Content page: sources ▸ documents ▸ [extracted Markdown | passages], curation, sync.

The extracted Markdown is shown as plain text (never rendered: scraped pages are hostile
input) with each passage's span highlighted, so the cut is visible; the passages list
gives tokens and state. Curation goes through undoable commands (content_undo); sync,
the crawl preview and the chunking preview run as jobs in the jobs dock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from itertools import accumulate
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QColor, QKeySequence, QShortcut, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.content.chunking import settings_from
from desktop.core.content.models import (
    ChunkPreview,
    ContentStats,
    DocumentDetail,
    DocumentInfo,
    PassageInfo,
    SourceInfo,
    SyncSummary,
)
from desktop.core.errors import BotdeskError
from desktop.core.jobs import ItemError, Job, JobEvent
from desktop.core.store.workspace import Workspace
from desktop.services import content
from desktop.ui.context import WindowContext
from desktop.ui.jobs import JobHandle
from desktop.ui.pages import Page
from desktop.ui.pages.content_dialogs import (
    BoilerplateDialog,
    ItemErrorsDialog,
    PassageDialog,
    PatternDialog,
    SourceSettingsDialog,
    TextEntryDialog,
    debounce,
    fill_done,
    item,
    one_line,
    read_only_text,
    table,
)
from desktop.ui.pages.content_models import DocumentsModel, document_status
from desktop.ui.pages.content_site import AddSiteDialog
from desktop.ui.pages.content_undo import (
    AddPassage,
    AddSources,
    ContentCommand,
    EditPassage,
    ExcludeBoilerplate,
    ExcludeDocument,
    ExcludeUrlPattern,
    ResolveReview,
    SetExcluded,
)
from desktop.ui.widgets import escaped_tooltip, plain_label

EMPTY_TEXT = "Add your website or files to start"
FILE_FILTER = "Documents (*.pdf *.html *.htm *.md *.markdown *.txt);;All files (*)"
STATE_TEXT = {
    "included": "included",
    "excluded": "excluded",
    "edited": "edited",
    "needs_review": "needs review",
}
STATE_COLOUR = {
    "excluded": QColor("#8a8a8a"),
    "edited": QColor("#1f6fb2"),
    "needs_review": QColor("#c0631a"),
}
SYNC_REFRESH_MS = 4000
KIND_TEXT = {"site": "Website", "files": "Files", "text": "Text", "qa": "Q&A"}


def stats_line(stats: ContentStats) -> str:
    """The status bar's count: "1,204 passages (17 excluded, 5 edited, 2 need review)"."""
    return (
        f"{stats.passages:,} passages ({stats.excluded:,} excluded, {stats.edited:,} edited, "
        f"{stats.needs_review:,} need review)"
    )


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


class ContentPage(Page):
    """Sources ▸ documents ▸ [extracted Markdown | passages], with curation and sync."""

    title = "Content"

    def __init__(self, context: WindowContext) -> None:
        super().__init__(context)
        # Injected by tests and benches (a loopback client); None means the real one.
        self.http_client: Any = None
        # After adding a source, fetch it at once (tests switch this off to step alone).
        self.auto_sync = True
        self.sync_job: JobHandle | None = None
        self.last_sync_errors: list[ItemError] = []
        self.sources: list[SourceInfo] = []
        self.documents: list[DocumentInfo] = []
        self.passages: list[PassageInfo] = []
        self.document: DocumentDetail | None = None
        self.search_results = False
        self._loading = False
        self._chunk_preview_dialog: SourceSettingsDialog | None = None
        self._chunk_preview_job: int | None = None
        self._to_position: Callable[[int], int] = lambda index: index

        # -- toolbar
        self.add_site_button = QPushButton("Add website…")
        self.add_site_button.clicked.connect(self.open_add_site)
        self.add_files_button = QToolButton()
        self.add_files_button.setText("Add files…")
        self.add_files_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        files_menu = QMenu(self.add_files_button)
        files_menu.addAction("Files…", self.choose_files)
        files_menu.addAction("Folder…", self.choose_folder)
        self.add_files_button.setMenu(files_menu)
        self.add_text_button = QPushButton("Add text…")
        self.add_text_button.clicked.connect(self.open_add_text)
        self.add_qa_button = QPushButton("Add Q&&A…")  # && shows one &, not a shortcut
        self.add_qa_button.clicked.connect(self.open_add_qa)
        self.sync_button = QPushButton("Sync (F5)")
        self.sync_button.clicked.connect(self.start_sync_all)
        self.boilerplate_button = QPushButton("Repeated passages…")
        self.boilerplate_button.clicked.connect(self.open_boilerplate)
        toolbar = QHBoxLayout()
        for widget in (
            self.add_site_button,
            self.add_files_button,
            self.add_text_button,
            self.add_qa_button,
        ):
            toolbar.addWidget(widget)
        toolbar.addStretch(1)
        toolbar.addWidget(self.boilerplate_button)
        toolbar.addWidget(self.sync_button)

        # -- sources
        self.sources_table = table(["Source", "Docs", "Passages", "Failed"], 0)
        self.sources_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.sources_table.itemSelectionChanged.connect(self._on_source_selected)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.clicked.connect(self.remove_selected_source)
        self.settings_button = QPushButton("Settings…")
        self.settings_button.clicked.connect(self.open_source_settings)
        self.sync_source_button = QPushButton("Sync this")
        self.sync_source_button.clicked.connect(self._sync_selected_source)
        source_buttons = QHBoxLayout()
        source_buttons.addWidget(self.settings_button)
        source_buttons.addWidget(self.sync_source_button)
        source_buttons.addStretch(1)
        source_buttons.addWidget(self.remove_button)
        self.source_label = plain_label()
        source_buttons_box = QVBoxLayout()
        source_buttons_box.addWidget(self.source_label)
        source_buttons_box.addLayout(source_buttons)
        sources_box = self._box("Sources", self.sources_table, source_buttons_box)

        # -- documents
        self.documents_model = DocumentsModel()
        self.documents_table = QTableView()
        self.documents_table.setModel(self.documents_model)
        self.documents_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.documents_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.documents_table.verticalHeader().setVisible(False)
        self.documents_table.verticalHeader().setDefaultSectionSize(22)
        header = self.documents_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(1, 95)
        header.resizeSection(2, 64)
        self.documents_table.selectionModel().selectionChanged.connect(self._on_document_selected)
        self.exclude_document_button = QPushButton("Exclude document")
        self.exclude_document_button.clicked.connect(self.toggle_document_excluded)
        self.exclude_pattern_button = QPushButton("Exclude URL pattern…")
        self.exclude_pattern_button.clicked.connect(self.open_exclude_pattern)
        document_buttons = QHBoxLayout()
        document_buttons.addWidget(self.exclude_document_button)
        document_buttons.addWidget(self.exclude_pattern_button)
        document_buttons.addStretch(1)
        documents_box = self._box("Documents", self.documents_table, document_buttons)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(sources_box)
        left.addWidget(documents_box)
        left.setSizes([250, 420])

        # -- extracted Markdown, as plain text with the passages' spans highlighted
        self.markdown_view = QPlainTextEdit()
        self.markdown_view.setObjectName("markdown-view")
        self.markdown_view.setReadOnly(True)
        self.markdown_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.markdown_view.setPlaceholderText("Choose a document to read what was extracted.")
        self.document_label = plain_label()
        markdown_box = QWidget()
        markdown_layout = QVBoxLayout(markdown_box)
        markdown_layout.setContentsMargins(0, 0, 0, 0)
        markdown_layout.addWidget(self.document_label)
        markdown_layout.addWidget(self.markdown_view, 1)

        # -- passages
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search all passages (Ctrl+F)")
        self.search_edit.setClearButtonEnabled(True)
        self._search_timer = debounce(self, self._run_search, 200)
        # While a sync runs, the lists catch up every few seconds (documents appear as
        # they are fetched); catching up with 1,000 documents costs ~30-60 ms.
        self._sync_refresh = QTimer(self)
        self._sync_refresh.setInterval(SYNC_REFRESH_MS)
        self._sync_refresh.timeout.connect(self.catch_up)
        self.search_edit.textChanged.connect(self._search_timer.start)
        self.search_edit.returnPressed.connect(self._run_search)
        self.passages_table = table(["#", "State", "Tokens", "Heading", "Text"], 4)
        self.passages_table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.passages_table.itemSelectionChanged.connect(self._on_passage_selected)
        self.passages_table.doubleClicked.connect(lambda _index: self.open_edit_passage())
        self.passage_view = read_only_text(placeholder="Choose a passage to read it whole.")
        self.passage_view.setObjectName("passage-view")
        self.passage_label = plain_label()
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(self.open_edit_passage)
        self.exclude_button = QPushButton("Exclude")
        self.exclude_button.clicked.connect(lambda: self.set_selected_excluded(True))
        self.include_button = QPushButton("Include")
        self.include_button.clicked.connect(lambda: self.set_selected_excluded(False))
        self.add_passage_button = QPushButton("Add passage…")
        self.add_passage_button.clicked.connect(self.open_add_passage)
        passage_buttons = QHBoxLayout()
        for button in (
            self.edit_button,
            self.exclude_button,
            self.include_button,
            self.add_passage_button,
        ):
            passage_buttons.addWidget(button)
        passage_buttons.addStretch(1)
        passages_top = QWidget()
        top_layout = QVBoxLayout(passages_top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.search_edit)
        top_layout.addWidget(self.passages_table, 1)
        top_layout.addLayout(passage_buttons)
        passages_bottom = QWidget()
        bottom_layout = QVBoxLayout(passages_bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.passage_label)
        bottom_layout.addWidget(self.passage_view, 1)
        passages_split = QSplitter(Qt.Orientation.Vertical)
        passages_split.addWidget(passages_top)
        passages_split.addWidget(passages_bottom)
        passages_split.setSizes([420, 200])

        reading = QSplitter(Qt.Orientation.Horizontal)
        reading.addWidget(markdown_box)
        reading.addWidget(passages_split)
        reading.setSizes([420, 480])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(reading)
        main.setStretchFactor(0, 2)
        main.setStretchFactor(1, 5)
        main.setSizes([360, 870])

        self.summary_label = plain_label()
        self.errors_button = QPushButton("What failed…")
        self.errors_button.clicked.connect(self.show_sync_errors)
        self.errors_button.hide()
        summary_row = QHBoxLayout()
        summary_row.addWidget(self.summary_label, 1)
        summary_row.addWidget(self.errors_button)

        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(main, 1)
        body_layout.addLayout(summary_row)

        # -- empty state: what to do next
        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet("font-size: 16pt;")
        self.empty_hint = plain_label(
            "Add your website (Botdesk previews its pages first) or your PDF, HTML, Markdown "
            "and text files, then sync to see every passage the bot will be given."
        )
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        empty = QWidget()
        empty_layout = QVBoxLayout(empty)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.empty_label)
        empty_layout.addWidget(self.empty_hint)
        empty_layout.addStretch(2)

        self.stack = QStackedWidget()
        self.stack.addWidget(empty)
        self.stack.addWidget(body)
        layout = QVBoxLayout(self)
        layout.addLayout(toolbar)
        layout.addWidget(self.stack, 1)

        find = QShortcut(QKeySequence.StandardKey.Find, self)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.activated.connect(self.focus_search)
        self.exclude_action = QAction("Exclude", self.passages_table)
        self.exclude_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.exclude_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.exclude_action.triggered.connect(lambda: self.set_selected_excluded(True))
        self.passages_table.addAction(self.exclude_action)

        context.content_changed.connect(self.refresh)
        context.jobs.job_finished.connect(self._on_job_finished)
        self.on_workspace_changed(context.workspace)

    def _disabled_text(self) -> QColor:
        palette = self.palette()
        return palette.color(palette.ColorGroup.Disabled, palette.ColorRole.Text)

    @staticmethod
    def _box(title: str, view: QWidget, buttons: QHBoxLayout | QVBoxLayout) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        heading = plain_label(title)
        heading.setStyleSheet("font-weight: 600;")
        layout.addWidget(heading)
        layout.addWidget(view, 1)
        layout.addLayout(buttons)
        return box

    @property
    def workspace(self) -> Workspace | None:
        return self.context.workspace

    def on_workspace_changed(self, workspace: Workspace | None) -> None:
        self.search_edit.clear()
        self.document = None
        self.markdown_view.clear()
        self.last_sync_errors = []
        self.errors_button.hide()
        self.summary_label.setText("")
        self.refresh()

    # -- reading ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload sources, documents and passages, keeping what was selected."""
        ws = self.workspace
        self._loading = True
        try:
            source_id = self.current_source_id()
            self.sources = content.list_sources(ws) if ws is not None else []
            self.stack.setCurrentIndex(1 if self.sources else 0)
            self._fill_sources()
            ids = [s.id for s in self.sources]
            if source_id not in ids:
                source_id = ids[0] if ids else None
            self._select_row(self.sources_table, source_id)
        finally:
            self._loading = False
        self._load_documents()
        self._update_buttons()

    def catch_up(self) -> None:
        """During a sync: the counts and the documents list only; the reading panes are
        reloaded only if the chosen document changed (keeps the periodic cost low)."""
        ws = self.workspace
        if ws is None:
            return
        shown = self.document.id if self.document is not None else None
        self._loading = True
        try:
            source_id = self.current_source_id()
            self.sources = content.list_sources(ws)
            self.stack.setCurrentIndex(1 if self.sources else 0)
            self._fill_sources()
            self._select_row(self.sources_table, source_id)
            document_id = self.current_document_id()
            self.documents = (
                content.list_documents(ws, source_id=source_id) if source_id is not None else []
            )
            if self.documents_model.set_documents(self.documents):
                if document_id is None and self.documents:
                    document_id = self.documents[0].id
                self.select_document(document_id)
        finally:
            self._loading = False
        self._describe_source()
        if self.current_document_id() != shown:
            self._load_document()
        self._update_buttons()

    def _fill_sources(self) -> None:
        self.sources_table.setRowCount(len(self.sources))
        for row, source in enumerate(self.sources):
            failed = (source.last_sync_summary or {}).get("failed") or {}
            name = source.location if source.kind == "site" else source.title
            cells = [
                f"{KIND_TEXT.get(source.kind, source.kind)}: {name}",
                str(source.documents),
                str(source.passages),
                str(len(failed)) if failed else "",
            ]
            for column, text in enumerate(cells):
                self.sources_table.setItem(row, column, item(text, source.id))
            first = self.sources_table.item(row, 0)
            if first is not None:
                first.setToolTip(escaped_tooltip(source.location or source.title))
        fill_done(self.sources_table)

    def _describe_source(self) -> None:
        source = self.current_source()
        if source is None:
            self.source_label.setText("")
            return
        failed = (source.last_sync_summary or {}).get("failed") or {}
        synced = (source.last_synced_at or "")[:16].replace("T", " ")
        lines = [source.location or source.title]
        lines.append(f"Last sync {synced}" if synced else "Not synced yet: press Sync (F5).")
        if failed:
            first_failures = [f"{uri} — {reason}" for uri, reason in list(failed.items())[:2]]
            more = f" (first 2 of {len(failed)})" if len(failed) > 2 else ""
            lines.append(f"{len(failed)} failed{more}:")
            lines.extend(first_failures)
        self.source_label.setText("\n".join(lines))

    def _load_documents(self) -> None:
        ws = self.workspace
        source_id = self.current_source_id()
        self._describe_source()
        self._loading = True
        try:
            document_id = self.current_document_id()
            self.documents = (
                content.list_documents(ws, source_id=source_id)
                if ws is not None and source_id is not None
                else []
            )
            self.documents_model.grey = self._disabled_text()
            if self.documents_model.set_documents(self.documents):
                ids = {d.id for d in self.documents}
                if document_id not in ids:
                    document_id = self.documents[0].id if self.documents else None
                self.select_document(document_id)
        finally:
            self._loading = False
        self._load_document()

    def _load_document(self) -> None:
        ws = self.workspace
        document_id = self.current_document_id()
        if ws is None or document_id is None:
            self.document = None
            self.markdown_view.clear()
            self.document_label.setText("")
        else:
            try:
                detail = content.get_document(ws, document_id)
            except BotdeskError:
                detail = None
            self._show_document(detail)
        if self.search_results:
            self._run_search()
        else:
            self._load_passages()

    def _show_document(self, detail: DocumentDetail | None) -> None:
        previous = self.document
        self.document = detail
        if detail is None:
            self.markdown_view.clear()
            self.document_label.setText("")
            return
        if previous is None or previous.id != detail.id or previous.markdown != detail.markdown:
            self.markdown_view.setPlainText(detail.markdown)
            self._to_position = qt_positions(detail.markdown)
        self.document_label.setText(
            f"{detail.title or detail.uri} — {document_status(detail)}\n{detail.uri}"
        )

    def _load_passages(self) -> None:
        ws = self.workspace
        document_id = self.current_document_id()
        passages = (
            content.list_passages(ws, document_id=document_id)
            if ws is not None and document_id is not None
            else []
        )
        self._fill_passages(passages)

    def _fill_passages(self, passages: Sequence[PassageInfo]) -> None:
        selected = set(self.selected_passage_ids())
        self._loading = True
        try:
            self.passages = list(passages)
            table_ = self.passages_table
            table_.setHorizontalHeaderItem(
                3, item("Document" if self.search_results else "Heading")
            )
            table_.setRowCount(len(self.passages))
            for row, passage in enumerate(self.passages):
                state = STATE_TEXT[passage.state]
                if passage.boilerplate:
                    state += ", repeated"
                if passage.origin == "manual":
                    state += ", added"
                third = (
                    f"{passage.title or passage.uri}: {passage.heading_path}"
                    if self.search_results
                    else passage.heading_path
                )
                cells = [
                    str(passage.ordinal + 1),
                    state,
                    str(passage.tokens),
                    third,
                    one_line(passage.text),
                ]
                colour = STATE_COLOUR.get(passage.state)
                for column, text in enumerate(cells):
                    cell = item(text, passage.id)
                    if colour is not None and column == 1:
                        cell.setForeground(colour)
                    table_.setItem(row, column, cell)
            fill_done(table_, widest=150)
            table_.clearSelection()
            for row, passage in enumerate(self.passages):
                if passage.id in selected:
                    self._add_row_selection(row)
        finally:
            self._loading = False
        self._on_passage_selected()

    def _add_row_selection(self, row: int) -> None:
        model = self.passages_table.selectionModel()
        index = self.passages_table.model().index(row, 0)
        model.select(
            index,
            model.SelectionFlag.Select | model.SelectionFlag.Rows,
        )

    def _highlight(self) -> None:
        """Every passage's span tinted (alternating, so boundaries show), the chosen ones
        stronger; excluded passages greyed and struck through."""
        detail = self.document
        if detail is None:
            self.markdown_view.setExtraSelections([])
            return
        selected = set(self.selected_passage_ids())
        accent = self.palette().color(self.palette().ColorRole.Highlight)
        tints = [QColor(accent), QColor(accent)]
        tints[0].setAlpha(30)
        tints[1].setAlpha(75)
        strong = QColor(accent)
        strong.setAlpha(110)
        review = QColor(STATE_COLOUR["needs_review"])
        review.setAlpha(70)
        grey = self.palette().color(
            self.palette().ColorGroup.Disabled, self.palette().ColorRole.Text
        )
        selections: list[QTextEdit.ExtraSelection] = []
        first_selected: int | None = None
        ordered = sorted(
            (p for p in self.passages if p.document_id == detail.id and p.char_end is not None),
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
                if first_selected is None or start < first_selected:
                    first_selected = start
            elif passage.needs_review:
                fmt.setBackground(review)
            else:
                fmt.setBackground(tints[passage.ordinal % 2])
            if passage.excluded:
                fmt.setFontStrikeOut(True)
                if passage.id not in selected:
                    fmt.setForeground(grey)
            cursor = QTextCursor(self.markdown_view.document())
            cursor.setPosition(start)
            cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
            selection = QTextEdit.ExtraSelection()
            selection.cursor = cursor
            selection.format = fmt
            selections.append(selection)
        self.markdown_view.setExtraSelections(selections)
        if first_selected is not None:
            cursor = self.markdown_view.textCursor()
            cursor.setPosition(first_selected)
            self.markdown_view.setTextCursor(cursor)
            self.markdown_view.centerCursor()

    # -- selection -------------------------------------------------------------------------
    @staticmethod
    def _row_id(view: QTableWidget) -> int | None:
        rows = view.selectionModel().selectedRows()
        if not rows:
            return None
        cell = view.item(rows[0].row(), 0)
        return int(cell.data(Qt.ItemDataRole.UserRole)) if cell is not None else None

    @staticmethod
    def _select_row(view: QTableWidget, wanted: int | None) -> None:
        view.clearSelection()
        for row in range(view.rowCount()):
            cell = view.item(row, 0)
            if cell is not None and cell.data(Qt.ItemDataRole.UserRole) == wanted:
                view.selectRow(row)
                view.scrollToItem(cell)
                return

    def current_source_id(self) -> int | None:
        return self._row_id(self.sources_table)

    def current_source(self) -> SourceInfo | None:
        source_id = self.current_source_id()
        return next((s for s in self.sources if s.id == source_id), None)

    def current_document_id(self) -> int | None:
        rows = self.documents_table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.documents_model.rows):
            return None
        return self.documents_model.rows[rows[0].row()].id

    def current_document(self) -> DocumentInfo | None:
        document_id = self.current_document_id()
        return next((d for d in self.documents if d.id == document_id), None)

    def selected_passage_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.passages_table.selectionModel().selectedRows())
        return [self.passages[row].id for row in rows if row < len(self.passages)]

    def selected_passages(self) -> list[PassageInfo]:
        wanted = set(self.selected_passage_ids())
        return [p for p in self.passages if p.id in wanted]

    def select_source(self, source_id: int) -> None:
        self._select_row(self.sources_table, source_id)

    def select_document(self, document_id: int | None) -> None:
        row = self.documents_model.row_of(document_id)
        if row is None:
            self.documents_table.clearSelection()
            return
        self.documents_table.selectRow(row)
        self.documents_table.scrollTo(self.documents_model.index(row, 0))

    def select_passages(self, ids: Sequence[int]) -> None:
        wanted = set(ids)
        self.passages_table.clearSelection()
        for row, passage in enumerate(self.passages):
            if passage.id in wanted:
                self._add_row_selection(row)

    def _on_source_selected(self) -> None:
        if not self._loading:
            self._load_documents()
            self._update_buttons()

    def _on_document_selected(self, *_: object) -> None:
        if not self._loading:
            if self.search_results:
                self.search_edit.clear()
                self.search_results = False
            self._load_document()
            self._update_buttons()

    def _on_passage_selected(self) -> None:
        if self._loading:
            return
        chosen = self.selected_passages()
        if self.search_results and chosen and self.workspace is not None:
            first = chosen[0]
            if self.document is None or self.document.id != first.document_id:
                with contextlib.suppress(BotdeskError):
                    self._show_document(content.get_document(self.workspace, first.document_id))
        if len(chosen) == 1:
            passage = chosen[0]
            if passage.needs_review:
                new = passage.review_source_text or passage.source_text
                self.passage_view.setPlainText(
                    f"{passage.text}\n\n── The source now says ──\n{new}"
                )
            else:
                self.passage_view.setPlainText(passage.text)
            page = f", page {passage.page}" if passage.page else ""
            origin = "added by hand" if passage.origin == "manual" else "cut from the document"
            self.passage_label.setText(
                f"Passage {passage.ordinal + 1}: {STATE_TEXT[passage.state]}, "
                f"{passage.tokens} tokens, {origin}{page}"
                + (f"\n{passage.heading_path}" if passage.heading_path else "")
            )
        else:
            self.passage_view.setPlainText("")
            self.passage_label.setText(f"{len(chosen)} passages chosen" if chosen else "")
        self._highlight()
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_ws = self.workspace is not None
        source = self.current_source()
        chosen = self.selected_passages()
        doc = self.current_document()
        for button in (
            self.add_site_button,
            self.add_files_button,
            self.add_text_button,
            self.add_qa_button,
        ):
            button.setEnabled(has_ws)
        self.sync_button.setEnabled(has_ws and bool(self.sources) and self.sync_job is None)
        self.boilerplate_button.setEnabled(has_ws and bool(self.sources))
        self.sync_source_button.setEnabled(source is not None and self.sync_job is None)
        self.remove_button.setEnabled(source is not None and self.sync_job is None)
        self.settings_button.setEnabled(source is not None)
        self.exclude_document_button.setEnabled(doc is not None)
        self.exclude_document_button.setText(
            "Include document" if doc is not None and doc.excluded else "Exclude document"
        )
        self.exclude_pattern_button.setEnabled(bool(self.documents))
        self.edit_button.setEnabled(len(chosen) == 1)
        self.edit_button.setText(
            "Review…" if len(chosen) == 1 and chosen[0].needs_review else "Edit…"
        )
        self.exclude_button.setEnabled(any(not p.excluded for p in chosen))
        self.include_button.setEnabled(any(p.excluded for p in chosen))
        self.add_passage_button.setEnabled(doc is not None)

    # -- search ----------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def search(self, query: str) -> list[PassageInfo]:
        """Full-text search over every passage; the results replace the passages list."""
        self.search_edit.setText(query)
        self._run_search()
        return self.passages

    def _run_search(self) -> None:
        self._search_timer.stop()
        ws = self.workspace
        query = self.search_edit.text().strip()
        if ws is None:
            return
        if not query:
            if self.search_results:
                self.search_results = False
                self._load_document()
            return
        self.search_results = True
        try:
            found = content.list_passages(ws, query=query)
        except BotdeskError as exc:
            self.passage_label.setText(str(exc))
            found = []
        self._fill_passages(found)
        self.passage_label.setText(f"{len(found)} passages match “{query}”.")

    # -- changing content ------------------------------------------------------------------
    def _push(self, command: ContentCommand) -> bool:
        return self.context.push(command)

    def _changed(self) -> None:
        self.context.content_changed.emit()

    def _error(self, exc: BotdeskError) -> None:
        self.context.messages.error(exc)

    def ask(self, question: str, detail: str = "") -> bool:
        """Ask once, plainly (tests replace this)."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Botdesk",
            f"{question}\n\n{detail}".strip(),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Yes

    def _added(self, sources: Sequence[SourceInfo]) -> None:
        self.refresh()
        if sources:
            self.select_source(sources[-1].id)
        if self.auto_sync and sources:
            if self.sync_job is None:
                self.start_sync([s.id for s in sources])
            else:
                self.context.messages.info("Added; it is fetched at the next sync (F5).")

    def add_files(self, paths: Sequence[str | Path]) -> list[SourceInfo]:
        if not paths:
            return []
        return self._add(lambda ws: content.add_files(ws, list(paths)), "Add files")

    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add files", str(Path.home()), FILE_FILTER)
        if paths:
            self.add_files(paths)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a folder", str(Path.home()))
        if path:
            self.add_files([path])

    def add_text(self, title: str, text: str) -> SourceInfo | None:
        return self._add_one(lambda ws: content.add_text(ws, title, text), "Add text")

    def add_qa(self, question: str, answer: str) -> SourceInfo | None:
        return self._add_one(lambda ws: content.add_qa(ws, question, answer), "Add Q&A")

    def add_site(self, url: str, **settings: Any) -> SourceInfo | None:
        return self._add_one(lambda ws: content.add_site(ws, url, **settings), "Add website")

    def _add_one(self, make: Callable[[Workspace], SourceInfo], what: str) -> SourceInfo | None:
        added = self._add(lambda ws: [make(ws)], what)
        return added[0] if added else None

    def _add(self, make: Callable[[Workspace], list[SourceInfo]], what: str) -> list[SourceInfo]:
        """Add sources as an undoable command, then (auto_sync) fetch them."""
        ws = self.workspace
        if ws is None:
            return []

        def error(exc: BotdeskError) -> None:
            self.context.messages.error(exc, context=what)

        command = AddSources(ws, what, make, self._changed, error)
        if not self._push(command):
            return []
        self._added(command.sources)
        return command.sources

    def open_add_text(self) -> TextEntryDialog:
        dialog = TextEntryDialog(
            self, "Add text", line_label="Title", body_label="Text (Markdown or plain text)"
        )
        dialog.accepted.connect(lambda: self.add_text(dialog.line(), dialog.body()))
        dialog.open()
        return dialog

    def open_add_qa(self) -> TextEntryDialog:
        dialog = TextEntryDialog(
            self,
            "Add a question and its answer",
            line_label="Question",
            body_label="Answer",
            line_required=True,
            note="The pair becomes one passage the bot can quote.",
        )
        dialog.accepted.connect(lambda: self.add_qa(dialog.line(), dialog.body()))
        dialog.open()
        return dialog

    def open_add_site(self) -> AddSiteDialog:
        dialog = AddSiteDialog(self, self.context.jobs)
        dialog.accepted.connect(lambda: self.add_site(dialog.url(), **dialog.site_settings()))
        dialog.open()
        return dialog

    def remove_selected_source(self) -> bool:
        ws = self.workspace
        source = self.current_source()
        if ws is None or source is None or self.sync_job is not None:
            return False
        name = source.location or source.title
        if not self.ask(
            f"Remove {name}?",
            f"Its {source.documents} documents and {source.passages} passages, with your "
            "edits to them, are deleted from this workspace. This cannot be undone.",
        ):
            return False
        try:
            content.remove_source(ws, source.id)
        except BotdeskError as exc:
            self._error(exc)
            return False
        self._changed()
        return True

    def set_selected_excluded(self, excluded: bool) -> bool:
        ws = self.workspace
        ids = [p.id for p in self.selected_passages() if p.excluded != excluded]
        if ws is None or not ids:
            return False
        return self._push(SetExcluded(ws, ids, excluded, self._changed, self._error))

    def edit_passage(self, passage_id: int, text: str) -> bool:
        ws = self.workspace
        if ws is None:
            return False
        return self._push(EditPassage(ws, passage_id, text, self._changed, self._error))

    def resolve_review(self, passage_id: int, keep: str, text: str | None = None) -> bool:
        ws = self.workspace
        if ws is None:
            return False
        settle: Literal["edit", "source"] = "edit" if keep == "edit" else "source"
        return self._push(
            ResolveReview(ws, passage_id, settle, self._changed, self._error, text=text)
        )

    def open_edit_passage(self) -> PassageDialog | None:
        chosen = self.selected_passages()
        if len(chosen) != 1:
            return None
        passage = chosen[0]
        dialog = PassageDialog(self, passage)

        def done() -> None:
            text = dialog.text()
            if dialog.result_action == "edit":
                if text.strip() != passage.text.strip():
                    self.edit_passage(passage.id, text)
            elif dialog.result_action == "keep-edit":
                changed = text.strip() != passage.text.strip()
                self.resolve_review(passage.id, "edit", text if changed else None)
            elif dialog.result_action == "take-source":
                self.resolve_review(passage.id, "source")

        dialog.accepted.connect(done)
        dialog.open()
        return dialog

    def add_passage(self, document_id: int, text: str, heading_path: str = "") -> bool:
        ws = self.workspace
        if ws is None:
            return False
        return self._push(
            AddPassage(ws, document_id, text, self._changed, self._error, heading_path=heading_path)
        )

    def open_add_passage(self) -> TextEntryDialog | None:
        document_id = self.current_document_id()
        if document_id is None:
            return None
        dialog = TextEntryDialog(
            self,
            "Add a passage",
            line_label="Heading",
            body_label="Text",
            note="A passage written by hand stays as you wrote it through every sync.",
        )
        dialog.accepted.connect(lambda: self.add_passage(document_id, dialog.body(), dialog.line()))
        dialog.open()
        return dialog

    def toggle_document_excluded(self) -> bool:
        ws = self.workspace
        doc = self.current_document()
        if ws is None or doc is None:
            return False
        return self._push(ExcludeDocument(ws, doc.id, not doc.excluded, self._changed, self._error))

    def exclude_url_pattern(self, pattern: str) -> bool:
        ws = self.workspace
        if ws is None:
            return False
        return self._push(ExcludeUrlPattern(ws, pattern, self._changed, self._error))

    def open_exclude_pattern(self) -> PatternDialog | None:
        ws = self.workspace
        if ws is None:
            return None
        doc = self.current_document()
        suggestion = ""
        if doc is not None:
            parts = urlsplit(doc.uri)
            if parts.scheme in ("http", "https"):
                folder = parts.path.rsplit("/", 1)[0]
                suggestion = f"{parts.scheme}://{parts.netloc}{folder}/*"
            else:
                suggestion = str(Path(doc.uri).parent / "*")
        uris = [d.uri for d in content.list_documents(ws)]
        dialog = PatternDialog(self, suggestion, uris)
        dialog.accepted.connect(lambda: self.exclude_url_pattern(dialog.pattern()))
        dialog.open()
        return dialog

    def exclude_boilerplate(self, keys: Sequence[str]) -> bool:
        ws = self.workspace
        if ws is None or not keys:
            return False
        return self._push(ExcludeBoilerplate(ws, keys, self._changed, self._error))

    def open_boilerplate(self) -> BoilerplateDialog | None:
        ws = self.workspace
        if ws is None:
            return None
        dialog = BoilerplateDialog(self, content.boilerplate_groups(ws))

        def exclude(keys: list[str]) -> None:
            if self.exclude_boilerplate(keys) and self.workspace is not None:
                dialog.set_groups(content.boilerplate_groups(self.workspace))

        dialog.exclude_requested.connect(exclude)
        dialog.open()
        return dialog

    # -- source settings and the chunking preview ------------------------------------------
    def open_source_settings(self) -> SourceSettingsDialog | None:
        ws = self.workspace
        source = self.current_source()
        if ws is None or source is None:
            return None
        defaults = settings_from(ws.setting("chunking", None) or {})
        current = settings_from(source.settings.get("chunking") or {}, defaults)
        dialog = SourceSettingsDialog(self, source, current, source.passages)
        dialog.preview_requested.connect(lambda chunking: self.preview_chunking(dialog, chunking))
        dialog.accepted.connect(lambda: self.apply_source_settings(dialog))
        dialog.open()
        return dialog

    def preview_chunking(
        self, dialog: SourceSettingsDialog, chunking: dict[str, int]
    ) -> JobHandle | None:
        """Cut the source's stored documents with `chunking` off the GUI thread."""
        ws = self.workspace
        if ws is None:
            return None
        source_id = dialog.source.id

        async def work(job: Job) -> list[ChunkPreview] | None:
            try:
                chunks = await asyncio.to_thread(content.preview_chunking, ws, source_id, chunking)
            except BotdeskError as exc:  # shown in the dialog (no modal box inside a task)
                job.fail(str(exc))
                return None
            job.finish(f"{len(chunks)} passages with the new settings.")
            return chunks

        self._chunk_preview_dialog = dialog
        job = self.context.jobs.start("Preview the new cut", work)
        self._chunk_preview_job = job.job_id
        return job

    def apply_source_settings(self, dialog: SourceSettingsDialog) -> bool:
        ws = self.workspace
        if ws is None:
            return False
        try:
            content.set_source_settings(
                ws, dialog.source.id, chunking=dialog.chunking(), **dialog.site_rules()
            )
        except BotdeskError as exc:
            self.context.messages.error(exc, context="Source settings")
            return False
        self._changed()
        if self.sync_job is None:
            self.start_sync([dialog.source.id])
        else:
            self.context.messages.info("Settings saved; the next sync re-cuts the passages.")
        return True

    # -- sync ------------------------------------------------------------------------------
    def start_sync(self, source_ids: Sequence[int] | None = None) -> JobHandle | None:
        """Sync every source (or those given) as a job in the jobs dock."""
        ws = self.workspace
        if ws is None:
            return None
        if self.sync_job is not None:
            self.context.messages.info("A sync is already running.")
            return None
        if not self.sources:
            self.context.messages.info(EMPTY_TEXT + ".")
            return None
        ids = list(source_ids) if source_ids is not None else None
        client = self.http_client

        async def work(job: Job) -> SyncSummary:
            return await content.sync(ws, job, source_ids=ids, client=client)

        names = [s.title or s.location for s in self.sources if ids is None or s.id in ids]
        title = f"Sync {names[0]}" if len(names) == 1 else f"Sync {len(names)} sources"
        self.sync_job = self.context.jobs.start(title, work)
        self._sync_refresh.start()
        self.summary_label.setText(f"{title}: running (progress and Cancel in the jobs panel)")
        self.errors_button.hide()
        self._update_buttons()
        return self.sync_job

    def start_sync_all(self) -> JobHandle | None:
        return self.start_sync()

    def _sync_selected_source(self) -> None:
        source_id = self.current_source_id()
        if source_id is not None:
            self.start_sync([source_id])

    def _on_job_finished(self, event: JobEvent, result: object) -> None:
        if self._chunk_preview_job == event.job_id:
            self._chunk_preview_job = None
            dialog, self._chunk_preview_dialog = self._chunk_preview_dialog, None
            if dialog is not None:
                chunks = result if isinstance(result, list) else None
                dialog.show_preview(chunks, event.summary)
            return
        if self.sync_job is None or event.job_id != self.sync_job.job_id:
            return
        job, self.sync_job = self.sync_job, None
        self._sync_refresh.stop()
        self.last_sync_errors = list(job.errors)
        self.summary_label.setText(f"{event.title}: {event.summary}")
        self.errors_button.setVisible(bool(self.last_sync_errors))
        self.errors_button.setText(f"What failed ({len(self.last_sync_errors)})…")
        self._changed()

    def show_sync_errors(self) -> ItemErrorsDialog:
        dialog = ItemErrorsDialog(self, "What failed in the last sync", self.last_sync_errors)
        dialog.open()
        return dialog
