"""GUI fixtures: the real main window with isolated settings and no modal dialogs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QSettings

from desktop.services.backends import Backends
from desktop.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot: Any, qloop: Any, tmp_path: Path, backends: Backends) -> Iterator[MainWindow]:
    """The window reaches models, sites and the endpoint through the test's `backends`
    (the stand-ins the test uses); a test swaps them with `window.context.backends = ...`."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(backends=backends, settings=settings)
    win.messages.modal_dialogs = False
    win.show()
    yield win
    win.close()
    # Destroyed here, on the GUI thread: left to the garbage collector, the window (its
    # signal lambdas make cycles) may be freed in a worker thread, and Qt then warns
    # "Timers cannot be stopped from another thread" for its children's timers.
    shiboken6.delete(win)
