"""Fixtures of the Content page tests: the real window with a new workspace open on it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.ui.content.page import ContentPage
from desktop.ui.main_window import MainWindow


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread() -> Iterator[None]:
    """Collect cycles holding Qt objects here, after the window and loop are gone: left to
    chance, Python's GC may run in a worker thread and Qt warns (timers stopped from
    another thread)."""
    yield
    gc.collect()


@pytest.fixture
def page(window: MainWindow, tmp_path: Path) -> ContentPage:
    assert window.create_path(str(tmp_path / "acme.botdesk"), "Acme")
    found = window.show_page("Content")
    assert isinstance(found, ContentPage)
    return found
