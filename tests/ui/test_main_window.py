"""The main window: start screen, opening workspaces, jobs panel, refusing bad files."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMessageBox

from desktop.core.errors import SourceError
from desktop.core.jobs import Job, JobState
from desktop.services.workspaces import create_workspace
from desktop.ui.main_window import MainWindow


def test_start_screen_then_open_workspace(window: MainWindow, tmp_path: Path) -> None:
    assert window.central.currentWidget() is window.start_screen
    path = tmp_path / "acme.botdesk"
    create_workspace(path, name="Acme").close()
    assert window.open_path(str(path))
    assert window.windowTitle() == "Botdesk — acme.botdesk"
    assert window.workspace is not None and window.workspace.name == "Acme"
    assert str(path.resolve()) in window.recent_workspaces()
    window.close_workspace()
    assert window.central.currentWidget() is window.start_screen
    assert window.start_screen.recent_list.count() == 1


def test_not_a_workspace_is_refused_with_a_message(window: MainWindow, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.botdesk"
    bogus.write_text("just some notes")
    shown: list[tuple[str, str]] = []
    window.messages.message_shown.connect(lambda level, text: shown.append((level, text)))
    assert not window.open_path(str(bogus))
    assert shown and shown[0][0] == "error" and "not a Botdesk workspace" in shown[0][1]
    assert window.workspace is None
    assert bogus.read_text() == "just some notes"


def test_job_progress_and_cancel_in_the_jobs_dock(window: MainWindow, qloop: Any) -> None:
    started = asyncio.Event()
    processed: list[int] = []

    async def work(job: Job) -> None:
        job.stage("count", total=1000)
        for i in range(1000):
            job.check()
            processed.append(i)
            job.advance(message=f"item {i}")
            started.set()
            await asyncio.sleep(0.001)

    job = window.jobs.start("Counting", work)
    qloop.wait_until(lambda: len(processed) > 5)
    row = window.jobs_dock.rows[job.job_id]
    assert "Counting" in row.label.text()
    row.cancel_button.click()
    qloop.wait_until(lambda: job.state is JobState.CANCELLED)
    assert 5 < len(processed) < 1000
    assert row.cancel_button.text() == "Cancelled"


def test_a_failing_job_reports_without_stopping_the_others(window: MainWindow, qloop: Any) -> None:
    """The error box must not be a nested event loop inside the failing job's task."""
    window.messages.modal_dialogs = True
    ticks: list[int] = []

    async def ticking(job: Job) -> None:
        for i in range(40):
            ticks.append(i)
            await asyncio.sleep(0.005)

    async def failing(job: Job) -> None:
        await asyncio.sleep(0.01)
        raise SourceError("The site answered 500.", hint="Try again later.")

    steady = window.jobs.start("Ticking", ticking)
    broken = window.jobs.start("Failing", failing)
    qloop.wait_until(lambda: steady.state is not JobState.RUNNING, timeout=20)
    assert broken.state is JobState.FAILED
    assert steady.state is JobState.FINISHED and len(ticks) == 40
    boxes = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert any("500" in box.text() for box in boxes)
    for box in boxes:
        box.close()
