"""The window says when the open workspace is read-only or held by another process, and
offers to restore the last good backup of a damaged one."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from desktop.core.jobs import Job
from desktop.core.store.backup import list_backups
from desktop.core.store.lock import WorkspaceLock
from desktop.core.store.workspace import Workspace
from desktop.services.workspaces import create_workspace, open_workspace
from desktop.ui import workspace_state
from desktop.ui.main_window import MainWindow
from tests.core.test_workspace_state import read_only
from tests.helpers.lock_holder import hold_in_child


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.botdesk"
    with create_workspace(path, name="Shop") as ws:
        ws.set_setting("marker", "kept")
    open_workspace(path).close()  # the daily backup
    return path


def test_a_read_only_workspace_shows_why_in_the_banner(
    window: MainWindow, qloop: Any, shop: Path
) -> None:
    with read_only(shop):
        assert window.open_path(str(shop))
        qloop.wait_until(lambda: window.workspace is not None)
        banner = window.workspace_banner
        assert banner.isVisible()
        assert "Read-only: the file shop.botdesk is read-only" in banner.label.text()
        window.resize(1024, 640)
        window.grab().save("/tmp/hardening-readonly-banner.png")
        window.close_workspace()
        qloop.wait_until(lambda: window.workspace is None)
    assert not banner.isVisible()


def test_another_process_holding_the_lock_is_shown_until_it_ends(
    window: MainWindow, qloop: Any, shop: Path
) -> None:
    assert window.open_path(str(shop))
    qloop.wait_until(lambda: window.workspace is not None)
    banner = window.workspace_banner
    assert not banner.isVisible()
    with hold_in_child(shop, "sync") as child:
        qloop.wait_until(banner.isVisible, timeout=10)
        assert f"A sync of this workspace is already running (pid {child.pid}" in (
            banner.label.text()
        )
        assert "in another program" in banner.label.text()
        window.resize(1920, 1080)
        window.grab().save("/tmp/hardening-lock-banner.png")
    qloop.wait_until(lambda: not banner.isVisible(), timeout=10)


def test_the_windows_own_sync_is_not_another_program(
    window: MainWindow, qloop: Any, shop: Path
) -> None:
    """The window's sync holds the workspace lock too (on a thread of its own): the banner
    must not call it "another program" while it runs."""
    assert window.open_path(str(shop))
    qloop.wait_until(lambda: window.workspace is not None)
    banner = window.workspace_banner
    release = threading.Event()
    locked = threading.Event()

    async def holding(job: Job, ws: Workspace) -> None:
        with WorkspaceLock.unless_held(ws.path, "sync"):
            locked.set()
            while not release.is_set():
                await asyncio.sleep(0.01)

    window.jobs.start_on_thread("Sync shop", window.workspace, holding)
    qloop.wait_until(locked.is_set)
    banner.refresh()  # what its timer does every two seconds
    assert not banner.isVisible(), banner.label.text()
    release.set()
    qloop.run(window.jobs.wait_all())


def test_a_damaged_workspace_can_be_restored_from_the_window(
    window: MainWindow, qloop: Any, shop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = shop.read_bytes()
    for suffix in ("-wal", "-shm"):
        shop.with_name(shop.name + suffix).unlink(missing_ok=True)
    shop.write_bytes(data[:40_000])
    asked: list[str] = []

    def ask(parent: Any, question: str, detail: str) -> bool:
        asked.append(f"{question} {detail}")
        return True

    monkeypatch.setattr(workspace_state, "_ask", ask)
    window.messages.modal_dialogs = True
    assert window.open_path(str(shop))
    window.messages.modal_dialogs = False
    qloop.wait_until(lambda: window.workspace is not None)
    assert window.workspace is not None and window.workspace.setting("marker") == "kept"
    assert "is damaged" in asked[0] and str(list_backups(shop)[0].path) in asked[0]
    assert len(list(shop.parent.glob("shop.botdesk.replaced-*"))) == 1
