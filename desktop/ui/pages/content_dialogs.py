"""Dialogs of the Content page: text entry, passage edit and review, URL pattern, chunk
settings with the new cut previewed, repeated passages, and a job's per-item errors.

Everything scraped is shown as plain text (QPlainTextEdit, table items, plain-text labels).
Dialogs are opened with open(), never exec(): a nested event loop would run the qasync
loop's tasks re-entrantly.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.content.models import (
    BoilerplateGroup,
    ChunkPreview,
    ChunkSettings,
    PassageInfo,
    SourceInfo,
)
from desktop.core.jobs import ItemError
from desktop.core.text import count_tokens
from desktop.ui.widgets import plain_label


def one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def read_only_text(text: str = "", *, placeholder: str = "") -> QPlainTextEdit:
    view = QPlainTextEdit()
    view.setReadOnly(True)
    view.setPlainText(text)
    view.setPlaceholderText(placeholder)
    return view


def item(text: str, data: Any = None) -> QTableWidgetItem:
    cell = QTableWidgetItem(text)
    cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if data is not None:
        cell.setData(Qt.ItemDataRole.UserRole, data)
    return cell


def table(headers: Sequence[str], stretch: int) -> QTableWidget:
    view = QTableWidget(0, len(headers))
    view.setHorizontalHeaderLabels(list(headers))
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(22)
    header = view.horizontalHeader()
    # Not ResizeToContents: that re-measures every row on every setItem (quadratic: a
    # 1,000-document refresh took seconds). fill_done() fits the columns once instead.
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    header.setResizeContentsPrecision(60)
    return view


def fill_done(view: QTableWidget, widest: int = 220) -> None:
    """Fit the non-stretched columns to their contents (first rows only, at most `widest`
    pixels, so the stretched text column keeps its room), once per fill."""
    header = view.horizontalHeader()
    for column in range(view.columnCount()):
        if header.sectionResizeMode(column) != QHeaderView.ResizeMode.Stretch:
            view.resizeColumnToContents(column)
            header.resizeSection(column, min(header.sectionSize(column), widest))


class TextEntryDialog(QDialog):
    """A line (title, question, heading) and a text body: add text, Q&A, or a passage."""

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        *,
        line_label: str,
        body_label: str,
        line_required: bool = False,
        note: str = "",
    ) -> None:
        super().__init__(parent)
        # Deleted by Qt on the GUI thread when closed, never by Python's GC in a worker.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(title)
        self.resize(560, 420)
        self.line_required = line_required
        self.line_edit = QLineEdit()
        self.body_edit = QPlainTextEdit()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(line_label, self.line_edit)
        layout = QVBoxLayout(self)
        if note:
            layout.addWidget(plain_label(note))
        layout.addLayout(form)
        layout.addWidget(plain_label(body_label))
        layout.addWidget(self.body_edit, 1)
        layout.addWidget(self.buttons)
        self.line_edit.textChanged.connect(self._update)
        self.body_edit.textChanged.connect(self._update)
        self._update()

    def _update(self) -> None:
        ok = bool(self.body_edit.toPlainText().strip()) and (
            not self.line_required or bool(self.line_edit.text().strip())
        )
        button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        button.setEnabled(ok)

    def line(self) -> str:
        return self.line_edit.text().strip()

    def body(self) -> str:
        return self.body_edit.toPlainText()


class PassageDialog(QDialog):
    """Edit a passage; for one flagged for review, both texts side by side and the choice.

    `result_action` after acceptance: "edit" (save the editor's text), "keep-edit" or
    "take-source" (settle the review).
    """

    def __init__(self, parent: QWidget | None, passage: PassageInfo) -> None:
        super().__init__(parent)
        # Deleted by Qt on the GUI thread when closed, never by Python's GC in a worker.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.passage = passage
        self.result_action = ""
        self.setWindowTitle("Review passage" if passage.needs_review else "Edit passage")
        self.resize(900 if passage.needs_review else 640, 520)
        where = passage.heading_path or passage.title or passage.uri
        page = f", page {passage.page}" if passage.page else ""
        self.where_label = plain_label(f"{where}{page}\n{passage.uri}")
        self.editor = QPlainTextEdit()
        self.editor.setPlainText(passage.text)
        self.tokens_label = plain_label()
        self.editor.textChanged.connect(self._count)
        layout = QVBoxLayout(self)
        layout.addWidget(self.where_label)
        buttons = QDialogButtonBox()
        if passage.needs_review:
            new_text = passage.review_source_text or passage.source_text
            self.new_source_view = read_only_text(new_text)
            explain = plain_label(
                "The source text under this passage changed since you curated it. "
                "Your version (left, editable) is kept until you choose."
                if passage.edited
                else "The source text under this excluded passage changed. "
                "Check whether it should stay excluded."
            )
            layout.addWidget(explain)
            columns = QHBoxLayout()
            left = QVBoxLayout()
            left.addWidget(plain_label("Your version" if passage.edited else "Current text"))
            left.addWidget(self.editor, 1)
            right = QVBoxLayout()
            right.addWidget(plain_label("The source now says"))
            right.addWidget(self.new_source_view, 1)
            columns.addLayout(left, 1)
            columns.addLayout(right, 1)
            layout.addLayout(columns, 1)
            self.keep_button = buttons.addButton(
                "Keep my version", QDialogButtonBox.ButtonRole.AcceptRole
            )
            self.take_button = buttons.addButton(
                "Take the new text", QDialogButtonBox.ButtonRole.AcceptRole
            )
            self.keep_button.clicked.connect(lambda: self._finish("keep-edit"))
            self.take_button.clicked.connect(lambda: self._finish("take-source"))
        else:
            layout.addWidget(self.editor, 1)
            self.save_button = buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
            self.save_button.clicked.connect(lambda: self._finish("edit"))
            if passage.edited and passage.origin == "chunker":
                self.revert_button = buttons.addButton(
                    "Back to the source text", QDialogButtonBox.ButtonRole.ResetRole
                )
                self.revert_button.clicked.connect(
                    lambda: self.editor.setPlainText(passage.source_text)
                )
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.clicked.connect(self.reject)
        layout.addWidget(self.tokens_label)
        layout.addWidget(buttons)
        self._count()

    def _count(self) -> None:
        tokens = count_tokens(self.editor.toPlainText())
        self.tokens_label.setText(f"{tokens} tokens (was {self.passage.tokens})")

    def _finish(self, action: str) -> None:
        if action == "edit" and not self.editor.toPlainText().strip():
            self.tokens_label.setText("A passage cannot be empty: exclude it instead.")
            return
        self.result_action = action
        self.accept()

    def text(self) -> str:
        return self.editor.toPlainText()


class PatternDialog(QDialog):
    """Exclude every document whose URL or path matches a glob; counts matches as you type."""

    def __init__(self, parent: QWidget | None, pattern: str, uris: Sequence[str]) -> None:
        super().__init__(parent)
        # Deleted by Qt on the GUI thread when closed, never by Python's GC in a worker.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Exclude a URL pattern")
        self.resize(620, 180)
        self.uris = list(uris)
        self.pattern_edit = QLineEdit(pattern)
        self.count_label = plain_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            plain_label(
                "Documents whose address matches this pattern (* matches anything) are kept "
                "out of the bot, now and after every sync."
            )
        )
        layout.addWidget(self.pattern_edit)
        layout.addWidget(self.count_label)
        layout.addWidget(self.buttons)
        self.pattern_edit.textChanged.connect(self._count)
        self._count()

    def pattern(self) -> str:
        return self.pattern_edit.text().strip()

    def _count(self) -> None:
        pattern = self.pattern()
        n = sum(1 for uri in self.uris if pattern and fnmatch.fnmatchcase(uri, pattern))
        self.count_label.setText(f"Matches {n} of {len(self.uris)} documents now.")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(pattern))


class SourceSettingsDialog(QDialog):
    """A source's chunk size and overlap (and a site's rules), with the new cut previewed.

    `preview_requested` carries the chunking settings; the page runs the preview as a job
    and calls show_preview(). Accepting applies the settings (the page re-chunks).
    """

    preview_requested = Signal(object)  # dict of chunking settings

    def __init__(
        self,
        parent: QWidget | None,
        source: SourceInfo,
        current: ChunkSettings,
        current_passages: int,
    ) -> None:
        super().__init__(parent)
        # Deleted by Qt on the GUI thread when closed, never by Python's GC in a worker.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.source = source
        self.current = current
        self.current_passages = current_passages
        self.setWindowTitle(f"Settings — {source.title or source.location}")
        self.resize(860, 600)
        self.target_spin = QSpinBox()
        self.target_spin.setRange(20, 4000)
        self.target_spin.setValue(current.target_tokens)
        self.overlap_spin = QSpinBox()
        self.overlap_spin.setRange(0, 1000)
        self.overlap_spin.setValue(current.overlap_tokens)
        self.min_spin = QSpinBox()
        self.min_spin.setRange(0, 2000)
        self.min_spin.setValue(current.min_tokens)
        form = QFormLayout()
        form.addRow("Passage size (tokens)", self.target_spin)
        form.addRow("Overlap (tokens)", self.overlap_spin)
        form.addRow("Smallest passage (tokens)", self.min_spin)
        self.include_edit = QPlainTextEdit()
        self.exclude_edit = QPlainTextEdit()
        self.max_pages_spin = QSpinBox()
        self.max_depth_spin = QSpinBox()
        if source.kind == "site":
            settings = source.settings
            self.include_edit.setPlainText("\n".join(settings.get("include") or []))
            self.exclude_edit.setPlainText("\n".join(settings.get("exclude") or []))
            for edit in (self.include_edit, self.exclude_edit):
                edit.setFixedHeight(54)
                edit.setPlaceholderText("one URL pattern per line, e.g. */blog/*")
            self.max_pages_spin.setRange(1, 100_000)
            self.max_pages_spin.setValue(int(settings.get("max_pages") or 500))
            self.max_depth_spin.setRange(0, 100)
            self.max_depth_spin.setValue(int(settings.get("max_depth") or 10))
            form.addRow("Include URLs", self.include_edit)
            form.addRow("Exclude URLs", self.exclude_edit)
            form.addRow("Max pages", self.max_pages_spin)
            form.addRow("Max depth", self.max_depth_spin)
        self.preview_button = QPushButton("Preview the new cut")
        self.preview_button.clicked.connect(self.request_preview)
        self.summary_label = plain_label(
            f"Now: {current_passages} passages. Change the sizes and preview the new cut "
            "before applying it."
        )
        self.preview_table = table(["Document", "#", "Tokens", "Heading", "Text"], 4)
        self.buttons = QDialogButtonBox()
        self.apply_button = self.buttons.addButton(
            "Apply and re-cut", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.apply_button.clicked.connect(self.accept)
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.preview_button)
        row.addWidget(self.summary_label, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.preview_table, 1)
        layout.addWidget(self.buttons)

    def chunking(self) -> dict[str, int]:
        return {
            "target_tokens": self.target_spin.value(),
            "overlap_tokens": self.overlap_spin.value(),
            "min_tokens": self.min_spin.value(),
        }

    def site_rules(self) -> dict[str, Any]:
        if self.source.kind != "site":
            return {}
        return {
            "include": _lines(self.include_edit.toPlainText()),
            "exclude": _lines(self.exclude_edit.toPlainText()),
            "max_pages": self.max_pages_spin.value(),
            "max_depth": self.max_depth_spin.value(),
        }

    def request_preview(self) -> None:
        self.preview_button.setEnabled(False)
        self.summary_label.setText("Cutting the stored documents with these settings…")
        self.preview_requested.emit(self.chunking())

    def show_preview(self, chunks: Sequence[ChunkPreview] | None, error: str = "") -> None:
        self.preview_button.setEnabled(True)
        if chunks is None:
            self.summary_label.setText(error or "The preview failed.")
            return
        tokens = [c.tokens for c in chunks]
        average = sum(tokens) / len(tokens) if tokens else 0
        self.summary_label.setText(
            f"Now: {self.current_passages} passages. With these settings: {len(chunks)} "
            f"passages, {average:.0f} tokens on average (largest {max(tokens, default=0)})."
        )
        shown = list(chunks[:2000])
        self.preview_table.setRowCount(len(shown))
        for row, chunk in enumerate(shown):
            cells = [chunk.uri, str(chunk.ordinal + 1), str(chunk.tokens), chunk.heading_path]
            for column, text in enumerate(cells):
                self.preview_table.setItem(row, column, item(text))
            self.preview_table.setItem(row, 4, item(one_line(chunk.text)))
        fill_done(self.preview_table)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class BoilerplateDialog(QDialog):
    """Passages repeated across many documents, grouped, each group excludable at once."""

    exclude_requested = Signal(object)  # list of group keys

    def __init__(self, parent: QWidget | None, groups: Sequence[BoilerplateGroup]) -> None:
        super().__init__(parent)
        # Deleted by Qt on the GUI thread when closed, never by Python's GC in a worker.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Repeated passages")
        self.resize(820, 460)
        self.table = table(["Documents", "Passages", "Excluded", "Text"], 3)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.note = plain_label()
        self.exclude_button = QPushButton("Exclude selected groups")
        self.exclude_button.clicked.connect(self._exclude_selected)
        self.exclude_all_button = QPushButton("Exclude all")
        self.exclude_all_button.clicked.connect(self._exclude_all)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.exclude_button)
        buttons.addWidget(self.exclude_all_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(
            plain_label(
                "Text that repeats on many pages (footers, legal notes, menus) rarely helps "
                "the bot. Excluding a group also excludes its copies found by later syncs."
            )
        )
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        layout.addLayout(buttons)
        self.set_groups(groups)

    def set_groups(self, groups: Sequence[BoilerplateGroup]) -> None:
        self.groups = list(groups)
        self.table.setRowCount(len(self.groups))
        for row, group in enumerate(self.groups):
            cells = [str(group.documents), str(len(group.passage_ids)), str(group.excluded)]
            for column, text in enumerate(cells):
                self.table.setItem(row, column, item(text, group.key))
            self.table.setItem(row, 3, item(one_line(group.text, 300), group.key))
        fill_done(self.table)
        pending = [g for g in self.groups if g.excluded < len(g.passage_ids)]
        self.note.setText(
            f"{len(self.groups)} groups, {len(pending)} not yet fully excluded."
            if self.groups
            else "No repeated passages found."
        )
        self.exclude_all_button.setEnabled(bool(pending))

    def selected_keys(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectedIndexes()})
        return [self.groups[row].key for row in rows]

    def _exclude_selected(self) -> None:
        keys = self.selected_keys()
        if keys:
            self.exclude_requested.emit(keys)

    def _exclude_all(self) -> None:
        keys = [g.key for g in self.groups if g.excluded < len(g.passage_ids)]
        if keys:
            self.exclude_requested.emit(keys)


class ItemErrorsDialog(QDialog):
    """What failed in a job, one line per item with its reason (copyable)."""

    def __init__(self, parent: QWidget | None, title: str, errors: Sequence[ItemError]) -> None:
        super().__init__(parent)
        # Deleted by Qt on the GUI thread when closed, never by Python's GC in a worker.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(title)
        self.resize(760, 360)
        lines = [f"{e.item} — {e.reason}" for e in errors] or ["Nothing failed."]
        self.view = read_only_text("\n".join(lines))
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        close.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(f"{len(errors)} items failed; the rest went on."))
        layout.addWidget(self.view, 1)
        layout.addWidget(close)


def debounce(parent: QWidget, slot: Callable[[], None], ms: int = 150) -> QTimer:
    """A single-shot timer that calls `slot` once typing pauses."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(ms)
    timer.timeout.connect(slot)
    return timer
