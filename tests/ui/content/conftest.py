"""Fixtures of the Content page tests: the real window with a new workspace open on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.ui.content.page import ContentPage
from desktop.ui.main_window import MainWindow


@pytest.fixture
def page(window: MainWindow, tmp_path: Path) -> ContentPage:
    assert window.create_path(str(tmp_path / "acme.botdesk"), "Acme")
    found = window.show_page("Content")
    assert isinstance(found, ContentPage)
    return found
