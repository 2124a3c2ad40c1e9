"""A source's settings dialog: chunk size and overlap (and a site's rules, limits and crawl
settings), with the new cut previewed as a job before it is applied."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLayout,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.core.content.models import ChunkPreview, ChunkSettings, SourceInfo
from desktop.core.ingest.types import (
    DEFAULT_CONCURRENCY,
    DEFAULT_FAMILY_CAP,
    DEFAULT_TIMEOUT_S,
    SiteConfig,
)
from desktop.services.content_sources import MAX_CONCURRENCY, MAX_TIMEOUT_S
from desktop.ui.content.models import ChunkPreviewModel
from desktop.ui.widgets import CompactTextEdit, plain_label, table_view

CONCURRENCY_TIP = (
    "How many pages Botdesk asks this website for at the same time (default "
    f"{DEFAULT_CONCURRENCY}, at most {MAX_CONCURRENCY}). Fewer is gentler on a small server. "
    "If the site's robots.txt sets a Crawl-delay, that still wins: Botdesk then waits that "
    "long between requests, whatever this says."
)
TIMEOUT_TIP = (
    "How long to wait for one page before giving up on it and going on with the others "
    f"(default {DEFAULT_TIMEOUT_S:g} seconds). Raise it for a slow server."
)
FAMILY_CAP_TIP = (
    "Some sites make endless pages from one pattern, such as a calendar with a page for "
    "every next month (/calendar/2031/4, /calendar/2031/5, …). Botdesk follows at most this "
    "many pages of one such pattern in a sync, so the crawl never runs away (default "
    f"{DEFAULT_FAMILY_CAP})."
)
NOINDEX_TIP = (
    "On (the default): pages that ask search engines not to index them (a robots meta tag "
    "or an X-Robots-Tag header saying noindex) are left out of the bot. Off: they are kept, "
    "for example pages hidden from search engines but meant for customers."
)


def lines_of(text: str) -> list[str]:
    """The non-empty lines of a rules box, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _default_as_none(value: Any, default: Any) -> Any:
    """None for a crawl setting left at SiteConfig's default: the source then follows the
    default (services.content_sources.set_source_settings drops it) instead of pinning it."""
    return None if value == default else value


