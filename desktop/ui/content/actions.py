"""What the user can do on the Content page: each edit an undo command, each action one
service call; sync and the chunking preview run as jobs whose handles report the end.

Nothing here builds widgets: the page connects the panels' intent signals to these methods
and the signals below back to the panels.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop.core.content.models import ChunkPreview, SourceInfo, SyncSummary
from desktop.core.errors import BotdeskError
from desktop.core.jobs import ItemError, Job, JobEvent
from desktop.core.store.workspace import Workspace
from desktop.services import content, content_sources
from desktop.ui.content.commands import (
    AddPassage,
    AddSources,
    EditPassage,
    ExcludeBoilerplate,
    ExcludeDocument,
    ExcludeUrlPattern,
    ResolveReview,
    SetExcluded,
)
from desktop.ui.content.models import EMPTY_TEXT
from desktop.ui.context import WindowContext
from desktop.ui.jobs import JobHandle


def ask_yes(parent: QWidget | None, question: str, detail: str = "") -> bool:
    """Ask once, plainly; Cancel is the default."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Botdesk",
        f"{question}\n\n{detail}".strip(),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        parent,
    )
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    return box.exec() == QMessageBox.StandardButton.Yes


@dataclass(frozen=True)
class SyncOutcome:
    """How a sync ended: the job's last event, its summary (None when it failed or was
    cancelled), and the items that failed with their reasons."""

    event: JobEvent
    summary: SyncSummary | None
    errors: list[ItemError]

    @property
    def skipped(self) -> list[tuple[str, str]]:
        """(address, why) of what the sync left out, as the summary lists them."""
        return list(self.summary.skipped_urls.items()) if self.summary is not None else []

    @property
    def skipped_count(self) -> int:
        return sum(self.summary.skipped.values()) if self.summary is not None else 0


def failed_items(
    outcome: SyncOutcome | None, sources: Sequence[SourceInfo]
) -> list[tuple[str, str]]:
    """What failed in the last sync, with the reason: this session's sync (`outcome`),
    else what each source's last sync stored."""
    if outcome is not None:
        return [(e.item, e.reason) for e in outcome.errors]
    return [
        (str(item), str(why))
        for source in sources
        for item, why in ((source.last_sync_summary or {}).get("failed") or {}).items()
    ]


def skipped_items(
    outcome: SyncOutcome | None, sources: Sequence[SourceInfo]
) -> tuple[int, list[tuple[str, str]]]:
    """How many addresses the last sync skipped, and those it listed with the reason:
    this session's sync (`outcome`), else what each source's last sync stored."""
    if outcome is not None:
        return outcome.skipped_count, outcome.skipped
    total = 0
    items: list[tuple[str, str]] = []
    for source in sources:
        stored = source.last_sync_summary or {}
        total += sum(int(n) for n in (stored.get("skipped") or {}).values())
        listed = stored.get("skipped_urls") or {}
        items.extend((str(url), str(why)) for url, why in listed.items())
    return total, items


