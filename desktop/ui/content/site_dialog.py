"""The add-website dialog: start URL, rules and limits, and the crawl preview.

"Preview" runs services.content_sources.preview_site as a job (discovery only: sitemaps and the
links of the first pages). The URLs found show as a tree by path; the include/exclude
rules and the page limit are applied live (services.content_sources.apply_site_rules, no
network) while they are typed, with the count that a sync would fetch; each page left out
says why, naming the rule that keeps it out.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from desktop.core.content.models import PreviewNode, PreviewSelection, SitePreview
from desktop.core.errors import BotdeskError
from desktop.core.ingest.types import DEFAULT_MAX_DEPTH, DEFAULT_MAX_PAGES
from desktop.core.jobs import Job, JobEvent, JobState
from desktop.services import content_sources
from desktop.services.backends import Backends
from desktop.ui.content.source_settings import lines_of
from desktop.ui.jobs import JobHandle, JobsController
from desktop.ui.widgets import CompactTextEdit, debounce, plain_label

PATH_ROLE = Qt.ItemDataRole.UserRole + 1


class AddSiteDialog(QDialog):
    """Tune a website's rules on a preview of its pages before anything is fetched."""

    def __init__(self, parent: QWidget | None, jobs: JobsController, backends: Backends) -> None:
        super().__init__(parent)
        # Deleted by Qt on the GUI thread when closed, never by Python's GC in a worker.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.jobs = jobs
        self.backends = backends
        self.preview: SitePreview | None = None
        self.selection: PreviewSelection | None = None
        self.preview_job: JobHandle | None = None
        self.setWindowTitle("Add a website")
        self.resize(860, 640)
        form = self._build_form()
        self._build_tree()
        self._build_buttons()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.count_label)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.buttons)

        self._rules_timer = debounce(self, self.apply_rules)
        self.include_edit.textChanged.connect(self._rules_timer.start)
        self.exclude_edit.textChanged.connect(self._rules_timer.start)
        self.max_pages_spin.valueChanged.connect(self._rules_timer.start)
        self.url_edit.textChanged.connect(self._update_buttons)
        self.finished.connect(self._on_closed)
        self._update_buttons()

    # -- building ------------------------------------------------------------------------
    def _build_form(self) -> QFormLayout:
        """Start URL with Preview, the include/exclude rules and the limits."""
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("https://www.example.com/")
        # Rules are a line or two: boxes of two lines (Qt's default minimum is taller).
        self.include_edit = CompactTextEdit(lines=2)
        self.exclude_edit = CompactTextEdit(lines=2)
        for edit in (self.include_edit, self.exclude_edit):
            edit.setFixedHeight(max(58, edit.minimumSizeHint().height()))
        self.include_edit.setPlaceholderText("Only these URLs, one pattern a line (*/docs/*)")
        self.exclude_edit.setPlaceholderText("Never these URLs, one pattern a line (*/blog/*)")
        self.max_pages_spin = QSpinBox()
        self.max_pages_spin.setRange(1, 100_000)
        self.max_pages_spin.setValue(DEFAULT_MAX_PAGES)
        self.max_depth_spin = QSpinBox()
        self.max_depth_spin.setRange(0, 100)
        self.max_depth_spin.setValue(DEFAULT_MAX_DEPTH)
        self.preview_button = QPushButton("Preview")
        self.preview_button.setToolTip(
            "Find the site's pages (sitemap and links) without fetching them all"
        )
        self.preview_button.clicked.connect(self.start_preview)
        url_row = QHBoxLayout()
        url_row.addWidget(self.url_edit, 1)
        url_row.addWidget(self.preview_button)
        limits = QHBoxLayout()
        limits.addWidget(plain_label("Max pages", wrap=False))
        limits.addWidget(self.max_pages_spin)
        limits.addWidget(plain_label("Max depth", wrap=False))
        limits.addWidget(self.max_depth_spin)
        limits.addStretch(1)
        form = QFormLayout()
        form.addRow("Start URL", url_row)
        form.addRow("Include", self.include_edit)
        form.addRow("Exclude", self.exclude_edit)
        form.addRow("Limits", limits)
        return form

    def _build_tree(self) -> None:
        """The preview's tree of paths and the count line above it."""
        self.model = QStandardItemModel(0, 3)
        self.model.setHorizontalHeaderLabels(["Path", "Pages kept", "Why left out"])
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setEditTriggers(QTreeView.EditTrigger.NoEditTriggers)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, self.tree.header().ResizeMode.Stretch)
        self.count_label = plain_label(
            "Preview shows the pages the site lists (sitemap and links) as a tree, with your "
            "rules applied as you type."
        )

    def _build_buttons(self) -> None:
        self.buttons = QDialogButtonBox()
        self.add_button = self.buttons.addButton(
            "Add website", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.add_button.clicked.connect(self._accept_if_valid)
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.clicked.connect(self.reject)

    # -- values --------------------------------------------------------------------------
    def url(self) -> str:
        return self.url_edit.text().strip()

    def include(self) -> list[str]:
        return lines_of(self.include_edit.toPlainText())

    def exclude(self) -> list[str]:
        return lines_of(self.exclude_edit.toPlainText())

    def site_settings(self) -> dict[str, Any]:
        return {
            "include": self.include(),
            "exclude": self.exclude(),
            "max_pages": self.max_pages_spin.value(),
            "max_depth": self.max_depth_spin.value(),
        }

    def _update_buttons(self) -> None:
        has_url = bool(self.url())
        self.add_button.setEnabled(has_url)
        self.preview_button.setEnabled(has_url and self.preview_job is None)

    def _accept_if_valid(self) -> None:
        if self.url():
            self.accept()

    # -- preview -------------------------------------------------------------------------
    def start_preview(self) -> JobHandle | None:
        if self.preview_job is not None or not self.url():
            return None
        url, settings = self.url(), self.site_settings()

        async def work(job: Job) -> SitePreview | None:
            try:
                found = await content_sources.preview_site(
                    url, job=job, backends=self.backends, **settings
                )
            except BotdeskError as exc:
                # Said in the dialog itself: no modal box from inside a task (a nested
                # event loop there breaks the other running jobs).
                job.fail(str(exc))
                return None
            job.finish(f"Found {len(found.urls)} pages on {url}.")
            return found

        self.count_label.setText("Looking for the site's pages (sitemap and links)…")
        self.preview_job = self.jobs.start(f"Preview {url}", work)
        self.preview_job.changed.connect(self._on_job_changed)
        self.preview_job.finished.connect(self._on_job_finished)
        self._update_buttons()
        return self.preview_job

    def _on_job_changed(self, event: JobEvent) -> None:
        if event.state is JobState.RUNNING and event.done:
            self.count_label.setText(f"Looking for the site's pages… {event.done} found so far")

    def _on_job_finished(self, event: JobEvent, result: object) -> None:
        job, self.preview_job = self.preview_job, None
        if job is None:  # closed meanwhile
            return
        self._update_buttons()
        if isinstance(result, SitePreview) and result.urls:
            self.set_preview(result)
        elif isinstance(result, SitePreview):
            why = f" ({job.errors[0].reason})" if job.errors else ""
            self.count_label.setText(
                f"No preview: no pages found at {result.start_url}{why}. Check the address; "
                "the site may be down or forbid crawlers."
            )
        else:
            self.count_label.setText(f"No preview: {event.summary}")

    def set_preview(self, preview: SitePreview) -> None:
        self.preview = preview
        self.apply_rules()
        self.tree.expandToDepth(0)

    def apply_rules(self) -> None:
        """Re-apply the rules to the preview (instant, no network) and redraw the tree."""
        if self.preview is None:
            return
        try:
            selection = content_sources.apply_site_rules(
                self.preview,
                include=self.include(),
                exclude=self.exclude(),
                max_pages=self.max_pages_spin.value(),
            )
        except BotdeskError as exc:
            self.count_label.setText(str(exc))
            return
        self.selection = selection
        expanded = self._expanded_paths()
        self.model.removeRows(0, self.model.rowCount())
        # One top row, the whole site ("/", which is also the start page when it was found).
        self.model.invisibleRootItem().appendRow(self._row(selection.tree))
        self._restore_expanded(expanded)
        total = len(selection.urls)
        self.count_label.setText(
            f"{selection.count} of {total} pages found would be fetched "
            f"(limit {self.max_pages_spin.value()}); links found while crawling may add more."
            + "".join(f"\nA {trap}." for trap in self.preview.traps)
        )

    def _row(self, node: PreviewNode) -> list[QStandardItem]:
        name = QStandardItem(node.name)
        name.setData(node.path, PATH_ROLE)
        name.setToolTip("")  # a crawled URL is never rendered as rich text
        kept = QStandardItem(
            f"{node.included_count}/{node.total}"
            if node.children
            else ("yes" if node.included else "no")
        )
        why = QStandardItem(node.detail or node.reason or "")
        if node.total and node.included_count == 0:
            colour = self.palette().color(
                self.palette().ColorGroup.Disabled, self.palette().ColorRole.Text
            )
            for cell in (name, kept, why):
                cell.setForeground(colour)
        for child in node.children:
            name.appendRow(self._row(child))
        return [name, kept, why]

    def _expanded_paths(self) -> set[str]:
        paths: set[str] = set()

        def walk(parent: QModelIndex) -> None:
            for row in range(self.model.rowCount(parent)):
                index = self.model.index(row, 0, parent)
                if self.tree.isExpanded(index):
                    paths.add(str(index.data(PATH_ROLE)))
                    walk(index)

        walk(QModelIndex())
        return paths

    def _restore_expanded(self, paths: set[str]) -> None:
        if not paths:
            self.tree.expandToDepth(0)
            return

        def walk(parent: QModelIndex) -> None:
            for row in range(self.model.rowCount(parent)):
                index = self.model.index(row, 0, parent)
                if str(index.data(PATH_ROLE)) in paths:
                    self.tree.setExpanded(index, True)
                    walk(index)

        walk(QModelIndex())

    def tree_rows(self) -> list[tuple[str, str, str]]:
        """Every row of the tree, depth first, as (path, kept, why) (for tests and bug reports)."""
        rows: list[tuple[str, str, str]] = []

        def walk(parent: QModelIndex) -> None:
            for row in range(self.model.rowCount(parent)):
                index = self.model.index(row, 0, parent)
                rows.append(
                    (
                        str(index.data(PATH_ROLE)),
                        str(self.model.index(row, 1, parent).data()),
                        str(self.model.index(row, 2, parent).data() or ""),
                    )
                )
                walk(index)

        walk(QModelIndex())
        return rows

    def _on_closed(self) -> None:
        job, self.preview_job = self.preview_job, None
        if job is not None:
            job.changed.disconnect(self._on_job_changed)
            job.finished.disconnect(self._on_job_finished)
            job.cancel()
