"""The first step: the bot's name, and where its workspace file goes."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWizard,
    QWizardPage,
)

from desktop.core.store.workspace import SUFFIX
from desktop.ui.widgets import plain_label

DEFAULT_FOLDER_NAME = "Botdesk"


def default_folder() -> Path:
    """Documents/Botdesk (or ~/Botdesk where there is no Documents folder)."""
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    base = Path(documents) if documents else Path.home()
    return base / DEFAULT_FOLDER_NAME


def file_name_for(bot_name: str) -> str:
    """ "Acme Bakery bot" -> "acme-bakery-bot.botdesk" (letters, digits and dashes)."""
    stem = re.sub(r"[^\w]+", "-", bot_name.strip().lower()).strip("-_") or "bot"
    return stem + SUFFIX


class NamePage(QWizardPage):
    """Name the bot; the workspace file is made when the user goes on."""

    def __init__(self, create: Callable[[Path, str], bool]) -> None:
        super().__init__()
        self._create = create
        self.setTitle("Name your bot")
        self.setSubTitle(
            "One workspace file holds one bot: its content, tests and settings. "
            "You can hand the file to a colleague."
        )
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. Acme Bakery assistant")
        self.folder_edit = QLineEdit(str(default_folder()))
        self.browse_button = QPushButton("Change…")
        self.browse_button.clicked.connect(self._browse)
        self.path_label = plain_label()
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse_button)
        form = QFormLayout(self)
        form.addRow("Bot name", self.name_edit)
        form.addRow("Folder", folder_row)
        form.addRow("Workspace file", self.path_label)
        self.registerField("bot_name*", self.name_edit)
        # The file exists once the user goes on: no way back to rename it here.
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Create")
        self.name_edit.textChanged.connect(self._update_path)
        self.folder_edit.textChanged.connect(self._update_path)
        self._update_path()

    def path(self) -> Path:
        return Path(self.folder_edit.text().strip()).expanduser() / file_name_for(
            self.name_edit.text()
        )

    def _update_path(self) -> None:
        path = self.path()
        exists = " (exists already: choose another name or folder)" if path.exists() else ""
        self.path_label.setText(f"{path}{exists}")

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Folder for the workspace", self.folder_edit.text()
        )
        if folder:
            self.folder_edit.setText(folder)

    def validatePage(self) -> bool:
        """Create the workspace file now: the next steps add to it."""
        name = self.name_edit.text().strip()
        if not name:
            return False
        path = self.path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.path_label.setText(f"Cannot make the folder {path.parent}: {exc.strerror}.")
            return False
        return self._create(path, name)
