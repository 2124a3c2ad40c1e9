"""The Search page's panels: widgets that show state and emit intent signals.

No panel calls a service; the page connects their signals to the actions.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.services.index import Filters, SearchHit, WhyNot
from desktop.ui.search.models import PASSAGE_COLUMN, CandidatesModel, HitsModel
from desktop.ui.widgets import plain_label

MODE_CHOICES = (
    ("Automatic (hybrid with an embedder)", None),
    ("Hybrid", "hybrid"),
    ("Vector", "vector"),
    ("Keyword", "keyword"),
)
NARROW_COLUMN_MAX = 240  # heading and source: the passage text gets the room


@dataclass(frozen=True)
class SearchOptions:
    """What the options row asks for: passed as keywords to the index service."""

    k: int
    mode: str | None
    min_score: float | None
    filters: Filters


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


def hit_text(hit: SearchHit) -> str:
    """Where the passage comes from, its ranks, then its text (shown as plain text)."""
    parts = [f"{mode} rank {rank}" for mode, rank in sorted(hit.ranks.items())]
    header = [hit.source.label(), hit.heading, f"Passage {hit.chunk_id} · " + ", ".join(parts)]
    return "\n".join(h for h in header if h) + "\n\n" + hit.text


class QueryPanel(QWidget):
    """The question, the search button and the options (mode, k, minimum score, filters)."""

    search_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.question_edit = QLineEdit()
        self.question_edit.setObjectName("search-question")
        self.question_edit.setPlaceholderText("A question a visitor would ask… (Enter searches)")
        self.question_edit.returnPressed.connect(self.search_requested)
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self.search_requested)
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
        self.source_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.source_combo.setMinimumContentsLength(16)  # long titles never widen the window
        self.prefix_edit = QLineEdit()
        self.prefix_edit.setPlaceholderText("URL or path prefix (optional)")

        # Two rows, so that the options fit beside the page list at 1024 px.
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.question_edit, 0, 0, 1, 6)
        grid.addWidget(self.search_button, 0, 6)
        grid.addWidget(plain_label("Mode", wrap=False), 1, 0)
        grid.addWidget(self.mode_combo, 1, 1)
        grid.addWidget(self.k_spin, 1, 2)
        grid.addWidget(self.min_score_check, 1, 3)
        grid.addWidget(self.min_score_spin, 1, 4)
        source_row = QHBoxLayout()
        source_row.addWidget(plain_label("Source", wrap=False))
        source_row.addWidget(self.source_combo, 1)
        source_row.addWidget(self.prefix_edit, 1)
        grid.addLayout(source_row, 1, 5, 1, 2)
        grid.setColumnStretch(5, 1)

    def question(self) -> str:
        return self.question_edit.text().strip()

    def options(self) -> SearchOptions:
        source_id = self.source_combo.currentData()
        prefix = self.prefix_edit.text().strip()
        filters = Filters((int(source_id),) if source_id is not None else (), prefix)
        min_score = self.min_score_spin.value() if self.min_score_check.isChecked() else None
        return SearchOptions(self.k_spin.value(), self.mode_combo.currentData(), min_score, filters)

    def set_sources(self, sources: list[tuple[str, int]]) -> None:
        """Fill the source filter, keeping the chosen source if it is still there."""
        current = self.source_combo.currentData()
        self.source_combo.clear()
        self.source_combo.addItem("All sources", None)
        for label, source_id in sources:
            self.source_combo.addItem(label, source_id)
        self.source_combo.setCurrentIndex(max(0, self.source_combo.findData(current)))

    def set_busy(self, busy: bool) -> None:
        self.search_button.setEnabled(not busy)


class StatusPanel(QWidget):
    """How much of the workspace is searchable, with "Embed now" when vectors are missing."""

    embed_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.status_label = plain_label()
        self.embed_button = QPushButton("Embed now")
        self.embed_button.setToolTip(
            "Embed the passages that have no vector yet (also done by sync)"
        )
        self.embed_button.clicked.connect(self.embed_requested)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.status_label, 1)
        row.addWidget(self.embed_button)

    def show_status(self, line: str, *, can_embed: bool) -> None:
        self.status_label.setText(line)
        self.embed_button.setVisible(can_embed)


class ResultsPanel(QWidget):
    """The ranked passages and a line that says what the search found (or why nothing)."""

    hit_selected = Signal(object)  # SearchHit | None

    def __init__(self, model: HitsModel) -> None:
        super().__init__()
        self.model = model
        self.summary_label = plain_label()
        self.summary_label.setVisible(False)
        self.table = QTableView()
        self.table.setObjectName("search-results")
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(PASSAGE_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(48)
        self.table.selectionModel().selectionChanged.connect(
            lambda *_: self.hit_selected.emit(self.selected_hit())
        )
        model.modelReset.connect(self._fit_columns)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.table, 1)

    def _fit_columns(self) -> None:
        self.table.resizeColumnsToContents()
        for column in range(PASSAGE_COLUMN + 1, self.model.columnCount()):
            width = min(self.table.columnWidth(column), NARROW_COLUMN_MAX)
            self.table.setColumnWidth(column, width)
        self.hit_selected.emit(self.selected_hit())

    def selected_hit(self) -> SearchHit | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.hit(rows[0].row()) if rows else None

    def select_chunk(self, chunk_id: int) -> bool:
        row = self.model.row_of(chunk_id)
        if row is None:
            return False
        self.table.selectRow(row)
        return True

    def show_summary(self, text: str) -> None:
        self.summary_label.setText(text)
        self.summary_label.setVisible(True)


class PassagePanel(QGroupBox):
    """The selected passage, with Open in document, Exclude and Edit."""

    open_requested = Signal()
    exclude_requested = Signal()
    edit_requested = Signal()

    def __init__(self) -> None:
        super().__init__("Passage")
        self.passage_view = QPlainTextEdit()
        self.passage_view.setReadOnly(True)
        self.passage_view.setObjectName("search-passage")
        self.open_button = QPushButton("Open in document")
        self.open_button.clicked.connect(self.open_requested)
        self.exclude_button = QPushButton("Exclude")
        self.exclude_button.clicked.connect(self.exclude_requested)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(self.edit_requested)
        buttons = QHBoxLayout()
        for button in (self.open_button, self.exclude_button, self.edit_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.passage_view, 1)
        layout.addLayout(buttons)
        self.show_hit(None)

    def show_hit(self, hit: SearchHit | None) -> None:
        for button in (self.open_button, self.exclude_button, self.edit_button):
            button.setEnabled(hit is not None)
        if hit is None:
            self.passage_view.clear()
        else:
            self.passage_view.setPlainText(hit_text(hit))


class WhyNotPanel(QGroupBox):
    """Find the passage that should have come up, then ask why it did not."""

    find_requested = Signal(str)  # the words or the passage id typed
    explain_requested = Signal(int)  # a passage id

    def __init__(self, model: CandidatesModel) -> None:
        super().__init__("Why was this not retrieved?")
        self.model = model
        self.find_edit = QLineEdit()
        self.find_edit.setPlaceholderText(
            "Find the passage that should have come up (words, or its id)"
        )
        self.find_edit.returnPressed.connect(self._find)
        self.candidates = QListView()
        self.candidates.setObjectName("why-candidates")
        self.candidates.setModel(model)
        self.candidates.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.candidates.setUniformItemSizes(True)
        self.why_button = QPushButton("Why not retrieved?")
        self.why_button.clicked.connect(self._explain)
        self.why_view = QPlainTextEdit()
        self.why_view.setReadOnly(True)
        self.why_view.setObjectName("why-not")
        find_row = QHBoxLayout()
        find_row.addWidget(self.find_edit, 1)
        find_row.addWidget(self.why_button)
        layout = QVBoxLayout(self)
        layout.addLayout(find_row)
        layout.addWidget(self.candidates, 1)
        layout.addWidget(self.why_view, 1)

    def _find(self) -> None:
        self.find_requested.emit(self.find_edit.text().strip())

    def current_passage_id(self) -> int | None:
        return self.model.passage_id(self.candidates.currentIndex().row())

    def _explain(self) -> None:
        if self.current_passage_id() is None:
            self._find()  # the words typed but not searched yet: find, then explain the first
        passage_id = self.current_passage_id()
        if passage_id is not None:
            self.explain_requested.emit(passage_id)

    def select_first(self) -> None:
        if self.model.rowCount():
            self.candidates.setCurrentIndex(self.model.index(0, 0))

    def show_text(self, text: str) -> None:
        self.why_view.setPlainText(text)

    def clear(self) -> None:
        self.model.set_passages([])
        self.why_view.clear()