class ContentActions(QObject):
    """The Content page's actions against the open workspace."""

    sources_added = Signal(object)  # list of SourceInfo
    sync_started = Signal(object)  # JobHandle
    sync_finished = Signal(object)  # SyncOutcome

    def __init__(self, context: WindowContext, parent: QWidget) -> None:
        super().__init__(parent)
        self.context = context
        self.widget = parent
        # Injected by tests and benches (a loopback client); None means the real one.
        # After adding a source, fetch it at once (tests switch this off to step alone).
        self.auto_sync = True
        self.sync_job: JobHandle | None = None
        # True while content_changed is emitted for an edit of passages alone.
        self.passages_only = False
        # Asks the user a yes/no question (tests replace it).
        self.ask: Callable[[str, str], bool] = self._ask_user

    def _ask_user(self, question: str, detail: str) -> bool:
        return ask_yes(self.widget, question, detail)

    @property
    def workspace(self) -> Workspace | None:
        return self.context.workspace

    def _changed(self) -> None:
        self.context.content_changed.emit()

    def _passages_changed(self) -> None:
        """Only passages' text or state changed (no source or document, no counts): the
        page may reload just the passages it shows."""
        self.passages_only = True
        try:
            self.context.content_changed.emit()
        finally:
            self.passages_only = False

    def _error(self, exc: BotdeskError) -> None:
        self.context.messages.error(exc)

    # -- adding sources ------------------------------------------------------------------
    def add_files(self, paths: Sequence[str | Path]) -> list[SourceInfo]:
        if not paths:
            return []
        return self._add(lambda ws: content_sources.add_files(ws, list(paths)), "Add files")

    def add_text(self, title: str, text: str) -> SourceInfo | None:
        return self._add_one(lambda ws: content_sources.add_text(ws, title, text), "Add text")

    def add_qa(self, question: str, answer: str) -> SourceInfo | None:
        return self._add_one(lambda ws: content_sources.add_qa(ws, question, answer), "Add Q&A")

    def add_site(self, url: str, **settings: Any) -> SourceInfo | None:
        return self._add_one(
            lambda ws: content_sources.add_site(ws, url, **settings), "Add website"
        )

    def _add_one(self, make: Callable[[Workspace], SourceInfo], what: str) -> SourceInfo | None:
        added = self._add(lambda ws: [make(ws)], what)
        return added[0] if added else None

    def _add(self, make: Callable[[Workspace], list[SourceInfo]], what: str) -> list[SourceInfo]:
        """Add sources as an undoable command, then (auto_sync) fetch them."""
        ws = self.workspace
        if ws is None:
            return []

        def error(exc: BotdeskError) -> None:
            self.context.messages.error(exc, context=what)

        command = AddSources(ws, what, make, self._changed, error)
        if not self.context.push(command):
            return []
        self.sources_added.emit(command.sources)
        if self.auto_sync and command.sources:
            if self.sync_job is None:
                self.start_sync([s.id for s in command.sources])
            else:
                self.context.messages.info("Added; it is fetched at the next sync (F5).")
        return command.sources

    def remove_source(self, source: SourceInfo) -> bool:
        """Delete a source after asking once (not undoable: said in the question)."""
        ws = self.workspace
        if ws is None or self.sync_job is not None:
            return False
        name = source.location or source.title
        if not self.ask(
            f"Remove {name}?",
            f"Its {source.documents} documents and {source.passages} passages, with your "
            "edits to them, are deleted from this workspace. This cannot be undone.",
        ):
            return False
        try:
            content_sources.remove_source(ws, source.id)
        except BotdeskError as exc:
            self._error(exc)
            return False
        self._changed()
        return True

    # -- curating ------------------------------------------------------------------------
    def set_excluded(self, passage_ids: Sequence[int], excluded: bool) -> bool:
        ws = self.workspace
        if ws is None or not passage_ids:
            return False
        return self.context.push(
            SetExcluded(ws, passage_ids, excluded, self._passages_changed, self._error)
        )

    def edit_passage(self, passage_id: int, text: str) -> bool:
        ws = self.workspace
        if ws is None:
            return False
        return self.context.push(
            EditPassage(ws, passage_id, text, self._passages_changed, self._error)
        )

    def resolve_review(self, passage_id: int, keep: str, text: str | None = None) -> bool:
        ws = self.workspace
        if ws is None:
            return False
        settle: Literal["edit", "source"] = "edit" if keep == "edit" else "source"
        command = ResolveReview(
            ws, passage_id, settle, self._passages_changed, self._error, text=text
        )
        return self.context.push(command)

    def add_passage(self, document_id: int, text: str, heading_path: str = "") -> bool:
        ws = self.workspace
        if ws is None:
            return False
        command = AddPassage(
            ws, document_id, text, self._changed, self._error, heading_path=heading_path
        )
        return self.context.push(command)

    def set_document_excluded(self, document_id: int, excluded: bool) -> bool:
        ws = self.workspace
        if ws is None:
            return False
        command = ExcludeDocument(ws, document_id, excluded, self._changed, self._error)
        return self.context.push(command)

    def exclude_url_pattern(self, pattern: str) -> bool:
        ws = self.workspace
        if ws is None:
            return False
        return self.context.push(ExcludeUrlPattern(ws, pattern, self._changed, self._error))

    def exclude_boilerplate(self, keys: Sequence[str]) -> bool:
        ws = self.workspace
        if ws is None or not keys:
            return False
        return self.context.push(ExcludeBoilerplate(ws, keys, self._changed, self._error))

    def apply_source_settings(
        self, source_id: int, chunking: dict[str, int], site_rules: dict[str, Any]
    ) -> bool:
        """Save a source's settings, then re-sync it (or say the next sync will)."""
        ws = self.workspace
        if ws is None:
            return False
        try:
            content_sources.set_source_settings(ws, source_id, chunking=chunking, **site_rules)
        except BotdeskError as exc:
            self.context.messages.error(exc, context="Source settings")
            return False
        self._changed()
        if self.sync_job is None:
            self.start_sync([source_id])
        else:
            self.context.messages.info("Settings saved; the next sync re-cuts the passages.")
        return True

    # -- jobs ----------------------------------------------------------------------------
    def preview_chunking(self, source_id: int, chunking: dict[str, int]) -> JobHandle | None:
        """Cut the source's stored documents with `chunking` off the GUI thread; the
        handle's result is the list of ChunkPreview (None, with the reason, on failure)."""
        ws = self.workspace
        if ws is None:
            return None

        async def work(job: Job) -> list[ChunkPreview] | None:
            try:
                chunks = await asyncio.to_thread(
                    content_sources.preview_chunking, ws, source_id, chunking
                )
            except BotdeskError as exc:  # shown in the dialog (no modal box inside a task)
                job.fail(str(exc))
                return None
            job.finish(f"{len(chunks)} passages with the new settings.")
            return chunks

        return self.context.jobs.start("Preview the new cut", work)

    def start_sync(self, source_ids: Sequence[int] | None = None) -> JobHandle | None:
        """Sync every source (or those given) as a job in the jobs dock."""
        ws = self.workspace
        if ws is None:
            return None
        if self.sync_job is not None:
            self.context.messages.info("A sync is already running.")
            return None
        sources = content_sources.list_sources(ws)
        if not sources:
            self.context.messages.info(EMPTY_TEXT + ".")
            return None
        ids = list(source_ids) if source_ids is not None else None
        backends = self.context.backends

        async def work(job: Job, sync_ws: Workspace) -> SyncSummary:
            return await content.sync(sync_ws, job, source_ids=ids, backends=backends)

        names = [s.title or s.location for s in sources if ids is None or s.id in ids]
        title = f"Sync {names[0]}" if len(names) == 1 else f"Sync {len(names)} sources"
        # On a thread and a connection of its own: the window only shows its progress.
        handle = self.context.jobs.start_on_thread(title, ws, work)
        handle.finished.connect(self._sync_ended)
        self.sync_job = handle
        self.sync_started.emit(handle)
        return handle

    def _sync_ended(self, event: JobEvent, result: object) -> None:
        handle, self.sync_job = self.sync_job, None
        errors = list(handle.errors) if handle is not None else []
        summary = result if isinstance(result, SyncSummary) else None
        self.sync_finished.emit(SyncOutcome(event, summary, errors))
        # Every page refreshes on this: at the event loop's next turn, not in the same
        # stretch as the sync's last steps.
        QTimer.singleShot(0, self, self._changed)
