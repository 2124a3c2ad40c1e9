"""Table models of the Search page: the ranked hits and the why-not candidates.

They adapt data the page hands them (`set_...`); they never search or read the workspace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from desktop.core.content.models import PassageInfo
from desktop.services.index import SearchHit, SearchResults
from desktop.ui.widgets import escaped_tooltip

HIT_COLUMNS = ("Rank", "Score", "Keyword", "Vector", "Passage", "Heading", "Source")
PASSAGE_COLUMN = 4
SNIPPET_CHARS = 300
TOOLTIP_CHARS = 2000

AnyIndex = QModelIndex | QPersistentModelIndex


def contribution(hit: SearchHit, mode: str) -> str:
    """'#2 · 0.6133' for a mode that found the hit, '—' for one that did not."""
    if mode not in hit.ranks:
        return "—"
    return f"#{hit.ranks[mode]} · {hit.scores.get(mode, 0.0):.4f}"


def hit_cells(hit: SearchHit) -> tuple[str, ...]:
    """The text of each column for one hit (scraped text folded onto one line)."""
    return (
        str(hit.rank),
        f"{hit.score:.4f}",
        contribution(hit, "keyword"),
        contribution(hit, "vector"),
        " ".join(hit.text.split())[:SNIPPET_CHARS],
        hit.heading,
        hit.source.label(),
    )


class HitsModel(QAbstractTableModel):
    """The ranked passages of one search, best first."""

    def __init__(self) -> None:
        super().__init__()
        self._results = SearchResults(mode="keyword")
        self._cells: list[tuple[str, ...]] = []

    @property
    def results(self) -> SearchResults:
        return self._results

    def set_results(self, results: SearchResults) -> None:
        self.beginResetModel()
        self._results = results
        self._cells = [hit_cells(hit) for hit in results]
        self.endResetModel()

    def hit(self, row: int) -> SearchHit | None:
        return self._results[row] if 0 <= row < len(self._results) else None

    def row_of(self, chunk_id: int) -> int | None:
        for row, hit in enumerate(self._results):
            if hit.chunk_id == chunk_id:
                return row
        return None

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._cells)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HIT_COLUMNS)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._cells):
            return None
        row, column = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells[row][column]
        if role == Qt.ItemDataRole.ToolTipRole and column >= PASSAGE_COLUMN:
            hit = self._results[row]
            text = (
                hit.text[:TOOLTIP_CHARS] if column == PASSAGE_COLUMN else self._cells[row][column]
            )
            return escaped_tooltip(text)  # scraped text: never read as HTML
        if role == Qt.ItemDataRole.UserRole:
            return self._results[row].chunk_id
        if role == Qt.ItemDataRole.TextAlignmentRole and column < PASSAGE_COLUMN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(HIT_COLUMNS)
        ):
            return HIT_COLUMNS[section]
        return None


def candidate_text(passage: PassageInfo) -> str:
    state = "" if passage.state == "included" else f" [{passage.state}]"
    snippet = " ".join(passage.text.split())[:120]
    return f"{passage.id}{state} · {passage.title or passage.uri}: {snippet}"


class CandidatesModel(QAbstractListModel):
    """Passages matching the words typed in "Why was this not retrieved?" (excluded too)."""

    def __init__(self) -> None:
        super().__init__()
        self._passages: list[PassageInfo] = []
        self._texts: list[str] = []

    def set_passages(self, passages: Sequence[PassageInfo]) -> None:
        self.beginResetModel()
        self._passages = list(passages)
        self._texts = [candidate_text(p) for p in self._passages]
        self.endResetModel()

    def passage_id(self, row: int) -> int | None:
        return self._passages[row].id if 0 <= row < len(self._passages) else None

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._texts)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self._texts):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._texts[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return escaped_tooltip(self._passages[index.row()].text[:TOOLTIP_CHARS])
        if role == Qt.ItemDataRole.UserRole:
            return self._passages[index.row()].id
        return None
