"""What every page of the window shares: the open workspace, jobs, messages, undo."""

from __future__ import annotations

import dataclasses
from typing import Protocol

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from desktop.core.store.workspace import Workspace
from desktop.services.backends import Backends, server_address
from desktop.ui.jobs import JobsController
from desktop.ui.messages import MessageBridge

# Where the window keeps the Ollama server the user chose (it wins over OLLAMA_HOST: it is
# what they typed last, in the app they are using; the settings dialog shows which is used).
OLLAMA_HOST_SETTING = "models/ollama_host"


def with_saved_servers(backends: Backends, settings: QSettings) -> Backends:
    """`backends` with the model server the user chose in the window, if any."""
    saved = str(settings.value(OLLAMA_HOST_SETTING, "", type=str) or "")
    return dataclasses.replace(backends, ollama_host=saved) if saved else backends


class RunFirstCommand(Protocol):
    """An undo command that does its work once before it is pushed (see ui/content/commands.py)."""

    def run_first(self) -> bool: ...


class WindowContext(QObject):
    """Shared state of one main window. Pages listen to its signals; none owns the data."""

    workspace_changed = Signal(object)  # Workspace | None
    # Sources, documents or passages changed (a sync finished, a passage was edited...).
    content_changed = Signal()
    # Where the models are changed (the user chose another Ollama server).
    backends_changed = Signal()

    def __init__(
        self,
        messages: MessageBridge,
        jobs: JobsController,
        backends: Backends,
        parent: QObject | None = None,
        *,
        settings: QSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.messages = messages
        self.jobs = jobs
        self.backends = backends  # how every page reaches models, sites and the service
        self.settings = settings  # the window's own (None: choices last until it closes)
        self.undo_stack = QUndoStack(self)
        self.workspace: Workspace | None = None

    def use_ollama_server(self, typed: str) -> str:
        """Ask this Ollama server from now on, and at the next start; returns its address.
        Raises ConfigError (nothing changed) when `typed` is not a server address."""
        address = server_address(typed)
        self.backends = dataclasses.replace(self.backends, ollama_host=address)
        if self.settings is not None:
            self.settings.setValue(OLLAMA_HOST_SETTING, address)
        self.backends_changed.emit()
        return address

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
