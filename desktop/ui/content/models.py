"""Table models of the Content page: thin adapters over the content service's plain values.

They build on the shared `RowsModel` (ui/widgets.py). Each holds the rows it was last given
and never reads the workspace. `update_rows` compares with what is shown: the same rows in
the same order only repaint the span that changed (selection and scroll stay put, and a
refresh after a 1,000-page sync costs little); anything else is one reset, after which Qt
asks only for the rows on screen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path, PurePath
from typing import Any, TypeVar
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from desktop.core.content.models import (
    BoilerplateGroup,
    ChunkPreview,
    ContentStats,
    DocumentInfo,
    PassageInfo,
    SourceInfo,
    passage_name,
)
from desktop.core.publish.passage_checks import FlaggedPassage
from desktop.ui.widgets import RowsModel, escaped_tooltip

ID_ROLE = Qt.ItemDataRole.UserRole
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
STATE_TEXT = {
    "included": "included",
    "excluded": "excluded",
    "edited": "edited",
    "needs_review": "needs review",
}
STATE_COLOUR = {"excluded": "#8a8a8a", "edited": "#1f6fb2", "needs_review": "#c0631a"}
KIND_TEXT = {"site": "Website", "files": "Files", "text": "Text", "qa": "Q&A"}
GREY = "#8a8a8a"
EMPTY_TEXT = "Add your website or files to start"  # the empty state, and Sync with no source

Row = TypeVar("Row")


def stats_line(stats: ContentStats) -> str:
    """The status bar's count: "1,204 passages (17 excluded, 5 edited, 2 need review)"."""
    return (
        f"{stats.passages:,} passages ({stats.excluded:,} excluded, {stats.edited:,} edited, "
        f"{stats.needs_review:,} need review)"
    )


def one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def document_status(doc: DocumentInfo) -> str:
    status = {"no_text": "no text", "failed": "failed", "removed": "removed"}.get(
        doc.status, doc.status
    )
    text = f"{status}: {doc.status_reason}" if doc.status_reason else status
    return f"{text} (excluded)" if doc.excluded else text


