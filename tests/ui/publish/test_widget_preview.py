"""The Widget panel: the embed snippet and its Copy button, and the preview started as a job,
reachable, shown with its address, and stopped."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication

from desktop.services import publish
from desktop.services.workspaces import create_workspace
from desktop.ui.main_window import MainWindow
from desktop.ui.publish.page import PublishPage
from desktop.ui.publish.widget_preview import WidgetPreviewPanel

SNIPPET = '<script src="https://chat.example.com/widget.js" data-bot-id="acme" async></script>'


def make_panel(
    window: MainWindow, qtbot: Any, qloop: Any, tmp_path: Path
) -> tuple[WidgetPreviewPanel, list[str]]:
    ws = create_workspace(tmp_path / "acme.botdesk", name="Acme")
    publish.remember_target(ws, "https://chat.example.com", "acme")
    window.context.set_workspace(ws)
    opened: list[str] = []

    def open_url(url: QUrl) -> bool:
        opened.append(url.toString())
        return True

    panel = WidgetPreviewPanel(window.context, open_url=open_url)
    qtbot.addWidget(panel)
    panel.resize(1024, 640)
    panel.show()
    qloop.run(asyncio.sleep(0.05))  # the window's own start-up tasks (token look-up) run
    return panel, opened


def test_the_snippet_is_shown_read_only_and_copied(
    window: MainWindow, qtbot: Any, qloop: Any, tmp_path: Path
) -> None:
    panel, _opened = make_panel(window, qtbot, qloop, tmp_path)
    assert panel.snippet.toPlainText() == SNIPPET and panel.snippet.isReadOnly()
    panel.copy_button.click()
    assert QGuiApplication.clipboard().text() == SNIPPET
    assert panel.copy_note.text() == "Copied."
    assert panel.snippet_note.text() == ""


def test_the_preview_runs_as_a_job_opens_the_browser_and_stops(
    window: MainWindow, qtbot: Any, qloop: Any, tmp_path: Path
) -> None:
    panel, opened = make_panel(window, qtbot, qloop, tmp_path)
    assert not panel.stop_button.isEnabled()
    panel.start_button.click()
    qloop.wait_until(lambda: opened)
    url = opened[0]
    assert url.startswith("http://127.0.0.1:") and url in panel.status.text()
    assert panel.stop_button.isEnabled() and not panel.start_button.isEnabled()

    async def config() -> Any:
        async with httpx.AsyncClient(trust_env=False) as client:
            return (await client.get(url + "v1/bots/acme/widget-config")).json()

    assert qloop.run(config())["bot_name"] == "Acme"
    panel.stop_button.click()
    qloop.wait_until(lambda: panel.job is None)
    assert panel.status.text().startswith("Preview stopped: 0 conversations")
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()
    assert not panel.open_button.isEnabled()


def test_a_bad_address_says_why_and_the_panel_can_start_again(
    window: MainWindow, qtbot: Any, qloop: Any, tmp_path: Path
) -> None:
    panel, opened = make_panel(window, qtbot, qloop, tmp_path)
    panel.url_edit.setText("ftp://example.com/")
    panel.start_button.click()
    qloop.wait_until(lambda: panel.job is None)
    assert panel.status.text().startswith("The preview could not start: Not a page address")
    assert opened == [] and panel.start_button.isEnabled()


def test_the_publish_page_shows_the_panel_and_previews_from_it(
    page: PublishPage, qloop: Any, tmp_path: Path
) -> None:
    panel = page.widget_preview
    page.widget_tabs.setCurrentWidget(panel)
    assert page.widget_tabs.tabText(page.widget_tabs.currentIndex()) == "Embed and preview"
    assert 'data-bot-id="' in panel.snippet.toPlainText()
    opened: list[str] = []
    panel.open_url = lambda url: bool(opened.append(url.toString())) or True
    panel.start_button.click()
    qloop.wait_until(lambda: opened)
    page.window().resize(1024, 640)
    page.window().grab().save(str(tmp_path / "publish-embed-tab.png"))
    panel.stop_button.click()
    qloop.wait_until(lambda: panel.job is None)
    assert panel.status.text().startswith("Preview stopped")
