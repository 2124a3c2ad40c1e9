"""desktop.app: a document handed over by macOS's Finder opens in the window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QFileOpenEvent
from PySide6.QtWidgets import QApplication

from desktop.app import FileOpenHandler
from desktop.services.workspaces import create_workspace
from desktop.ui.main_window import MainWindow


def test_a_file_open_event_opens_the_workspace(
    window: MainWindow, qtbot: Any, tmp_path: Path
) -> None:
    path = tmp_path / "acme.botdesk"
    create_workspace(path, name="Acme").close()
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    handler = FileOpenHandler(window)
    app.installEventFilter(handler)
    try:
        QApplication.sendEvent(app, QFileOpenEvent(str(path)))
        qtbot.waitUntil(lambda: window.workspace is not None)
    finally:
        app.removeEventFilter(handler)
    assert window.workspace is not None
    assert window.workspace.path.resolve() == path.resolve()


def test_a_bad_file_is_reported_not_raised(window: MainWindow, tmp_path: Path) -> None:
    bad = tmp_path / "broken.botdesk"
    bad.write_text("not a database")
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    handler = FileOpenHandler(window)
    app.installEventFilter(handler)
    shown: list[str] = []
    window.messages.message_shown.connect(lambda *args: shown.append(str(args)))
    try:
        QApplication.sendEvent(app, QFileOpenEvent(str(bad)))
    finally:
        app.removeEventFilter(handler)
    assert window.workspace is None
    assert shown, "the user is told why the file did not open"
