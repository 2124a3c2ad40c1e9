"""The test set and its runs: panels that show the models and emit what the user asks for."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.core.answering.testruns import RunResult
from desktop.services import answers
from desktop.services.answers import TestQuestion
from desktop.ui.testbench.models import QuestionsModel, ResultsModel
from desktop.ui.widgets import fit_columns, plain_label, read_only_text, table_view


class QuestionsPanel(QWidget):
    """Saved questions with import, export, edit, delete, and the run controls."""

    import_requested = Signal()
    export_requested = Signal()
    edit_requested = Signal(object)  # TestQuestion
    delete_requested = Signal(list)  # [TestQuestion]: the selected ones, only those
    run_requested = Signal(bool, bool, int)  # with A, with B, concurrency
    cancel_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.model = QuestionsModel()
        self.table = table_view(self.model, stretch=0, multi=True)
        self.table.doubleClicked.connect(lambda index: self._edit_row(index.row()))
        self.empty_label = plain_label(
            "No test questions yet. Ask a question above and press “Add to test set”, or import "
            "a CSV or JSONL file with a `question` column (and optionally expected_source, "
            "must_include, must_not_include, should_decline)."
        )
        self.import_button = QPushButton("Import…")
        self.import_button.clicked.connect(self.import_requested.emit)
        self.export_button = QPushButton("Export…")
        self.export_button.clicked.connect(self.export_requested.emit)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(self._edit_selected)
        self.delete_button = QPushButton("Delete selected…")
        self.delete_button.clicked.connect(lambda: self.delete_requested.emit(self.selected()))
        self.with_a = QCheckBox("Profile A")
        self.with_a.setChecked(True)
        self.with_b = QCheckBox("Profile B")
        self.concurrency_spin = QSpinBox()
        self.concurrency_spin.setRange(1, 32)
        self.concurrency_spin.setValue(answers.DEFAULT_CONCURRENCY)
        self.concurrency_spin.setToolTip("Questions answered at once")
        self.run_button = QPushButton("Run test set")
        self.run_button.clicked.connect(
            lambda: self.run_requested.emit(
                self.with_a.isChecked(), self.with_b.isChecked(), self.concurrency_spin.value()
            )
        )
        self.cancel_button = QPushButton("Cancel run")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        self._build_bundle_row()
        self.progress_label = plain_label("")
        self._lay_out()
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def _build_bundle_row(self) -> None:
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

    def _lay_out(self) -> None:
        edit_row = QHBoxLayout()
        for widget in (self.import_button, self.export_button, self.edit_button):
            edit_row.addWidget(widget)
        edit_row.addWidget(self.delete_button)
        edit_row.addStretch(1)
        run_row = QHBoxLayout()
        run_row.addWidget(plain_label("Run with", wrap=False))
        run_row.addWidget(self.with_a)
        run_row.addWidget(self.with_b)
        run_row.addWidget(plain_label("at once", wrap=False))
        run_row.addWidget(self.concurrency_spin)
        run_row.addWidget(self.run_button)
        run_row.addWidget(self.cancel_button)
        run_row.addStretch(1)
        bundle_row = QHBoxLayout()
        bundle_row.addWidget(self.bundle_check)
        bundle_row.addWidget(self.bundle_edit, 1)
        bundle_row.addWidget(self.bundle_browse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(edit_row)
        layout.addLayout(run_row)
        layout.addLayout(bundle_row)
        layout.addWidget(self.progress_label)

    def show_questions(self, questions: list[TestQuestion], *, running: bool) -> None:
        self.model.set_rows(questions)
        fit_columns(self.table)
        self.empty_label.setVisible(not questions)
        self.run_button.setEnabled(bool(questions) and not running)
        self._update_buttons()

    def selected(self) -> list[TestQuestion]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [q for q in (self.model.row_at(r) for r in rows) if q is not None]

    def select_rows(self, rows: list[int]) -> None:
        selection = self.table.selectionModel()
        selection.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row in rows:
            selection.select(self.model.index(row, 0), flags)

    def _edit_selected(self) -> None:
        chosen = self.selected()
        if len(chosen) == 1:
            self.edit_requested.emit(chosen[0])

    def _edit_row(self, row: int) -> None:
        question = self.model.row_at(row)
        if question is not None:
            self.edit_requested.emit(question)

    def _update_buttons(self, *_args: object) -> None:
        chosen = len(self.selected())
        self.delete_button.setEnabled(chosen > 0)
        self.edit_button.setEnabled(chosen == 1)

    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running and self.model.rowCount() > 0)
        self.cancel_button.setEnabled(running)

    def _choose_bundle(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Bundle to test", "", "All files (*)")
        if path:
            self.bundle_edit.setText(path)

    def show_progress(self, text: str) -> None:
        self.progress_label.setText(text)

    def bundle_choice(self) -> tuple[bool, str | None]:
        """Whether a bundle file should be searched, and which (None: not chosen yet)."""
        return self.bundle_check.isChecked(), self.bundle_path()

    def bundle_path(self) -> str | None:
        """The bundle file to search, or None for the workspace."""
        if not self.bundle_check.isChecked():
            return None
        return self.bundle_edit.text().strip() or None


class RunsPanel(QWidget):
    """The kept runs: the one chosen, its totals, what changed, its results and one's detail."""

    run_chosen = Signal(int)  # index in the combo (0 = newest), -1 for none
    result_chosen = Signal(int)  # row in the results table

    def __init__(self) -> None:
        super().__init__()
        self.runs_combo = QComboBox()
        self.runs_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.runs_combo.setMinimumContentsLength(30)
        self.runs_combo.currentIndexChanged.connect(self.run_chosen.emit)
        self.model = ResultsModel()
        self.model.explain = answers.explain_checks
        self.table = table_view(self.model, stretch=0)
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self.result_chosen.emit(current.row())
        )
        self.detail = read_only_text(
            placeholder="Choose a result to see its answer and each check."
        )
        self.totals_label = plain_label("")
        self.comparison_label = plain_label("")
        runs_row = QHBoxLayout()
        runs_row.addWidget(plain_label("Run", wrap=False))
        runs_row.addWidget(self.runs_combo, 1)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(runs_row)
        top_layout.addWidget(self.totals_label)
        top_layout.addWidget(self.comparison_label)
        top_layout.addWidget(self.table, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

    def show_run(
        self,
        totals: str,
        comparison: str,
        results: list[RunResult],
        changes: dict[tuple[str, str], str],
    ) -> None:
        self.totals_label.setText(totals)
        self.comparison_label.setText(comparison)
        self.model.set_results(results, changes)
        fit_columns(self.table)
        self.detail.clear()

    def show_detail(self, text: str) -> None:
        self.detail.setPlainText(text)

    def shown_index(self) -> int:
        return self.runs_combo.currentIndex()

    def show_runs(self, labels: list[str], chosen: int = 0) -> None:
        chosen = chosen if 0 <= chosen < len(labels) else (0 if labels else -1)
        self.runs_combo.blockSignals(True)
        self.runs_combo.clear()
        self.runs_combo.addItems(labels)
        self.runs_combo.setCurrentIndex(chosen)
        self.runs_combo.blockSignals(False)
        self.run_chosen.emit(chosen)
