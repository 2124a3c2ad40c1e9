"""Test bench dialogs: edit a test question, name a profile, confirm a deletion.

All open window-modal without a nested event loop (`open()`, not `exec()`): answers and
runs are asyncio tasks on the same loop, and a nested loop would run them inside a slot.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.core.answering.testbench import SOURCE_RULE
from desktop.services.answers import TestQuestion
from desktop.ui.widgets import escaped_tooltip, plain_label

DECLINE_CHOICES = (
    ("no expectation", None),
    ("yes: it should decline", True),
    ("no: it should answer", False),
)


def _split(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split("|") if s.strip())


class QuestionDialog(QDialog):
    """A test question and its expectations, as the test-set file has them."""

    def __init__(self, question: TestQuestion, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit test question")
        self.original = question
        self.question_edit = QPlainTextEdit(question.question)
        self.question_edit.setTabChangesFocus(True)
        self.question_edit.setMinimumHeight(self.question_edit.fontMetrics().lineSpacing() * 3)
        self.source_edit = QLineEdit(question.expected_source)
        self.source_edit.setPlaceholderText("e.g. /shipping*  or  faq  or  #123")
        self.source_edit.setToolTip(escaped_tooltip(SOURCE_RULE))
        self.include_edit = QLineEdit(" | ".join(question.must_include))
        self.include_edit.setPlaceholderText("words the answer must contain, separated by |")
        self.exclude_edit = QLineEdit(" | ".join(question.must_not_include))
        self.exclude_edit.setPlaceholderText("words the answer must not contain, separated by |")
        self.decline_combo = QComboBox()
        for text, _value in DECLINE_CHOICES:
            self.decline_combo.addItem(text)
        self.decline_combo.setCurrentIndex(
            [value for _t, value in DECLINE_CHOICES].index(question.should_decline)
        )
        rule = plain_label(SOURCE_RULE)
        rule.setStyleSheet("color: palette(mid);")
        form = QFormLayout()
        form.addRow("Question", self.question_edit)
        form.addRow("Expected source", self.source_edit)
        form.addRow("", rule)
        form.addRow("Must include", self.include_edit)
        form.addRow("Must not include", self.exclude_edit)
        form.addRow("Should decline", self.decline_combo)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.resize(560, self.sizeHint().height())

    def question(self) -> TestQuestion:
        """The question as edited (the id of the one being edited)."""
        return TestQuestion(
            question=self.question_edit.toPlainText().strip(),
            expected_source=" | ".join(_split(self.source_edit.text())),
            must_include=_split(self.include_edit.text()),
            must_not_include=_split(self.exclude_edit.text()),
            should_decline=DECLINE_CHOICES[self.decline_combo.currentIndex()][1],
            id=self.original.id,
        )


def ask_text(
    parent: QWidget, title: str, label: str, value: str, then: Callable[[str], object]
) -> QInputDialog:
    """Ask for one line of text; `then(text)` runs when the user confirms a non-empty one."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setTextValue(value)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.textValueSelected.connect(lambda text: then(text.strip()) if text.strip() else None)
    dialog.open()
    return dialog


def confirm(
    parent: QWidget, title: str, text: str, action: str, then: Callable[[], object]
) -> QMessageBox:
    """Ask once, plainly; `then()` runs only when the user presses the `action` button."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    do_it = box.addButton(action, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.buttonClicked.connect(lambda button: then() if button is do_it else None)
    box.open()
    return box
