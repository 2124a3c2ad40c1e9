"""The Conversations page: gaps first, then filtered threads, per-release rates and leads.

Wiring only: panels emit intents, `actions` runs the services (pull and Q&A passages as
jobs in the jobs panel, through each JobHandle's own signals). "Open passage" is emitted as
`open_passage_requested(passage_id)` for the window to show it on the Content page.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.core.errors import BotdeskError
from desktop.core.jobs import JobEvent, JobState
from desktop.core.store.workspace import Workspace
from desktop.services import answers, conversations
from desktop.ui.context import WindowContext
from desktop.ui.conversations import actions
from desktop.ui.conversations.dialogs import (
    PrivacyDialog,
    QaDialog,
    ReaskDialog,
    TestQuestionDialog,
)
from desktop.ui.conversations.models import (
    ConversationsModel,
    GapQuestionsModel,
    GapsModel,
    LeadsModel,
    ReleaseStatsModel,
)
from desktop.ui.conversations.panels import FilterPanel, GapsPanel, ThreadPanel
from desktop.ui.jobs import JobHandle
from desktop.ui.pages import Page
from desktop.ui.tasks import TaskSet
from desktop.ui.widgets import plain_label, table_view


class ConversationsPage(Page):
    title = "Conversations"
    open_passage_requested = Signal(int)

    def __init__(self, context: WindowContext) -> None:
        super().__init__(context)
        self._tasks = TaskSet()
        # How re-asked questions reach models and search (tests give stand-ins).
        self.pull_job: JobHandle | None = None
        self.gaps_job: JobHandle | None = None
        self.gaps_model = GapsModel()
        self.gap_questions_model = GapQuestionsModel()
        self.conversations_model = ConversationsModel()
        self.stats_model = ReleaseStatsModel()
        self.leads_model = LeadsModel()

        self.pull_button = QPushButton("Pull conversations")
        self.pull_button.clicked.connect(self.start_pull)
        self.privacy_button = QPushButton("Privacy…")
        self.privacy_button.setToolTip("Masking of e-mail and phone numbers; how long to keep")
        self.privacy_button.clicked.connect(self.privacy_dialog)
        self.last_pull = plain_label("")
        self.gaps = GapsPanel(self.gaps_model, self.gap_questions_model)
        self.filters = FilterPanel()
        self.list_view = table_view(self.conversations_model, stretch=1)
        self.thread_panel = ThreadPanel()
        self.stats_view = table_view(self.stats_model, stretch=0)
        self.leads_view = table_view(self.leads_model, stretch=5)
        for column, width in enumerate((82, 0, 110)):
            if width:
                self.list_view.setColumnWidth(column, width)
        self.stats_view.setColumnWidth(0, 200)
        self.export_button = QPushButton("Export leads to CSV…")
        self.export_button.clicked.connect(self.export_leads_dialog)
        self._lay_out()

        self.filters.filters_changed.connect(self.refresh_list)
        self.list_view.selectionModel().currentRowChanged.connect(self._show_selected)
        self.gaps.add_qa_requested.connect(self.add_qa_dialog)
        self.gaps.add_test_requested.connect(self.add_test_dialog)
        self.gaps.open_conversation_requested.connect(self.open_conversation)
        self.thread_panel.add_test_requested.connect(self.add_test_dialog)
        self.thread_panel.reask_requested.connect(self.reask_dialog)
        self.thread_panel.add_qa_requested.connect(self.add_qa_dialog)
        self.thread_panel.open_passage_requested.connect(self.open_passage_requested.emit)
        self.thread_panel.forget_requested.connect(self.forget)
        self.on_workspace_changed(context.workspace)

    def _lay_out(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.pull_button)
        top.addWidget(self.last_pull, 1)
        top.addWidget(self.privacy_button)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.gaps, "Gaps")
        browse = QWidget()
        browse_layout = QVBoxLayout(browse)
        browse_layout.setContentsMargins(0, 4, 0, 0)
        browse_layout.addWidget(self.filters)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.list_view)
        splitter.addWidget(self.thread_panel)
        splitter.setSizes([420, 480])
        browse_layout.addWidget(splitter, 1)
        self.tabs.addTab(browse, "Conversations")
        stats = QWidget()
        stats_layout = QVBoxLayout(stats)
        stats_layout.setContentsMargins(0, 4, 0, 0)
        stats_layout.addWidget(
            plain_label(
                "Shares of each release's answers that declined, got a thumbs down, or cited "
                "a passage. After a publish, pull again to see whether a fix worked."
            )
        )
        stats_layout.addWidget(self.stats_view, 1)
        self.tabs.addTab(stats, "Per release")
        leads = QWidget()
        leads_layout = QVBoxLayout(leads)
        leads_layout.setContentsMargins(0, 4, 0, 0)
        leads_layout.addWidget(self.leads_view, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.export_button)
        leads_layout.addLayout(row)
        self.tabs.addTab(leads, "Leads")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)

    # -- loading -----------------------------------------------------------------------
    def on_workspace_changed(self, workspace: Workspace | None) -> None:
        self._tasks.cancel_all()
        self.thread_panel.show_conversation(None)
        self.reload()

    def reload(self) -> None:
        ws = self.context.workspace
        self.pull_button.setEnabled(ws is not None and self.pull_job is None)
        self.privacy_button.setEnabled(ws is not None)
        if ws is None:
            for model in (
                self.gaps_model,
                self.conversations_model,
                self.stats_model,
                self.leads_model,
                self.gap_questions_model,
            ):
                model.set_rows([])
            self.last_pull.setText("")
            return
        self.last_pull.setText(actions.pull_line(conversations.last_pull(ws)))
        stats = conversations.release_stats(ws)
        self.stats_model.set_rows(stats)
        self.filters.set_releases(
            [
                (f"release {s.version or ''} {s.release_id}".replace("  ", " "), s.release_id)
                for s in stats
                if s.release_id
            ]
        )
        self.leads_model.set_rows(conversations.list_leads(ws))
        self.export_button.setEnabled(bool(self.leads_model.rows))
        self.refresh_list()
        self.refresh_gaps()

    def refresh_list(self) -> None:
        ws = self.context.workspace
        if ws is None:
            return
        try:
            values = self.filters.values()
            found = conversations.list_conversations(
                ws,
                kind=values["kind"] or "all",
                release_id=values["release_id"],
                since=values["since"],
                until=values["until"],
                text=values["text"],
                limit=2000,
            )
        except BotdeskError as exc:
            self.context.messages.error(exc)
            return
        self.conversations_model.set_rows(found)

    def refresh_gaps(self) -> None:
        ws = self.context.workspace
        if ws is None or self.gaps_job is not None:
            return
        if not conversations.has_failed_questions(ws):
            # Nothing to group: no job (opening a workspace stays instant, closing too).
            self._gaps_done(None, conversations.GapReport("none", "", 0, []))
            return
        self.gaps.summary.setText("Grouping the questions the live bot failed…")
        self.gaps_job = self.context.jobs.start_on_thread(
            "Find gaps", ws, actions.gaps_work(self.context.backends)
        )
        self.gaps_job.finished.connect(self._gaps_done)

    def _gaps_done(self, event: JobEvent | None, report: conversations.GapReport | None) -> None:
        self.gaps_job = None
        if report is None:
            assert event is not None
            self.gaps.summary.setText(event.summary)
            return
        self.gaps_model.set_rows(report.gaps)
        if not report.gaps:
            self.gaps.summary.setText(
                "No gaps: no pulled question was declined or got a thumbs down."
                if report.questions == 0 and self.conversations_model.rows
                else "No gaps yet. Pull the live bot's conversations to find them."
            )
            return
        note = f" ({report.note})" if report.note else ""
        self.gaps.summary.setText(
            f"{report.questions} failed question(s) in {len(report.gaps)} group(s), "
            f"largest first{note}. Fix a group with a Q&A passage, then publish."
        )
        self.gaps.gaps_view.selectRow(0)

    # -- pull --------------------------------------------------------------------------
    def start_pull(self) -> None:
        ws = self.context.workspace
        if ws is None or self.pull_job is not None:
            return
        self.pull_button.setEnabled(False)
        self.pull_job = self.context.jobs.start_on_thread(
            "Pull conversations", ws, actions.pull_work(self.context.backends)
        )
        self.pull_job.finished.connect(self._pull_done)

    def _pull_done(self, event: JobEvent, result: Any) -> None:
        self.pull_job = None
        if event.state is JobState.FINISHED:
            self.context.messages.info(event.summary)
        self.reload()

    # -- a conversation ----------------------------------------------------------------
    def _show_selected(self) -> None:
        row = self.conversations_model.row_at(self.list_view.currentIndex().row())
        if row is not None:
            self.open_conversation(row.id, switch=False)

    def open_conversation(self, conversation_id: str, *, switch: bool = True) -> None:
        ws = self.context.workspace
        if ws is None:
            return
        try:
            self.thread_panel.show_conversation(conversations.show(ws, conversation_id))
        except BotdeskError as exc:
            self.context.messages.error(exc)
            return
        if switch:
            self.tabs.setCurrentIndex(1)

    def add_test_dialog(self, conversation_id: str, message_id: str) -> TestQuestionDialog | None:
        ws = self.context.workspace
        if ws is None:
            return None
        try:
            proposed = conversations.proposed_test(ws, conversation_id, message_id)
        except BotdeskError as exc:
            self.context.messages.error(exc)
            return None
        dialog = TestQuestionDialog(proposed, self)
        dialog.accepted.connect(lambda: self._save_test(conversation_id, dialog))
        dialog.open()
        return dialog

    def _save_test(self, conversation_id: str, dialog: TestQuestionDialog) -> None:
        ws = self.context.workspace
        if ws is None:
            return
        try:
            question, report = conversations.add_to_test_set(
                ws, conversation_id, question=dialog.test_question()
            )
        except BotdeskError as exc:
            self.context.messages.error(exc)
            return
        verb = "Added to" if report.added else "Updated in"
        self.context.messages.info(f"{verb} the test set: {question.question}")

    def add_qa_dialog(self, question: str) -> QaDialog | None:
        if self.context.workspace is None:
            return None
        dialog = QaDialog(question, self)
        dialog.accepted.connect(
            lambda: self.add_qa(dialog.question.text(), dialog.answer.toPlainText())
        )
        dialog.open()
        return dialog

    def add_qa(self, question: str, answer: str) -> JobHandle | None:
        ws = self.context.workspace
        if ws is None:
            return None
        handle = self.context.jobs.start(
            "Add Q&A passage", actions.add_qa_work(ws, question, answer, self.context.backends)
        )
        handle.finished.connect(lambda *_: self.context.content_changed.emit())
        return handle

    def reask_dialog(self, conversation_id: str, message_id: str) -> ReaskDialog | None:
        ws = self.context.workspace
        if ws is None:
            return None
        view = conversations.show(ws, conversation_id)
        messages = [m.message for m in view.messages]
        index = next((i for i, m in enumerate(messages) if m.id == message_id), 0)
        question = messages[index].text
        after = messages[index + 1] if index + 1 < len(messages) else None
        live = after.text if after is not None and after.role == "assistant" else "(no answer)"
        profiles = [p.name for p in answers.list_profiles(ws)] or ["default"]
        dialog = ReaskDialog(question, live, profiles, self)

        def ask(profile_a: str, profile_b: str) -> None:
            dialog.ask_button.setEnabled(False)
            dialog.show_answers("Asking…", "Asking…")
            self._tasks.spawn(self._reask(dialog, question, profile_a, profile_b))

        dialog.ask_requested.connect(ask)
        dialog.open()
        return dialog

    async def _reask(self, dialog: ReaskDialog, question: str, a: str, b: str) -> None:
        ws = self.context.workspace
        if ws is None:
            return
        try:
            first, second = await actions.reask(ws, question, a, b, self.context.backends)
        except BotdeskError as exc:
            dialog.show_answers(f"(failed: {exc})", f"(failed: {exc})")
        else:
            dialog.show_answers(first, second)
        dialog.ask_button.setEnabled(True)

    def forget(self, conversation_id: str, *, confirm: bool = True) -> None:
        ws = self.context.workspace
        if ws is None:
            return
        if confirm and self.context.messages.modal_dialogs:
            answer = QMessageBox.question(
                self,
                "Forget conversation",
                f"Delete conversation {conversation_id} here and ask the service to delete it?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._tasks.spawn(self._forget(conversation_id))

    async def _forget(self, conversation_id: str) -> None:
        ws = self.context.workspace
        if ws is None:
            return
        try:
            result = await conversations.forget(ws, conversation_id, backends=self.context.backends)
        except BotdeskError as exc:
            self.context.messages.error(exc)
            return
        self.context.messages.info(result.line())
        self.thread_panel.show_conversation(None)
        self.reload()

    def privacy_dialog(self) -> PrivacyDialog | None:
        ws = self.context.workspace
        if ws is None:
            return None
        mask, days = conversations.privacy_settings(ws)
        dialog = PrivacyDialog(mask, days, self)
        dialog.accepted.connect(lambda: self._save_privacy(dialog))
        dialog.open()
        return dialog

    def _save_privacy(self, dialog: PrivacyDialog) -> None:
        ws = self.context.workspace
        if ws is None:
            return
        try:
            conversations.set_privacy(
                ws, mask=dialog.mask_box.isChecked(), retention_days=dialog.days_spin.value()
            )
        except BotdeskError as exc:
            self.context.messages.error(exc)
            return
        self.context.messages.info("Saved; the next pull applies the retention period.")

    def export_leads_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export leads", "leads.csv", "CSV (*.csv)")
        if path:
            self.export_leads(path)

    def export_leads(self, path: str) -> int:
        ws = self.context.workspace
        if ws is None:
            return 0
        try:
            count = conversations.export_leads_csv(ws, path)
        except BotdeskError as exc:
            self.context.messages.error(exc)
            return 0
        self.context.messages.info(f"Wrote {count} lead(s) to {path}.")
        return count
