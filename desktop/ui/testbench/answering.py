"""Asking, test-set runs and the model check of the Test bench, as tasks on the qasync loop.

Results reach the widgets only through signals. The model check is one try with short
timeouts, awaited on the loop (network I/O, never a blocking call on the GUI thread).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.core.errors import BotdeskError
from desktop.core.jobs import Job, JobEvent, JobState
from desktop.core.store.workspace import Workspace
from desktop.services import answers
from desktop.services.answers import AnswerProfile, ModelPool
from desktop.services.backends import Backends
from desktop.ui.context import WindowContext
from desktop.ui.jobs import JobHandle
from desktop.ui.tasks import TaskSet

CHECK_POLL_MS = 50  # how often the page looks whether the model check has finished


class AnswerRunner(QObject):
    """Both profiles answering at once, test-set runs as jobs, and whether a model answers."""

    delta_received = Signal(str, str)  # side, text
    answer_ready = Signal(str, object)  # side, AnswerResult
    answer_failed = Signal(str, str)  # side, reason
    asking_changed = Signal(bool)
    model_checked = Signal(str)  # "" when a generator answers, else why none does
    run_progress = Signal(str)
    run_finished = Signal(str)  # the summary line

    def __init__(self, context: WindowContext) -> None:
        super().__init__()
        self.context = context
        self.tasks = TaskSet()
        self.run_job: JobHandle | None = None
        self._check: Future[list[str]] | None = None
        self._check_timer = QTimer(self)
        self._check_timer.setInterval(CHECK_POLL_MS)
        self._check_timer.timeout.connect(self._pick_up_check)

    # -- asking ----------------------------------------------------------------------------
    def ask(self, ws: Workspace, question: str, a: AnswerProfile, b: AnswerProfile) -> None:
        self.asking_changed.emit(True)
        self.tasks.spawn(self._ask_both(ws, question, a, b))

    async def _ask_both(
        self, ws: Workspace, question: str, a: AnswerProfile, b: AnswerProfile
    ) -> None:
        models = ModelPool(self.context.backends)  # one client per model for the pair
        try:
            await asyncio.gather(
                self._ask_one(ws, question, a, "a", models),
                self._ask_one(ws, question, b, "b", models),
            )
        finally:
            self.asking_changed.emit(False)

    async def _ask_one(
        self,
        ws: Workspace,
        question: str,
        profile: AnswerProfile,
        side: str,
        models: ModelPool,
    ) -> None:
        try:
            result = await answers.ask(
                ws,
                question,
                profile=profile,
                on_delta=lambda text: self.delta_received.emit(side, text),
                backends=self.context.backends,
                models=models,
            )
        except BotdeskError as exc:  # a profile setting that does not validate
            self.answer_failed.emit(side, str(exc))
            return
        except Exception as exc:  # a bug: the crash dialog, and the other side goes on
            self.answer_failed.emit(side, "Botdesk hit a bug; see the details.")
            self.context.messages.error(exc)
            return
        self.answer_ready.emit(side, result)

    # -- is there a model? -----------------------------------------------------------------
    def check_models(self, generators: Sequence[str]) -> None:
        """Say (model_checked) whether any of these generators answers; the latest wins.

        The check runs in a worker thread with its own event loop: off the GUI thread, and
        one abandoned when the workspace closes ends there by itself (one try, short
        timeouts) instead of being cancelled inside the HTTP client. The thread holds no
        Qt object; a timer here picks its result up."""
        backends = self.context.backends
        specs = list(dict.fromkeys(generators))
        self._check = Future()
        threading.Thread(
            target=_check_in_thread, args=(self._check, backends, specs), daemon=True
        ).start()
        self._check_timer.start()

    def _pick_up_check(self) -> None:
        check = self._check
        if check is None or not check.done():
            return
        self._check_timer.stop()
        self._check = None
        self.model_checked.emit("\n".join(check.result()))

    # -- test-set runs ---------------------------------------------------------------------
    def run_tests(
        self, ws: Workspace, profiles: list[AnswerProfile], concurrency: int, bundle: str | None
    ) -> JobHandle | None:
        if self.run_job is not None:
            return None
        if len(profiles) == 2 and profiles[0].name == profiles[1].name:
            profiles[1] = replace(profiles[1], name=f"{profiles[1].name} (B)")
        backends = self.context.backends

        async def work(job: Job) -> Any:
            return await answers.run_tests(
                ws, job, profiles, concurrency=concurrency, backends=backends, bundle=bundle
            )

        self.run_job = self.context.jobs.start("Test run", work)
        self.run_job.changed.connect(self._on_job_changed)
        self.run_job.finished.connect(self._on_job_finished)
        return self.run_job

    def cancel_run(self) -> None:
        if self.run_job is not None:
            self.run_job.cancel()
            self.run_progress.emit("Cancelling after the answers in flight…")

    def _on_job_changed(self, event: JobEvent) -> None:
        if event.state is JobState.RUNNING:
            errors = f" · {event.error_count} failed" if event.error_count else ""
            self.run_progress.emit(
                f"Answered {event.done}/{event.total or 0}{errors}. {event.message}"
            )

    def _on_job_finished(self, event: JobEvent, _result: object) -> None:
        self.run_job = None
        self.run_finished.emit(f"Run {event.state.value}: {event.summary}")

    def stop(self) -> None:
        """The workspace is closing: answers in flight and checks stop."""
        self._check = None  # its result, when it comes, is for a closed workspace
        self._check_timer.stop()
        self.tasks.cancel_all()


async def _reasons_none_answers(backends: Backends, generators: list[str]) -> list[str]:
    """Why each generator does not answer; empty as soon as one does."""
    reasons: list[str] = []
    for spec in generators:
        try:
            await backends.check_model(spec)
        except Exception as exc:  # a BotdeskError says why; anything else is no model either
            reasons.append(f"{spec}: {exc}")
            continue
        return []
    return reasons


def _check_in_thread(into: Future[list[str]], backends: Backends, specs: list[str]) -> None:
    try:
        into.set_result(asyncio.run(_reasons_none_answers(backends, specs)))
    except Exception as exc:  # a bug in the check: say it plainly rather than lose it
        into.set_result([f"The model check failed: {exc}"])