class SourceSettingsDialog(QDialog):
    """A source's chunk size and overlap (and a site's rules, limits and crawl settings),
    with the new cut previewed.

    `site` is the site's effective crawl configuration (None for other sources: no site
    settings shown). `preview_requested` carries the chunking settings; the page runs the
    preview as a job and calls show_preview(). Accepting applies the settings (the page
    saves chunking() and site_settings() and re-syncs the source).
    """

    preview_requested = Signal(object)  # dict of chunking settings

    def __init__(
        self,
        parent: QWidget | None,
        source: SourceInfo,
        current: ChunkSettings,
        current_passages: int,
        site: SiteConfig | None = None,
    ) -> None:
        super().__init__(parent)
        # Deleted by Qt on the GUI thread when closed, never by Python's GC in a worker.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.source = source
        self.site = site
        self.current = current
        self.current_passages = current_passages
        self.setWindowTitle(f"Settings — {source.title or source.location}")
        self.resize(860, 600)
        self._build_chunk_inputs(current)
        self._build_rule_inputs(site)
        self._build_crawl_inputs(site)
        self._build_preview()
        self._build_buttons()
        layout = QVBoxLayout(self)
        layout.addLayout(self._settings_layout())
        row = QHBoxLayout()
        row.addWidget(self.preview_button)
        row.addWidget(self.summary_label, 1)
        layout.addLayout(row)
        layout.addWidget(self.preview_table, 1)
        layout.addWidget(self.buttons)

    # -- building ------------------------------------------------------------------------
    def _build_chunk_inputs(self, current: ChunkSettings) -> None:
        self.target_spin = QSpinBox()
        self.target_spin.setRange(20, 4000)
        self.target_spin.setValue(current.target_tokens)
        self.overlap_spin = QSpinBox()
        self.overlap_spin.setRange(0, 1000)
        self.overlap_spin.setValue(current.overlap_tokens)
        self.min_spin = QSpinBox()
        self.min_spin.setRange(0, 2000)
        self.min_spin.setValue(current.min_tokens)

    def _build_rule_inputs(self, site: SiteConfig | None) -> None:
        """The site's URL rules and limits (made for every source, shown for a site)."""
        # Rules are a line or two: boxes of two lines (Qt's default minimum is taller).
        self.include_edit = CompactTextEdit(lines=2)
        self.exclude_edit = CompactTextEdit(lines=2)
        self.max_pages_spin = QSpinBox()
        self.max_depth_spin = QSpinBox()
        if site is None:
            return
        self.include_edit.setPlainText("\n".join(site.include))
        self.exclude_edit.setPlainText("\n".join(site.exclude))
        for edit in (self.include_edit, self.exclude_edit):
            edit.setFixedHeight(max(58, edit.minimumSizeHint().height()))
            edit.setMinimumWidth(220)  # a pattern or two stays readable in a narrow dialog
            edit.setPlaceholderText("one URL pattern per line, e.g. */blog/*")
        self.max_pages_spin.setRange(1, 100_000)
        self.max_pages_spin.setValue(site.max_pages)
        self.max_depth_spin.setRange(0, 100)
        self.max_depth_spin.setValue(site.max_depth)

    def _build_crawl_inputs(self, site: SiteConfig | None) -> None:
        """Politeness and crawl traps (made for every source, shown for a site)."""
        self.concurrency_spin = QSpinBox()
        self.concurrency_spin.setRange(1, MAX_CONCURRENCY)
        self.concurrency_spin.setToolTip(CONCURRENCY_TIP)
        self.timeout_spin = QDoubleSpinBox()
        self.timeout_spin.setRange(0.1, MAX_TIMEOUT_S)
        self.timeout_spin.setDecimals(1)
        self.timeout_spin.setSuffix(" s")
        self.timeout_spin.setToolTip(TIMEOUT_TIP)
        self.family_cap_spin = QSpinBox()
        self.family_cap_spin.setRange(1, 100_000)
        self.family_cap_spin.setToolTip(FAMILY_CAP_TIP)
        self.noindex_box = QCheckBox("Honour noindex (robots meta tag and X-Robots-Tag)")
        self.noindex_box.setToolTip(NOINDEX_TIP)
        site = site or SiteConfig(start_url="")  # the defaults, for a source never shown
        self.concurrency_spin.setValue(site.concurrency)
        self.timeout_spin.setValue(site.timeout_s)
        self.family_cap_spin.setValue(site.family_cap)
        self.noindex_box.setChecked(site.honour_noindex)

    def _build_preview(self) -> None:
        self.preview_button = QPushButton("Preview the new cut")
        self.preview_button.clicked.connect(self.request_preview)
        self.summary_label = plain_label(
            f"Now: {self.current_passages} passages. Change the sizes and preview the new "
            "cut before applying it."
        )
        # Two lines held: the layout's minimum counts it as one, and a narrow dialog that
        # wraps it would take the missing line from the spin boxes above.
        self.summary_label.setMinimumHeight(2 * self.summary_label.fontMetrics().lineSpacing())
        self.preview_model = ChunkPreviewModel()
        self.preview_table = table_view(self.preview_model, stretch=4)
        self.preview_table.setTextElideMode(Qt.TextElideMode.ElideRight)
        for column, width in ((0, 220), (1, 40), (2, 60), (3, 160)):
            self.preview_table.setColumnWidth(column, width)

    def _build_buttons(self) -> None:
        self.buttons = QDialogButtonBox()
        self.apply_button = self.buttons.addButton(
            "Apply and re-cut", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.apply_button.clicked.connect(self.accept)
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.clicked.connect(self.reject)

    def _settings_layout(self) -> QLayout:
        """The passage sizes alone; for a site, beside the pages to fetch, with the crawl
        settings under the sizes (two columns keep the preview table room on a laptop)."""
        passages = QFormLayout()
        passages.addRow("Passage size (tokens)", self.target_spin)
        passages.addRow("Overlap (tokens)", self.overlap_spin)
        passages.addRow("Smallest passage (tokens)", self.min_spin)
        if self.site is None:
            return passages
        crawl = QFormLayout()
        crawl.addRow("Requests in flight per host", self.concurrency_spin)
        crawl.addRow("Response timeout", self.timeout_spin)
        crawl.addRow("Pages per URL family (crawl-trap cap)", self.family_cap_spin)
        crawl.addRow(self.noindex_box)
        pages = QFormLayout()
        pages.addRow("Include URLs", self.include_edit)
        pages.addRow("Exclude URLs", self.exclude_edit)
        pages.addRow("Max pages", self.max_pages_spin)
        pages.addRow("Max depth", self.max_depth_spin)
        left = QVBoxLayout()
        left.addWidget(_group("Passages", passages))
        left.addWidget(_group("Crawling", crawl))
        columns = QHBoxLayout()
        columns.addLayout(left)
        columns.addWidget(_group("Pages to fetch", pages), 1)
        return columns

    # -- values --------------------------------------------------------------------------
    def chunking(self) -> dict[str, int]:
        return {
            "target_tokens": self.target_spin.value(),
            "overlap_tokens": self.overlap_spin.value(),
            "min_tokens": self.min_spin.value(),
        }

    def site_settings(self) -> dict[str, Any]:
        """A site's rules, limits and crawl settings as services.content_sources.set_source_settings
        takes them (a crawl setting at its default is None: back to the default); {} for
        other sources."""
        if self.site is None:
            return {}
        return {
            "include": lines_of(self.include_edit.toPlainText()),
            "exclude": lines_of(self.exclude_edit.toPlainText()),
            "max_pages": self.max_pages_spin.value(),
            "max_depth": self.max_depth_spin.value(),
            "concurrency": _default_as_none(self.concurrency_spin.value(), DEFAULT_CONCURRENCY),
            "timeout_s": _default_as_none(self.timeout_spin.value(), DEFAULT_TIMEOUT_S),
            "family_cap": _default_as_none(self.family_cap_spin.value(), DEFAULT_FAMILY_CAP),
            "honour_noindex": _default_as_none(self.noindex_box.isChecked(), True),
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


def _group(title: str, layout: QLayout) -> QGroupBox:
    box = QGroupBox(title)
    box.setLayout(layout)
    return box
