"""GUI fixtures: the real main window with isolated settings and no modal dialogs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings

from desktop.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot: Any, qloop: Any, tmp_path: Path) -> Iterator[MainWindow]:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings)
    win.messages.modal_dialogs = False
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
