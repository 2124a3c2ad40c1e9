"""The Content page: sources ▸ documents ▸ [extracted Markdown | passages], curation, sync.

Wiring only: the page builds the panels, reads what they show through the content
service, connects their intent signals to the actions (undoable edits, jobs) and the
dialogs, and refreshes when the content changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QSplitter, QStackedWidget, QVBoxLayout, QWidget

from desktop.core.content.models import PassageInfo, SourceInfo
from desktop.core.errors import BotdeskError
from desktop.core.store.workspace import Workspace
from desktop.services import content, content_sources
from desktop.ui.content.actions import ContentActions, SyncOutcome, failed_items, skipped_items
from desktop.ui.content.page_dialogs import ContentDialogs
from desktop.ui.content.panels import (
    ContentToolbar,
    DocumentsPanel,
    EmptyState,
    SourcesPanel,
    SummaryBar,
)
from desktop.ui.content.reading import MarkdownPanel, PassagesPanel
from desktop.ui.context import WindowContext
from desktop.ui.jobs import JobHandle
from desktop.ui.pages import Page

# While a sync runs, the lists catch up every few seconds (documents appear as they are
# fetched); catching up with 1,000 documents costs ~30-60 ms.
SYNC_REFRESH_MS = 4000


class ContentPage(ContentDialogs, Page):
    """Sources ▸ documents ▸ [extracted Markdown | passages], with curation and sync."""

    title = "Content"

    def __init__(self, context: WindowContext) -> None:
        super().__init__(context)
        self.content_actions = ContentActions(context, self)
        self.last_sync: SyncOutcome | None = None
        self._staged = False  # the next refresh follows a sync: staged over two turns
        self._pending_reading: bool | None = None  # a staged documents load is queued
        self.toolbar = ContentToolbar()
        self.sources = SourcesPanel()
        self.documents = DocumentsPanel()
        self.reader = MarkdownPanel()
        self.passages = PassagesPanel()
        self.summary = SummaryBar()
        self.empty = EmptyState()
        self.stack = QStackedWidget()
        self._sync_refresh = QTimer(self)
        self._sync_refresh.setInterval(SYNC_REFRESH_MS)
        self._sync_refresh.timeout.connect(self.catch_up)
        self._lay_out()
        self._connect()
        self.on_workspace_changed(context.workspace)

    def _lay_out(self) -> None:
        left = QSplitter(Qt.Orientation.Vertical)
        left.setChildrenCollapsible(False)
        left.addWidget(self.sources)
        left.addWidget(self.documents)
        left.setSizes([250, 420])
        reading = QSplitter(Qt.Orientation.Horizontal)
        reading.setChildrenCollapsible(False)
        reading.addWidget(self.reader)
        reading.addWidget(self.passages)
        reading.setSizes([420, 480])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.setChildrenCollapsible(False)
        main.addWidget(left)
        main.addWidget(reading)
        main.setStretchFactor(0, 3)
        main.setStretchFactor(1, 7)
        main.setSizes([420, 780])  # a third for sources and documents, at any width
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.addWidget(main, 1)
        body_layout.addWidget(self.summary)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(body)
        layout = QVBoxLayout(self)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.stack, 1)

    def _connect(self) -> None:
        bar, actions = self.toolbar, self.content_actions
        bar.add_site_requested.connect(self.open_add_site)
        bar.add_files_requested.connect(actions.add_files)
        bar.add_text_requested.connect(self.open_add_text)
        bar.add_qa_requested.connect(self.open_add_qa)
        bar.repeated_requested.connect(self.open_boilerplate)
        bar.flagged_requested.connect(self.open_flagged)
        bar.sync_requested.connect(self.start_sync)
        self.sources.selection_changed.connect(self._on_source_selected)
        self.sources.settings_requested.connect(self.open_source_settings)
        self.sources.sync_requested.connect(self._sync_chosen_source)
        self.sources.remove_requested.connect(self.remove_chosen_source)
        self.documents.selection_changed.connect(self._on_document_selected)
        self.documents.exclude_toggled.connect(self.toggle_document_excluded)
        self.documents.pattern_requested.connect(self.open_exclude_pattern)
        self.passages.search_changed.connect(self._search)
        self.passages.selection_changed.connect(self._on_passages_selected)
        self.passages.edit_requested.connect(self.open_edit_passage)
        self.passages.exclude_requested.connect(self.set_chosen_excluded)
        self.passages.add_requested.connect(self.open_add_passage)
        self.summary.errors_requested.connect(self.show_sync_errors)
        self.summary.skipped_requested.connect(self.show_skipped)
        actions.sources_added.connect(self._on_added)
        actions.sync_started.connect(self._on_sync_started)
        actions.sync_finished.connect(self._on_sync_finished)
        find = QShortcut(QKeySequence.StandardKey.Find, self)
        find.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.activated.connect(self.passages.focus_search)
        self.context.content_changed.connect(self.refresh)

    @property
    def sync_job(self) -> JobHandle | None:
        return self.content_actions.sync_job

    def start_sync(self, source_ids: Sequence[int] | None = None) -> JobHandle | None:
        """Sync every source (or those given): Workspace ▸ Sync (F5) calls this."""
        return self.content_actions.start_sync(source_ids)

    def on_workspace_changed(self, workspace: Workspace | None) -> None:
        self.passages.clear_search()
        self.reader.show_document(None)
        self.last_sync = None
        self._staged = False
        self.summary.clear()
        self.refresh()

    @property
    def refresh_pending(self) -> bool:
        """A sync has ended and the page has not yet shown all of its outcome."""
        return self._staged or self._pending_reading is not None

    # -- reading -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload sources, documents and passages, keeping what was chosen.

        After a sync (and while one runs) the documents follow at the event loop's next
        turn: the window gets a turn between the two reads of a large site, and the other
        pages' refreshes of the same change do not add up with this one in one stall."""
        if self.content_actions.passages_only and self.workspace is not None:
            # An edit of passages alone: the lists of sources and documents are unchanged.
            self._load_document()
            return
        ws = self.workspace
        sources = content_sources.list_sources(ws) if ws is not None else []
        self.stack.setCurrentIndex(1 if sources else 0)
        self.sources.set_sources(sources)
        if self.last_sync is None and self.content_actions.sync_job is None:
            # No sync in this session yet: what the sources' last syncs stored.
            self.summary.show_counts(
                len(failed_items(None, sources)), skipped_items(None, sources)[0]
            )
        staged, self._staged = self._staged, False
        if staged:
            self._load_documents_later(reload_reading=True)
        else:
            self._load_documents(reload_reading=True)

    def catch_up(self) -> None:
        """During a sync: the counts, then the documents list; the reading panes only when
        the chosen document changed (keeps the periodic cost low)."""
        if self.workspace is None:
            return
        sources = content_sources.list_sources(self.workspace)
        self.stack.setCurrentIndex(1 if sources else 0)
        self.sources.set_sources(sources)
        self._load_documents_later(reload_reading=False)

    def _load_documents_later(self, *, reload_reading: bool) -> None:
        if self._pending_reading is None:
            QTimer.singleShot(0, self, self._load_pending_documents)
        self._pending_reading = bool(self._pending_reading) or reload_reading

    def _load_pending_documents(self) -> None:
        reload_reading, self._pending_reading = bool(self._pending_reading), None
        self._load_documents(reload_reading=reload_reading)

    def _load_documents(self, *, reload_reading: bool) -> None:
        ws, source = self.workspace, self.sources.current()
        shown = self.reader.document.id if self.reader.document is not None else None
        docs = content.list_documents(ws, source_id=source.id) if ws and source else []
        root = source.location if source is not None and source.kind == "files" else ""
        chosen = self.documents.set_documents(docs, root)
        if reload_reading or chosen != shown:
            self._load_document()
        self._update_buttons()

    def _load_document(self) -> None:
        ws, document_id = self.workspace, self.documents.current_id()
        detail = None
        if ws is not None and document_id is not None:
            try:
                detail = content.get_document(ws, document_id)
            except BotdeskError:
                detail = None
        self.reader.show_document(detail)
        if self.passages.search_results:
            self._search(self.passages.query())
        else:
            self._show_passages(
                content.list_passages(ws, document_id=document_id)
                if ws is not None and document_id is not None
                else [],
                search_results=False,
            )

    def _show_passages(self, passages: Sequence[PassageInfo], *, search_results: bool) -> None:
        self.passages.set_passages(passages, search_results=search_results)
        self._on_passages_selected()

    def _search(self, query: str) -> None:
        """Full-text search over every passage; an empty query goes back to the document."""
        ws = self.workspace
        if ws is None:
            return
        if not query:
            if self.passages.search_results:
                self.passages.model.search_results = False
                self._load_document()
            return
        try:
            found = content.list_passages(ws, query=query)
        except BotdeskError as exc:
            self.passages.label.setText(str(exc))
            found = []
        self._show_passages(found, search_results=True)
        self.passages.label.setText(f"{len(found)} passages match “{query}”.")

    def search(self, query: str) -> list[PassageInfo]:
        """Search as if typed and Enter pressed; the results replace the passages list."""
        self.passages.search_edit.setText(query)
        self.passages.search_edit.returnPressed.emit()
        return self.passages.passages

    # -- selection (also how Search ▸ Open in document shows a passage here) -------------
    def select_source(self, source_id: int | None) -> None:
        self.sources.select(source_id)
        self._on_source_selected()

    def select_document(self, document_id: int | None) -> None:
        self.documents.select(document_id)
        self._on_document_selected()

    def select_passages(self, ids: Sequence[int]) -> None:
        self.passages.select_ids(ids)

    def selected_passage_ids(self) -> list[int]:
        return self.passages.selected_ids()

    def _on_source_selected(self) -> None:
        self.sources.describe(self.sources.current())
        self._load_documents(reload_reading=True)

    def _on_document_selected(self) -> None:
        if self.passages.search_results:
            self.passages.clear_search()
            self.passages.model.search_results = False
        self._load_document()
        self._update_buttons()

    def _on_passages_selected(self) -> None:
        chosen = self.passages.selected()
        ws, document = self.workspace, self.reader.document
        if self.passages.search_results and chosen and ws is not None:
            first = chosen[0]
            if document is None or document.id != first.document_id:
                try:
                    self.reader.show_document(content.get_document(ws, first.document_id))
                except BotdeskError as exc:
                    self.context.messages.error(exc)
        self.passages.show_chosen(chosen)
        self.reader.highlight(self.passages.passages, {p.id for p in chosen})
        self._update_buttons()

    def _update_buttons(self) -> None:
        syncing = self.content_actions.sync_job is not None
        self.toolbar.update_state(
            has_workspace=self.workspace is not None,
            has_sources=bool(self.sources.model.rows),
            syncing=syncing,
        )
        self.sources.update_state(syncing=syncing)
        self.documents.update_state()
        self.passages.update_state(has_document=self.documents.current() is not None)

    # -- actions on what is chosen -------------------------------------------------------
    def set_chosen_excluded(self, excluded: bool) -> bool:
        ids = [p.id for p in self.passages.selected() if p.excluded != excluded]
        return self.content_actions.set_excluded(ids, excluded)

    def toggle_document_excluded(self) -> bool:
        doc = self.documents.current()
        return doc is not None and self.content_actions.set_document_excluded(
            doc.id, not doc.excluded
        )

    def remove_chosen_source(self) -> bool:
        source = self.sources.current()
        return source is not None and self.content_actions.remove_source(source)

    def _sync_chosen_source(self) -> None:
        source_id = self.sources.current_id()
        if source_id is not None:
            self.start_sync([source_id])

    def _on_added(self, sources: Sequence[SourceInfo]) -> None:
        if sources:
            self.sources.select(sources[-1].id)
            self._on_source_selected()

    # -- sync ----------------------------------------------------------------------------
    def _on_sync_started(self, handle: JobHandle) -> None:
        self._sync_refresh.start()
        self.summary.label.setText(
            f"{handle.title}: running (progress and Cancel in the jobs panel)"
        )
        self.summary.show_counts(0, 0)
        self._update_buttons()

    def _on_sync_finished(self, outcome: SyncOutcome) -> None:
        self._sync_refresh.stop()
        self._staged = True  # the refresh the sync's end triggers comes next
        self.last_sync = outcome
        self.summary.label.setText(f"{outcome.event.title}: {outcome.event.summary}")
        self.summary.show_counts(len(outcome.errors), outcome.skipped_count)
