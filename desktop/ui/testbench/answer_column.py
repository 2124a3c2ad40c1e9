"""One side of the Test bench: a profile, its settings, the streaming answer and its passages.

Answers stream into a plain-text view whose [n] citations are links handled here (they
show the passage; nothing is ever opened in a browser or from file://). The column emits
intents (save, new, rename, delete a profile); the page decides what they do.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.answering.types import DEFAULT_PROFILE
from desktop.services import answers
from desktop.services.answers import AnswerProfile, AnswerResult
from desktop.ui.testbench.models import FAIL_COLOUR
from desktop.ui.testbench.settings_form import ProfileSettingsForm
from desktop.ui.widgets import CompactTextEdit, ElidedLabel, plain_label


def render_answer(text: str, *, given: int | None = None, invalid: set[int] | None = None) -> str:
    """The answer as safe HTML: escaped text, each [n] a `cite:n` link (red when not given)."""
    invalid = invalid or set()
    out: list[str] = []
    last = 0
    for match in answers.CITATION_PATTERN.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        links = []
        for n in answers.cited_numbers(match.group(0)):
            bad = n in invalid or (given is not None and n > given)
            style = ' style="color:#c0392b"' if bad else ""
            title = "not among the passages given" if bad else f"passage {n}"
            links.append(f'<a href="cite:{n}" title="{title}"{style}>[{n}]</a>')
        out.append("".join(links))
        last = match.end()
    out.append(html.escape(text[last:]))
    return '<div style="white-space: pre-wrap">' + "".join(out) + "</div>"


def status_text(result: AnswerResult) -> str:
    parts: list[str] = []
    if result.error:
        parts.append(f"Could not answer: {result.error}")
    if result.declined:
        parts.append("Declined.")
    if result.prompt_tokens is not None:
        parts.append(f"Tokens {result.prompt_tokens} in + {result.completion_tokens} out")
    else:
        parts.append("Tokens: n/a")
    if result.first_token_s is not None:
        parts.append(f"first token {result.first_token_s:.2f} s")
    if result.total_s is not None:
        parts.append(f"total {result.total_s:.2f} s")
    parts.append("cost n/a" if result.cost is None else f"cost ${result.cost:.6f}")
    parts.extend(f"Note: {n}" for n in result.notes)
    return " · ".join(parts)


class QuestionEdit(CompactTextEdit):
    """The question box: Ctrl+Enter asks."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class ProfileColumn(QWidget):
    """One side: a profile and its editable settings, the streaming answer and what it used."""

    save_requested = Signal(object)  # AnswerProfile: these settings into the shown profile
    new_requested = Signal(object)  # AnswerProfile: a new profile from these settings
    rename_requested = Signal(str)  # the shown profile's name
    delete_requested = Signal(str)
    generator_changed = Signal()
    settings_toggled = Signal(bool)  # the settings form was unfolded (True) or folded

    def __init__(self, side: str) -> None:
        super().__init__()
        self.side = side
        self.profiles: dict[str, AnswerProfile] = {}
        self.result: AnswerResult | None = None
        self._text = ""
        self._loading = False

        self.profile_combo = QComboBox()
        self.profile_combo.setObjectName(f"profile-{side}")
        self.profile_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.profile_combo.currentTextChanged.connect(self._on_profile_chosen)
        self.edited_label = plain_label("", wrap=False)
        self.save_button = QPushButton("Save to profile")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(lambda: self.save_requested.emit(self.current_profile()))
        self.profile_menu_button = QToolButton()
        self.profile_menu_button.setText("Profiles")
        self.profile_menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.profile_menu_button)
        self.new_action = QAction("New profile from these settings…", self)
        self.new_action.triggered.connect(lambda: self.new_requested.emit(self.current_profile()))
        self.rename_action = QAction("Rename…", self)
        self.rename_action.triggered.connect(lambda: self.rename_requested.emit(self.name()))
        self.delete_action = QAction("Delete…", self)
        self.delete_action.triggered.connect(lambda: self.delete_requested.emit(self.name()))
        for action in (self.new_action, self.rename_action, self.delete_action):
            menu.addAction(action)
        self.profile_menu_button.setMenu(menu)
        header = QHBoxLayout()
        header.addWidget(plain_label(f"Profile {side.upper()}", wrap=False))
        header.addWidget(self.profile_combo, 1)
        header.addWidget(self.edited_label)
        header.addWidget(self.save_button)
        header.addWidget(self.profile_menu_button)

        self.settings = ProfileSettingsForm()
        self.settings.edited.connect(self._on_edited)
        self.settings.generator_edit.editingFinished.connect(self.generator_changed.emit)
        self._build_settings_toggle()
        self._build_answer_parts(header)

    def _build_answer_parts(self, header: QHBoxLayout) -> None:
        self.answer_view = QTextBrowser()
        self.answer_view.setObjectName(f"answer-{self.side}")
        # Links are ours to handle: never navigate, never open a browser or a file.
        self.answer_view.setOpenLinks(False)
        self.answer_view.setOpenExternalLinks(False)
        self.answer_view.anchorClicked.connect(self._on_anchor)
        self.answer_view.setPlaceholderText("The answer appears here as it is generated.")
        self.status_label = plain_label("")
        self.citations_list = QListWidget()
        self.citations_list.setMaximumHeight(90)
        self.citations_list.currentRowChanged.connect(self._on_citation_row)
        self.passages_list = QListWidget()
        self.passages_list.currentRowChanged.connect(self._show_passage)
        self.passage_view = QPlainTextEdit()
        self.passage_view.setReadOnly(True)
        self.passage_view.setPlaceholderText("Click a citation or a passage to read it here.")

        answer_box = QWidget()
        answer_layout = QVBoxLayout(answer_box)
        answer_layout.setContentsMargins(0, 0, 0, 0)
        answer_layout.addWidget(self.answer_view, 1)
        answer_layout.addWidget(self.status_label)
        answer_layout.addWidget(plain_label("Citations"))
        answer_layout.addWidget(self.citations_list)
        passages = QSplitter(Qt.Orientation.Horizontal)
        passages.addWidget(self.passages_list)
        passages.addWidget(self.passage_view)
        passages_box = QWidget()
        passages_layout = QVBoxLayout(passages_box)
        passages_layout.setContentsMargins(0, 0, 0, 0)
        passages_layout.addWidget(plain_label("Passages given"))
        passages_layout.addWidget(passages, 1)
        # The user decides what gets the room: settings, the answer, or the passages.
        parts = self.parts = QSplitter(Qt.Orientation.Vertical)
        # On a laptop the settings scroll rather than push the window taller than the screen.
        self.settings_scroll = QScrollArea()
        self.settings_scroll.setWidget(self.settings)
        self.settings_scroll.setWidgetResizable(True)
        self.settings_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.settings_scroll.setMinimumHeight(self.settings.fontMetrics().lineSpacing() * 4)
        # Folded by default to one line that names the set-up: the answer gets the room.
        self.settings_scroll.hide()  # a hidden splitter part gives its room to the others
        parts.addWidget(self.settings_scroll)
        parts.addWidget(answer_box)
        parts.addWidget(passages_box)
        parts.setStretchFactor(1, 3)
        parts.setStretchFactor(2, 2)
        parts.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        toggle_row = QHBoxLayout()
        toggle_row.addWidget(self.settings_toggle)
        toggle_row.addWidget(self.settings_summary, 1)
        layout.addLayout(toggle_row)
        layout.addWidget(parts, 1)

    def _build_settings_toggle(self) -> None:
        self.settings_toggle = QToolButton()
        self.settings_toggle.setObjectName(f"settings-toggle-{self.side}")
        self.settings_toggle.setCheckable(True)
        self.settings_toggle.setAutoRaise(True)
        self.settings_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.settings_toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.settings_toggle.setText("Settings")
        self.settings_toggle.setToolTip("Show or hide this profile's settings (change, re-ask)")
        self.settings_toggle.toggled.connect(self.show_settings)
        # While folded, the set-up in one line; cut with "…" in a narrow column.
        self.settings_summary = ElidedLabel()
        self.settings.edited.connect(self._show_summary)

    def show_settings(self, shown: bool) -> None:
        """Unfold (or fold) the settings form; settings_toggled tells the other column."""
        self.settings_toggle.setChecked(shown)
        self.settings_toggle.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )
        if self.settings_scroll.isHidden() == shown:
            self.settings_scroll.setVisible(shown)
            if shown:
                self._give_settings_room()
            self.settings_toggled.emit(shown)
        self._show_summary()

    def _give_settings_room(self) -> None:
        """Unfolded, the form gets the room it asks for, up to half the column; the answer
        and the passages share the rest as they did."""
        sizes = self.parts.sizes()
        total = sum(sizes)
        if total <= 0:
            return  # not laid out yet: the splitter's stretch factors decide
        wanted = min(self.settings.sizeHint().height(), total // 2)
        rest = max(1, sizes[1] + sizes[2])
        left = total - wanted
        self.parts.setSizes([wanted, left * sizes[1] // rest, left - left * sizes[1] // rest])

    def _show_summary(self) -> None:
        folded = self.settings_scroll.isHidden()
        self.settings_summary.setText(self.settings.summary() if folded else "")

    # -- profiles ----------------------------------------------------------------------
    def name(self) -> str:
        return self.profile_combo.currentText() or DEFAULT_PROFILE

    def load_profiles(self, profiles: list[AnswerProfile], select: str | None = None) -> None:
        """Show these profiles; unsaved edits to the shown one stay on screen."""
        current = select or self.profile_combo.currentText()
        edited = self.is_edited() and current == self.profile_combo.currentText()
        self.profiles = {p.name: p for p in profiles}
        self._loading = True
        self.profile_combo.clear()
        self.profile_combo.addItems(list(self.profiles))
        if current in self.profiles:
            self.profile_combo.setCurrentText(current)
        self._loading = False
        if self.profiles and not edited:
            self._on_profile_chosen(self.profile_combo.currentText())
        self._on_edited()

    def _on_profile_chosen(self, name: str) -> None:
        if self._loading or name not in self.profiles:
            return
        self.settings.show_profile(self.profiles[name])
        self._show_summary()
        self._on_edited()
        self.generator_changed.emit()

    def follow_rename(self, old: str, new: str) -> None:
        """The profile shown here was renamed: show it under its new name, edits kept."""
        if self.profile_combo.currentText() == old:
            self.profiles[new] = self.profiles.pop(old)
            self._loading = True  # the same profile: its settings on screen stay as they are
            self.profile_combo.setItemText(self.profile_combo.currentIndex(), new)
            self._loading = False

    def current_profile(self) -> AnswerProfile:
        """The settings as shown, saved or not, under the chosen profile's name."""
        name = self.name()
        base = self.profiles.get(name) or AnswerProfile(
            name=name, generator="", system_prompt=answers.default_system_prompt()
        )
        return self.settings.read(base)

    def is_edited(self) -> bool:
        saved = self.profiles.get(self.profile_combo.currentText())
        return saved is not None and self.current_profile() != saved

    def _on_edited(self) -> None:
        if self._loading:
            return
        edited = self.is_edited()
        self.edited_label.setText("edited, not saved" if edited else "")
        self.save_button.setEnabled(edited)
        protected = self.name() == DEFAULT_PROFILE
        self.rename_action.setEnabled(not protected)
        self.delete_action.setEnabled(not protected)

    # -- the answer ----------------------------------------------------------------------
    def start_answer(self) -> None:
        self.result = None
        self._text = ""
        self.answer_view.setHtml("")
        self.citations_list.clear()
        self.passages_list.clear()
        self.passage_view.clear()
        self.status_label.setText("Answering…")

    def clear(self) -> None:
        self.start_answer()
        self.status_label.setText("")

    def append_delta(self, text: str) -> None:
        self._text += text
        self.answer_view.setHtml(render_answer(self._text))

    def answer_text(self) -> str:
        return self.answer_view.toPlainText()

    def show_result(self, result: AnswerResult) -> None:
        self.result = result
        self._text = result.answer
        self.answer_view.setHtml(
            render_answer(
                result.answer, given=len(result.passages), invalid=set(result.invalid_citations)
            )
        )
        self.citations_list.clear()
        for c in result.citations:
            self.citations_list.addItem(f"[{c.n}] {c.source.label()}  (passage {c.chunk_id})")
        for n in result.invalid_citations:
            item = QListWidgetItem(f"[{n}] not among the passages given: an invented citation")
            item.setForeground(FAIL_COLOUR)
            self.citations_list.addItem(item)
        self.passages_list.clear()
        for p in result.passages:
            heading = f" · {p.heading}" if p.heading else ""
            self.passages_list.addItem(
                f"[{p.n}] {p.source.label()}{heading}  (score {p.score:.3g})"
            )
        self.status_label.setText(status_text(result))

    def show_error(self, text: str) -> None:
        self.status_label.setText(f"Could not answer: {text}")

    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() != "cite":
            return  # only our own citation links do anything
        try:
            n = int(url.path() or url.toString().split(":", 1)[1])
        except (ValueError, IndexError):
            return
        self.show_citation(n)

    def show_citation(self, n: int) -> None:
        """Show passage n (or say it was not given)."""
        if self.result is None:
            return
        for row, p in enumerate(self.result.passages):
            if p.n == n:
                self.passages_list.setCurrentRow(row)
                self._show_passage(row)
                return
        self.passage_view.setPlainText(f"[{n}] was not among the passages given to the model.")

    def _on_citation_row(self, row: int) -> None:
        if self.result is not None and 0 <= row < len(self.result.citations):
            self.show_citation(self.result.citations[row].n)

    def _show_passage(self, row: int) -> None:
        if self.result is None or not 0 <= row < len(self.result.passages):
            return
        p = self.result.passages[row]
        heading = f"\nSection: {p.heading}" if p.heading else ""
        self.passage_view.setPlainText(
            f"[{p.n}] {p.source.label()}{heading}\nPassage {p.chunk_id} · score "
            f"{p.score:.4g}\n\n{p.text}"
        )
