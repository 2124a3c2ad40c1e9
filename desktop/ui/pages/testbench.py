"""The Test bench page: one question answered by profiles A and B side by side, and test sets.

Answers stream into plain-text views whose [n] citations are links handled in the app
(they show the passage; nothing is ever opened in a browser or from file://). Any setting
can be changed on one side and the question re-asked without saving the profile.
Test-set runs are jobs in the jobs dock (progress, cancel); their results, totals and the
comparison with the previous run show below the questions.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
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
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop.core.errors import BotdeskError
from desktop.core.jobs import Job, JobEvent, JobState
from desktop.core.source_ref import SourceRef
from desktop.core.store.workspace import Workspace
from desktop.services import answers
from desktop.services.answers import AnswerBackends, AnswerProfile, AnswerResult
from desktop.ui.context import WindowContext
from desktop.ui.jobs import JobHandle
from desktop.ui.pages import Page
from desktop.ui.tasks import TaskSet

MODES = ("hybrid", "vector", "keyword")
FAIL_COLOUR = QColor("#c0392b")
PASS_COLOUR = QColor("#1e8449")


def render_answer(text: str, *, given: int | None = None, invalid: set[int] | None = None) -> str:
    """The answer as safe HTML: escaped text, each [n] a `cite:n` link (red when not given)."""
    invalid = invalid or set()
    out: list[str] = []
    last = 0
    for match in answers.CITATION_PATTERN.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        links = []
        for n in answers.cited_numbers(match.group(0)):
            bad = n in invalid or (given is not None and n > given)
            style = ' style="color:#c0392b"' if bad else ""
            title = "not among the passages given" if bad else f"passage {n}"
            links.append(f'<a href="cite:{n}" title="{title}"{style}>[{n}]</a>')
        out.append("".join(links))
        last = match.end()
    out.append(html.escape(text[last:]))
    return '<div style="white-space: pre-wrap">' + "".join(out) + "</div>"


class QuestionEdit(QPlainTextEdit):
    """The question box: Ctrl+Enter asks."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class ProfileColumn(QWidget):
    """One side: a profile and its editable settings, the streaming answer and what it used."""

    save_requested = Signal(object)  # AnswerProfile

    def __init__(self, side: str) -> None:
        super().__init__()
        self.side = side
        self.profiles: dict[str, AnswerProfile] = {}
        self.result: AnswerResult | None = None
        self._text = ""
        self._loading = False

        self.profile_combo = QComboBox()
        self.profile_combo.setObjectName(f"profile-{side}")
        self.profile_combo.currentTextChanged.connect(self._on_profile_chosen)
        self.edited_label = QLabel("")
        self.save_button = QPushButton("Save to profile")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(lambda: self.save_requested.emit(self.current_profile()))
        header = QHBoxLayout()
        header.addWidget(QLabel(f"Profile {side.upper()}"))
        header.addWidget(self.profile_combo, 1)
        header.addWidget(self.edited_label)
        header.addWidget(self.save_button)

        self.generator_edit = QLineEdit()
        self.generator_edit.setPlaceholderText("ollama:MODEL or mistral:MODEL")
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(MODES)
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 50)
        self.min_score_check = QCheckBox("minimum score")
        self.min_score_spin = QDoubleSpinBox()
        self.min_score_spin.setDecimals(3)
        self.min_score_spin.setRange(-1000.0, 1000.0)
        self.min_score_spin.setSingleStep(0.05)
        self.min_score_check.toggled.connect(self.min_score_spin.setEnabled)
        self.temperature_spin = QDoubleSpinBox()
        self.temperature_spin.setRange(0.0, 2.0)
        self.temperature_spin.setSingleStep(0.1)
        self.max_tokens_spin = QSpinBox()
        self.max_tokens_spin.setRange(1, 32768)
        self.refusal_edit = QLineEdit()
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setMaximumHeight(80)
        retrieval = QHBoxLayout()
        retrieval.addWidget(self.mode_combo)
        retrieval.addWidget(QLabel("k"))
        retrieval.addWidget(self.k_spin)
        retrieval.addWidget(self.min_score_check)
        retrieval.addWidget(self.min_score_spin)
        generation = QHBoxLayout()
        generation.addWidget(QLabel("temperature"))
        generation.addWidget(self.temperature_spin)
        generation.addWidget(QLabel("max tokens"))
        generation.addWidget(self.max_tokens_spin)
        generation.addStretch(1)
        form = QFormLayout()
        form.addRow("Generator", self.generator_edit)
        form.addRow("Retrieval", retrieval)
        form.addRow("Generation", generation)
        form.addRow("Refusal", self.refusal_edit)
        form.addRow("System prompt", self.prompt_edit)
        settings_box = QGroupBox("Settings (change and re-ask; saving is optional)")
        settings_box.setLayout(form)
        for signal in (
            self.generator_edit.textEdited,
            self.mode_combo.currentTextChanged,
            self.k_spin.valueChanged,
            self.min_score_check.toggled,
            self.min_score_spin.valueChanged,
            self.temperature_spin.valueChanged,
            self.max_tokens_spin.valueChanged,
            self.refusal_edit.textEdited,
            self.prompt_edit.textChanged,
        ):
            signal.connect(self._on_edited)

        self.answer_view = QTextBrowser()
        self.answer_view.setObjectName(f"answer-{side}")
        # Links are ours to handle: never navigate, never open a browser or a file.
        self.answer_view.setOpenLinks(False)
        self.answer_view.setOpenExternalLinks(False)
        self.answer_view.anchorClicked.connect(self._on_anchor)
        self.answer_view.setPlaceholderText("The answer appears here as it is generated.")
        self.status_label = QLabel("")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setWordWrap(True)
        self.citations_list = QListWidget()
        self.citations_list.setMaximumHeight(90)
        self.citations_list.currentRowChanged.connect(self._on_citation_row)
        self.passages_list = QListWidget()
        self.passages_list.currentRowChanged.connect(self._show_passage)
        self.passage_view = QPlainTextEdit()
        self.passage_view.setReadOnly(True)
        self.passage_view.setPlaceholderText("Click a citation or a passage to read it here.")

        answer_box = QWidget()
        answer_layout = QVBoxLayout(answer_box)
        answer_layout.setContentsMargins(0, 0, 0, 0)
        answer_layout.addWidget(self.answer_view, 1)
        answer_layout.addWidget(self.status_label)
        answer_layout.addWidget(QLabel("Citations"))
        answer_layout.addWidget(self.citations_list)
        passages = QSplitter(Qt.Orientation.Horizontal)
        passages.addWidget(self.passages_list)
        passages.addWidget(self.passage_view)
        passages_box = QWidget()
        passages_layout = QVBoxLayout(passages_box)
        passages_layout.setContentsMargins(0, 0, 0, 0)
        passages_layout.addWidget(QLabel("Passages given"))
        passages_layout.addWidget(passages, 1)
        # The user decides what gets the room: settings, the answer, or the passages.
        parts = QSplitter(Qt.Orientation.Vertical)
        parts.addWidget(settings_box)
        parts.addWidget(answer_box)
        parts.addWidget(passages_box)
        parts.setStretchFactor(1, 3)
        parts.setStretchFactor(2, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addWidget(parts, 1)

    # -- profiles ----------------------------------------------------------------------
    def load_profiles(self, profiles: list[AnswerProfile], select: str | None = None) -> None:
        current = select or self.profile_combo.currentText()
        self.profiles = {p.name: p for p in profiles}
        self._loading = True
        self.profile_combo.clear()
        self.profile_combo.addItems(list(self.profiles))
        self._loading = False
        if current in self.profiles:
            self.profile_combo.setCurrentText(current)
        if self.profiles:
            self._on_profile_chosen(self.profile_combo.currentText())

    def _on_profile_chosen(self, name: str) -> None:
        if self._loading or name not in self.profiles:
            return
        self.show_settings(self.profiles[name])

    def show_settings(self, profile: AnswerProfile) -> None:
        self._loading = True
        self.generator_edit.setText(profile.generator)
        self.mode_combo.setCurrentText(profile.mode)
        self.k_spin.setValue(profile.k)
        self.min_score_check.setChecked(profile.min_score is not None)
        self.min_score_spin.setEnabled(profile.min_score is not None)
        self.min_score_spin.setValue(profile.min_score or 0.0)
        self.temperature_spin.setValue(profile.temperature)
        self.max_tokens_spin.setValue(profile.max_tokens)
        self.refusal_edit.setText(profile.refusal)
        self.prompt_edit.setPlainText(profile.system_prompt)
        self._loading = False
        self._on_edited()

    def current_profile(self) -> AnswerProfile:
        """The settings as shown, saved or not, under the chosen profile's name."""
        name = self.profile_combo.currentText() or "default"
        base = self.profiles.get(name) or AnswerProfile(
            name=name, generator="", system_prompt=answers.default_system_prompt()
        )
        mode = self.mode_combo.currentText()
        return replace(
            base,
            generator=self.generator_edit.text().strip(),
            mode=mode if mode in MODES else "hybrid",  # type: ignore[arg-type]
            k=self.k_spin.value(),
            min_score=self.min_score_spin.value() if self.min_score_check.isChecked() else None,
            temperature=round(self.temperature_spin.value(), 3),
            max_tokens=self.max_tokens_spin.value(),
            refusal=self.refusal_edit.text(),
            system_prompt=self.prompt_edit.toPlainText(),
        )

    def _on_edited(self, *_args: object) -> None:
        if self._loading:
            return
        saved = self.profiles.get(self.profile_combo.currentText())
        edited = saved is not None and self.current_profile() != saved
        self.edited_label.setText("edited, not saved" if edited else "")
        self.save_button.setEnabled(edited)

    # -- the answer ----------------------------------------------------------------------
    def start_answer(self) -> None:
        self.result = None
        self._text = ""
        self.answer_view.setHtml("")
        self.citations_list.clear()
        self.passages_list.clear()
        self.passage_view.clear()
        self.status_label.setText("Answering…")

    def append_delta(self, text: str) -> None:
        self._text += text
        self.answer_view.setHtml(render_answer(self._text))

    def answer_text(self) -> str:
        return self.answer_view.toPlainText()

    def show_result(self, result: AnswerResult) -> None:
        self.result = result
        self._text = result.answer
        self.answer_view.setHtml(
            render_answer(
                result.answer, given=len(result.passages), invalid=set(result.invalid_citations)
            )
        )
        self.citations_list.clear()
        for c in result.citations:
            self.citations_list.addItem(f"[{c.n}] {c.source.label()}  (passage {c.chunk_id})")
        for n in result.invalid_citations:
            item = QListWidgetItem(f"[{n}] not among the passages given: an invented citation")
            item.setForeground(FAIL_COLOUR)
            self.citations_list.addItem(item)
        self.passages_list.clear()
        for p in result.passages:
            heading = f" · {p.heading}" if p.heading else ""
            self.passages_list.addItem(
                f"[{p.n}] {p.source.label()}{heading}  (score {p.score:.3g})"
            )
        self.status_label.setText(self.status_text(result))

    @staticmethod
    def status_text(result: AnswerResult) -> str:
        parts: list[str] = []
        if result.error:
            parts.append(f"Could not answer: {result.error}")
        if result.declined:
            parts.append("Declined.")
        if result.prompt_tokens is not None:
            parts.append(f"Tokens {result.prompt_tokens} in + {result.completion_tokens} out")
        else:
            parts.append("Tokens: n/a")
        if result.first_token_s is not None:
            parts.append(f"first token {result.first_token_s:.2f} s")
        if result.total_s is not None:
            parts.append(f"total {result.total_s:.2f} s")
        parts.append("cost n/a" if result.cost is None else f"cost ${result.cost:.6f}")
        parts.extend(f"Note: {n}" for n in result.notes)
        return " · ".join(parts)

    def show_error(self, text: str) -> None:
        self.status_label.setText(f"Could not answer: {text}")

    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() != "cite":
            return  # only our own citation links do anything
        try:
            n = int(url.path() or url.toString().split(":", 1)[1])
        except (ValueError, IndexError):
            return
        self.show_citation(n)

    def show_citation(self, n: int) -> None:
        """Show passage n (or say it was not given)."""
        if self.result is None:
            return
        for row, p in enumerate(self.result.passages):
            if p.n == n:
                self.passages_list.setCurrentRow(row)
                self._show_passage(row)
                return
        self.passage_view.setPlainText(f"[{n}] was not among the passages given to the model.")

    def _on_citation_row(self, row: int) -> None:
        if self.result is not None and 0 <= row < len(self.result.citations):
            self.show_citation(self.result.citations[row].n)

    def _show_passage(self, row: int) -> None:
        if self.result is None or not 0 <= row < len(self.result.passages):
            return
        p = self.result.passages[row]
        heading = f"\nSection: {p.heading}" if p.heading else ""
        self.passage_view.setPlainText(
            f"[{p.n}] {p.source.label()}{heading}\nPassage {p.chunk_id} · score "
            f"{p.score:.4g}\n\n{p.text}"
        )


class TestSetsPanel(QWidget):
    """Saved questions, import/export, runs with progress, results, totals, comparison."""

    run_requested = Signal(bool, bool, int)  # with A, with B, concurrency
    __test__ = False

    def __init__(self) -> None:
        super().__init__()
        self.questions_table = QTableWidget(0, 5)
        self.questions_table.setHorizontalHeaderLabels(
            ["Question", "Expected source", "Must include", "Must not include", "Should decline"]
        )
        self.questions_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.questions_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.questions_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch
        )
        self.empty_label = QLabel(
            "No test questions yet. Import a CSV or JSONL file with a `question` column "
            "(and optionally expected_source, must_include, must_not_include, should_decline)."
        )
        self.empty_label.setWordWrap(True)
        self.import_button = QPushButton("Import…")
        self.export_button = QPushButton("Export…")
        self.delete_button = QPushButton("Delete selected")
        self.with_a = QCheckBox("Profile A")
        self.with_a.setChecked(True)
        self.with_b = QCheckBox("Profile B")
        self.concurrency_spin = QSpinBox()
        self.concurrency_spin.setRange(1, 32)
        self.concurrency_spin.setValue(answers.DEFAULT_CONCURRENCY)
        self.run_button = QPushButton("Run test set")
        self.cancel_button = QPushButton("Cancel run")
        self.cancel_button.setEnabled(False)
        self.run_button.clicked.connect(
            lambda: self.run_requested.emit(
                self.with_a.isChecked(), self.with_b.isChecked(), self.concurrency_spin.value()
            )
        )
        # What is tested is what goes live: optionally search a built bundle file instead.
        self.bundle_check = QCheckBox("Search a built bundle file instead of the workspace:")
        self.bundle_edit = QLineEdit()
        self.bundle_edit.setPlaceholderText("bundle file built by Publish")
        self.bundle_edit.setEnabled(False)
        self.bundle_browse = QPushButton("Choose…")
        self.bundle_browse.setEnabled(False)
        self.bundle_check.toggled.connect(self.bundle_edit.setEnabled)
        self.bundle_check.toggled.connect(self.bundle_browse.setEnabled)
        self.bundle_browse.clicked.connect(self._choose_bundle)
        bundle_row = QHBoxLayout()
        bundle_row.addWidget(self.bundle_check)
        bundle_row.addWidget(self.bundle_edit, 1)
        bundle_row.addWidget(self.bundle_browse)
        self.progress_label = QLabel("")
        self.progress_label.setTextFormat(Qt.TextFormat.PlainText)
        buttons = QHBoxLayout()
        for widget in (self.import_button, self.export_button, self.delete_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        buttons.addWidget(QLabel("Run with"))
        buttons.addWidget(self.with_a)
        buttons.addWidget(self.with_b)
        buttons.addWidget(QLabel("at once"))
        buttons.addWidget(self.concurrency_spin)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)

        self.runs_combo = QComboBox()
        self.results_table = QTableWidget(0, 9)
        self.results_table.setHorizontalHeaderLabels(
            [
                "Question",
                "Profile",
                "Result",
                "Checks",
                "Citations",
                "Tokens",
                "Latency",
                "Cost",
                "Change",
            ]
        )
        self.results_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch
        )
        self.result_detail = QPlainTextEdit()
        self.result_detail.setReadOnly(True)
        self.result_detail.setMaximumHeight(110)
        self.totals_label = QLabel("")
        self.totals_label.setTextFormat(Qt.TextFormat.PlainText)
        self.totals_label.setWordWrap(True)
        self.comparison_label = QLabel("")
        self.comparison_label.setTextFormat(Qt.TextFormat.PlainText)
        self.comparison_label.setWordWrap(True)
        runs_row = QHBoxLayout()
        runs_row.addWidget(QLabel("Run"))
        runs_row.addWidget(self.runs_combo, 1)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.addWidget(self.empty_label)
        top_layout.addWidget(self.questions_table)
        top_layout.addLayout(buttons)
        top_layout.addLayout(bundle_row)
        top_layout.addWidget(self.progress_label)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.addLayout(runs_row)
        bottom_layout.addWidget(self.totals_label)
        bottom_layout.addWidget(self.comparison_label)
        bottom_layout.addWidget(self.results_table, 1)
        bottom_layout.addWidget(self.result_detail)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        layout = QVBoxLayout(self)
        layout.addWidget(split)

    def _choose_bundle(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Bundle to test", "", "All files (*)")
        if path:
            self.bundle_edit.setText(path)

    def bundle_path(self) -> str | None:
        """The bundle file to search, or None for the workspace."""
        if not self.bundle_check.isChecked():
            return None
        return self.bundle_edit.text().strip() or None


class TestBenchPage(Page):
    """Answers side by side, and the test sets that measure them."""

    title = "Test bench"
    __test__ = False
    delta_received = Signal(str, str)  # side, text
    answer_ready = Signal(str, object)  # side, AnswerResult

    def __init__(self, context: WindowContext) -> None:
        super().__init__(context)
        # How answers reach models and search; tests point it at loopback stand-ins.
        self.backends_factory: Callable[[], AnswerBackends] = AnswerBackends
        self._tasks = TaskSet()
        self.run_job: JobHandle | None = None
        self.shown_results: list[dict[str, Any]] = []

        self.question_edit = QuestionEdit()
        self.question_edit.setObjectName("question")
        self.question_edit.setPlaceholderText(
            "Ask a question a visitor would ask… (Ctrl+Enter asks both profiles)"
        )
        self.question_edit.setMaximumHeight(70)
        self.question_edit.submitted.connect(self.ask)
        self.ask_button = QPushButton("Ask both  (Ctrl+Enter)")
        self.ask_button.clicked.connect(self.ask)
        self.add_question_button = QPushButton("Add to test set")
        self.add_question_button.clicked.connect(self.add_current_question)
        ask_row = QHBoxLayout()
        ask_row.addWidget(self.question_edit, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.ask_button)
        buttons.addWidget(self.add_question_button)
        ask_row.addLayout(buttons)

        self.column_a = ProfileColumn("a")
        self.column_b = ProfileColumn("b")
        for column in (self.column_a, self.column_b):
            column.save_requested.connect(self.save_profile)
        columns = QSplitter(Qt.Orientation.Horizontal)
        columns.addWidget(self.column_a)
        columns.addWidget(self.column_b)
        ask_tab = QWidget()
        ask_layout = QVBoxLayout(ask_tab)
        ask_layout.addLayout(ask_row)
        ask_layout.addWidget(columns, 1)

        self.tests = TestSetsPanel()
        self.tests.import_button.clicked.connect(self._import_dialog)
        self.tests.export_button.clicked.connect(self._export_dialog)
        self.tests.delete_button.clicked.connect(self.delete_selected_questions)
        self.tests.run_requested.connect(self.run_tests)
        self.tests.cancel_button.clicked.connect(self.cancel_run)
        self.tests.runs_combo.currentIndexChanged.connect(self._on_run_chosen)
        self.tests.results_table.currentCellChanged.connect(
            lambda row, *_: self._show_result_detail(row)
        )

        self.tabs = QTabWidget()
        self.tabs.addTab(ask_tab, "Side by side")
        self.tabs.addTab(self.tests, "Test set && runs")
        self.no_workspace_label = QLabel("Open or create a workspace to ask questions.")
        layout = QVBoxLayout(self)
        layout.addWidget(self.no_workspace_label)
        layout.addWidget(self.tabs, 1)

        self.delta_received.connect(self._on_delta)
        self.answer_ready.connect(self._on_answer)
        context.jobs.job_changed.connect(self._on_job_changed)
        context.jobs.job_finished.connect(self._on_job_finished)
        self.on_workspace_changed(context.workspace)

    # -- workspace ---------------------------------------------------------------------
    @property
    def workspace(self) -> Workspace | None:
        return self.context.workspace

    def on_workspace_changed(self, workspace: Workspace | None) -> None:
        self._tasks.cancel_all()
        self.no_workspace_label.setVisible(workspace is None)
        self.tabs.setEnabled(workspace is not None)
        if workspace is None:
            return
        self.reload_profiles()
        self.column_a.start_answer()
        self.column_b.start_answer()
        self.column_a.status_label.setText("")
        self.column_b.status_label.setText("")
        self.reload_questions()
        self.reload_runs()

    def _call(self, action: Callable[[], Any]) -> Any:
        """Run a service call; a known error becomes a message, never a crash."""
        try:
            return action()
        except BotdeskError as exc:
            self.context.messages.error(exc)
            return None

    def reload_profiles(self, select_a: str | None = None, select_b: str | None = None) -> None:
        ws = self.workspace
        if ws is None:
            return
        profiles = answers.list_profiles(ws)
        self.column_a.load_profiles(profiles, select_a)
        other = next((p.name for p in profiles if p.name != "default"), "default")
        self.column_b.load_profiles(
            profiles, select_b or self.column_b.profile_combo.currentText() or other
        )

    def save_profile(self, profile: AnswerProfile) -> None:
        ws = self.workspace
        if ws is None:
            return
        saved = self._call(lambda: answers.set_profile(ws, profile.name, **profile.settings()))
        if saved is not None:
            self.reload_profiles(
                self.column_a.profile_combo.currentText(), self.column_b.profile_combo.currentText()
            )
            self.context.messages.info(f"Saved profile {saved.name}.")

    # -- asking ------------------------------------------------------------------------
    def ask(self) -> None:
        """Ask the question with both columns' settings at once (Ctrl+Enter)."""
        ws = self.workspace
        question = self.question_edit.toPlainText().strip()
        if ws is None or not question:
            if not question:
                self.context.messages.info("Type a question first.")
            return
        profiles = (self.column_a.current_profile(), self.column_b.current_profile())
        self.column_a.start_answer()
        self.column_b.start_answer()
        self.ask_button.setEnabled(False)
        self._tasks.spawn(self._ask_both(ws, question, *profiles))

    async def _ask_both(
        self, ws: Workspace, question: str, a: AnswerProfile, b: AnswerProfile
    ) -> None:
        backends = self.backends_factory()
        try:
            await asyncio.gather(
                self._ask_one(ws, question, a, "a", backends),
                self._ask_one(ws, question, b, "b", backends),
            )
        finally:
            self.ask_button.setEnabled(True)

    async def _ask_one(
        self, ws: Workspace, question: str, profile: AnswerProfile, side: str, backends: Any
    ) -> None:
        try:
            result = await answers.ask(
                ws,
                question,
                profile=profile,
                on_delta=lambda text: self.delta_received.emit(side, text),
                backends=backends,
            )
        except BotdeskError as exc:  # a profile setting that does not validate
            self._column(side).show_error(str(exc))
            return
        except Exception as exc:  # a bug: the crash dialog, and the other side goes on
            self._column(side).show_error("Botdesk hit a bug; see the details.")
            self.context.messages.error(exc)
            return
        self.answer_ready.emit(side, result)

    def _column(self, side: str) -> ProfileColumn:
        return self.column_a if side == "a" else self.column_b

    def _on_delta(self, side: str, text: str) -> None:
        self._column(side).append_delta(text)

    def _on_answer(self, side: str, result: AnswerResult) -> None:
        self._column(side).show_result(result)

    async def wait_idle(self) -> None:
        """Wait for answers in flight (tests, closing)."""
        await self._tasks.wait_idle()

    # -- test set ----------------------------------------------------------------------
    def reload_questions(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        questions = answers.list_questions(ws)
        table = self.tests.questions_table
        table.setRowCount(len(questions))
        for row, q in enumerate(questions):
            decline = "" if q.should_decline is None else ("yes" if q.should_decline else "no")
            cells = [
                q.question,
                q.expected_source,
                " | ".join(q.must_include),
                " | ".join(q.must_not_include),
                decline,
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, q.id)
                table.setItem(row, column, item)
        self.tests.empty_label.setVisible(not questions)
        self.tests.run_button.setEnabled(bool(questions) and self.run_job is None)

    def import_file(self, path: str | Path) -> None:
        ws = self.workspace
        if ws is None:
            return
        report = self._call(lambda: answers.import_test_set(ws, path))
        if report is not None:
            self.reload_questions()
            self.context.messages.info(
                f"Imported {report.added} new and {report.updated} updated questions."
            )

    def export_file(self, path: str | Path) -> None:
        ws = self.workspace
        if ws is None:
            return
        count = self._call(lambda: answers.export_test_set(ws, path))
        if count is not None:
            self.context.messages.info(f"Exported {count} questions to {path}.")

    def _import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import test set", "", "Test sets (*.csv *.jsonl)"
        )
        if path:
            self.import_file(path)

    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export test set", "test-set.csv", "CSV (*.csv);;JSON lines (*.jsonl)"
        )
        if path:
            self.export_file(path)

    def add_current_question(self) -> None:
        ws = self.workspace
        question = self.question_edit.toPlainText().strip()
        if ws is None or not question:
            return
        report = self._call(lambda: answers.add_question(ws, answers.TestQuestion(question)))
        if report is not None:
            self.reload_questions()
            self.context.messages.info("Added to the test set.")

    def delete_selected_questions(self) -> None:
        ws = self.workspace
        table = self.tests.questions_table
        rows = sorted({index.row() for index in table.selectedIndexes()})
        items = [table.item(r, 0) for r in rows]
        ids = [int(i.data(Qt.ItemDataRole.UserRole)) for i in items if i is not None]
        if ws is None or not ids:
            return
        self._call(lambda: answers.delete_questions(ws, ids))
        self.reload_questions()

    def run_tests(self, with_a: bool, with_b: bool, concurrency: int) -> JobHandle | None:
        """Start the test-set run as a job (progress and cancel in the jobs dock and here)."""
        ws = self.workspace
        if ws is None or self.run_job is not None:
            return None
        profiles = []
        if with_a:
            profiles.append(self.column_a.current_profile())
        if with_b:
            b = self.column_b.current_profile()
            if profiles and b.name == profiles[0].name:
                b = replace(b, name=f"{b.name} (B)")
            profiles.append(b)
        if not profiles:
            self.context.messages.info("Choose profile A, B or both to run the test set with.")
            return None
        backends = self.backends_factory()
        bundle = self.tests.bundle_path()
        if self.tests.bundle_check.isChecked() and bundle is None:
            self.context.messages.info("Choose the bundle file to test, or untick the option.")
            return None

        async def work(job: Job) -> Any:
            return await answers.run_tests(
                ws, job, profiles, concurrency=concurrency, backends=backends, bundle=bundle
            )

        self.run_job = self.context.jobs.start("Test run", work)
        self.tests.run_button.setEnabled(False)
        self.tests.cancel_button.setEnabled(True)
        return self.run_job

    def cancel_run(self) -> None:
        if self.run_job is not None:
            self.run_job.cancel()
            self.tests.progress_label.setText("Cancelling after the answers in flight…")

    def _on_job_changed(self, event: JobEvent) -> None:
        if self.run_job is None or event.job_id != self.run_job.job_id:
            return
        if event.state is JobState.RUNNING:
            errors = f" · {event.error_count} failed" if event.error_count else ""
            self.tests.progress_label.setText(
                f"Answered {event.done}/{event.total or 0}{errors}. {event.message}"
            )

    def _on_job_finished(self, event: JobEvent, _result: object) -> None:
        if self.run_job is None or event.job_id != self.run_job.job_id:
            return
        self.run_job = None
        self.tests.cancel_button.setEnabled(False)
        self.tests.progress_label.setText(f"Run {event.state.value}: {event.summary}")
        self.reload_questions()
        self.reload_runs()

    # -- runs ----------------------------------------------------------------------------
    def reload_runs(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        runs = answers.list_runs(ws)
        combo = self.tests.runs_combo
        combo.blockSignals(True)
        combo.clear()
        for run in runs:
            passed = ", ".join(
                f"{name} {t.get('passed', 0)}/{t.get('questions', 0)}"
                for name, t in run.totals.items()
            )
            combo.addItem(f"Run {run.id} · {run.started_at} · {run.status} · {passed}", run.id)
        combo.blockSignals(False)
        if runs:
            combo.setCurrentIndex(0)
        self._on_run_chosen(0 if runs else -1)

    def _on_run_chosen(self, index: int) -> None:
        ws = self.workspace
        table = self.tests.results_table
        if ws is None or index < 0:
            table.setRowCount(0)
            self.tests.totals_label.setText("No runs yet.")
            self.tests.comparison_label.setText("")
            return
        runs = answers.list_runs(ws)
        run = runs[index]
        previous = runs[index + 1] if index + 1 < len(runs) else None
        rows = answers.run_results(ws, run.id)
        changes: dict[tuple[str, str], str] = {}
        if previous is not None:
            diff = answers.compare_runs(ws, previous.id, run.id)
            changes = {(c["question"], c["profile"]): c["change"] for c in diff["changes"]}
            counts = diff["counts"]
            worse = [c for c in diff["changes"] if c["change"] == "worse"]
            better = [c for c in diff["changes"] if c["change"] == "better"]
            lines = [
                f"Compared with run {previous.id}: {counts['better']} better, "
                f"{counts['worse']} worse, {counts['same']} unchanged, {counts['new']} new."
            ]
            lines += [f"  worse: {c['profile']}: {c['question']}" for c in worse[:5]]
            lines += [f"  better: {c['profile']}: {c['question']}" for c in better[:5]]
            self.tests.comparison_label.setText("\n".join(lines))
        else:
            self.tests.comparison_label.setText("No previous run to compare with.")
        self.tests.totals_label.setText(self.totals_text(run.totals))
        self.shown_results = rows
        table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            failed = [name for name, ok in row["checks"].items() if not ok]
            checks = ", ".join(f"{name} {'✓' if ok else '✗'}" for name, ok in row["checks"].items())
            cites = "invalid" if row["invalid_citations"] else str(len(row["citations"]))
            latency = "-" if row["total_s"] is None else f"{row['total_s']:.2f} s"
            cost = "-" if row["cost"] is None else f"${row['cost']:.6f}"
            tokens = (
                "-"
                if row["prompt_tokens"] is None
                else f"{row['prompt_tokens']}+{row['completion_tokens']}"
            )
            verdict = "pass" if row["passed"] else ("error" if row["error"] else "FAIL")
            cells = [
                row["question"],
                row["profile"],
                verdict,
                checks or "-",
                cites,
                tokens,
                latency,
                cost,
                changes.get((row["question"], row["profile"]), ""),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 2:
                    item.setForeground(PASS_COLOUR if row["passed"] else FAIL_COLOUR)
                    item.setToolTip(row["error"] or ", ".join(failed))
                table.setItem(i, column, item)

    @staticmethod
    def totals_text(totals: dict[str, dict[str, Any]]) -> str:
        lines = []
        for name, t in totals.items():
            hit = t.get("retrieval_hit_rate")
            cost = t.get("cost")
            median = t.get("total_s_median")
            lines.append(
                f"{name}: {t.get('passed', 0)}/{t.get('questions', 0)} passed · retrieval hits "
                f"{'-' if hit is None else f'{hit:.0%}'} of {t.get('retrieval_checked', 0)} · "
                f"valid citations {t.get('valid_citations', 0)}/{t.get('answered', 0)} · "
                f"correct declines {t.get('correct_declines', 0)}/{t.get('should_decline', 0)} · "
                f"tokens {t.get('prompt_tokens', 0)}+{t.get('completion_tokens', 0)} · "
                f"cost {'-' if cost is None else f'${cost:.4f}'} · median "
                f"{'-' if median is None else f'{median:.2f} s'} · errors {t.get('errors', 0)}"
            )
        return "\n".join(lines) or "No totals."

    def _show_result_detail(self, row: int) -> None:
        if not 0 <= row < len(self.shown_results):
            return
        r = self.shown_results[row]
        lines = [f"{r['profile']}: {r['question']}", "", r["answer"] or "(no answer)"]
        if r["error"]:
            lines += ["", f"Error: {r['error']}"]
        lines += [f"[{c['n']}] {SourceRef.from_json(c['source']).label()}" for c in r["citations"]]
        if r["invalid_citations"]:
            lines.append(f"Invalid citations: {r['invalid_citations']}")
        lines += [f"Note: {n}" for n in r["notes"]]
        self.tests.result_detail.setPlainText("\n".join(lines))
