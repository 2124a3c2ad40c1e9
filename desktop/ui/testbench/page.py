"""The Test bench page: wiring only. One question answered by profiles A and B side by side,
and the test set with its runs. Panels emit what the user asks for; actions and the answer
runner do it; this class connects the two and reloads what changed."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.core.answering.testruns import RunInfo, RunResult
from desktop.core.store.workspace import Workspace
from desktop.services import answers
from desktop.services.answers import AnswerProfile, AnswerResult, TestQuestion
from desktop.services.workspaces import outside_change_count
from desktop.ui.context import WindowContext
from desktop.ui.jobs import JobHandle
from desktop.ui.pages import Page
from desktop.ui.testbench import dialogs, texts
from desktop.ui.testbench.actions import TestBenchActions, unique_copy_name
from desktop.ui.testbench.answer_column import ProfileColumn
from desktop.ui.testbench.answering import AnswerRunner
from desktop.ui.testbench.panels import AskBar, ModelNeededPanel
from desktop.ui.testbench.testset_panels import QuestionsPanel, RunsPanel
from desktop.ui.widgets import debounce, plain_label

# How often the page looks whether another program (the command line) changed the file:
# one `pragma data_version`, microseconds, no disk access.
OUTSIDE_CHANGE_POLL_MS = 1500
SETTINGS_SHOWN_SETTING = "testbench/settings_shown"  # the profile settings unfolded
MODEL_CHECK_DELAY_MS = 200


class TestBenchPage(Page):
    """Answers side by side, and the test sets that measure them."""

    title = "Test bench"
    __test__ = False
    model_setup_requested = Signal()  # "Set up a model…": the window opens the model set-up

    def __init__(self, context: WindowContext) -> None:
        super().__init__(context)
        self.edits = TestBenchActions(context)
        self.runner = AnswerRunner(context)
        self.runs: list[RunInfo] = []
        self.shown_results: list[RunResult] = []
        self._seen_version: int | None = None
        self._seen_state: int | None = None  # answers.bench_state when last reloaded

        self.ask_bar = AskBar()
        self.model_panel = ModelNeededPanel()
        self.column_a = ProfileColumn("a")
        self.column_b = ProfileColumn("b")
        self.questions = QuestionsPanel()
        self.runs_panel = RunsPanel()
        self.no_workspace_label = plain_label("Open or create a workspace to ask questions.")
        self.tabs = QTabWidget()
        self._lay_out()
        self._wire()
        saved = context.settings
        if saved is not None and saved.value(SETTINGS_SHOWN_SETTING, False, type=bool):
            self._settings_toggled(True)
        self.outside_changes = QTimer(self)
        self.outside_changes.setInterval(OUTSIDE_CHANGE_POLL_MS)
        self.outside_changes.timeout.connect(self.reload_if_changed_outside)
        # Settings change in bursts (a profile chosen sets every field): check once after.
        self.model_check_delay = debounce(self, self._check_models_now, MODEL_CHECK_DELAY_MS)
        self.on_workspace_changed(context.workspace)

    def _lay_out(self) -> None:
        columns = QSplitter(Qt.Orientation.Horizontal)
        columns.addWidget(self.column_a)
        columns.addWidget(self.column_b)
        columns.setChildrenCollapsible(False)
        ask_tab = QWidget()
        ask_layout = QVBoxLayout(ask_tab)
        ask_layout.addWidget(self.model_panel)
        ask_layout.addWidget(self.ask_bar)
        ask_layout.addWidget(columns, 1)
        tests_tab = QSplitter(Qt.Orientation.Vertical)
        tests_tab.addWidget(self.questions)
        tests_tab.addWidget(self.runs_panel)
        tests_tab.setChildrenCollapsible(False)
        # Below their minimum height (a laptop with the jobs dock open) the tabs scroll
        # instead of making the window taller than the screen.
        self.tabs.addTab(FitScrollArea(ask_tab), "Side by side")
        self.tabs.addTab(FitScrollArea(tests_tab), "Test set && runs")
        layout = QVBoxLayout(self)
        layout.addWidget(self.no_workspace_label)
        layout.addWidget(self.tabs, 1)

    def _wire(self) -> None:
        self.ask_bar.ask_requested.connect(self.ask)
        self.ask_bar.add_requested.connect(self.edits.add_question)
        for column in (self.column_a, self.column_b):
            column.save_requested.connect(self.edits.save_profile)
            column.new_requested.connect(partial(self._new_profile, column))
            column.rename_requested.connect(self._rename_profile)
            column.delete_requested.connect(self._delete_profile)
            column.generator_changed.connect(self.check_models)
            column.settings_toggled.connect(self._settings_toggled)
        self.edits.questions_changed.connect(self.reload_questions)
        self.edits.profiles_changed.connect(self.reload_profiles)
        self.edits.profile_renamed.connect(self._follow_rename)
        self.questions.import_requested.connect(self._import_dialog)
        self.questions.export_requested.connect(self._export_dialog)
        self.questions.edit_requested.connect(self.edit_question)
        self.questions.delete_requested.connect(self.delete_questions)
        self.questions.run_requested.connect(self.run_tests)
        self.questions.cancel_requested.connect(self.runner.cancel_run)
        self.runs_panel.run_chosen.connect(self._show_run)
        self.runs_panel.result_chosen.connect(self._show_result)
        self.runner.delta_received.connect(lambda side, text: self.column(side).append_delta(text))
        self.runner.answer_ready.connect(self._on_answer)
        self.runner.answer_failed.connect(self._on_answer_failed)
        self.runner.asking_changed.connect(self.ask_bar.set_busy)
        self.runner.model_checked.connect(self._on_model_checked)
        self.runner.run_progress.connect(self.questions.show_progress)
        self.runner.run_finished.connect(self._on_run_finished)
        self.model_panel.setup_requested.connect(self.model_setup_requested.emit)
        self.model_panel.recheck_requested.connect(self.check_models)

    def _settings_toggled(self, shown: bool) -> None:
        """Both columns fold and unfold together (they are compared side by side), and the
        choice is kept for the next start."""
        for column in (self.column_a, self.column_b):
            column.show_settings(shown)
        if self.context.settings is not None:
            self.context.settings.setValue(SETTINGS_SHOWN_SETTING, shown)

    # -- workspace -------------------------------------------------------------------------
    @property
    def workspace(self) -> Workspace | None:
        return self.context.workspace

    def on_workspace_changed(self, workspace: Workspace | None) -> None:
        self.runner.stop()
        self.no_workspace_label.setVisible(workspace is None)
        self.tabs.setEnabled(workspace is not None)
        # Nothing of the last workspace stays on screen (its question, answers, results).
        self.ask_bar.set_question("")
        self.column_a.clear()
        self.column_b.clear()
        self.model_panel.hide()
        self.runs_panel.show_detail("")
        if workspace is None:
            self.model_check_delay.stop()
            self.outside_changes.stop()
            self._seen_version = None
            return
        self._seen_version = outside_change_count(workspace)
        self.runs = []
        self.reload_all()
        self.check_models()
        self.outside_changes.start()

    def reload_all(self) -> None:
        self.reload_profiles()
        self.reload_questions()
        self.reload_runs()
        if self.workspace is not None:
            self._seen_state = answers.bench_state(self.workspace)

    def reload_if_changed_outside(self) -> None:
        """Another program wrote to the workspace (e.g. `botdesk profile set`): show it."""
        ws = self.workspace
        if ws is None:
            return
        version = outside_change_count(ws)
        if version == self._seen_version:
            return
        self._seen_version = version
        # A sync commits on its own connection too: reload only when the bench's rows did.
        state = answers.bench_state(ws)
        if state != self._seen_state:
            self._seen_state = state
            self.reload_all()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.reload_if_changed_outside()
        self.check_models()

    def column(self, side: str) -> ProfileColumn:
        return self.column_a if side == "a" else self.column_b

    # -- profiles --------------------------------------------------------------------------
    def reload_profiles(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        profiles = answers.list_profiles(ws)
        names = [p.name for p in profiles]
        self.column_a.load_profiles(profiles)
        shown_b = self.column_b.name()
        other = next((n for n in names if n != "default"), "default")
        self.column_b.load_profiles(profiles, shown_b if shown_b in names else other)

    def _follow_rename(self, old: str, new: str) -> None:
        for column in (self.column_a, self.column_b):
            column.follow_rename(old, new)

    def _new_profile(self, column: ProfileColumn, settings: AnswerProfile) -> None:
        suggested = unique_copy_name(settings, set(column.profiles)).name
        dialogs.ask_text(
            self,
            "New profile",
            "Name of the new profile (it starts with the settings shown):",
            suggested,
            lambda name: self._create_profile(column, replace(settings, name=name)),
        )

    def _create_profile(self, column: ProfileColumn, profile: AnswerProfile) -> None:
        ws = self.workspace
        if ws is not None and self.edits.create_profile(profile):
            column.load_profiles(answers.list_profiles(ws), profile.name)

    def _rename_profile(self, name: str) -> None:
        dialogs.ask_text(
            self,
            "Rename profile",
            f"New name for {name}:",
            name,
            lambda new: self.edits.rename_profile(name, new),
        )

    def _delete_profile(self, name: str) -> None:
        dialogs.confirm(
            self,
            "Delete profile",
            f"Delete the profile {name}? Past runs keep their copy of its settings; "
            "Edit ▸ Undo brings it back.",
            "Delete",
            lambda: self.edits.delete_profile(name),
        )

    # -- asking ----------------------------------------------------------------------------
    def ask(self, question: str | None = None) -> None:
        """Ask the question with both columns' settings at once (Ctrl+Enter)."""
        ws = self.workspace
        question = self.ask_bar.question() if question is None else question.strip()
        if ws is None:
            return
        if not question:
            self.context.messages.info("Type a question first.")
            return
        for column in (self.column_a, self.column_b):
            column.start_answer()
        self.runner.ask(
            ws, question, self.column_a.current_profile(), self.column_b.current_profile()
        )

    def ask_question(self, question: str) -> None:
        """Put a question in the box and ask it (the first-run guide's first question)."""
        self.ask_bar.set_question(question)
        self.tabs.setCurrentIndex(0)
        self.ask(question)

    def _on_answer(self, side: str, result: AnswerResult) -> None:
        self.column(side).show_result(result)

    def _on_answer_failed(self, side: str, reason: str) -> None:
        self.column(side).show_error(reason)

    def check_models(self) -> None:
        """Show the "Answers need a model" panel when neither column's generator answers
        (checked while the page is on screen, shortly after the settings settle)."""
        if self.workspace is not None and self.isVisible():
            self.model_check_delay.start()

    def _check_models_now(self) -> None:
        if self.workspace is None:
            return
        generators = [c.current_profile().generator for c in (self.column_a, self.column_b)]
        self.runner.check_models([g for g in generators if g])

    def _on_model_checked(self, reason: str) -> None:
        if reason:
            self.model_panel.show_reason(reason)
        else:
            self.model_panel.hide()

    async def wait_idle(self) -> None:
        """Wait for answers and checks in flight (tests, closing)."""
        await self.runner.tasks.wait_idle()

    # -- the test set ----------------------------------------------------------------------
    def reload_questions(self) -> None:
        ws = self.workspace
        if ws is not None:
            running = self.runner.run_job is not None
            self.questions.show_questions(answers.list_questions(ws), running=running)

    def edit_question(self, question: TestQuestion) -> dialogs.QuestionDialog:
        dialog = dialogs.QuestionDialog(question, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.edits.edit_question(question, dialog.question()))
        dialog.open()
        return dialog

    def delete_questions(self, chosen: list[TestQuestion]) -> None:
        if not chosen:
            return
        what = f"“{chosen[0].question}”" if len(chosen) == 1 else f"these {len(chosen)} questions"
        dialogs.confirm(
            self,
            "Delete test questions",
            f"Delete {what} from the test set? Edit ▸ Undo (Ctrl+Z) puts them back.",
            "Delete",
            lambda: self.edits.delete_questions(chosen),
        )

    def _import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import test set", "", "Test sets (*.csv *.jsonl)"
        )
        if path:
            self.edits.import_file(path)

    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export test set", "test-set.csv", "CSV (*.csv);;JSON lines (*.jsonl)"
        )
        if path:
            self.edits.export_file(Path(path))

    def run_tests(self, with_a: bool, with_b: bool, concurrency: int) -> JobHandle | None:
        """Start the test-set run as a job (progress and cancel in the jobs dock and here)."""
        ws = self.workspace
        if ws is None:
            return None
        chosen = [(with_a, self.column_a), (with_b, self.column_b)]
        profiles = [column.current_profile() for wanted, column in chosen if wanted]
        if not profiles:
            self.context.messages.info("Choose profile A, B or both to run the test set with.")
            return None
        wants_bundle, bundle = self.questions.bundle_choice()
        if wants_bundle and bundle is None:
            self.context.messages.info("Choose the bundle file to test, or untick the option.")
            return None
        handle = self.runner.run_tests(ws, profiles, concurrency, bundle)
        if handle is not None:
            self.questions.set_running(True)
        return handle

    def _on_run_finished(self, summary: str) -> None:
        self.questions.set_running(False)
        self.questions.show_progress(summary)
        self.reload_questions()
        self.reload_runs(newest=True)

    # -- runs ------------------------------------------------------------------------------
    def reload_runs(self, *, newest: bool = False) -> None:
        """The kept runs; the one on screen stays chosen unless `newest` (a run just ended)."""
        ws = self.workspace
        if ws is None:
            return
        shown = self.runs_panel.shown_index()
        shown_id = self.runs[shown].id if 0 <= shown < len(self.runs) and not newest else None
        self.runs = answers.list_runs(ws)
        ids = [r.id for r in self.runs]
        chosen = ids.index(shown_id) if shown_id in ids else 0
        self.runs_panel.show_runs([texts.run_label(r) for r in self.runs], chosen)

    def _show_run(self, index: int) -> None:
        ws = self.workspace
        panel = self.runs_panel
        if ws is None or not 0 <= index < len(self.runs):
            self.shown_results = []
            panel.show_run("No runs yet.", "", [], {})
            return
        run = self.runs[index]
        previous = self.runs[index + 1] if index + 1 < len(self.runs) else None
        changes: dict[tuple[str, str], str] = {}
        comparison = "No previous run to compare with."
        if previous is not None:
            diff = answers.compare_runs(ws, previous.id, run.id)
            changes = {(c.question, c.profile): c.change for c in diff.changes}
            comparison = texts.comparison_text(diff)
        self.shown_results = answers.run_results(ws, run.id)
        panel.show_run(texts.totals_text(run.totals), comparison, self.shown_results, changes)

    def _show_result(self, row: int) -> None:
        if 0 <= row < len(self.shown_results):
            self.runs_panel.show_detail(texts.result_detail(self.shown_results[row]))


class FitScrollArea(QScrollArea):
    """A scroll area whose content fills the viewport and scrolls only below its minimum
    size. (A resizable QScrollArea sizes content by heightForWidth, the preferred height,
    so wrapped labels made it scroll on a large screen too.)"""

    def __init__(self, content: QWidget) -> None:
        super().__init__()
        self.setWidget(content)
        self.setWidgetResizable(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        content.installEventFilter(self)

    def fit(self) -> None:
        content = self.widget()
        if content is not None:
            content.resize(self.viewport().size().expandedTo(content.minimumSizeHint()))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.fit()  # the content's minimum changed (a panel shown or hidden)
        return super().eventFilter(watched, event)
