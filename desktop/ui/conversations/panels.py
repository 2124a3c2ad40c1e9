"""Panels of the Conversations page: they show what they are given and emit intents."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.services.conversations import ConversationView, FailedQuestion, Gap, ThreadMessage
from desktop.ui.conversations.models import GapQuestionsModel, GapsModel
from desktop.ui.widgets import plain_label, read_only_text, table_view

SHORT_TEXT = 2_000  # longer messages go in a scrolling text box, not a label
PASSAGE_PREVIEW = 400
FILTER_KINDS = (
    ("All conversations", "all"),
    ("Declined", "declined"),
    ("Thumbs down", "down"),
    ("Answered without a citation", "uncited"),
    ("With a lead", "lead"),
)


class GapsPanel(QWidget):
    """The gaps, largest first; the selected gap's questions; fix or test them."""

    gap_selected = Signal(object)  # Gap | None
    add_qa_requested = Signal(str)  # the question the Q&A passage answers
    add_test_requested = Signal(str, str)  # conversation id, message id
    open_conversation_requested = Signal(str)

    def __init__(self, gaps: GapsModel, questions: GapQuestionsModel) -> None:
        super().__init__()
        self.gaps_model = gaps
        self.questions_model = questions
        self.summary = plain_label("")
        self.gaps_view = table_view(gaps, stretch=0)
        self.questions_view = table_view(questions, stretch=0)
        for view, widths in ((self.gaps_view, (50, 62, 48)), (self.questions_view, (100, 80))):
            for column, width in enumerate(widths, start=1):
                view.setColumnWidth(column, width)
        self.add_qa_button = QPushButton("Add a Q&&A passage for this group…")
        self.add_test_button = QPushButton("Add question to test set…")
        self.open_button = QPushButton("Show conversation")
        self.add_qa_button.clicked.connect(self._add_qa)
        self.add_test_button.clicked.connect(self._add_test)
        self.open_button.clicked.connect(self._open)
        self.gaps_view.selectionModel().currentRowChanged.connect(self._gap_changed)
        self.questions_view.selectionModel().currentRowChanged.connect(self._update_buttons)
        self.questions_view.doubleClicked.connect(self._open)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.questions_view, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_qa_button)
        buttons.addWidget(self.add_test_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        right_layout.addLayout(buttons)
        splitter = QSplitter()
        splitter.addWidget(self.gaps_view)
        splitter.addWidget(right)
        splitter.setSizes([360, 520])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        self._update_buttons()

    def current_gap(self) -> Gap | None:
        return self.gaps_model.row_at(self.gaps_view.currentIndex().row())

    def current_question(self) -> FailedQuestion | None:
        return self.questions_model.row_at(self.questions_view.currentIndex().row())

    def _gap_changed(self) -> None:
        gap = self.current_gap()
        self.questions_model.set_rows(list(gap.questions) if gap else [])
        if gap is not None:
            self.questions_view.selectRow(0)
        self.gap_selected.emit(gap)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.add_qa_button.setEnabled(self.current_gap() is not None)
        has_question = self.current_question() is not None
        self.add_test_button.setEnabled(has_question)
        self.open_button.setEnabled(has_question)

    def _add_qa(self) -> None:
        gap = self.current_gap()
        if gap is not None:
            self.add_qa_requested.emit(gap.representative)

    def _add_test(self) -> None:
        question = self.current_question()
        if question is not None:
            self.add_test_requested.emit(question.conversation_id, question.message_id)

    def _open(self) -> None:
        question = self.current_question()
        if question is not None:
            self.open_conversation_requested.emit(question.conversation_id)


class FilterPanel(QWidget):
    """Which conversations to list: kind, release, dates and words."""

    filters_changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.kind = QComboBox()
        for label, kind in FILTER_KINDS:
            self.kind.addItem(label, kind)
        self.release = QComboBox()
        self.release.addItem("Any release", None)
        self.since = QLineEdit()
        self.since.setPlaceholderText("from YYYY-MM-DD")
        self.until = QLineEdit()
        self.until.setPlaceholderText("to YYYY-MM-DD")
        self.text = QLineEdit()
        self.text.setPlaceholderText("Search the messages…")
        self.text.setClearButtonEnabled(True)
        for combo in (self.kind, self.release):
            combo.currentIndexChanged.connect(lambda _index: self.filters_changed.emit())
        for edit in (self.since, self.until, self.text):
            edit.returnPressed.connect(self.filters_changed.emit)
            edit.editingFinished.connect(self.filters_changed.emit)
        self.since.setMaximumWidth(120)
        self.until.setMaximumWidth(120)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.kind, self.release, self.since, self.until):
            layout.addWidget(widget)
        layout.addWidget(self.text, 1)

    def set_releases(self, releases: list[tuple[str, str]]) -> None:
        chosen = self.release.currentData()
        self.release.blockSignals(True)
        self.release.clear()
        self.release.addItem("Any release", None)
        for label, release_id in releases:
            self.release.addItem(label, release_id)
        found = self.release.findData(chosen)
        self.release.setCurrentIndex(max(0, found))
        self.release.blockSignals(False)

    def values(self) -> dict[str, str | None]:
        return {
            "kind": str(self.kind.currentData()),
            "release_id": self.release.currentData(),
            "since": self.since.text().strip() or None,
            "until": self.until.text().strip() or None,
            "text": self.text.text().strip() or None,
        }


