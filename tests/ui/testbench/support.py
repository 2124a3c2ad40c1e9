"""Helpers for the Test bench tests: answers from stand-ins, messages, confirmations."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMessageBox

from desktop.ui.testbench import TestBenchPage
from tests.core.answering.support import FakeSearch, backends, hits
from tests.helpers.fake_generator import FakeGenerator


async def model_answers(spec: str) -> str:
    return f"{spec} answers (stand-in)."


def use_fakes(page: TestBenchPage, generator: FakeGenerator, n_hits: int = 4) -> FakeSearch:
    """Answers from `generator`, passages from a fixed search; the model check passes."""
    search = FakeSearch(hits(n_hits))

    made = backends(generator, search)
    made.model_check = model_answers
    page.context.backends = made
    return search


def messages_of(page: TestBenchPage) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    page.context.messages.message_shown.connect(lambda level, text: seen.append((level, text)))
    return seen


def confirmation(page: TestBenchPage) -> QMessageBox:
    """The one confirmation the page is asking."""
    boxes = [b for b in page.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1, "exactly one confirmation is asked"
    return boxes[0]


def press(box: QMessageBox, text: str) -> None:
    button: Any = next(b for b in box.buttons() if b.text().replace("&", "") == text)
    button.click()
