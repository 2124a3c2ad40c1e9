"""The Content page: sources, their documents, and a document's Markdown beside its passages."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.content.models import ContentStats
from desktop.core.store.workspace import Workspace
from desktop.services import content
from desktop.ui.context import WindowContext
from desktop.ui.pages import Page

EMPTY_TEXT = "Add your website or files to start"


def stats_line(stats: ContentStats) -> str:
    """The status bar's count: "1,204 passages (17 excluded, 5 edited, 2 need review)"."""
    return (
        f"{stats.passages:,} passages ({stats.excluded:,} excluded, {stats.edited:,} edited, "
        f"{stats.needs_review:,} need review)"
    )


class ContentPage(Page):
    """Sources ▸ documents ▸ [extracted Markdown | passages], with curation and sync."""

    title = "Content"

    def __init__(self, context: WindowContext) -> None:
        super().__init__(context)
        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sources_table = QTableWidget(0, 6)
        self.sources_table.setHorizontalHeaderLabels(
            ["Kind", "Location", "Last sync", "Documents", "Passages", "Errors"]
        )
        self.sources_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        body = QWidget()
        QVBoxLayout(body).addWidget(self.sources_table)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(body)
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        context.content_changed.connect(self.refresh)
        self.on_workspace_changed(context.workspace)

    @property
    def workspace(self) -> Workspace | None:
        return self.context.workspace

    def on_workspace_changed(self, workspace: Workspace | None) -> None:
        self.refresh()

    def refresh(self) -> None:
        ws = self.workspace
        sources = content.list_sources(ws) if ws is not None else []
        self.stack.setCurrentIndex(1 if sources else 0)
        self.sources_table.setRowCount(len(sources))
        for row, source in enumerate(sources):
            cells = [
                source.kind,
                source.location or source.title,
                source.last_synced_at or "never",
                str(source.documents),
                str(source.passages),
                "",
            ]
            for column, text in enumerate(cells):
                self.sources_table.setItem(row, column, QTableWidgetItem(text))