def _text_widget(text: str) -> QWidget:
    if len(text) <= SHORT_TEXT:
        label = plain_label(text)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label
    view = read_only_text(text)
    view.setMinimumHeight(120)
    view.setMaximumHeight(220)
    return view


class ThreadPanel(QScrollArea):
    """One conversation as a thread, in plain text; actions under each visitor question."""

    add_test_requested = Signal(str, str)  # conversation id, message id
    reask_requested = Signal(str, str)
    add_qa_requested = Signal(str)  # the question text
    open_passage_requested = Signal(int)
    forget_requested = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.view: ConversationView | None = None
        self.text_widgets: list[QWidget] = []
        self.show_conversation(None)

    def show_conversation(self, view: ConversationView | None) -> None:
        self.view = view
        self.text_widgets = []
        body = QWidget()
        layout = QVBoxLayout(body)
        if view is None:
            layout.addWidget(plain_label("Choose a conversation to read it here."))
            layout.addStretch(1)
            self.setWidget(body)
            return
        summary = view.summary
        where = f" on {summary.page_url}" if summary.page_url else ""
        header = QHBoxLayout()
        header.addWidget(
            plain_label(
                f"Conversation {summary.id} · {summary.started_at.replace('T', ' ')}"
                f" · release {summary.release_id or '?'}{where}"
            ),
            1,
        )
        forget = QPushButton("Forget…")
        forget.setToolTip("Delete this conversation here and on the service (erasure request)")
        forget.clicked.connect(lambda: self.forget_requested.emit(summary.id))
        header.addWidget(forget)
        layout.addLayout(header)
        for item in view.messages:
            layout.addWidget(self._message(summary.id, item))
        if view.lead is not None:
            lead = view.lead
            parts = [lead.name, lead.email, lead.phone, lead.company, lead.message]
            layout.addWidget(plain_label("Lead: " + " · ".join(p for p in parts if p)))
        layout.addStretch(1)
        self.setWidget(body)

    def _message(self, conversation_id: str, item: ThreadMessage) -> QWidget:
        message = item.message
        frame = QFrame()
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(frame)
        marks = []
        if message.declined:
            marks.append("declined")
        if message.feedback:
            marks.append(f"thumbs {message.feedback}")
        if message.truncated:
            marks.append("cut to 32,000 characters")
        who = "Visitor" if message.role == "visitor" else "Live bot"
        title = f"{who} · {message.at.replace('T', ' ')}"
        layout.addWidget(plain_label(title + (f" · {', '.join(marks)}" if marks else "")))
        text = _text_widget(message.text)
        self.text_widgets.append(text)
        layout.addWidget(text)
        for cited in item.cited:
            where = " › ".join(p for p in (cited.title, cited.heading) if p) or cited.url
            line = f"[{cited.n}] {where} — {cited.note}"
            row = QHBoxLayout()
            row.addWidget(plain_label(line), 1)
            if cited.passage_id is not None and cited.change != "removed":
                button = QPushButton("Open passage")
                passage_id = int(cited.passage_id)
                button.clicked.connect(
                    lambda _=False, p=passage_id: self.open_passage_requested.emit(p)
                )
                row.addWidget(button)
            layout.addLayout(row)
            if cited.text:
                preview = (
                    cited.text
                    if len(cited.text) <= PASSAGE_PREVIEW
                    else (cited.text[:PASSAGE_PREVIEW] + "…")
                )
                layout.addWidget(plain_label(preview))
        if message.role == "visitor":
            actions = QHBoxLayout()
            for label, signal in (
                ("To test set…", self.add_test_requested),
                ("Re-ask with A | B…", self.reask_requested),
            ):
                button = QPushButton(label)
                button.clicked.connect(
                    lambda _=False, s=signal, m=message.id: s.emit(conversation_id, m)
                )
                actions.addWidget(button)
            qa = QPushButton("Q&&A passage…")
            qa.setToolTip("Fix it: add a question-and-answer passage the bot can be given")
            qa.clicked.connect(lambda _=False, t=message.text: self.add_qa_requested.emit(t))
            actions.addWidget(qa)
            actions.addStretch(1)
            layout.addLayout(actions)
        return frame
