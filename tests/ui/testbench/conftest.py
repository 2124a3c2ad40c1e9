"""The Test bench page in the real window."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.ui.main_window import MainWindow
from desktop.ui.testbench import TestBenchPage


@pytest.fixture
def page(window: MainWindow, tmp_path: Path) -> TestBenchPage:
    assert window.create_path(str(tmp_path / "acme.botdesk"), "Acme")
    found = window.show_page("Test bench")
    assert isinstance(found, TestBenchPage)
    return found
