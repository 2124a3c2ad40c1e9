"""A source's settings dialog: chunk size and overlap (and a site's rules and limits),
with the new cut previewed as a job before it is applied."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.core.content.models import ChunkPreview, ChunkSettings, SourceInfo
from desktop.ui.content.models import ChunkPreviewModel
from desktop.ui.widgets import CompactTextEdit, plain_label, table_view


def lines_of(text: str) -> list[str]:
    """The non-empty lines of a rules box, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


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
        # Rules are a line or two: boxes of two lines (Qt's default minimum is taller).
        self.include_edit = CompactTextEdit(lines=2)
        self.exclude_edit = CompactTextEdit(lines=2)
        self.max_pages_spin = QSpinBox()
        self.max_depth_spin = QSpinBox()
        if source.kind == "site":
            settings = source.settings
            self.include_edit.setPlainText("\n".join(settings.get("include") or []))
            self.exclude_edit.setPlainText("\n".join(settings.get("exclude") or []))
            for edit in (self.include_edit, self.exclude_edit):
                edit.setFixedHeight(max(58, edit.minimumSizeHint().height()))
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
        self.preview_model = ChunkPreviewModel()
        self.preview_table = table_view(self.preview_model, stretch=4)
        self.preview_table.setTextElideMode(Qt.TextElideMode.ElideRight)
        for column, width in ((0, 220), (1, 40), (2, 60), (3, 160)):
            self.preview_table.setColumnWidth(column, width)
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
            "include": lines_of(self.include_edit.toPlainText()),
            "exclude": lines_of(self.exclude_edit.toPlainText()),
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
        self.preview_model.set_rows(chunks)
