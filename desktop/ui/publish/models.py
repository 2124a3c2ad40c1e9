"""Table models of the Publish page: the checks before publishing and the release history.

They adapt lists the services return; they own no data and do no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from desktop.services.publish import Check, ReleaseInfo

Index = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()
RELEASE_ID_ROLE = Qt.ItemDataRole.UserRole


def check_text(check: Check) -> str:
    """One finding as the page lists it: what, examples, and the fix."""
    label = "Must fix" if check.severity == "error" else "Warning"
    examples = "".join(f"\n   · {e}" for e in check.examples)
    return f"{label}: {check.message}{examples}\n   Fix: {check.fix}"


class ChecksModel(QAbstractTableModel):
    """What the last dry run or publish found, errors first; one column of wrapped text."""

    def __init__(self) -> None:
        super().__init__()
        self._checks: list[Check] = []
        self._ran = False

    def set_checks(self, checks: Sequence[Check] | None) -> None:
        """The findings of a run (an empty list: all passed); None: no run yet."""
        self.beginResetModel()
        self._checks = list(checks or [])
        self._ran = checks is not None
        self.endResetModel()

    @property
    def ran(self) -> bool:
        return self._ran

    def check(self, row: int) -> Check:
        return self._checks[row]

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._checks)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else 1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._checks):
            return None
        check = self._checks[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return check_text(check)
        if role == Qt.ItemDataRole.ForegroundRole and check.severity == "error":
            return QBrush(QColor("#c62828"))
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return "Finding and fix" if section == 0 else None
        return None


class ReleasesModel(QAbstractTableModel):
    """The release history, newest first; the live one marked."""

    HEADERS = ("Live", "Version", "Release", "Published", "Passages", "Notes")

    def __init__(self) -> None:
        super().__init__()
        self._releases: list[ReleaseInfo] = []

    def set_releases(self, releases: Sequence[ReleaseInfo]) -> None:
        self.beginResetModel()
        self._releases = list(releases)
        self.endResetModel()

    def release(self, row: int) -> ReleaseInfo:
        return self._releases[row]

    def rowCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._releases)

    def columnCount(self, parent: Index = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._releases):
            return None
        info = self._releases[index.row()]
        if role == RELEASE_ID_ROLE:
            return info.release_id
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(info, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            where = "published from this workspace" if info.mine else "published elsewhere"
            live = "live now" if info.active else "not live"
            return f"Release {info.version} ({info.release_id}): {live}, {where}."
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (0, 1, 4):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    @staticmethod
    def _cell(info: ReleaseInfo, column: int) -> str | None:
        cells = (
            "●" if info.active else "",
            str(info.version),
            info.release_id,
            info.published_at or info.created_at,
            "" if info.passage_count is None else str(info.passage_count),
            info.notes,
        )
        return cells[column] if 0 <= column < len(cells) else None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section] if 0 <= section < len(self.HEADERS) else None
        return None
