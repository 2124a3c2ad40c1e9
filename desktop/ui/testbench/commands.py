"""Test bench edits as undo commands (Ctrl+Z until the workspace closes).

Each edit is one service call and its inverse, both given as functions; the command does
the edit once before it is pushed (WindowContext.push), so a refused edit never enters
the undo stack, and errors on redo/undo go to the message route instead of raising.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from desktop.core.errors import BotdeskError

Work = Callable[[], object]
ErrorSink = Callable[[BotdeskError], None]


class EditCommand(QUndoCommand):
    """`do` and `undo_work` call the services; `changed` reloads what they changed."""

    def __init__(
        self, text: str, do: Work, undo_work: Work, *, changed: Work, on_error: ErrorSink
    ) -> None:
        super().__init__(text)
        self._do = do
        self._undo = undo_work
        self._changed = changed
        self._on_error = on_error
        self._first = True

    def run_first(self) -> bool:
        try:
            self._do()
        except BotdeskError as exc:
            self._on_error(exc)
            return False
        self._changed()
        return True

    def redo(self) -> None:
        if self._first:  # already done by run_first()
            self._first = False
            return
        self._guarded(self._do)

    def undo(self) -> None:
        self._guarded(self._undo)

    def _guarded(self, work: Work) -> None:
        try:
            work()
        except BotdeskError as exc:
            self._on_error(exc)
        self._changed()
