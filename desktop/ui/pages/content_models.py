"""Item models of the Content page: thin adapters over the service's plain values.

The documents of a large site (thousands) are shown through a model, not a QTableWidget:
a refresh swaps the list in one reset and Qt asks only for the rows on screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from desktop.core.content.models import DocumentInfo
from desktop.ui.widgets import escaped_tooltip

ID_ROLE = Qt.ItemDataRole.UserRole


def document_status(doc: DocumentInfo) -> str:
    status = {"no_text": "no text", "failed": "failed", "removed": "removed"}.get(
        doc.status, doc.status
    )
    text = f"{status}: {doc.status_reason}" if doc.status_reason else status
    return f"{text} (excluded)" if doc.excluded else text


class DocumentsModel(QAbstractTableModel):
    """The documents of one source: title, status (with the reason), passages."""

    HEADERS = ("Document", "Status", "Passages")

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[DocumentInfo] = []
        self.grey = QColor("#8a8a8a")

    def set_documents(self, documents: Sequence[DocumentInfo]) -> bool:
        """Replace the rows; False (and no reset) when nothing changed."""
        documents = list(documents)
        if documents == self.rows:
            return False
        self.beginResetModel()
        self.rows = documents
        self.endResetModel()
        return True

    def row_of(self, document_id: int | None) -> int | None:
        for row, doc in enumerate(self.rows):
            if doc.id == document_id:
                return row
        return None

    def text(self, row: int, column: int) -> str:
        doc = self.rows[row]
        if column == 0:
            return doc.title or Path(doc.uri).name or doc.uri
        if column == 1:
            return document_status(doc)
        return str(doc.passages)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        doc = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(index.row(), index.column())
        if role == ID_ROLE:
            return doc.id
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 0:
            return escaped_tooltip(doc.uri)
        if role == Qt.ItemDataRole.ForegroundRole and (doc.excluded or doc.status == "removed"):
            return self.grey
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None
