"""What the Test bench's buttons do: each edit an undo command around one service call.

Edits of the test set and of the profiles go through `EditCommand` (Ctrl+Z); reading,
importing and exporting are plain service calls. Known errors become messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QObject, Signal, SignalInstance

from desktop.core.answering.testbench import DeletedQuestion
from desktop.core.errors import BotdeskError
from desktop.core.store.workspace import Workspace
from desktop.services import answers
from desktop.services.answers import AnswerProfile, TestQuestion
from desktop.ui.context import WindowContext
from desktop.ui.testbench.commands import EditCommand

T = TypeVar("T")


class TestBenchActions(QObject):
    """Edits of the test set and the profiles, as undoable commands."""

    __test__ = False
    questions_changed = Signal()
    profiles_changed = Signal()
    profile_renamed = Signal(str, str)  # old, new: a column showing `old` follows it

    def __init__(self, context: WindowContext) -> None:
        super().__init__()
        self.context = context

    @property
    def workspace(self) -> Workspace | None:
        return self.context.workspace

    def call(self, action: Callable[[Workspace], T]) -> T | None:
        """Run a service call on the open workspace; a known error becomes a message."""
        ws = self.workspace
        if ws is None:
            return None
        try:
            return action(ws)
        except BotdeskError as exc:
            self.context.messages.error(exc)
            return None

    def _push(
        self,
        text: str,
        do: Callable[[], object],
        undo: Callable[[], object],
        changed: SignalInstance,
    ) -> bool:
        command = EditCommand(
            text, do, undo, changed=changed.emit, on_error=self.context.messages.error
        )
        return self.context.push(command)

    # -- the test set ----------------------------------------------------------------------
    def add_question(self, text: str) -> bool:
        """Add the question; one already saved keeps its expectations (nothing is wiped)."""
        ws = self.workspace
        if ws is None:
            return False
        if not text:
            self.context.messages.info("Type a question first.")
            return False
        key = TestQuestion(text).key
        if any(q.key == key for q in answers.list_questions(ws)):
            # Adding again would change nothing: say so instead of touching what is saved.
            self.context.messages.info(
                "This question is already in the test set; its expectations are kept. "
                "Double-click it there to edit them."
            )
            return False

        def do() -> None:
            answers.add_question(ws, TestQuestion(text))

        def undo() -> None:
            added = [q.id for q in answers.list_questions(ws) if q.key == key and q.id is not None]
            answers.delete_questions(ws, added)

        pushed = self._push("Add test question", do, undo, self.questions_changed)
        if pushed:
            self.context.messages.info("Added to the test set.")
        return pushed

    def edit_question(self, original: TestQuestion, edited: TestQuestion) -> bool:
        ws = self.workspace
        question_id = original.id
        if ws is None or question_id is None or edited == original:
            return False
        return self._push(
            "Edit test question",
            lambda: answers.update_question(ws, question_id, edited),
            lambda: answers.update_question(ws, question_id, original),
            self.questions_changed,
        )

    def delete_questions(self, questions: list[TestQuestion]) -> bool:
        """Delete exactly these questions; undo puts them back with their past results."""
        ws = self.workspace
        ids = [q.id for q in questions if q.id is not None]
        if ws is None or not ids:
            return False
        kept: list[DeletedQuestion] = []

        def do() -> None:
            kept[:] = answers.delete_questions(ws, ids)

        noun = "question" if len(ids) == 1 else f"{len(ids)} questions"
        pushed = self._push(
            f"Delete {noun}",
            do,
            lambda: answers.restore_questions(ws, kept),
            self.questions_changed,
        )
        if pushed:
            self.context.messages.info(f"Deleted {noun}. Edit ▸ Undo (Ctrl+Z) puts it back.")
        return pushed

    def import_file(self, path: str | Path) -> None:
        report = self.call(lambda ws: answers.import_test_set(ws, path))
        if report is not None:
            self.questions_changed.emit()
            self.context.messages.info(
                f"Imported {report.added} new and {report.updated} updated questions."
            )

    def export_file(self, path: str | Path) -> None:
        count = self.call(lambda ws: answers.export_test_set(ws, path))
        if count is not None:
            self.context.messages.info(f"Exported {count} questions to {path}.")

    # -- profiles --------------------------------------------------------------------------
    def save_profile(self, profile: AnswerProfile) -> bool:
        """These settings into the profile of that name (the one its column shows)."""
        ws = self.workspace
        if ws is None:
            return False
        old = self.call(lambda ws: answers.get_profile(ws, profile.name))
        if old is None:
            return False
        pushed = self._push(
            f"Save profile {profile.name}",
            lambda: answers.set_profile(ws, profile.name, **profile.settings()),
            lambda: answers.restore_profile(ws, old),
            self.profiles_changed,
        )
        if pushed:
            self.context.messages.info(f"Saved profile {profile.name}.")
        return pushed

    def create_profile(self, profile: AnswerProfile) -> bool:
        ws = self.workspace
        if ws is None:
            return False
        pushed = self._push(
            f"New profile {profile.name}",
            lambda: answers.create_profile(ws, profile),
            lambda: answers.delete_profile(ws, profile.name),
            self.profiles_changed,
        )
        if pushed:
            self.context.messages.info(f"Created profile {profile.name}.")
        return pushed

    def rename_profile(self, old: str, new: str) -> bool:
        ws = self.workspace
        if ws is None or old == new:
            return False

        def do() -> None:
            answers.rename_profile(ws, old, new)
            self.profile_renamed.emit(old, new)

        def undo() -> None:
            answers.rename_profile(ws, new, old)
            self.profile_renamed.emit(new, old)

        return self._push(f"Rename profile {old}", do, undo, self.profiles_changed)

    def delete_profile(self, name: str) -> bool:
        ws = self.workspace
        if ws is None:
            return False
        kept: list[AnswerProfile] = []

        def do() -> None:
            kept[:] = [answers.delete_profile(ws, name)]

        pushed = self._push(
            f"Delete profile {name}",
            do,
            lambda: answers.restore_profile(ws, kept[0]),
            self.profiles_changed,
        )
        if pushed:
            self.context.messages.info(f"Deleted profile {name}. Edit ▸ Undo puts it back.")
        return pushed


def unique_copy_name(profile: AnswerProfile, taken: set[str]) -> AnswerProfile:
    """A free name for a new profile made from `profile`'s settings."""
    n = 2
    while f"{profile.name} {n}" in taken:
        n += 1
    return replace(profile, name=f"{profile.name} {n}")
