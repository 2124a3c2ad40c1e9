"""What the user can do on the Publish page: each edit an undo command, each action one
service call; publishing, bundles, releases and rollbacks run as jobs whose handles report
the end. Nothing here builds widgets: the page wires panels' signals to these methods and
the signals below back to the panels.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand

from desktop.core.errors import BotdeskError, PublishError
from desktop.core.jobs import Job, JobEvent, JobState
from desktop.core.publish.client import STEP_RELEASE, STEP_UPLOAD
from desktop.core.store.workspace import Workspace
from desktop.core.text import size_text
from desktop.services import publish
from desktop.ui.context import WindowContext
from desktop.ui.jobs import JobHandle
from desktop.ui.publish.dialogs import TokenChoice
from desktop.ui.tasks import TaskSet


class SaveWidgetSettings(QUndoCommand):
    """Save the widget form; undo puts the previous settings back (and in the form)."""

    def __init__(
        self,
        ws: Workspace,
        config: dict[str, Any],
        on_saved: Callable[[dict[str, Any], str], None],
    ) -> None:
        super().__init__("Save widget settings")
        self.ws, self.new, self.on_saved = ws, config, on_saved
        self.old: dict[str, Any] = publish.get_widget(ws)
        self.error: BotdeskError | None = None
        self._first = True

    def run_first(self) -> bool:
        try:
            self.new = publish.set_widget(self.ws, self.new)
        except BotdeskError as exc:
            self.error = exc
            return False
        self.on_saved(self.new, "")
        return True

    def redo(self) -> None:
        if self._first:  # run_first did it
            self._first = False
            return
        self.on_saved(publish.set_widget(self.ws, self.new), "Saved again (redo).")

    def undo(self) -> None:
        self.on_saved(publish.set_widget(self.ws, self.old), "Previous settings back (undo).")


@dataclass
class _Ending:
    """What a publish job's work saw end it, for the plain last word."""

    cancelled: publish.ReleaseCancelled | None = None
    error: PublishError | None = None