def document_address(uri: str, root: str = "") -> str:
    """Where a document lives, short: a page's path (and query) on its site, a file's
    path under its source folder; a pasted text or Q&A pair has none."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https"):
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not PurePath(uri).is_absolute():
        return ""  # "text:3", "qa:5": no address of their own
    if root and Path(root).is_dir():
        try:
            return str(PurePath(uri).relative_to(root))
        except ValueError:
            pass
    return uri


def passage_state_text(passage: PassageInfo) -> str:
    state = STATE_TEXT[passage.state]
    if passage.document_excluded and not passage.excluded and passage.state == "excluded":
        state += " (document)"
    if passage.boilerplate:
        state += ", repeated"
    if passage.origin == "manual":
        state += ", added"
    return state


class KeyedRowsModel(RowsModel[Row]):
    """The shared read-only rows model, for rows with a stable key (their id): refilled
    with the same keys in the same order, only the changed span is repainted (selection
    and scroll stay put); otherwise one reset. A subclass gives `cell(row, column)` and,
    where it has them, a tooltip and a foreground colour."""

    RIGHT_ALIGNED: frozenset[int] = frozenset()

    def row_id(self, row: Row) -> Any:
        return getattr(row, "id", None)

    def row_of(self, row_id: Any) -> int | None:
        if row_id is None:
            return None
        return next((i for i, row in enumerate(self.rows) if self.row_id(row) == row_id), None)

    def update_rows(self, rows: Sequence[Row]) -> bool:
        """Show `rows`; False (and no signal) when nothing changed."""
        rows = list(rows)
        if rows == self.rows:
            return False
        pairs = list(zip(rows, self.rows, strict=False))
        if len(rows) == len(self.rows) and all(
            self.row_id(new) == self.row_id(old) for new, old in pairs
        ):
            changed = [i for i, (new, old) in enumerate(pairs) if new != old]
            self.rows = rows
            # One signal for the changed span (a sync touches hundreds of rows at once).
            last = self.columnCount() - 1
            self.dataChanged.emit(self.index(changed[0], 0), self.index(changed[-1], last))
            return True
        self.set_rows(rows)
        return True

    def text(self, row: int, column: int) -> str:
        """The cell as displayed (tests and bug reports read it too)."""
        return self.cell(self.rows[row], column)

    # -- what subclasses define ----------------------------------------------------------
    def cell(self, row: Row, column: int) -> str:
        raise NotImplementedError

    def tooltip(self, row: Row, column: int) -> str | None:
        return None

    def foreground(self, row: Row, column: int) -> QColor | None:
        return None

    # -- the shared base's hooks ---------------------------------------------------------
    def columns(self) -> Sequence[Callable[[Row], str]]:
        return [partial(_cell_of, self, column) for column in range(len(self.headers))]

    def role_data(self, row: Row, column: int, role: int) -> Any:
        if role == ID_ROLE:
            return self.row_id(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = self.tooltip(row, column)
            return escaped_tooltip(tip) if tip else None
        if role == Qt.ItemDataRole.ForegroundRole:
            return self.foreground(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.RIGHT_ALIGNED:
            return RIGHT
        return None


def _cell_of(model: KeyedRowsModel[Row], column: int, row: Row) -> str:
    return model.cell(row, column)


class SourcesModel(KeyedRowsModel[SourceInfo]):
    """Every source: kind and name, documents, passages, and what failed at its last sync."""

    headers = ("Source", "Docs", "Passages", "Failed")
    RIGHT_ALIGNED = frozenset({1, 2, 3})

    def cell(self, source: SourceInfo, column: int) -> str:
        if column == 0:
            name = source.location if source.kind == "site" else source.title
            return f"{KIND_TEXT.get(source.kind, source.kind)}: {name}"
        if column == 1:
            return str(source.documents)
        if column == 2:
            return str(source.passages)
        failed = (source.last_sync_summary or {}).get("failed") or {}
        return str(len(failed)) if failed else ""

    def tooltip(self, source: SourceInfo, column: int) -> str | None:
        return (source.location or source.title) if column == 0 else None


class DocumentsModel(KeyedRowsModel[DocumentInfo]):
    """The documents of one source: title, address (so same-titled pages differ), status
    with its reason, passages. Excluded and removed documents are greyed."""

    headers = ("Document", "Address", "Status", "Passages")
    RIGHT_ALIGNED = frozenset({3})

    def __init__(self) -> None:
        super().__init__()
        self.root = ""  # the source's folder, for file addresses relative to it
        self.grey = QColor(GREY)

    def set_documents(self, documents: Sequence[DocumentInfo], root: str = "") -> bool:
        if root != self.root:  # another source: every address reads differently
            self.beginResetModel()
            self.root, self.rows = root, list(documents)
            self.endResetModel()
            return True
        return self.update_rows(documents)

    def cell(self, doc: DocumentInfo, column: int) -> str:
        if column == 0:
            return doc.title or Path(doc.uri).name or doc.uri
        if column == 1:
            return document_address(doc.uri, self.root)
        if column == 2:
            return document_status(doc)
        return str(doc.passages)

    def tooltip(self, doc: DocumentInfo, column: int) -> str | None:
        if column == 2:
            return document_status(doc)
        return doc.uri if column in (0, 1) else None

    def foreground(self, doc: DocumentInfo, column: int) -> QColor | None:
        return self.grey if doc.excluded or doc.status == "removed" else None


class PassagesModel(KeyedRowsModel[PassageInfo]):
    """Passages of a document (or search results across documents): the passage's stable
    number, state, tokens, heading (or document), and the text on one line."""

    headers = ("#", "State", "Tokens", "Heading", "Text")
    RIGHT_ALIGNED = frozenset({0, 2})

    def __init__(self) -> None:
        super().__init__()
        self.search_results = False

    def set_passages(self, passages: Sequence[PassageInfo], *, search_results: bool) -> bool:
        if search_results != self.search_results:
            self.search_results = search_results
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 3, 3)
            self.set_rows(passages)
            return True
        return self.update_rows(passages)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if (
            section == 3
            and role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
        ):
            return "Document" if self.search_results else "Heading"
        return super().headerData(section, orientation, role)

    def cell(self, passage: PassageInfo, column: int) -> str:
        if column == 0:
            return f"#{passage.id}"
        if column == 1:
            return passage_state_text(passage)
        if column == 2:
            return str(passage.tokens)
        if column == 3:
            if self.search_results:
                return f"{passage.title or passage.uri}: {passage.heading_path}"
            return passage.heading_path
        return one_line(passage.text)

    def tooltip(self, passage: PassageInfo, column: int) -> str | None:
        return passage.uri if column == 3 else None

    def foreground(self, passage: PassageInfo, column: int) -> QColor | None:
        colour = STATE_COLOUR.get(passage.state)
        return QColor(colour) if colour is not None and column == 1 else None


class BoilerplateModel(KeyedRowsModel[BoilerplateGroup]):
    """Groups of repeated passages: in how many documents, how many passages, how many of
    them the bot is not given (their own exclusion or their document's), and the text."""

    headers = ("Documents", "Passages", "Excluded", "Text")
    RIGHT_ALIGNED = frozenset({0, 1, 2})

    def row_id(self, row: BoilerplateGroup) -> Any:
        return row.key

    def cell(self, group: BoilerplateGroup, column: int) -> str:
        if column == 0:
            return str(group.documents)
        if column == 1:
            return str(len(group.passage_ids))
        if column == 2:
            return str(group.excluded)
        return one_line(group.text, 300)

    def foreground(self, group: BoilerplateGroup, column: int) -> QColor | None:
        return QColor(GREY) if group.excluded >= len(group.passage_ids) else None


class FlaggedModel(KeyedRowsModel[FlaggedPassage]):
    """Passages whose text addresses the model (possible prompt injection): which, where,
    the words that matched, and whether the user accepted them as harmless."""

    headers = ("Passage", "Document", "Words matched", "Accepted")

    def row_id(self, row: FlaggedPassage) -> Any:
        return row.passage_id

    def cell(self, row: FlaggedPassage, column: int) -> str:
        if column == 0:
            return passage_name(row.passage_id)
        if column == 1:
            return one_line(row.document, 200)
        if column == 2:
            return one_line(", ".join(row.matches), 200)
        return "yes" if row.accepted else ""

    def foreground(self, row: FlaggedPassage, column: int) -> QColor | None:
        return QColor(GREY) if row.accepted else None


class ChunkPreviewModel(KeyedRowsModel[ChunkPreview]):
    """Passages as new chunk settings would cut them (nothing stored)."""

    headers = ("Document", "#", "Tokens", "Heading", "Text")
    RIGHT_ALIGNED = frozenset({1, 2})

    def row_id(self, row: ChunkPreview) -> Any:
        return (row.document_id, row.ordinal)

    def cell(self, chunk: ChunkPreview, column: int) -> str:
        cells = (chunk.uri, str(chunk.ordinal + 1), str(chunk.tokens), chunk.heading_path)
        return cells[column] if column < len(cells) else one_line(chunk.text)

    def tooltip(self, chunk: ChunkPreview, column: int) -> str | None:
        return chunk.uri if column == 0 else None
