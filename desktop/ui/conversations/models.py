"""Table models of the Conversations page: thin adapters over the services' frozen rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from desktop.services.conversations import (
    ConversationSummary,
    FailedQuestion,
    Gap,
    LeadRow,
    ReleaseStats,
)

Row = TypeVar("Row")
Index = QModelIndex | QPersistentModelIndex


class RowsModel(QAbstractTableModel, Generic[Row]):
    """Rows of one dataclass; each column a header and a function giving its text."""

    columns: Sequence[tuple[str, Callable[[Any], str]]] = ()

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []

    def set_rows(self, rows: Sequence[Row]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> Row | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            text = self.columns[index.column()][1](self.rows[index.row()])
            # Visitor text: one line in a cell; tooltips would read it as HTML, so none.
            return " ".join(text.split())[:300] if role == Qt.ItemDataRole.DisplayRole else None
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.columns)
        ):
            return self.columns[section][0]
        return None


def _count(value: int) -> str:
    return str(value) if value else ""


class GapsModel(RowsModel[Gap]):
    columns = (
        ("Gap", lambda g: g.label),
        ("Asked", lambda g: str(len(g.questions))),
        ("Declined", lambda g: _count(g.declined)),
        ("Down", lambda g: _count(g.down)),
    )


class GapQuestionsModel(RowsModel[FailedQuestion]):
    columns = (
        ("Question", lambda q: q.text),
        ("What happened", lambda q: "declined" if q.declined else "thumbs down"),
        ("Release", lambda q: q.release_id or ""),
    )


def _flags(c: ConversationSummary) -> str:
    flags = [f"{c.declined} declined" if c.declined else "", f"{c.down} down" if c.down else ""]
    flags += ["uncited" if c.uncited else "", "lead" if c.has_lead else ""]
    return ", ".join(f for f in flags if f)


class ConversationsModel(RowsModel[ConversationSummary]):
    columns = (
        ("When", lambda c: c.updated_at[5:16].replace("T", " ")),
        ("First question", lambda c: c.first_question),
        ("What went wrong", _flags),
    )


class ReleaseStatsModel(RowsModel[ReleaseStats]):
    columns = (
        (
            "Release",
            lambda s: f"{s.version} ({s.release_id})" if s.version else s.release_id or "?",
        ),
        ("Conversations", lambda s: str(s.conversations)),
        ("Declined", lambda s: f"{s.declined_pct:.1f} %"),
        ("Thumbs down", lambda s: f"{s.down_pct:.1f} %"),
        ("Cited", lambda s: f"{s.cited_pct:.1f} %"),
    )


class LeadsModel(RowsModel[LeadRow]):
    columns = (
        ("When", lambda x: x.updated_at.replace("T", " ").rstrip("Z")),
        ("Name", lambda x: x.name),
        ("E-mail", lambda x: x.email),
        ("Phone", lambda x: x.phone),
        ("Company", lambda x: x.company),
        ("Message", lambda x: x.message),
    )
