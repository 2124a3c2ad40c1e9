"""The question bar and the "Answers need a model" panel of the Test bench."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from desktop.ui.testbench.answer_column import QuestionEdit
from desktop.ui.widgets import plain_label


class AskBar(QWidget):
    """The question box (Ctrl+Enter asks both profiles) and its two buttons."""

    ask_requested = Signal(str)
    add_requested = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.question_edit = QuestionEdit()
        self.question_edit.setObjectName("question")
        self.question_edit.setPlaceholderText(
            "Ask a question a visitor would ask… (Ctrl+Enter asks both profiles)"
        )
        self.question_edit.setMaximumHeight(70)
        self.question_edit.submitted.connect(lambda: self.ask_requested.emit(self.question()))
        self.ask_button = QPushButton("Ask both  (Ctrl+Enter)")
        self.ask_button.clicked.connect(lambda: self.ask_requested.emit(self.question()))
        self.add_question_button = QPushButton("Add to test set")
        self.add_question_button.clicked.connect(lambda: self.add_requested.emit(self.question()))
        buttons = QVBoxLayout()
        buttons.addWidget(self.ask_button)
        buttons.addWidget(self.add_question_button)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.question_edit, 1)
        layout.addLayout(buttons)

    def question(self) -> str:
        return self.question_edit.toPlainText().strip()

    def set_question(self, text: str) -> None:
        self.question_edit.setPlainText(text)

    def set_busy(self, busy: bool) -> None:
        """While both profiles answer, the question cannot be asked again."""
        self.ask_button.setEnabled(not busy)


class ModelNeededPanel(QFrame):
    """Shown instead of failing answers when no profile's model can be reached."""

    setup_requested = Signal()
    recheck_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("model-needed")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title_label = plain_label("Answers need a model: set one up.")
        font = self.title_label.font()
        font.setBold(True)
        self.title_label.setFont(font)
        self.reason_label = plain_label("")
        self.setup_button = QPushButton("Set up a model…")
        self.setup_button.clicked.connect(self.setup_requested.emit)
        self.recheck_button = QPushButton("Check again")
        self.recheck_button.clicked.connect(self.recheck_requested.emit)
        text = QVBoxLayout()
        text.addWidget(self.title_label)
        text.addWidget(self.reason_label)
        layout = QHBoxLayout(self)
        layout.addLayout(text, 1)
        layout.addWidget(self.setup_button)
        layout.addWidget(self.recheck_button)
        self.hide()

    def show_reason(self, reason: str) -> None:
        self.reason_label.setText(
            f"{reason}\nSearch and the passages still work; the answers need a generator "
            "(a local Ollama model or a Mistral key)."
        )
        self.show()
