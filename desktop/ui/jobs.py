"""Running core jobs as asyncio tasks under qasync, and the dock that shows them."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.errors import BotdeskError, CancelledError
from desktop.core.jobs import MB, ItemError, Job, JobEvent, JobState
from desktop.core.store.workspace import Workspace
from desktop.ui.messages import MessageBridge
from desktop.ui.tasks import TaskSet
from desktop.ui.widgets import ElidedLabel, plain_label, read_only_text

JobWork = Callable[[Job], Coroutine[Any, Any, Any]]
# Work run on a thread of its own, given its own connection to the workspace.
ThreadJobWork = Callable[[Job, Workspace], Coroutine[Any, Any, Any]]


class JobHandle(QObject):
    """One started job: its own `changed` and `finished` signals, so a page listens to the
    jobs it started instead of filtering the controller's shared signal by job id."""

    changed = Signal(object)  # JobEvent
    finished = Signal(object, object)  # JobEvent, result (None on failure or cancel)
    _from_thread = Signal(object)  # None: the job's thread has a newer event (_latest)

    def __init__(self, job: Job, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self._owner_thread = threading.get_ident()
        self._relay_open = True
        self._relayed = False
        self._relay_lock = threading.Lock()
        self._latest: JobEvent | None = None  # the newest event from the job's thread
        self._from_thread.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        job.listeners.append(self.report)

    def report(self, event: JobEvent) -> None:
        """The job's listener: `changed` fires on the window's thread, whichever thread the
        job reports from (a queued signal carries it over)."""
        if threading.get_ident() == self._owner_thread:
            self.changed.emit(event)
            return
        # Coalesced: a sync reports every page, and each event the window handles has to
        # win the GIL back from the busy job thread (up to 5 ms each); the window shows
        # the newest state at its next turn instead of every one.
        with self._relay_lock:
            self._relayed = True
            queued, self._latest = self._latest is not None, event
        if not queued:
            self._from_thread.emit(None)

    @Slot(object)
    def _deliver(self, _: object) -> None:
        with self._relay_lock:
            event, self._latest = self._latest, None
        if event is not None and self._relay_open:  # late, it would show the job running
            self.changed.emit(event)

    def close_relay(self) -> None:
        """The job has ended: drop reports from its thread still queued, and show its final
        state, which one of them may have carried."""
        self._relay_open = False
        if self._relayed:
            self.changed.emit(self.job.snapshot())

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
        job = Job(title)
        handle = JobHandle(job)  # no Qt parent: it lives while the page or the task holds it
        handle.changed.connect(self._forward_change)  # a slot: dropped if this object goes
        self.jobs[job.job_id] = job
        self._tasks.spawn(self._run(job, work, handle))
        job_event = job.snapshot()
        self.job_changed.emit(job_event)
        return handle

    def start_on_thread(
        self, title: str, workspace: Workspace, work: ThreadJobWork, *, stop_at_once: bool = True
    ) -> JobHandle:
        """Run `work(job, ws)` on a thread of its own, with its own event loop and its own
        connection `ws` to `workspace`'s file; progress and the end arrive as start()'s do.

        For the long jobs that write as they go (a sync): their fetching, parsing and
        committing never run on the window's thread, where one commit on a busy disk held
        the window 100-320 ms (measured by bench/gui_stall.py). The page reads what each
        commit stored through its own connection meanwhile. Cancel stops the work at its
        next await (`stop_at_once`), or at its next check only: work that must hear the
        answer to a call it sent (a publish's release) says so with stop_at_once=False."""

        async def main(job: Job, ws: Workspace) -> Any:
            # A cancel stops the task at its next await (the item in flight is dropped, as
            # the sync promises), not only at its next check: closing the window must not
            # leave the process waiting out a slow fetch with the workspace locked.
            task, loop = asyncio.current_task(), asyncio.get_running_loop()
            assert task is not None

            def stop() -> None:
                with contextlib.suppress(RuntimeError):  # the loop closed: the work ended
                    loop.call_soon_threadsafe(task.cancel)

            if stop_at_once:
                job.on_cancel(stop)
            try:
                return await work(job, ws)
            except asyncio.CancelledError:
                # As CancelledError (ours, an Exception): a BaseException must not leave
                # the executor's thread, whose future would then never finish.
                raise CancelledError(f"{job.title}: cancelled.") from None

        def run_on_thread(job: Job) -> Any:
            ws = workspace.open_again()
            try:
                return asyncio.run(main(job, ws))
            finally:
                ws.close()

        async def in_thread(job: Job) -> Any:
            # A future, not a task: cancelling the loop's tasks (closing) cannot orphan it.
            running = asyncio.get_running_loop().run_in_executor(None, run_on_thread, job)
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                job.cancel()  # a thread cannot be cancelled: ask, and wait for it to stop
                with contextlib.suppress(Exception):
                    await running
                raise

        return self.start(title, in_thread)

    @Slot(object)
    def _forward_change(self, event: JobEvent) -> None:
        self.job_changed.emit(event)

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
        handle.close_relay()
        if not shiboken6.isValid(self):
            return  # the window closed while the job stopped: nobody is left to tell
        final = job.snapshot()
        self.job_finished.emit(final, result)
        handle.finished.emit(final, result)

    def cancel(self, job_id: int) -> None:
        job = self.jobs.get(job_id)
        if job is not None:
            job.cancel()

    def forget(self, job_ids: list[int]) -> None:
        """Drop finished jobs from the list (the dock's "Clear"); running ones stay."""
        for job_id in job_ids:
            job = self.jobs.get(job_id)
            if job is not None and job.state is not JobState.RUNNING:
                del self.jobs[job_id]

    def running(self) -> list[Job]:
        return [j for j in self.jobs.values() if j.state is JobState.RUNNING]

    async def wait_all(self) -> None:
        """Wait for every running job (used at close and in tests)."""
        await self._tasks.wait_idle()


MAX_FINISHED_ROWS = 50  # older finished jobs drop off the list


def job_line(event: JobEvent) -> str:
    """The job in one line: title, stage or summary, error count and the current item."""
    errors = f" · {event.error_count} errors" if event.error_count else ""
    if event.state is JobState.RUNNING:
        stage = f" — {event.stage}" if event.stage else ""
        message = f": {event.message}" if event.message else ""
        return f"{event.title}{stage}{errors}{message}"
    return f"{event.title}{errors} — {event.summary}"


def job_report(event: JobEvent, errors: list[ItemError]) -> str:
    """What happened to a job, with every item that failed and why (the Details window)."""
    lines = [f"{event.title}: {event.state.value}", "", event.summary or "(no summary)"]
    if errors:
        lines += ["", f"{len(errors)} item(s) failed:"]
        lines += [f"• {error.item} — {error.reason}" for error in errors]
    return "\n".join(lines)


class JobRow(QWidget):
    """One job: a progress bar with a count, one elided line, Cancel, and Details when
    something failed (the reason one click away)."""

    details_requested = Signal(int)  # job id

    def __init__(self, event: JobEvent, on_cancel: Callable[[int], None]) -> None:
        super().__init__()
        self.job_id = event.job_id
        self.last_event = event
        self.label = ElidedLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(lambda: on_cancel(self.job_id))
        self.details_button = QPushButton("Details…")
        self.details_button.setToolTip("What failed, and why")
        self.details_button.clicked.connect(lambda: self.details_requested.emit(self.job_id))
        self.details_button.hide()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.details_button)
        layout.addWidget(self.cancel_button)
        self.update_event(event)

    @property
    def finished(self) -> bool:
        return self.last_event.state is not JobState.RUNNING

    def update_event(self, event: JobEvent) -> None:
        self.last_event = event
        if event.total:
            # A QProgressBar holds an int: a byte count (a 2 GB model) goes in as MB.
            scale = MB if event.unit == "bytes" else 1
            self.bar.setRange(0, max(1, event.total // scale))
            self.bar.setValue(min(event.done, event.total) // scale)
            self.bar.setFormat(event.count_text())  # "0.4 of 1.6 MB", or "12/40"
        elif event.state is JobState.RUNNING:
            self.bar.setRange(0, 0)  # busy indicator while the count is unknown
        else:
            self.bar.setRange(0, 1)
            self.bar.setValue(1)
        # The line can hold a scraped URL or file name: ElidedLabel shows it as plain text.
        self.label.setText(job_line(event))
        if event.state is not JobState.RUNNING:
            self.cancel_button.setEnabled(False)
            self.cancel_button.setText(event.state.value.capitalize())
        self.details_button.setVisible(
            event.state is JobState.FAILED or (self.finished and event.error_count > 0)
        )


class FinishedHeader(QWidget):
    """The "▸ Finished (N) — Clear" row: finished jobs stay folded away until asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.toggle = QToolButton()
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setAutoRaise(True)
        self.toggle.toggled.connect(self._arrow)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove the finished jobs from this list")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.toggle)
        layout.addStretch(1)
        layout.addWidget(self.clear_button)
        self._arrow(False)
        self.set_count(0)

    def _arrow(self, expanded: bool) -> None:
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)

    def set_count(self, count: int) -> None:
        self.toggle.setText(f"Finished ({count})")
        self.setVisible(count > 0)


class JobDetailsDialog(QDialog):
    """A job's outcome and every failed item with its reason, to read and copy."""

    def __init__(self, parent: QWidget | None, event: JobEvent, errors: list[ItemError]) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"{event.title} — details")
        self.text_view = read_only_text(job_report(event, errors))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text_view, 1)
        layout.addWidget(buttons)
        self.resize(640, 360)


class JobsDock(QDockWidget):
    """The jobs panel at the bottom of the window: running jobs first, then the folded
    "Finished (N)" list. It scrolls instead of growing, so the window never resizes."""

    def __init__(self, controller: JobsController, parent: QWidget | None = None) -> None:
        super().__init__("Jobs", parent)
        self.setObjectName("jobs-dock")
        self.controller = controller
        self.rows: dict[int, JobRow] = {}
        self.empty_label = plain_label(
            "No jobs running. Sync (F5) fetches and processes your sources."
        )
        self.running_layout = QVBoxLayout()
        self.finished_header = FinishedHeader()
        self.finished_header.toggle.toggled.connect(self._show_finished)
        self.finished_header.clear_button.clicked.connect(self.clear_finished)
        self.finished_box = QWidget()
        self.finished_layout = QVBoxLayout(self.finished_box)
        self.finished_layout.setContentsMargins(12, 0, 0, 0)
        self.finished_box.hide()
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.empty_label)
        layout.addLayout(self.running_layout)
        layout.addWidget(self.finished_header)
        layout.addWidget(self.finished_box)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # A scroll area asks for room for its scroll bars (68 px): one line is enough here.
        scroll.setMinimumHeight(self.empty_label.sizeHint().height() + 4)
        self.setWidget(scroll)
        controller.job_changed.connect(self.on_job_changed)
        self._shape: tuple[int, bool] | None = None  # (running rows, finished list shown)
        self._fit_later()

    def sizeHint(self) -> QSize:
        # QDockWidget's hint counts the scroll area's room for scroll bars; this one is the
        # title bar (where the content starts, once laid out) plus what is shown.
        body = self.widget()
        shown = body.widget() if isinstance(body, QScrollArea) else None
        if body is None or shown is None:
            return super().sizeHint()
        title = body.geometry().top() or self.fontMetrics().height() + 4
        return QSize(super().sizeHint().width(), title + shown.sizeHint().height())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self, self.fit_to_content)

    def finished_rows(self) -> list[JobRow]:
        return [row for row in self.rows.values() if row.finished]

    def on_job_changed(self, event: JobEvent) -> None:
        row = self.rows.get(event.job_id)
        if row is None:
            row = JobRow(event, self.controller.cancel)
            row.details_requested.connect(self.show_details)
            self.rows[event.job_id] = row
            self.running_layout.insertWidget(0, row)
            row.show()  # now, not at the layout's next turn: fit_to_content measures it
        was_finished = row.finished
        row.update_event(event)
        if row.finished and not was_finished:
            self.finished_layout.insertWidget(0, row)  # moves it out of the running list
            self._drop_oldest_finished()
        self._update_counts()

    def _drop_oldest_finished(self) -> None:
        finished = self.finished_rows()
        for row in finished[: max(0, len(finished) - MAX_FINISHED_ROWS)]:
            self._remove(row)

    def _remove(self, row: JobRow) -> None:
        self.rows.pop(row.job_id, None)
        self.controller.forget([row.job_id])
        row.setParent(None)
        row.deleteLater()

    def _update_counts(self) -> None:
        finished = len(self.finished_rows())
        self.finished_header.set_count(finished)
        self.empty_label.setVisible(len(self.rows) == finished)
        self._fit_later()

    def _show_finished(self, expanded: bool) -> None:
        self.finished_box.setVisible(expanded)
        self._fit_later()

    def _fit_later(self) -> None:
        shape = (len(self.rows) - len(self.finished_rows()), self.finished_box.isVisible())
        if shape != self._shape:  # a job started or ended, or the finished list unfolded
            self._shape = shape
            QTimer.singleShot(0, self, self.fit_to_content)

    def fit_to_content(self) -> None:
        """As tall as what it shows (one line when idle: on a 640-px laptop screen every
        line counts), at most a third of the window; beyond that it scrolls. The window's
        own size never changes: the page above gives or takes the room."""
        window = self.parentWidget()
        if not isinstance(window, QMainWindow) or self.isFloating() or self.isHidden():
            return
        wanted = min(self.sizeHint().height(), max(1, window.height() // 3))
        window.resizeDocks([self], [wanted], Qt.Orientation.Vertical)

    def clear_finished(self) -> None:
        for row in self.finished_rows():
            self._remove(row)
        self.finished_header.toggle.setChecked(False)
        self._update_counts()

    def show_details(self, job_id: int) -> JobDetailsDialog | None:
        row = self.rows.get(job_id)
        if row is None:
            return None
        job = self.controller.jobs.get(job_id)
        dialog = JobDetailsDialog(self, row.last_event, list(job.errors) if job else [])
        dialog.show()
        return dialog
