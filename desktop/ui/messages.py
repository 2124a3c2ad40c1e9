"""The one route for messages to the user: known errors shown plainly, bugs as a crash dialog.

Errors that are the world's fault (a BotdeskError: server down, wrong key, broken file) get
a message with the fix. Anything else is a bug: a dialog with the details to copy.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from desktop.core.errors import BotdeskError

_log = logging.getLogger("botdesk.messages")


class MessageBridge(QObject):
    """Any code may report through here; dialogs open on the window once it exists."""

    # Emitted for every message, so tests and the status bar can observe them.
    message_shown = Signal(str, str)  # level ("info", "error", "bug"), text

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._parent = parent
        # Tests switch dialogs off and read message_shown instead.
        self.modal_dialogs = True

    def info(self, text: str) -> None:
        self.message_shown.emit("info", text)

    def error(self, error: BaseException, *, context: str = "") -> None:
        """Show an error: plainly if it is a known one, as a crash report if it is a bug."""
        if isinstance(error, BotdeskError):
            text = f"{context}: {error.message}" if context else error.message
            self.message_shown.emit("error", f"{text} {error.hint}".strip())
            _log.info("shown to the user: %s", f"{text} {error.hint}".strip())
            if self.modal_dialogs:
                box = QMessageBox(QMessageBox.Icon.Warning, "Botdesk", text, parent=self._parent)
                box.setTextFormat(Qt.TextFormat.PlainText)
                if error.hint:
                    box.setInformativeText(error.hint)
                _show_without_blocking(box)
            return
        self.bug(type(error), error, error.__traceback__)

    def bug(
        self,
        exc_type: type[BaseException],
        exc: BaseException,
        tb: TracebackType | None,
    ) -> None:
        details = "".join(traceback.format_exception(exc_type, exc, tb))
        self.message_shown.emit("bug", details)
        _log.error("bug: %s", details)
        if self.modal_dialogs and QApplication.instance() is not None:
            box = QMessageBox(
                QMessageBox.Icon.Critical,
                "Botdesk hit a bug",
                "Something went wrong inside Botdesk. Your saved work is safe.\n"
                "Please send the details below to the developers.",
                parent=self._parent,
            )
            box.setTextFormat(Qt.TextFormat.PlainText)
            box.setDetailedText(details)
            _show_without_blocking(box)

    def install_excepthook(self) -> None:
        """Route uncaught exceptions (including those from @asyncSlot) here."""

        def hook(
            exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
        ) -> None:
            if isinstance(exc, BotdeskError):
                self.error(exc)
            else:
                sys.__excepthook__(exc_type, exc, tb)
                self.bug(exc_type, exc, tb)

        sys.excepthook = hook


def _show_without_blocking(box: QMessageBox) -> None:
    """Window-modal but not a nested event loop: errors are often reported from inside an
    asyncio task, and exec() there would run other tasks' steps inside this one (qasync:
    "Cannot enter into task ... while another task is being executed")."""
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