class PublishActions(QObject):
    """The Publish page's actions against the open workspace."""

    busy_changed = Signal(bool)
    status_changed = Signal(str)
    report_ready = Signal(object)  # PublishReport
    releases_changed = Signal(object, str)  # list[ReleaseInfo], note
    token_changed = Signal(object)  # TokenStatus, or a str saying why it cannot be known
    widget_saved = Signal(object, str)  # the saved config, the confirmation text
    target_changed = Signal(object, object)  # endpoint, bot id (remembered by a publish)

    def __init__(self, context: WindowContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.job: JobHandle | None = None  # the publish, dry run or bundle build under way
        self.release_job: JobHandle | None = None
        self.last_report: publish.PublishReport | None = None
        self.token: publish.TokenStatus | None = None
        self._tasks = TaskSet()

    @property
    def workspace(self) -> Workspace | None:
        return self.context.workspace

    # -- widget settings ----------------------------------------------------------------------
    def save_widget(self, config: dict[str, Any], *, unless_unchanged: bool = False) -> bool:
        """Save the form as an undoable edit (a refused config is named and nothing saved)."""
        ws = self.workspace
        if ws is None:
            return False
        if unless_unchanged and config == publish.get_widget(ws):
            return True
        command = SaveWidgetSettings(ws, config, self._saved)
        if self.context.push(command):
            return True
        if command.error is not None:
            self.context.messages.error(command.error, context="Widget settings")
        return False

    def _saved(self, config: dict[str, Any], note: str) -> None:
        problems = publish.widget_problems(config)
        text = note or "Widget settings saved."
        if problems:
            text += " They are not ready to publish yet (see above)."
        self.widget_saved.emit(config, text)

    # -- dry run, publish, bundle file --------------------------------------------------------
    def start_publish(
        self,
        config: dict[str, Any],
        target: tuple[str, str],
        *,
        notes: str,
        quantization: publish.Quantization,
        dry_run: bool,
    ) -> JobHandle | None:
        """Save the form, then check, build and (unless a dry run) send, as one job."""
        ws = self.workspace
        if ws is None or self.job is not None:
            return None
        if not self.save_widget(config, unless_unchanged=True):
            return None
        endpoint, bot_id = target
        backends, ending = self.context.backends, _Ending()

        async def work(job: Job) -> publish.PublishReport:
            try:
                return await publish.publish(
                    ws,
                    job,
                    endpoint=endpoint or None,
                    bot_id=bot_id or None,
                    notes=notes,
                    dry_run=dry_run,
                    quantization=quantization,
                    backends=backends,
                )
            except publish.ReleaseCancelled as exc:
                ending.cancelled = exc
                raise
            except PublishError as exc:
                ending.error = exc
                raise

        handle = self._start("Dry run" if dry_run else "Publish", work)
        handle.changed.connect(self._on_progress)
        handle.finished.connect(lambda event, result: self._publish_ended(event, result, ending))
        self.status_changed.emit("Checking and building the bundle…")
        return handle

    def build_bundle_file(self, path: str, quantization: publish.Quantization) -> JobHandle | None:
        """Write the bundle to `path` as a job (building reads every passage: off the click)."""
        ws = self.workspace
        if ws is None or self.job is not None:
            return None
        loader = self.context.backends.bundle_vectors

        async def work(job: Job) -> publish.BuiltBundle:
            built = await asyncio.to_thread(
                publish.build_bundle, ws, path, quantization=quantization, vector_loader=loader
            )
            job.finish(
                f"Wrote {built.path.name}: {built.manifest['passage_count']} passages, "
                f"{size_text(built.size)}."
            )
            return built

        handle = self._start("Build bundle", work)
        handle.finished.connect(lambda event, _result: self._ended(event.summary))
        return handle

    def _start(self, title: str, work: Any) -> JobHandle:
        self.job = self.context.jobs.start(title, work)
        self.busy_changed.emit(True)
        return self.job

    def _ended(self, text: str) -> None:
        self.job = None
        self.busy_changed.emit(False)
        self.status_changed.emit(text)

    def _on_progress(self, event: JobEvent) -> None:
        if event.state is not JobState.RUNNING:
            return
        if event.stage == STEP_UPLOAD and event.total:
            self.status_changed.emit(f"Uploading the bundle: {event.count_text()}…")
        elif event.stage == STEP_RELEASE:
            self.status_changed.emit("Making the release live…")
        else:
            self.status_changed.emit(f"{(event.stage or 'working').capitalize()}…")

    def _publish_ended(self, event: JobEvent, result: object, ending: _Ending) -> None:
        if isinstance(result, publish.PublishReport):
            self.last_report = result
            self.report_ready.emit(result)
            if not result.dry_run:
                self.show_local_releases()
            self._remember_target()
            self._ended(event.summary)
            return
        if ending.cancelled is not None:
            cancelled = ending.cancelled
            self._ended(f"{cancelled.message} {cancelled.hint}".strip())
            if cancelled.may_be_live:
                self.refresh_releases()
            return
        if event.state is JobState.CANCELLED:
            self._ended("Cancelled: nothing was sent; the live bot is unchanged.")
            return
        self._ended(event.summary)
        if ending.error is not None and ending.error.step == STEP_RELEASE:
            self.refresh_releases()  # the history says whether it went live after all

    def _remember_target(self) -> None:
        if self.workspace is not None:
            self.target_changed.emit(*publish.get_target(self.workspace))

    # -- releases -----------------------------------------------------------------------------
    def show_local_releases(self, note: str = "") -> None:
        ws = self.workspace
        if ws is None:
            return
        endpoint, bot_id = publish.get_target(ws)
        releases = publish.local_releases(ws, endpoint, bot_id) if endpoint and bot_id else []
        self.releases_changed.emit(releases, note)

    def refresh_releases(self) -> JobHandle | None:
        ws = self.workspace
        if ws is None:
            return None
        backends = self.context.backends

        async def work(job: Job) -> publish.ReleaseList:
            listed = await publish.list_releases(ws, backends=backends)
            job.finish(listed.remote_error or f"{len(listed.releases)} releases.")
            return listed

        self.release_job = self.context.jobs.start("Releases", work)
        self.release_job.finished.connect(self._releases_listed)
        return self.release_job

    def _releases_listed(self, event: JobEvent, result: object) -> None:
        self.release_job = None
        if isinstance(result, publish.ReleaseList):
            note = (
                f"Showing what this workspace knows: {result.remote_error}"
                if result.remote_error
                else "Up to date with the endpoint."
            )
            self.releases_changed.emit(result.releases, note)

    def rollback(self, release_id: str) -> JobHandle | None:
        """Make `release_id` live again (the page has asked the user first)."""
        ws = self.workspace
        if ws is None:
            return None
        backends = self.context.backends

        async def work(job: Job) -> publish.ReleaseInfo:
            info = await publish.rollback(ws, release_id, backends=backends)
            job.finish(f"Release {info.version} is live.")
            return info

        self.release_job = self.context.jobs.start(f"Roll back to {release_id}", work)
        self.release_job.finished.connect(self._rolled_back)
        return self.release_job

    def _rolled_back(self, event: JobEvent, result: object) -> None:
        self.release_job = None
        if isinstance(result, publish.ReleaseInfo):
            self.show_local_releases(f"Release {result.version} is live again.")
        else:
            self.show_local_releases(event.summary)

    # -- the token ----------------------------------------------------------------------------
    def refresh_token(self, endpoint: str) -> None:
        """Find where the token is, off the GUI thread (keyring calls can hang)."""
        if not endpoint:
            self.token = None
            self.token_changed.emit("Give the endpoint first.")
            return
        self._tasks.spawn(self._look_up_token(endpoint))

    async def _look_up_token(self, endpoint: str) -> None:
        try:
            status = await asyncio.to_thread(publish.token_status, endpoint)
        except BotdeskError as exc:
            self.token = None
            self.token_changed.emit(exc.message)
            return
        self.token = status
        self.token_changed.emit(status)

    def set_token(self, endpoint: str, choice: TokenChoice) -> None:
        self._tasks.spawn(self._store_token(endpoint, choice))

    async def _store_token(self, endpoint: str, choice: TokenChoice) -> None:
        try:
            await asyncio.to_thread(
                publish.set_token, endpoint, choice.token, session_only=choice.session_only
            )
        except BotdeskError as exc:
            self.context.messages.error(exc, context="Publish token")
            return
        await self._look_up_token(endpoint)
        if choice.session_only:
            self.context.messages.info(
                f"Token for {endpoint} kept for this session only: in memory, not saved to "
                "disk. Enter it again after restarting Botdesk."
            )
        else:
            self.context.messages.info(f"Token stored in the keyring for {endpoint}.")

    def forget_token(self, endpoint: str) -> None:
        self._tasks.spawn(self._forget_token(endpoint))

    async def _forget_token(self, endpoint: str) -> None:
        try:
            await asyncio.to_thread(publish.forget_token, endpoint)
        except BotdeskError as exc:
            self.context.messages.error(exc, context="Publish token")
            return
        await self._look_up_token(endpoint)
        self.context.messages.info(f"Token for {endpoint} forgotten.")

    async def wait_idle(self) -> None:
        await self._tasks.wait_idle()
