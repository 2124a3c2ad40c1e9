"""The Publish page in the real window, with a sample workspace and loopback-backed publishing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from desktop.core.index import BundleVectors
from desktop.core.store.workspace import Workspace
from desktop.services.backends import PublishOptions
from desktop.ui.main_window import MainWindow
from desktop.ui.publish.page import PublishPage
from tests.core.publish.factory import fake_vectors, sample_workspace
from tests.helpers.backends import test_backends

TOKEN = "test-token-123"
FAST = PublishOptions(timeout_s=0.3, attempts=2, backoff_s=0.0)


def mistral_vectors(ws: Workspace, passages: object) -> BundleVectors:
    return BundleVectors("mistral", "mistral-embed", 64, fake_vectors(ws))


@pytest.fixture
def page(window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PublishPage:
    monkeypatch.setenv("BOTDESK_PUBLISH_TOKEN", TOKEN)
    assert window.create_path(str(tmp_path / "acme.botdesk"), "Acme")
    assert window.workspace is not None
    sample_workspace(window.workspace, str(tmp_path))
    found = window.show_page("Publish")
    assert isinstance(found, PublishPage)
    window.context.backends = test_backends(bundle_vectors=mistral_vectors, publish=FAST)
    return found


def messages(window: MainWindow) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    window.messages.message_shown.connect(lambda level, text: seen.append((level, text)))
    return seen


class DialogAnswers:
    """Answers the next modal dialogs the way a user would, recording what they said."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._answers: list[Callable[[QWidget], None]] = []

    def next(self, answer: Callable[[QWidget], None]) -> None:
        self._answers.append(answer)
        QTimer.singleShot(0, self._answer)

    def _answer(self) -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None:  # not open yet
            QTimer.singleShot(10, self._answer)
            return
        if isinstance(dialog, QMessageBox):
            self.seen.append(f"{dialog.text()}\n{dialog.informativeText()}")
        self._answers.pop(0)(dialog)


def click_button(text: str) -> Callable[[QWidget], None]:
    """Answer a message box or dialog by the button that reads `text`."""

    def answer(dialog: QWidget) -> None:
        from PySide6.QtWidgets import QAbstractButton

        for button in dialog.findChildren(QAbstractButton):
            if button.text().replace("&", "") == text:
                button.click()
                return
        if isinstance(dialog, QDialog):
            dialog.reject()
        raise AssertionError(f"no button {text!r}")

    return answer


@pytest.fixture
def dialogs() -> Iterator[DialogAnswers]:
    yield DialogAnswers()


def settle_token_lookup(page: PublishPage, qloop: Any) -> None:
    """Look the token up now, inside the test's loop: the page does it once typing pauses,
    and a pause ending inside a modal dialog's nested loop would find no asyncio loop."""
    page.target._endpoint_pause.stop()
    page.target.endpoint_edited.emit()
    qloop.run(page.publisher.wait_idle())
