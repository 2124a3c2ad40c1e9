"""The Search page: the retrieval preview. Type a question and see exactly which passages the
bot would be given, ranked, with each mode's rank and score; open a passage in its document,
exclude or edit it right there; and ask why a passage that should have come up did not.

Searching runs as an asyncio task (the question is embedded by the workspace's embedder);
results reach the widgets through a signal. Scraped text is shown as plain text only.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.errors import BotdeskError
from desktop.core.store.workspace import Workspace
from desktop.services import content, index
from desktop.services.index import Filters, SearchHit, SearchResults, WhyNot
from desktop.ui.context import WindowContext
from desktop.ui.jobs import JobHandle
from desktop.ui.pages import Page
from desktop.ui.pages.content_dialogs import PassageDialog
from desktop.ui.pages.content_undo import EditPassage, SetExcluded
from desktop.ui.tasks import TaskSet

MODE_CHOICES = (
    ("Automatic (hybrid with an embedder)", None),
    ("Hybrid", "hybrid"),
    ("Vector", "vector"),
    ("Keyword", "keyword"),
)
COLUMNS = ("Rank", "Score", "Keyword", "Vector", "Passage", "Heading", "Source")
PASSAGE_COLUMN = 4
NARROW_COLUMN_MAX = 240  # heading and source: the passage text gets the room


def source_label(source: dict[str, Any]) -> str:
    where = str(source.get("url") or source.get("path") or "")
    page = f", page {source['page']}" if source.get("page") else ""
    title = str(source.get("title") or "")
    return f"{title} — {where}{page}" if title else f"{where}{page}"


def contribution(hit: SearchHit, mode: str) -> str:
    """'#2 · 0.6133' for a mode that found the hit, '—' for one that did not."""
    if mode not in hit.ranks:
        return "—"
    return f"#{hit.ranks[mode]} · {hit.scores.get(mode, 0.0):.4f}"


def why_not_text(result: WhyNot) -> str:
    lines = [result.summary()]
    if not result.state.exists:
        return lines[0]
    if not result.state.included:
        lines.append(f"The passage is not in the bot's knowledge: {result.state.reason}.")
    for name, verdict in result.modes.items():
        rank = "not ranked" if verdict.rank is None else f"rank {verdict.rank}"
        score = "" if verdict.score is None else f", score {verdict.score:.4f}"
        state = "retrieved" if verdict.retrieved else "cut by: " + "; ".join(verdict.cut_by)
        lines.append(f"{name}: {rank}{score} — {state}")
    return "\n".join(lines)


class SearchPage(Page):
    """The retrieval preview."""

    title = "Search"
    results_ready = Signal(object)  # SearchResults
    why_not_ready = Signal(object)  # WhyNot
    search_failed = Signal(object)  # BotdeskError

    def __init__(self, context: WindowContext) -> None:
        super().__init__(context)
        self._tasks = TaskSet()
        self.hits: SearchResults = SearchResults(mode="keyword")
        self.last_query = ""
        self.last_why: WhyNot | None = None

        self.question_edit = QLineEdit()
        self.question_edit.setObjectName("search-question")
        self.question_edit.setPlaceholderText("A question a visitor would ask… (Enter searches)")
        self.question_edit.returnPressed.connect(self.search)
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self.search)
        self.mode_combo = QComboBox()
        for label, value in MODE_CHOICES:
            self.mode_combo.addItem(label, value)
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 100)
        self.k_spin.setValue(10)
        self.k_spin.setPrefix("k = ")
        self.min_score_check = QCheckBox("minimum score")
        self.min_score_spin = QDoubleSpinBox()
        self.min_score_spin.setDecimals(3)
        self.min_score_spin.setRange(-1000.0, 1000.0)
        self.min_score_spin.setSingleStep(0.05)
        self.min_score_spin.setEnabled(False)
        self.min_score_check.toggled.connect(self.min_score_spin.setEnabled)
        self.source_combo = QComboBox()
        self.source_combo.setObjectName("search-source")
        self.prefix_edit = QLineEdit()
        self.prefix_edit.setPlaceholderText("URL or path prefix (optional)")

        ask_row = QHBoxLayout()
        ask_row.addWidget(self.question_edit, 1)
        ask_row.addWidget(self.search_button)
        options = QHBoxLayout()
        options.addWidget(QLabel("Mode"))
        options.addWidget(self.mode_combo)
        options.addWidget(self.k_spin)
        options.addWidget(self.min_score_check)
        options.addWidget(self.min_score_spin)
        options.addWidget(QLabel("Source"))
        options.addWidget(self.source_combo)
        options.addWidget(self.prefix_edit, 1)

        self.status_label = QLabel("")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setWordWrap(True)
        self.embed_button = QPushButton("Embed now")
        self.embed_button.setToolTip(
            "Embed the passages that have no vector yet (also done by sync)"
        )
        self.embed_button.clicked.connect(self.embed_now)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.embed_button)

        self.results_table = QTableWidget(0, len(COLUMNS))
        self.results_table.setObjectName("search-results")
        self.results_table.setHorizontalHeaderLabels(list(COLUMNS))
        self.results_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results_table.verticalHeader().setVisible(False)
        header = self.results_table.horizontalHeader()
        header.setSectionResizeMode(PASSAGE_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.results_table.itemSelectionChanged.connect(self._show_selected)
        self.empty_label = QLabel("")
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)

        self.passage_view = QPlainTextEdit()
        self.passage_view.setReadOnly(True)
        self.passage_view.setObjectName("search-passage")
        self.open_button = QPushButton("Open in document")
        self.open_button.clicked.connect(self.open_selected)
        self.exclude_button = QPushButton("Exclude")
        self.exclude_button.clicked.connect(self.exclude_selected)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(self.open_edit_selected)
        passage_buttons = QHBoxLayout()
        for button in (self.open_button, self.exclude_button, self.edit_button):
            passage_buttons.addWidget(button)
        passage_buttons.addStretch(1)
        passage_box = QGroupBox("Passage")
        passage_layout = QVBoxLayout(passage_box)
        passage_layout.addWidget(self.passage_view, 1)
        passage_layout.addLayout(passage_buttons)

        self.why_find_edit = QLineEdit()
        self.why_find_edit.setPlaceholderText(
            "Find the passage that should have come up (words, or its id)"
        )
        self.why_find_edit.returnPressed.connect(self.find_candidates)
        self.why_list = QListWidget()
        self.why_list.setObjectName("why-candidates")
        self.why_button = QPushButton("Why not retrieved?")
        self.why_button.clicked.connect(self.explain_selected_candidate)
        self.why_view = QPlainTextEdit()
        self.why_view.setReadOnly(True)
        self.why_view.setObjectName("why-not")
        why_box = QGroupBox("Why was this not retrieved?")
        why_layout = QVBoxLayout(why_box)
        find_row = QHBoxLayout()
        find_row.addWidget(self.why_find_edit, 1)
        find_row.addWidget(self.why_button)
        why_layout.addLayout(find_row)
        why_layout.addWidget(self.why_list, 1)
        why_layout.addWidget(self.why_view, 1)

        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(passage_box)
        lower.addWidget(why_box)
        results = QWidget()
        results_layout = QVBoxLayout(results)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.addWidget(self.empty_label)
        results_layout.addWidget(self.results_table, 1)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(results)
        body.addWidget(lower)
        body.setStretchFactor(0, 3)
        body.setStretchFactor(1, 2)

        self.no_workspace_label = QLabel("Open or create a workspace to preview retrieval.")
        self.main = QWidget()
        main_layout = QVBoxLayout(self.main)
        main_layout.setContentsMargins(0, 0, 0, 0)
        main_layout.addLayout(ask_row)
        main_layout.addLayout(options)
        main_layout.addLayout(status_row)
        main_layout.addWidget(body, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.no_workspace_label)
        layout.addWidget(self.main, 1)

        self.results_ready.connect(self._show_results)
        self.why_not_ready.connect(self._show_why_not)
        self.search_failed.connect(self._on_failed)
        context.content_changed.connect(self._on_content_changed)
        context.jobs.job_finished.connect(lambda *_: self.refresh_status())
        self.on_workspace_changed(context.workspace)

    # -- workspace -------------------------------------------------------------------------
    @property
    def workspace(self) -> Workspace | None:
        return self.context.workspace

    def on_workspace_changed(self, workspace: Workspace | None) -> None:
        self._tasks.cancel_all()
        self.no_workspace_label.setVisible(workspace is None)
        self.main.setVisible(workspace is not None)
        self.hits = SearchResults(mode="keyword")
        self._fill_results()
        self.why_view.clear()
        self.why_list.clear()
        if workspace is None:
            return
        self._fill_sources()
        self.refresh_status()

    def _fill_sources(self) -> None:
        ws = self.workspace
        current = self.source_combo.currentData()
        self.source_combo.clear()
        self.source_combo.addItem("All sources", None)
        if ws is None:
            return
        for source in content.list_sources(ws):
            label = source.title or source.location or source.kind
            self.source_combo.addItem(f"{label} ({source.kind})", source.id)
        found = self.source_combo.findData(current)
        self.source_combo.setCurrentIndex(max(0, found))

    def refresh_status(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        try:
            status = index.index_status(ws)
        except BotdeskError as exc:
            self.status_label.setText(str(exc))
            self.embed_button.setVisible(False)
            return
        self.status_label.setText(status.line())
        self.embed_button.setVisible(status.embedder != "none" and status.pending > 0)

    def _on_content_changed(self) -> None:
        self._fill_sources()
        self.refresh_status()
        if self.last_query and self.workspace is not None:
            self._run(self.last_query)  # show the effect of an exclusion or edit at once

    # -- searching ---------------------------------------------------------------------------
    def _options(self) -> dict[str, Any]:
        source_id = self.source_combo.currentData()
        prefix = self.prefix_edit.text().strip()
        filters = Filters((int(source_id),) if source_id is not None else (), prefix)
        return {
            "k": self.k_spin.value(),
            "mode": self.mode_combo.currentData(),
            "min_score": self.min_score_spin.value() if self.min_score_check.isChecked() else None,
            "filters": filters,
        }

    def search(self) -> None:
        """Search for the question in the box (Enter)."""
        query = self.question_edit.text().strip()
        if self.workspace is None:
            return
        if not query:
            self.context.messages.info("Type a question first.")
            return
        self.last_query = query
        self._run(query)

    def _run(self, query: str) -> None:
        ws = self.workspace
        assert ws is not None
        self.search_button.setEnabled(False)
        self._tasks.spawn(self._search(ws, query, self._options()))

    async def _search(self, ws: Workspace, query: str, options: dict[str, Any]) -> None:
        try:
            hits = await index.search(ws, query, **options)
        except BotdeskError as exc:
            self.search_failed.emit(exc)
            return
        except Exception as exc:  # a bug: the crash dialog, never a dead task
            self.context.messages.error(exc)
            return
        finally:
            self.search_button.setEnabled(True)
        self.results_ready.emit(hits)

    def _on_failed(self, exc: BotdeskError) -> None:
        self.empty_label.setText(str(exc))
        self.empty_label.setVisible(True)
        self.context.messages.error(exc)

    def _show_results(self, hits: SearchResults) -> None:
        selected = self.selected_hit()
        self.hits = hits
        self._fill_results()
        notes = "; ".join(hits.notes)
        if not hits:
            self.empty_label.setText(
                "No passage matches. Try other words, or check the passage is not excluded "
                "(Why not retrieved?)." + (f" Note: {notes}." if notes else "")
            )
        else:
            self.empty_label.setText(
                f"{len(hits)} passage(s), {hits.mode} search" + (f" — {notes}" if notes else "")
            )
        self.empty_label.setVisible(True)
        if selected is not None:
            self.select_hit(selected.chunk_id)

    def _fill_results(self) -> None:
        table = self.results_table
        table.setRowCount(len(self.hits))
        for row, hit in enumerate(self.hits):
            values = [
                str(hit.rank),
                f"{hit.score:.4f}",
                contribution(hit, "keyword"),
                contribution(hit, "vector"),
                " ".join(hit.text.split())[:300],
                hit.heading,
                source_label(hit.source),
            ]
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, hit.chunk_id)
                if column == PASSAGE_COLUMN:
                    item.setToolTip(hit.text[:2000])
                elif column > PASSAGE_COLUMN:
                    item.setToolTip(value)
                table.setItem(row, column, item)
        table.resizeColumnsToContents()
        for column in range(PASSAGE_COLUMN + 1, len(COLUMNS)):
            table.setColumnWidth(column, min(table.columnWidth(column), NARROW_COLUMN_MAX))
        self._show_selected()

    # -- the selected passage ----------------------------------------------------------------
    def selected_hit(self) -> SearchHit | None:
        rows = self.results_table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.hits):
            return None
        return self.hits[rows[0].row()]

    def select_hit(self, chunk_id: int) -> None:
        for row, hit in enumerate(self.hits):
            if hit.chunk_id == chunk_id:
                self.results_table.selectRow(row)
                return

    def _show_selected(self) -> None:
        hit = self.selected_hit()
        for button in (self.open_button, self.exclude_button, self.edit_button):
            button.setEnabled(hit is not None)
        if hit is None:
            self.passage_view.clear()
            return
        parts = [f"{mode} rank {rank}" for mode, rank in sorted(hit.ranks.items())]
        header = [
            source_label(hit.source),
            hit.heading,
            f"Passage {hit.chunk_id} · " + ", ".join(parts),
        ]
        self.passage_view.setPlainText("\n".join(h for h in header if h) + "\n\n" + hit.text)

    def open_selected(self) -> bool:
        """Show the passage in its document on the Content page."""
        hit = self.selected_hit()
        window: Any = self.window()
        if hit is None or not hasattr(window, "show_page"):
            return False
        try:
            page = window.show_page("Content")
        except KeyError:
            return False
        for step, value in (
            ("select_source", hit.source_id),
            ("select_document", hit.document_id),
        ):
            if value is not None and hasattr(page, step):
                getattr(page, step)(value)
        if hasattr(page, "select_passages"):
            page.select_passages([hit.chunk_id])
        return True

    def exclude_selected(self) -> bool:
        ws, hit = self.workspace, self.selected_hit()
        if ws is None or hit is None:
            return False
        return self._push(SetExcluded(ws, [hit.chunk_id], True, self._changed, self._error))

    def edit_passage(self, passage_id: int, text: str) -> bool:
        ws = self.workspace
        if ws is None:
            return False
        return self._push(EditPassage(ws, passage_id, text, self._changed, self._error))

    def open_edit_selected(self) -> PassageDialog | None:
        ws, hit = self.workspace, self.selected_hit()
        if ws is None or hit is None:
            return None
        try:
            passage = content.get_passage(ws, hit.chunk_id)
        except BotdeskError as exc:
            self._error(exc)
            return None
        dialog = PassageDialog(self, passage)

        def done() -> None:
            text = dialog.text()
            if dialog.result_action == "edit" and text.strip() != passage.text.strip():
                self.edit_passage(passage.id, text)

        dialog.accepted.connect(done)
        dialog.open()
        return dialog

    def _push(self, command: Any) -> bool:
        return self.context.push(command)

    def _changed(self) -> None:
        self.context.content_changed.emit()

    def _error(self, exc: BotdeskError) -> None:
        self.context.messages.error(exc)

    def embed_now(self) -> JobHandle | None:
        ws = self.workspace
        if ws is None:
            return None
        return self.context.jobs.start("Embed passages", lambda job: index.embed_pending(ws, job))

    # -- why not -----------------------------------------------------------------------------
    def find_candidates(self) -> None:
        """List passages matching the words (excluded ones too), to pick the expected one."""
        ws = self.workspace
        text = self.why_find_edit.text().strip()
        self.why_list.clear()
        if ws is None or not text:
            return
        try:
            if text.isdigit():
                found = [content.get_passage(ws, int(text))]
            else:
                found = content.list_passages(ws, query=text)[:50]
        except BotdeskError as exc:
            self.why_view.setPlainText(str(exc))
            return
        for passage in found:
            state = "" if passage.state == "included" else f" [{passage.state}]"
            snippet = " ".join(passage.text.split())[:120]
            item = QListWidgetItem(
                f"{passage.id}{state} · {passage.title or passage.uri}: {snippet}"
            )
            item.setData(Qt.ItemDataRole.UserRole, passage.id)
            self.why_list.addItem(item)
        if not found:
            self.why_view.setPlainText("No passage has these words.")
        else:
            self.why_list.setCurrentRow(0)

    def explain_selected_candidate(self) -> None:
        item = self.why_list.currentItem()
        if item is None:
            self.find_candidates()
            item = self.why_list.currentItem()
        if item is None:
            return
        self.explain(int(item.data(Qt.ItemDataRole.UserRole)))

    def explain(self, passage_id: int) -> None:
        """Why `passage_id` is not among the results for the current question and settings."""
        ws = self.workspace
        query = self.question_edit.text().strip() or self.last_query
        if ws is None:
            return
        if not query:
            self.why_view.setPlainText("Type the question first.")
            return
        options = self._options()
        self.why_view.setPlainText("Working…")

        async def work() -> None:
            try:
                result = await index.why_not(ws, query, passage_id, **options)
            except BotdeskError as exc:
                self.search_failed.emit(exc)
                self.why_view.setPlainText(str(exc))
                return
            except Exception as exc:  # a bug: the crash dialog
                self.why_view.setPlainText("Botdesk hit a bug; see the details.")
                self.context.messages.error(exc)
                return
            self.why_not_ready.emit(result)

        self._tasks.spawn(work())

    def _show_why_not(self, result: WhyNot) -> None:
        self.last_why = result
        self.why_view.setPlainText(why_not_text(result))

    async def wait_idle(self) -> None:
        """Wait for searches in flight (tests, closing)."""
        await self._tasks.wait_idle()
