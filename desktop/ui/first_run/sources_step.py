"""The second step: the website (with the crawl preview) and/or files. Going on adds them
and starts the first sync, which runs while the user chooses the models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWizardPage,
)

from desktop.core.errors import BotdeskError
from desktop.core.store.workspace import Workspace
from desktop.services import content_sources
from desktop.ui.content.site_dialog import AddSiteDialog
from desktop.ui.context import WindowContext
from desktop.ui.widgets import plain_label

FILE_FILTER = "Documents (*.pdf *.html *.htm *.md *.markdown *.txt);;All files (*)"


class SourcesPage(QWizardPage):
    """Where the bot's knowledge comes from."""

    def __init__(self, context: WindowContext, start_sync: Callable[[], None]) -> None:
        super().__init__()
        self.context = context
        self._start_sync = start_sync
        self.site_settings: dict[str, Any] = {}
        self.setTitle("Add your website and files")
        self.setSubTitle(
            "Botdesk reads them and cuts them into passages the bot answers from. "
            "Nothing is downloaded until you go on; you can add more later on the Content page."
        )
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("https://www.example.com/")
        self.url_edit.textEdited.connect(self._forget_rules)
        self.preview_button = QPushButton("Preview pages…")
        self.preview_button.setToolTip("See which pages a sync would fetch, and tune the rules")
        self.preview_button.clicked.connect(self.open_preview)
        self.site_label = plain_label()
        site_row = QHBoxLayout()
        site_row.addWidget(self.url_edit, 1)
        site_row.addWidget(self.preview_button)
        site_box = QGroupBox("Website")
        site_layout = QVBoxLayout(site_box)
        site_layout.addLayout(site_row)
        site_layout.addWidget(self.site_label)

        self.file_list = QListWidget()
        self.add_files_button = QPushButton("Add files…")
        self.add_files_button.clicked.connect(self._pick_files)
        self.add_folder_button = QPushButton("Add folder…")
        self.add_folder_button.clicked.connect(self._pick_folder)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._remove_selected)
        file_buttons = QHBoxLayout()
        for button in (self.add_files_button, self.add_folder_button, self.remove_button):
            file_buttons.addWidget(button)
        file_buttons.addStretch(1)
        files_box = QGroupBox("Files (PDF, HTML, Markdown, text) or folders")
        files_layout = QVBoxLayout(files_box)
        files_layout.addWidget(self.file_list, 1)
        files_layout.addLayout(file_buttons)
        self.result_label = plain_label()
        layout = QVBoxLayout(self)
        layout.addWidget(site_box)
        layout.addWidget(files_box, 1)
        layout.addWidget(self.result_label)

    # -- the website ----------------------------------------------------------------------
    def open_preview(self) -> AddSiteDialog:
        """The Content page's site dialog: the crawl preview, include/exclude rules, limits."""
        dialog = AddSiteDialog(self, self.context.jobs, self.context.backends)
        dialog.url_edit.setText(self.url_edit.text().strip())
        dialog.add_button.setText("Use this website")

        def take() -> None:
            self.url_edit.setText(dialog.url())
            self.site_settings = dialog.site_settings()
            rules = [
                *(f"only {p}" for p in dialog.include()),
                *(f"not {p}" for p in dialog.exclude()),
            ]
            self.site_label.setText("Rules: " + "; ".join(rules) if rules else "")

        dialog.accepted.connect(take)
        dialog.open()
        if dialog.url():
            dialog.start_preview()
        return dialog

    def _forget_rules(self) -> None:
        self.site_settings = {}
        self.site_label.setText("")

    # -- files ---------------------------------------------------------------------------
    def add_paths(self, paths: list[str]) -> None:
        known = {self.file_list.item(i).text() for i in range(self.file_list.count())}
        self.file_list.addItems([p for p in paths if p not in known])

    def paths(self) -> list[str]:
        return [self.file_list.item(i).text() for i in range(self.file_list.count())]

    def _pick_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add files", "", FILE_FILTER)
        self.add_paths(paths)

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder")
        if folder:
            self.add_paths([folder])

    def _remove_selected(self) -> None:
        for item in self.file_list.selectedItems():
            self.file_list.takeItem(self.file_list.row(item))

    # -- going on ------------------------------------------------------------------------
    def validatePage(self) -> bool:
        """Add the sources (all or none) and start the first sync."""
        ws = self.context.workspace
        if ws is None:
            return False
        url, paths = self.url_edit.text().strip(), self.paths()
        if not url and not paths:
            return True  # allowed: sources can be added later on the Content page
        try:
            self._add(ws, url, paths)
        except BotdeskError as exc:
            self.result_label.setText(f"{exc.message} {exc.hint}".strip())
            return False
        self._start_sync()
        return True

    def _add(self, ws: Workspace, url: str, paths: list[str]) -> None:
        # Check both before adding either, so that a bad path does not leave the site added.
        with ws.transaction():
            if url:
                content_sources.add_site(ws, url, **self.site_settings)
            if paths:
                content_sources.add_files(ws, paths)
