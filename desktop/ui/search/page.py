"""The Search page: the retrieval preview. Type a question and see exactly which passages the
bot would be given, ranked, with each mode's rank and score; open a passage in its document,
exclude or edit it right there; and ask why a passage that should have come up did not.

Wiring only: the panels emit intents, `actions` calls the services. Searching runs as an
asyncio task (the question is embedded by the workspace's embedder).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from desktop.core.errors import BotdeskError
from desktop.core.store.workspace import Workspace
from desktop.services import content
from desktop.services.index import SearchHit, SearchResults, WhyNot
from desktop.ui.content.dialogs import PassageDialog
from desktop.ui.context import WindowContext
from desktop.ui.jobs import JobHandle
from desktop.ui.pages import Page
from desktop.ui.search import actions
from desktop.ui.search.models import CandidatesModel, HitsModel
from desktop.ui.search.panels import (
    PassagePanel,
    QueryPanel,
    ResultsPanel,
    StatusPanel,
    WhyNotPanel,
    why_not_text,
)
from desktop.ui.tasks import TaskSet
from desktop.ui.widgets import plain_label


class SearchPage(Page):
    """The retrieval preview."""

    title = "Search"
    # "Open in document": the window shows the hit's passage on the Content page.
    show_in_document = Signal(object)  # SearchHit

    def __init__(self, context: WindowContext) -> None:
        super().__init__(context)
        self._tasks = TaskSet()
        self.last_query = ""
        self.last_why: WhyNot | None = None
        self.hits_model = HitsModel()
        self.candidates_model = CandidatesModel()

        self.query = QueryPanel()
        self.status = StatusPanel()
        self.results = ResultsPanel(self.hits_model)
        self.passage = PassagePanel()
        self.why = WhyNotPanel(self.candidates_model)
        self._lay_out()

        self.query.search_requested.connect(self.search)
        self.status.embed_requested.connect(self.embed_now)
        self.results.hit_selected.connect(self.passage.show_hit)
        self.passage.open_requested.connect(self.open_selected)
        self.passage.exclude_requested.connect(self.exclude_selected)
        self.passage.edit_requested.connect(self.open_edit_selected)
        self.why.find_requested.connect(self.find_candidates)
        self.why.explain_requested.connect(self.explain)
        context.content_changed.connect(self._on_content_changed)
        context.jobs.job_finished.connect(lambda *_: self.refresh_status())
        self.on_workspace_changed(context.workspace)

    def _lay_out(self) -> None:
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.passage)
        lower.addWidget(self.why)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(self.results)
        body.addWidget(lower)
        body.setStretchFactor(0, 3)
        body.setStretchFactor(1, 2)
        self.no_workspace_label = plain_label("Open or create a workspace to preview retrieval.")
        self.main = QWidget()
        main_layout = QVBoxLayout(self.main)
        main_layout.setContentsMargins(0, 0, 0, 0)
        main_layout.addWidget(self.query)
        main_layout.addWidget(self.status)
        main_layout.addWidget(body, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.no_workspace_label)
        layout.addWidget(self.main, 1)

    # -- workspace -------------------------------------------------------------------------
    @property
    def workspace(self) -> Workspace | None:
        return self.context.workspace

    @property
    def hits(self) -> SearchResults:
        return self.hits_model.results

    def on_workspace_changed(self, workspace: Workspace | None) -> None:
        self._tasks.cancel_all()
        self.no_workspace_label.setVisible(workspace is None)
        self.main.setVisible(workspace is not None)
        self.last_query = ""
        self.hits_model.set_results(SearchResults(mode="keyword"))
        self.results.summary_label.setVisible(False)
        self.why.clear()
        if workspace is not None:
            self.query.set_sources(actions.source_choices(workspace))
            self.refresh_status()

    def refresh_status(self) -> None:
        if self.workspace is not None:
            line, can_embed = actions.status(self.workspace)
            self.status.show_status(line, can_embed=can_embed)

    def _on_content_changed(self) -> None:
        if self.workspace is None:
            return
        self.query.set_sources(actions.source_choices(self.workspace))
        self.refresh_status()
        if self.last_query:
            self._run(self.last_query)  # show the effect of an exclusion or edit at once

    # -- searching ---------------------------------------------------------------------------
    def search(self) -> None:
        """Search for the question in the box (Enter)."""
        if self.workspace is None:
            return
        query = self.query.question()
        if not query:
            self.context.messages.info("Type a question first.")
            return
        self.last_query = query
        self._run(query)

    def _run(self, query: str) -> None:
        ws = self.workspace
        assert ws is not None
        self.query.set_busy(True)
        self._spawn(
            actions.search(self.context, ws, query, self.query.options()), self._show_results
        )

    def _spawn(self, work: Awaitable[Any], then: Callable[[Any], None]) -> None:
        """Run a service call as a task; a known error is shown plainly, a bug as a crash."""

        async def task() -> None:
            try:
                result = await work
            except BotdeskError as exc:
                self._on_failed(exc)
                return
            except Exception as exc:  # a bug: the crash dialog, never a dead task
                self.context.messages.error(exc)
                return
            finally:
                self.query.set_busy(False)
            then(result)

        self._tasks.spawn(task())

    def _on_failed(self, exc: BotdeskError) -> None:
        self.results.show_summary(str(exc))
        self.context.messages.error(exc)

    def _show_results(self, hits: SearchResults) -> None:
        selected = self.results.selected_hit()
        self.hits_model.set_results(hits)
        notes = "; ".join(hits.notes)
        if not hits:
            self.results.show_summary(
                "No passage matches. Try other words, or check the passage is not excluded "
                "(Why not retrieved?)." + (f" Note: {notes}." if notes else "")
            )
        else:
            self.results.show_summary(
                f"{len(hits)} passage(s), {hits.mode} search" + (f" — {notes}" if notes else "")
            )
        if selected is not None:
            self.results.select_chunk(selected.chunk_id)

    # -- the selected passage ----------------------------------------------------------------
    def selected_hit(self) -> SearchHit | None:
        return self.results.selected_hit()

    def select_hit(self, chunk_id: int) -> None:
        self.results.select_chunk(chunk_id)

    def open_selected(self) -> bool:
        """Ask the window to show the passage in its document on the Content page."""
        hit = self.selected_hit()
        if hit is None:
            return False
        self.show_in_document.emit(hit)
        return True

    def exclude_selected(self) -> bool:
        ws, hit = self.workspace, self.selected_hit()
        if ws is None or hit is None:
            return False
        return actions.exclude_passage(self.context, ws, hit.chunk_id)

    def edit_passage(self, passage_id: int, text: str) -> bool:
        ws = self.workspace
        return ws is not None and actions.edit_passage(self.context, ws, passage_id, text)

    def open_edit_selected(self) -> PassageDialog | None:
        ws, hit = self.workspace, self.selected_hit()
        if ws is None or hit is None:
            return None
        try:
            passage = content.get_passage(ws, hit.chunk_id)
        except BotdeskError as exc:
            self.context.messages.error(exc)
            return None
        dialog = PassageDialog(self, passage)

        def done() -> None:
            text = dialog.text()
            if dialog.result_action == "edit" and text.strip() != passage.text.strip():
                self.edit_passage(passage.id, text)

        dialog.accepted.connect(done)
        dialog.open()
        return dialog

    def embed_now(self) -> JobHandle | None:
        ws = self.workspace
        return None if ws is None else actions.embed_pending(self.context, ws)

    # -- why not -----------------------------------------------------------------------------
    def find_candidates(self, text: str) -> None:
        """List passages matching the words (excluded ones too), to pick the expected one."""
        ws = self.workspace
        self.candidates_model.set_passages([])
        if ws is None or not text:
            return
        try:
            found = actions.find_candidates(ws, text)
        except BotdeskError as exc:
            self.why.show_text(str(exc))
            return
        self.candidates_model.set_passages(found)
        if found:
            self.why.select_first()
        else:
            self.why.show_text("No passage has these words.")

    def explain(self, passage_id: int) -> None:
        """Why `passage_id` is not among the results for the current question and settings."""
        ws = self.workspace
        query = self.query.question() or self.last_query
        if ws is None:
            return
        if not query:
            self.why.show_text("Type the question first.")
            return
        self.why.show_text("Working…")

        def show_why(result: WhyNot) -> None:
            self.last_why = result
            self.why.show_text(why_not_text(result))

        async def work() -> WhyNot:
            try:
                return await actions.why_not(
                    self.context, ws, query, passage_id, self.query.options()
                )
            except BotdeskError as exc:
                self.why.show_text(str(exc))
                raise
            except Exception:
                self.why.show_text("Botdesk hit a bug; see the details.")
                raise

        self._spawn(work(), show_why)

    async def wait_idle(self) -> None:
        """Wait for searches in flight (tests, closing)."""
        await self._tasks.wait_idle()
