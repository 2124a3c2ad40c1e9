"""The pages of the main window, one module each, chosen from the list on the left."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from desktop.core.store.workspace import Workspace
from desktop.ui.context import WindowContext


class Page(QWidget):
    """Base of a page: knows the window context and follows the open workspace."""

    title = ""

    def __init__(self, context: WindowContext) -> None:
        super().__init__()
        self.context = context
        context.workspace_changed.connect(self.on_workspace_changed)

    def on_workspace_changed(self, workspace: Workspace | None) -> None:
        """Reload from the new workspace (None when closed)."""
