"""Long work as cancellable jobs that report progress events (a plain object the UI displays).

A job is a handle passed into a coroutine: the coroutine reports stages, progress and
per-item errors on it and checks `job.check()` between items; anyone holding the handle
may `cancel()`. Listeners (a CLI progress line, the Qt jobs panel) receive `JobEvent`s.
Work commits per item, so a cancel loses at most the item in flight.
"""

from __future__ import annotations

import enum
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from desktop.core.errors import CancelledError

_job_ids = itertools.count(1)
MB = 1024 * 1024


class JobState(enum.Enum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class ItemError:
    """One item that failed while the job went on (a page, a file, a batch)."""

    item: str
    reason: str


@dataclass(frozen=True)
class JobEvent:
    """A snapshot of a job's progress, sent to listeners on every change."""

    job_id: int
    title: str
    state: JobState
    stage: str
    done: int
    total: int | None
    message: str
    error_count: int
    summary: str = ""
    unit: str = ""  # "bytes" when done/total count bytes (shown as MB), else items

    def count_text(self) -> str:
        """The progress count as people read it: "0.4 of 1.6 MB", or "12/40"."""
        if self.unit == "bytes":
            total = f" of {self.total / MB:.1f} MB" if self.total is not None else " MB"
            return f"{self.done / MB:.1f}{total}"
        return f"{self.done}/{self.total}" if self.total is not None else str(self.done)


JobListener = Callable[[JobEvent], None]


@dataclass
class Job:
    """Progress and cancellation handle of one long piece of work."""

    title: str
    listeners: list[JobListener] = field(default_factory=list)
    job_id: int = field(default_factory=lambda: next(_job_ids))
    state: JobState = JobState.RUNNING
    stage_name: str = ""
    done: int = 0
    total: int | None = None
    message: str = ""
    summary: str = ""
    unit: str = ""
    errors: list[ItemError] = field(default_factory=list)
    started_at: float = field(default_factory=time.monotonic)
    _cancel_requested: bool = False
    # Called once at cancel(), from the thread that asks: a job running on a thread of its
    # own stops its task there at once instead of at its next check (a fetch may wait 20 s).
    _on_cancel: list[Callable[[], None]] = field(default_factory=list)

    # -- reporting -----------------------------------------------------------------
    def stage(self, name: str, total: int | None = None, *, unit: str = "") -> None:
        """Start a named stage (fetch, extract, chunk, embed...) with an optional item count
        (`unit="bytes"` when it counts bytes)."""
        self.stage_name, self.total, self.done, self.message = name, total, 0, ""
        self.unit = unit
        self._emit()

    def set_total(self, total: int | None) -> None:
        self.total = total
        self._emit()

    def advance(self, n: int = 1, message: str = "") -> None:
        self.done += n
        if message:
            self.message = message
        self._emit()

    def item_error(self, item: str, reason: str) -> None:
        """Record one failed item; the job goes on."""
        self.errors.append(ItemError(item, reason))
        self._emit()

    def finish(self, summary: str = "") -> None:
        self.state, self.summary = JobState.FINISHED, summary
        self._emit()

    def fail(self, summary: str) -> None:
        self.state, self.summary = JobState.FAILED, summary
        self._emit()

    def mark_cancelled(self, summary: str = "Cancelled.") -> None:
        self.state, self.summary = JobState.CANCELLED, summary
        self._emit()

    # -- cancellation --------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the job to stop at its next check; work already committed stays."""
        if self._cancel_requested:
            return
        self._cancel_requested = True
        for callback in self._on_cancel:
            callback()

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Call `callback` when the job is cancelled (now, if it already is)."""
        self._on_cancel.append(callback)
        if self._cancel_requested:
            callback()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested

    def check(self) -> None:
        """Raise CancelledError if a cancel was requested; call between items."""
        if self._cancel_requested:
            raise CancelledError(f"{self.title}: cancelled.")

    # -- listeners -----------------------------------------------------------------
    def snapshot(self) -> JobEvent:
        return JobEvent(
            job_id=self.job_id,
            title=self.title,
            state=self.state,
            stage=self.stage_name,
            done=self.done,
            total=self.total,
            message=self.message,
            error_count=len(self.errors),
            summary=self.summary,
            unit=self.unit,
        )

    def _emit(self) -> None:
        if not self.listeners:
            return
        event = self.snapshot()
        for listener in list(self.listeners):
            listener(event)
