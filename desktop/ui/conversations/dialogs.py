"""Dialogs of the Conversations page: a test question, a Q&A passage, A and B beside live."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.core.answering.testbench import TestQuestion
from desktop.ui.widgets import lay_out_form, plain_label, read_only_text

EXPECTATIONS = (
    ("No expectation about declining", None),
    ("It should answer (it declined)", False),
    ("It should decline", True),
)


class TestQuestionDialog(QDialog):
    """The proposed test question, its expectations editable before it is saved."""

    __test__ = False  # not a pytest class

    def __init__(self, proposed: TestQuestion, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add to test set")
        self.question = QLineEdit(proposed.question)
        self.expectation = QComboBox()
        for label, value in EXPECTATIONS:
            self.expectation.addItem(label, value)
        self.expectation.setCurrentIndex(
            [v for _, v in EXPECTATIONS].index(proposed.should_decline)
        )
        self.source = QLineEdit(proposed.expected_source)
        self.source.setPlaceholderText("URL or file the answer should cite (optional)")
        form = QFormLayout()
        form.addRow("Question", self.question)
        form.addRow("Expectation", self.expectation)
        form.addRow("Expected source", self.source)
        lay_out_form(self, form)
        self.resize(560, 160)

    def test_question(self) -> TestQuestion:
        return TestQuestion(
            " ".join(self.question.text().split()),
            expected_source=self.source.text().strip(),
            should_decline=self.expectation.currentData(),
        )


class QaDialog(QDialog):
    """A question and the answer the bot should be given for it."""

    def __init__(self, question: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a Q&A passage")
        self.question = QLineEdit(" ".join(question.split())[:500])
        self.answer = QPlainTextEdit()
        self.answer.setPlaceholderText("The answer, as the bot should be able to find it.")
        form = QFormLayout()
        form.addRow("Question", self.question)
        form.addRow("Answer", self.answer)
        lay_out_form(
            self, form, intro="The passage is added and synced now; publish to make it live."
        )
        self.resize(560, 300)


class ReaskDialog(QDialog):
    """What the live bot said, beside profiles A and B asked now."""

    ask_requested = Signal(str, str)  # profile A, profile B

    def __init__(
        self, question: str, live: str, profiles: list[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Re-ask with A and B")
        self.profile_a = QComboBox()
        self.profile_b = QComboBox()
        for combo in (self.profile_a, self.profile_b):
            combo.addItems(profiles)
        if len(profiles) > 1:
            self.profile_b.setCurrentIndex(1)
        self.ask_button = QPushButton("Ask now")
        self.ask_button.clicked.connect(
            lambda: self.ask_requested.emit(
                self.profile_a.currentText(), self.profile_b.currentText()
            )
        )
        self.live = read_only_text(live)
        self.answer_a = read_only_text(placeholder="Profile A's answer appears here.")
        self.answer_b = read_only_text(placeholder="Profile B's answer appears here.")
        grid = QGridLayout()
        grid.addWidget(plain_label("Live bot said"), 0, 0)
        grid.addWidget(self.profile_a, 0, 1)
        grid.addWidget(self.profile_b, 0, 2)
        grid.addWidget(self.live, 1, 0)
        grid.addWidget(self.answer_a, 1, 1)
        grid.addWidget(self.answer_b, 1, 2)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(question))
        layout.addWidget(self.ask_button)
        layout.addLayout(grid, 1)
        layout.addWidget(close)
        self.resize(900, 420)

    def show_answers(self, answer_a: str, answer_b: str) -> None:
        self.answer_a.setPlainText(answer_a)
        self.answer_b.setPlainText(answer_b)


class PrivacyDialog(QDialog):
    """The workspace's privacy settings for pulled conversations."""

    def __init__(self, mask: bool, days: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Conversations: privacy")
        self.mask_box = QCheckBox("Mask e-mail addresses and phone numbers in visitors' messages")
        self.mask_box.setChecked(mask)
        self.days_spin = QSpinBox()
        self.days_spin.setRange(1, 3650)
        self.days_spin.setSuffix(" days")
        self.days_spin.setValue(days)
        form = QFormLayout()
        form.addRow(self.mask_box)
        form.addRow("Keep conversations for", self.days_spin)
        lay_out_form(
            self,
            form,
            intro="Masking applies to conversations pulled from now on; lead fields are kept "
            "as the visitor gave them. Older conversations are deleted at each pull.",
        )
