"""The Content page's edits as undo commands (Ctrl+Z until the workspace closes).

Each command does its work through desktop.services.content (content_sources for a
source) and undoes it with the inverse service call (including the undo-only ones:
restoring a passage's curation snapshot, taking back a hand-written passage, forgetting
an excluded pattern or group).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from PySide6.QtGui import QUndoCommand

from desktop.core.content.models import SourceInfo
from desktop.core.errors import BotdeskError
from desktop.core.store.workspace import Workspace
from desktop.services import content, content_sources

Changed = Callable[[], None]
ErrorSink = Callable[[BotdeskError], None]


class ContentCommand(QUndoCommand):
    """A curation step: `do`/`undo_work` call the services; errors go to the message route."""

    def __init__(self, ws: Workspace, text: str, changed: Changed, on_error: ErrorSink) -> None:
        super().__init__(text)
        self.ws = ws
        self.changed = changed
        self.on_error = on_error
        self._first = True

    def do(self) -> None:
        raise NotImplementedError

    def undo_work(self) -> None:
        raise NotImplementedError

    def run_first(self) -> bool:
        """Do the work once before pushing, so a refused edit never enters the stack."""
        try:
            self.do()
        except BotdeskError as exc:
            self.on_error(exc)
            return False
        self.changed()
        return True

    def redo(self) -> None:
        if self._first:  # already done by run_first()
            self._first = False
            return
        self._guarded(self.do)

    def undo(self) -> None:
        self._guarded(self.undo_work)

    def _guarded(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BotdeskError as exc:
            self.on_error(exc)
        self.changed()


class AddSources(ContentCommand):
    """Add sources (undo removes them with whatever a sync fetched for them meanwhile)."""

    def __init__(
        self,
        ws: Workspace,
        what: str,
        make: Callable[[Workspace], Sequence[SourceInfo]],
        changed: Changed,
        on: ErrorSink,
    ) -> None:
        super().__init__(ws, what, changed, on)
        self.make = make
        self.sources: list[SourceInfo] = []

    def do(self) -> None:
        self.sources = list(self.make(self.ws))

    def undo_work(self) -> None:
        for source in self.sources:
            content_sources.remove_source(self.ws, source.id)
        self.sources = []


class SetExcluded(ContentCommand):
    def __init__(
        self, ws: Workspace, ids: Sequence[int], excluded: bool, changed: Changed, on: ErrorSink
    ) -> None:
        verb = "Exclude" if excluded else "Include"
        noun = "passage" if len(ids) == 1 else f"{len(ids)} passages"
        super().__init__(ws, f"{verb} {noun}", changed, on)
        self.excluded = excluded
        self.before = {i: content.get_passage(ws, i).excluded for i in ids}

    def do(self) -> None:
        if self.excluded:
            content.exclude_passages(self.ws, list(self.before))
        else:
            content.include_passages(self.ws, list(self.before))

    def undo_work(self) -> None:
        back_in = [i for i, was in self.before.items() if not was]
        back_out = [i for i, was in self.before.items() if was]
        if back_in:
            content.include_passages(self.ws, back_in)
        if back_out:
            content.exclude_passages(self.ws, back_out)


class EditPassage(ContentCommand):
    def __init__(
        self, ws: Workspace, passage_id: int, text: str, changed: Changed, on: ErrorSink
    ) -> None:
        super().__init__(ws, "Edit passage", changed, on)
        self.passage_id = passage_id
        self.new_text = text
        self.before = content.curation_snapshot(ws, passage_id)

    def do(self) -> None:
        content.edit_passage(self.ws, self.passage_id, self.new_text)

    def undo_work(self) -> None:
        content.restore_curation(self.ws, self.passage_id, self.before)


class ResolveReview(ContentCommand):
    """Settle a passage flagged for review, optionally saving an edit first."""

    def __init__(
        self,
        ws: Workspace,
        passage_id: int,
        keep: Literal["edit", "source"],
        changed: Changed,
        on: ErrorSink,
        *,
        text: str | None = None,
    ) -> None:
        label = "Keep my edit" if keep == "edit" else "Take the new source text"
        super().__init__(ws, label, changed, on)
        self.passage_id = passage_id
        self.keep: Literal["edit", "source"] = keep
        self.new_text = text
        self.before = content.curation_snapshot(ws, passage_id)

    def do(self) -> None:
        with self.ws.transaction():
            if self.new_text is not None:
                content.edit_passage(self.ws, self.passage_id, self.new_text)
            content.resolve_review(self.ws, self.passage_id, keep=self.keep)

    def undo_work(self) -> None:
        content.restore_curation(self.ws, self.passage_id, self.before)


class AddPassage(ContentCommand):
    def __init__(
        self,
        ws: Workspace,
        document_id: int,
        text: str,
        changed: Changed,
        on: ErrorSink,
        *,
        heading_path: str = "",
    ) -> None:
        super().__init__(ws, "Add passage", changed, on)
        self.document_id = document_id
        self.new_text = text
        self.heading_path = heading_path
        self.passage_id: int | None = None

    def do(self) -> None:
        added = content.add_passage(
            self.ws, self.document_id, self.new_text, heading_path=self.heading_path
        )
        self.passage_id = added.id

    def undo_work(self) -> None:
        if self.passage_id is not None:
            content.delete_added_passage(self.ws, self.passage_id)
            self.passage_id = None


class ExcludeDocument(ContentCommand):
    def __init__(
        self, ws: Workspace, document_id: int, excluded: bool, changed: Changed, on: ErrorSink
    ) -> None:
        super().__init__(ws, "Exclude document" if excluded else "Include document", changed, on)
        self.document_id = document_id
        self.excluded = excluded
        self.before = content.get_document(ws, document_id).excluded

    def do(self) -> None:
        content.exclude_document(self.ws, self.document_id, self.excluded)

    def undo_work(self) -> None:
        content.exclude_document(self.ws, self.document_id, self.before)


class ExcludeUrlPattern(ContentCommand):
    def __init__(self, ws: Workspace, pattern: str, changed: Changed, on: ErrorSink) -> None:
        super().__init__(ws, f"Exclude {pattern.strip()}", changed, on)
        self.pattern = pattern.strip()
        self.was_listed = self.pattern in ws.setting("excluded_url_patterns", [])
        self.newly_excluded: list[int] = []

    def do(self) -> None:
        before = {d.id for d in content.list_documents(self.ws) if d.excluded}
        content.exclude_url_pattern(self.ws, self.pattern)
        self.newly_excluded = [
            d.id for d in content.list_documents(self.ws) if d.excluded and d.id not in before
        ]

    def undo_work(self) -> None:
        if not self.was_listed:
            content.forget_setting_items(self.ws, "excluded_url_patterns", [self.pattern])
        for document_id in self.newly_excluded:
            content.exclude_document(self.ws, document_id, False)


class ExcludeBoilerplate(ContentCommand):
    """Exclude whole groups of repeated passages (remembered for later syncs)."""

    def __init__(self, ws: Workspace, keys: Sequence[str], changed: Changed, on: ErrorSink) -> None:
        noun = "group" if len(keys) == 1 else "groups"
        super().__init__(ws, f"Exclude {len(keys)} repeated-passage {noun}", changed, on)
        self.keys = list(keys)
        self.remembered = set(ws.setting("boilerplate_excluded", []))
        groups = {g.key: g for g in content.boilerplate_groups(ws)}
        ids = [i for key in self.keys if key in groups for i in groups[key].passage_ids]
        self.before = {i: content.get_passage(ws, i).excluded for i in ids}

    def do(self) -> None:
        for key in self.keys:
            content.exclude_boilerplate(self.ws, key)

    def undo_work(self) -> None:
        forget = [key for key in self.keys if key not in self.remembered]
        if forget:
            content.forget_setting_items(self.ws, "boilerplate_excluded", forget)
        back_in = [i for i, was in self.before.items() if not was]
        if back_in:
            content.include_passages(self.ws, back_in)
