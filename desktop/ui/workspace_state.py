"""The open workspace's state in the window: read-only, or busy in another process; and the
offer to restore the last good backup when a workspace file is damaged."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QWidget

from desktop.core.errors import BotdeskError, WorkspaceDamagedError
from desktop.core.store.workspace import Workspace
from desktop.services.workspaces import list_backups, lock_holder_text, restore_backup

POLL_MS = 2000  # how often the banner asks whether another process holds the workspace


class WorkspaceBanner(QFrame):
    """A strip above the pages, shown only when something limits the open workspace:
    opened read-only (and why), or a long job of another process (a command-line sync,
    a scheduled refresh) holding its lock."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workspace-banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#workspace-banner { background: palette(alternate-base); border-radius: 4px; }"
        )
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # paths come from the disk
        self.label.setWordWrap(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 10, 6)
        row.addWidget(self.label, 1)
        self._workspace: Workspace | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)
        self.hide()

    def set_workspace(self, workspace: Workspace | None) -> None:
        self._workspace = workspace
        if workspace is None:
            self._timer.stop()
        else:
            self._timer.start()
        self.refresh()

    def refresh(self) -> None:
        """Ask again (the timer does, every POLL_MS): the other process may have finished."""
        parts: list[str] = []
        ws = self._workspace
        if ws is not None:
            if ws.readonly:
                parts.append(
                    f"Read-only: {ws.readonly_reason}. You can look and search; changes are "
                    "refused. Copy the workspace to a folder you can write to, to edit it."
                )
            holder = lock_holder_text(ws.path)
            if holder:
                parts.append(
                    f"{holder[0].upper()}{holder[1:]} in another program. Sync and publish "
                    "can start here once it has finished."
                )
        self.label.setText("\n".join(parts))
        self.setVisible(bool(parts))


def _ask(parent: QWidget, question: str, detail: str) -> bool:
    box = QMessageBox(
        QMessageBox.Icon.Warning, "Botdesk", question, QMessageBox.StandardButton.Cancel, parent
    )
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setInformativeText(detail)
    restore = box.addButton("Restore backup", QMessageBox.ButtonRole.AcceptRole)
    box.exec()
    return box.clickedButton() is restore


def offer_restore(parent: QWidget, path: str | Path, error: BaseException) -> bool:
    """For a damaged workspace with a backup: ask, then put the newest backup in its place
    (the damaged file is kept beside it). True when restored."""
    if not isinstance(error, WorkspaceDamagedError):
        return False
    backups = list_backups(path)
    if not backups:
        return False
    question = f"The workspace file {Path(path).name} is damaged."
    detail = (
        f"Restore its last good backup, {backups[0].describe()}? "
        "The damaged file is kept beside it."
    )
    if not _ask(parent, question, detail):
        return False
    try:
        restore_backup(path, backups[0].path)
    except BotdeskError as exc:
        QMessageBox.warning(parent, "Botdesk", f"{exc.message} {exc.hint}".strip())
        return False
    return True
