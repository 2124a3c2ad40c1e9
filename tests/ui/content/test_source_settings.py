"""The source settings dialog's crawl settings: a site shows its effective concurrency,
timeout, family cap and noindex choice, and saving stores them through the same service
call as `botdesk source`; a file source shows none of them."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QLabel

from desktop.core.ingest.types import DEFAULT_CONCURRENCY
from desktop.services import content_sources
from desktop.ui.content.page import ContentPage
from desktop.ui.content.source_settings import SourceSettingsDialog
from desktop.ui.main_window import MainWindow
from tests.helpers.loopback import LoopbackServer
from tests.ui.content.support import SiteHandler, open_workspace, wait_for_sync
from tests.ui.test_layout import squeezed_widgets

CRAWL_LABELS = (
    "Requests in flight per host",
    "Response timeout",
    "Pages per URL family (crawl-trap cap)",
)


def shown_labels(dialog: SourceSettingsDialog) -> list[str]:
    return [label.text() for label in dialog.findChildren(QLabel) if label.isVisibleTo(dialog)]


def test_a_site_shows_and_saves_its_crawl_settings(
    page: ContentPage, window: MainWindow, qloop: Any
) -> None:
    page.content_actions.auto_sync = False
    with LoopbackServer(SiteHandler) as server:
        source = page.content_actions.add_site(server.url + "/", concurrency=2, family_cap=30)
        assert source is not None
        dialog = page.open_source_settings()
        assert dialog is not None
        assert set(CRAWL_LABELS) <= set(shown_labels(dialog))
        assert dialog.noindex_box.isVisibleTo(dialog)
        assert all(w.toolTip() for w in (dialog.concurrency_spin, dialog.noindex_box))
        # the effective values: the source's own, the defaults for the rest
        assert dialog.concurrency_spin.value() == 2
        assert dialog.timeout_spin.value() == 20.0
        assert dialog.family_cap_spin.value() == 30
        assert dialog.noindex_box.isChecked()
        dialog.concurrency_spin.setValue(DEFAULT_CONCURRENCY)  # back to the default
        dialog.timeout_spin.setValue(7.5)
        dialog.family_cap_spin.setValue(12)
        dialog.noindex_box.setChecked(False)
        dialog.apply_button.click()  # saves, then syncs the source with the new settings
        wait_for_sync(page, qloop)
    ws = open_workspace(window)
    stored = content_sources.get_source(ws, source.id).settings
    assert "concurrency" not in stored  # the default again, not pinned
    assert (stored["timeout_s"], stored["family_cap"], stored["honour_noindex"]) == (
        7.5,
        12,
        False,
    )
    effective = content_sources.source_site_config(ws, source.id)
    assert (effective.concurrency, effective.timeout_s, effective.family_cap) == (4, 7.5, 12)
    assert not effective.honour_noindex


def test_a_file_source_has_no_crawl_settings(page: ContentPage, qloop: Any, tmp_path: Path) -> None:
    (tmp_path / "hours.md").write_text("# Hours\n\nOpen from nine to five.\n", encoding="utf-8")
    page.content_actions.add_files([tmp_path / "hours.md"])
    wait_for_sync(page, qloop)
    dialog = page.open_source_settings()
    assert dialog is not None
    labels = shown_labels(dialog)
    assert "Passage size (tokens)" in labels
    assert not set(CRAWL_LABELS) & set(labels)
    assert not dialog.noindex_box.isVisibleTo(dialog)
    assert dialog.site_settings() == {}
    dialog.reject()


def test_the_site_settings_fit_at_their_smallest(page: ContentPage, qloop: Any) -> None:
    page.content_actions.auto_sync = False
    assert page.content_actions.add_site("https://example.com/") is not None
    dialog = page.open_source_settings()
    assert dialog is not None
    smallest = dialog.minimumSizeHint()
    assert smallest.width() <= 1000 and smallest.height() <= 600  # a 13-inch laptop
    dialog.resize(smallest)
    qloop.run(asyncio.sleep(0.05))
    assert squeezed_widgets(dialog) == []
    dialog.reject()
