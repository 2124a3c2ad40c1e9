"""The window's start screen, shown while no workspace is open: new, open, or a recent one."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget


class StartScreen(QWidget):
    """Shown when no workspace is open: what to do next, and the recent workspaces."""

    open_requested = Signal(str)
    new_requested = Signal()
    browse_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        title = QLabel("Botdesk")
        title.setStyleSheet("font-size: 24pt; font-weight: 600;")
        intro = QLabel(
            "Curate what your website chatbot knows.\n"
            "Create a workspace, add your website or files, and see every passage the bot "
            "will be given."
        )
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        new_button = QPushButton("New workspace…")
        new_button.clicked.connect(self.new_requested.emit)
        open_button = QPushButton("Open workspace…")
        open_button.clicked.connect(self.browse_requested.emit)
        self.recent_list = QListWidget()
        self.recent_list.itemActivated.connect(
            lambda item: self.open_requested.emit(item.data(Qt.ItemDataRole.UserRole))
        )
        buttons = QHBoxLayout()
        buttons.addWidget(new_button)
        buttons.addWidget(open_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 48, 48, 48)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("Recent workspaces"))
        layout.addWidget(self.recent_list, 1)

    def set_recent(self, paths: list[str]) -> None:
        self.recent_list.clear()
        for path in paths:
            self.recent_list.addItem(Path(path).name + "  —  " + path)
            self.recent_list.item(self.recent_list.count() - 1).setData(
                Qt.ItemDataRole.UserRole, path
            )
