"""What every page of the window shares: the open workspace, jobs, messages, undo."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from desktop.core.store.workspace import Workspace
from desktop.services.backends import Backends
from desktop.ui.jobs import JobsController
from desktop.ui.messages import MessageBridge


class RunFirstCommand(Protocol):
    """An undo command that does its work once before it is pushed (see ui/content/commands.py)."""

    def run_first(self) -> bool: ...


class WindowContext(QObject):
    """Shared state of one main window. Pages listen to its signals; none owns the data."""

    workspace_changed = Signal(object)  # Workspace | None
    # Sources, documents or passages changed (a sync finished, a passage was edited...).
    content_changed = Signal()

    def __init__(
        self,
        messages: MessageBridge,
        jobs: JobsController,
        backends: Backends,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.messages = messages
        self.jobs = jobs
        self.backends = backends  # how every page reaches models, sites and the service
        self.undo_stack = QUndoStack(self)
        self.workspace: Workspace | None = None

    def set_workspace(self, workspace: Workspace | None) -> None:
        if self.workspace is not None and self.workspace is not workspace:
            self.workspace.close()
        self.workspace = workspace
        self.undo_stack.clear()  # edits are undoable until the workspace is closed
        self.workspace_changed.emit(workspace)

    def push(self, command: RunFirstCommand) -> bool:
        """Run an edit and keep it undoable; a refused edit never enters the undo stack."""
        if not isinstance(command, QUndoCommand):
            raise TypeError(f"{command!r} is not an undo command")
        if command.run_first():
            self.undo_stack.push(command)
            return True
        return False
