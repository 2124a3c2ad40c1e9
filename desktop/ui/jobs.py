"""Running core jobs as asyncio tasks under qasync, and the dock that shows them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.errors import BotdeskError, CancelledError
from desktop.core.jobs import ItemError, Job, JobEvent, JobState
from desktop.ui.messages import MessageBridge
from desktop.ui.widgets import escaped_tooltip
from desktop.ui.tasks import TaskSet

JobWork = Callable[[Job], Coroutine[Any, Any, Any]]


class JobHandle(QObject):
    """One started job: its own `changed` and `finished` signals, so a page listens to the
    jobs it started instead of filtering the controller's shared signal by job id."""

    changed = Signal(object)  # JobEvent
    finished = Signal(object, object)  # JobEvent, result (None on failure or cancel)

    def __init__(self, job: Job, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job = job

    @property
    def job_id(self) -> int:
        return self.job.job_id

    @property
    def title(self) -> str:
        return self.job.title

    @property
    def state(self) -> JobState:
        return self.job.state

    @property
    def done(self) -> int:
        return self.job.done

    @property
    def errors(self) -> list[ItemError]:
        return self.job.errors

    def cancel(self) -> None:
        self.job.cancel()

    def snapshot(self) -> JobEvent:
        return self.job.snapshot()


class JobsController(QObject):
    """Starts jobs, forwards their progress as signals, and reports how they ended."""

    job_changed = Signal(object)  # JobEvent
    job_finished = Signal(object, object)  # JobEvent, result (None on failure)

    def __init__(self, messages: MessageBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.messages = messages
        self.jobs: dict[int, Job] = {}
        self._tasks = TaskSet()

    def start(self, title: str, work: JobWork) -> JobHandle:
        """Run `work(job)` as a task on the qasync loop; the window stays responsive.

        The returned handle's `finished` fires once, after the shared `job_finished`."""
        job = Job(title, listeners=[self.job_changed.emit])
        handle = JobHandle(job)  # no Qt parent: it lives while the page or the task holds it
        job.listeners.append(handle.changed.emit)
        self.jobs[job.job_id] = job
        self._tasks.spawn(self._run(job, work, handle))
        job_event = job.snapshot()
        self.job_changed.emit(job_event)
        return handle

    async def _run(self, job: Job, work: JobWork, handle: JobHandle) -> None:
        result: Any = None
        try:
            result = await work(job)
        except CancelledError:
            job.mark_cancelled("Cancelled; work done so far is kept.")
        except asyncio.CancelledError:
            job.mark_cancelled("Cancelled; work done so far is kept.")
        except BotdeskError as exc:
            job.fail(str(exc))
            self.messages.error(exc, context=job.title)
        except Exception as exc:
            job.fail(f"Failed: {exc}")
            self.messages.error(exc)
        else:
            if job.state is JobState.RUNNING:
                job.finish(job.summary or "Done.")
        final = job.snapshot()
        self.job_finished.emit(final, result)
        handle.finished.emit(final, result)

    def cancel(self, job_id: int) -> None:
        job = self.jobs.get(job_id)
        if job is not None:
            job.cancel()

    def running(self) -> list[Job]:
        return [j for j in self.jobs.values() if j.state is JobState.RUNNING]

    async def wait_all(self) -> None:
        """Wait for every running job (used at close and in tests)."""
        await self._tasks.wait_idle()


class JobRow(QWidget):
    """One job: title and stage, a progress bar with a count, errors, and a cancel button."""

    def __init__(self, event: JobEvent, on_cancel: Callable[[int], None]) -> None:
        super().__init__()
        self.job_id = event.job_id
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(260)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(lambda: on_cancel(self.job_id))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.cancel_button)
        self.update_event(event)

    def update_event(self, event: JobEvent) -> None:
        if event.total:
            self.bar.setRange(0, event.total)
            self.bar.setValue(min(event.done, event.total))
            self.bar.setFormat(f"{event.done}/{event.total}")
        elif event.state is JobState.RUNNING:
            self.bar.setRange(0, 0)  # busy indicator while the count is unknown
        else:
            self.bar.setRange(0, 1)
            self.bar.setValue(1)
        errors = f" · {event.error_count} errors" if event.error_count else ""
        if event.state is JobState.RUNNING:
            stage = f" — {event.stage}" if event.stage else ""
            message = f": {event.message}" if event.message else ""
            self.label.setText(f"{event.title}{stage}{errors}{message}")
        else:
            self.label.setText(f"{event.title}{errors} — {event.summary}")
            self.cancel_button.setEnabled(False)
            self.cancel_button.setText(event.state.value.capitalize())
        # The message can be a scraped URL or file name: never let Qt read it as HTML.
        self.label.setToolTip(escaped_tooltip(self.label.text()))


class JobsDock(QDockWidget):
    """The jobs panel at the bottom of the window."""

    def __init__(self, controller: JobsController, parent: QWidget | None = None) -> None:
        super().__init__("Jobs", parent)
        self.setObjectName("jobs-dock")
        self.controller = controller
        self.rows: dict[int, JobRow] = {}
        body = QWidget()
        self.layout_ = QVBoxLayout(body)
        self.layout_.setContentsMargins(2, 2, 2, 2)
        self.empty_label = QLabel("No jobs running. Sync (F5) fetches and processes your sources.")
        self.layout_.addWidget(self.empty_label)
        self.layout_.addStretch(1)
        self.setWidget(body)
        controller.job_changed.connect(self.on_job_changed)

    def on_job_changed(self, event: JobEvent) -> None:
        row = self.rows.get(event.job_id)
        if row is None:
            row = JobRow(event, self.controller.cancel)
            self.rows[event.job_id] = row
            self.layout_.insertWidget(0, row)
            self.empty_label.hide()
            # Keep the panel short: the last five jobs.
            for old_id in list(self.rows)[:-5]:
                self.rows.pop(old_id).deleteLater()
        row.update_event(event)
