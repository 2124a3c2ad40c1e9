"""The Test bench page in the real window."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.ui.main_window import MainWindow
from desktop.ui.testbench import TestBenchPage


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread() -> Iterator[None]:
    """Collect cycles holding Qt objects of earlier tests here: left to chance, Python's GC
    may run in the model check's worker thread and destroy them there (Qt: "Timers cannot
    be stopped from another thread"). The same fixture as tests/ui/content and publish."""
    gc.collect()
    yield
    gc.collect()


@pytest.fixture
def page(window: MainWindow, tmp_path: Path) -> TestBenchPage:
    assert window.create_path(str(tmp_path / "acme.botdesk"), "Acme")
    found = window.show_page("Test bench")
    assert isinstance(found, TestBenchPage)
    return found
