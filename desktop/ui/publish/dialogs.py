"""The Publish page's dialogs: the token (saying first where it will be kept), one plain
confirmation before a rollback or forgetting the token, and where to write a bundle file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from desktop.core.publish.client import TOKEN_ENV
from desktop.services.publish import TokenStatus
from desktop.ui.widgets import plain_label


def confirm(parent: QWidget | None, question: str, detail: str, action: str) -> bool:
    """Ask once, plainly; the button says what happens, Cancel is the default."""
    box = QMessageBox(QMessageBox.Icon.Question, "Botdesk", question, parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setInformativeText(detail)
    yes = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    return box.clickedButton() is yes


@dataclass(frozen=True)
class TokenChoice:
    token: str
    session_only: bool  # no keyring: kept in memory until Botdesk quits


class TokenDialog(QDialog):
    """Asks for the endpoint's token, saying first where it will be kept.

    Without a keyring the user learns that before typing anything, and the only way offered
    is to keep it for this session (in memory, never on disk)."""

    def __init__(self, parent: QWidget | None, endpoint: str, status: TokenStatus) -> None:
        super().__init__(parent)
        self.setWindowTitle("Publish token")
        self.session_only = not status.keyring_usable
        if self.session_only:
            where = (
                f"This computer has no usable keyring ({status.keyring_why}), so Botdesk "
                "cannot store the token.\n\nIt can keep it for this session only: in memory, "
                "never written to disk, forgotten when Botdesk quits. To have it at every "
                f"start, set the environment variable {TOKEN_ENV} before starting Botdesk."
            )
            keep = "Keep for this session"
        else:
            where = "The token is stored in the system keyring under the endpoint's address."
            keep = "Store in keyring"
        self.where_label = plain_label(where)
        self.token_edit = QLineEdit()
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setPlaceholderText("the token the service gave you")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.keep_button = self.buttons.addButton(keep, QDialogButtonBox.ButtonRole.AcceptRole)
        self.keep_button.setEnabled(False)
        self.token_edit.textChanged.connect(self._token_typed)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.where_label)
        layout.addWidget(plain_label(f"Token for {endpoint}:"))
        layout.addWidget(self.token_edit)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)

    def _token_typed(self, text: str) -> None:
        self.keep_button.setEnabled(bool(text.strip()))

    def choice(self) -> TokenChoice:
        return TokenChoice(self.token_edit.text().strip(), self.session_only)


def ask_token(parent: QWidget | None, endpoint: str, status: TokenStatus) -> TokenChoice | None:
    dialog = TokenDialog(parent, endpoint, status)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.choice()
    finally:
        dialog.deleteLater()


def choose_bundle_path(parent: QWidget | None, suggested: Path) -> str:
    """Where to write a bundle file ("" when the user cancels)."""
    path, _ = QFileDialog.getSaveFileName(
        parent, "Save bundle", str(suggested), "Bundle (*.bundle)"
    )
    return path
