"""Dialogs of the Content page: text entry, passage edit and review, URL pattern, repeated
passages, and what a sync left out (failed or skipped, each with its reason).

Everything scraped is shown as plain text (QPlainTextEdit, models, plain-text labels).
Dialogs are opened with open(), never exec(): a nested event loop would run the qasync
loop's tasks re-entrantly. They emit what the user chose; the page calls the actions.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.core.content.models import BoilerplateGroup, PassageInfo, passage_name
from desktop.core.publish.passage_checks import FlaggedPassage
from desktop.core.text import count_tokens
from desktop.ui.content.models import BoilerplateModel, FlaggedModel
from desktop.ui.widgets import TableDialog, plain_label, read_only_text


def _matches(pattern: str, uris: Sequence[str]) -> int:
    return sum(1 for uri in uris if pattern and fnmatch.fnmatchcase(uri, pattern))


def suggest_exclude_pattern(uri: str, uris: Sequence[str]) -> str:
    """A pattern for "exclude documents like this one": its folder (`*/events/*` for a
    page under /events/, `/docs/drafts/*` for a file), or its own address when the folder
    holds every document; never a pattern that matches every document ("" then)."""
    parts = urlsplit(uri)
    candidates: list[str] = []
    if parts.scheme in ("http", "https"):
        folder = parts.path.rsplit("/", 1)[0].strip("/")
        if folder:
            candidates.append(f"*/{folder}/*")
    elif PurePath(uri).is_absolute():
        candidates.append(str(PurePath(uri).parent / "*"))
    candidates.append(uri)
    for pattern in candidates:
        if 0 < _matches(pattern, uris) < len(uris):
            return pattern
    return ""


class TextEntryDialog(QDialog):
    """A line (title, question, heading) and a text body: add text, Q&A, or a passage."""

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        *,
        line_label: str,
        body_label: str,
        line_required: bool = False,
        note: str = "",
    ) -> None:
        super().__init__(parent)
        # Deleted by Qt on the GUI thread when closed, never by Python's GC in a worker.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(title)
        self.resize(560, 420)
        self.line_required = line_required
        self.line_edit = QLineEdit()
        self.body_edit = QPlainTextEdit()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(line_label, self.line_edit)
        layout = QVBoxLayout(self)
        if note:
            layout.addWidget(plain_label(note))
        layout.addLayout(form)
        layout.addWidget(plain_label(body_label))
        layout.addWidget(self.body_edit, 1)
        layout.addWidget(self.buttons)
        self.line_edit.textChanged.connect(self._update)
        self.body_edit.textChanged.connect(self._update)
        self._update()

    def _update(self) -> None:
        ok = bool(self.body_edit.toPlainText().strip()) and (
            not self.line_required or bool(self.line_edit.text().strip())
        )
        button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        button.setEnabled(ok)

    def line(self) -> str:
        return self.line_edit.text().strip()

    def body(self) -> str:
        return self.body_edit.toPlainText()


class PassageDialog(QDialog):
    """Edit a passage; for one flagged for review, both texts side by side and the choice.

    `result_action` after acceptance: "edit" (save the editor's text), "keep-edit" or
    "take-source" (settle the review).
    """

    def __init__(self, parent: QWidget | None, passage: PassageInfo) -> None:
        super().__init__(parent)
        # Deleted by Qt on the GUI thread when closed, never by Python's GC in a worker.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.passage = passage
        self.result_action = ""
        self.setWindowTitle("Review passage" if passage.needs_review else "Edit passage")
        self.resize(900 if passage.needs_review else 640, 520)
        where = passage.heading_path or passage.title or passage.uri
        page = f", page {passage.page}" if passage.page else ""
        self.where_label = plain_label(f"{passage_name(passage.id)} · {where}{page}\n{passage.uri}")
        self.editor = QPlainTextEdit()
        self.editor.setPlainText(passage.text)
        self.tokens_label = plain_label()
        self.editor.textChanged.connect(self._count)
        layout = QVBoxLayout(self)
        layout.addWidget(self.where_label)
        buttons = QDialogButtonBox()
        if passage.needs_review:
            self._build_review(layout, buttons)
        else:
            self._build_edit(layout, buttons)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.clicked.connect(self.reject)
        layout.addWidget(self.tokens_label)
        layout.addWidget(buttons)
        self._count()

    def _build_review(self, layout: QVBoxLayout, buttons: QDialogButtonBox) -> None:
        """Both texts side by side, with "Keep my version" and "Take the new text"."""
        passage = self.passage
        new_text = passage.review_source_text or passage.source_text
        self.new_source_view = read_only_text(new_text)
        explain = plain_label(
            "The source text under this passage changed since you curated it. "
            "Your version (left, editable) is kept until you choose."
            if passage.edited
            else "The source text under this excluded passage changed. "
            "Check whether it should stay excluded."
        )
        layout.addWidget(explain)
        columns = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(plain_label("Your version" if passage.edited else "Current text"))
        left.addWidget(self.editor, 1)
        right = QVBoxLayout()
        right.addWidget(plain_label("The source now says"))
        right.addWidget(self.new_source_view, 1)
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        layout.addLayout(columns, 1)
        self.keep_button = buttons.addButton(
            "Keep my version", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.take_button = buttons.addButton(
            "Take the new text", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.keep_button.clicked.connect(lambda: self._finish("keep-edit"))
        self.take_button.clicked.connect(lambda: self._finish("take-source"))

    def _build_edit(self, layout: QVBoxLayout, buttons: QDialogButtonBox) -> None:
        """The editor with Save (and, for an edited cut passage, back to the source text)."""
        passage = self.passage
        layout.addWidget(self.editor, 1)
        self.save_button = buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.clicked.connect(lambda: self._finish("edit"))
        if passage.edited and passage.origin == "chunker":
            self.revert_button = buttons.addButton(
                "Back to the source text", QDialogButtonBox.ButtonRole.ResetRole
            )
            self.revert_button.clicked.connect(
                lambda: self.editor.setPlainText(passage.source_text)
            )

    def _count(self) -> None:
        tokens = count_tokens(self.editor.toPlainText())
        self.tokens_label.setText(f"{tokens} tokens (was {self.passage.tokens})")

    def _finish(self, action: str) -> None:
        if action == "edit" and not self.editor.toPlainText().strip():
            self.tokens_label.setText("A passage cannot be empty: exclude it instead.")
            return
        self.result_action = action
        self.accept()

    def text(self) -> str:
        return self.editor.toPlainText()


class PatternDialog(QDialog):
    """Exclude every document whose URL or path matches a glob; counts matches as you type
    and refuses a pattern that would leave the bot no document at all."""

    def __init__(self, parent: QWidget | None, pattern: str, uris: Sequence[str]) -> None:
        super().__init__(parent)
        # Deleted by Qt on the GUI thread when closed, never by Python's GC in a worker.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Exclude a URL pattern")
        self.resize(620, 200)
        self.uris = list(uris)
        self.pattern_edit = QLineEdit(pattern)
        self.pattern_edit.setPlaceholderText("*/events/*")
        self.count_label = plain_label()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._accept_if_valid)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            plain_label(
                "Documents whose address matches this pattern (* matches anything) are kept "
                "out of the bot, now and as soon as a sync stores them."
            )
        )
        layout.addWidget(self.pattern_edit)
        layout.addWidget(self.count_label)
        layout.addWidget(self.buttons)
        self.pattern_edit.textChanged.connect(self._count)
        self._count()

    def pattern(self) -> str:
        return self.pattern_edit.text().strip()

    def _valid(self) -> bool:
        n = _matches(self.pattern(), self.uris)
        return bool(self.pattern()) and not (self.uris and n == len(self.uris))

    def _count(self) -> None:
        n = _matches(self.pattern(), self.uris)
        text = f"Matches {n} of {len(self.uris)} documents now."
        if self.pattern() and self.uris and n == len(self.uris):
            text += " That is every document: narrow it (or remove the source instead)."
        self.count_label.setText(text)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(self._valid())

    def _accept_if_valid(self) -> None:
        if self._valid():
            self.accept()


class BoilerplateDialog(TableDialog):
    """Passages repeated across many documents, grouped, each group excludable at once.
    Groups the bot still gets come first; passages of excluded documents count as
    excluded."""

    exclude_requested = Signal(object)  # list of group keys

    def __init__(self, parent: QWidget | None, groups: Sequence[BoilerplateGroup]) -> None:
        model = BoilerplateModel()
        super().__init__(
            parent,
            title="Repeated passages",
            intro="Text that repeats on many pages (footers, legal notes, menus) rarely helps "
            "the bot. Excluding a group also excludes its copies found by later syncs.",
            model=model,
            stretch=3,
            size=QSize(820, 460),
            actions=("Exclude selected groups", "Exclude all"),
        )
        self.model = model
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.exclude_button, self.exclude_all_button = self.action_buttons
        self.exclude_button.clicked.connect(self._exclude_selected)
        self.exclude_all_button.clicked.connect(self._exclude_all)
        self.set_groups(groups)

    @property
    def groups(self) -> list[BoilerplateGroup]:
        return self.model.rows

    def set_groups(self, groups: Sequence[BoilerplateGroup]) -> None:
        self.model.update_rows(groups)
        for column, width in ((0, 80), (1, 70), (2, 70)):
            self.table.setColumnWidth(column, width)
        pending = [g for g in self.groups if g.excluded < len(g.passage_ids)]
        self.note.setText(
            f"{len(self.groups)} groups, {len(pending)} not yet fully excluded."
            if self.groups
            else "No repeated passages found."
        )
        self.exclude_all_button.setEnabled(bool(pending))
        self.update_buttons()

    def update_buttons(self) -> None:
        self.exclude_button.setEnabled(bool(self.selected_keys()))

    def selected_keys(self) -> list[str]:
        return [self.groups[row].key for row in self.selected_rows()]

    def _exclude_selected(self) -> None:
        keys = self.selected_keys()
        if keys:
            self.exclude_requested.emit(keys)

    def _exclude_all(self) -> None:
        keys = [g.key for g in self.groups if g.excluded < len(g.passage_ids)]
        if keys:
            self.exclude_requested.emit(keys)


class FlaggedDialog(TableDialog):
    """Passages that address the model ("ignore previous instructions..."): a page could
    steer the bot through them. Each can be excluded, or accepted as harmless (the publish
    check stops warning about it until its text changes)."""

    accept_requested = Signal(object)  # list of passage ids
    exclude_requested = Signal(object)  # list of passage ids

    def __init__(self, parent: QWidget | None, flagged: Sequence[FlaggedPassage]) -> None:
        model = FlaggedModel()
        super().__init__(
            parent,
            title="Passages that address the model",
            intro="These passages speak to the bot itself (for example “ignore previous "
            "instructions”). Read each one in its document: exclude it, or accept it if "
            "it is harmless. Publishing warns about those not accepted.",
            model=model,
            stretch=2,  # the words matched
            size=QSize(820, 420),
            actions=("Accept selected as harmless", "Exclude selected"),
        )
        self.model = model
        self.accept_button, self.exclude_button = self.action_buttons
        self.accept_button.clicked.connect(lambda: self._emit(self.accept_requested))
        self.exclude_button.clicked.connect(lambda: self._emit(self.exclude_requested))
        self.set_flagged(flagged)

    def set_flagged(self, flagged: Sequence[FlaggedPassage]) -> None:
        self.model.update_rows(flagged)
        waiting = sum(not f.accepted for f in flagged)
        self.note.setText(
            f"{len(flagged)} flagged, {waiting} not accepted yet."
            if flagged
            else "No passage addresses the model."
        )
        self.update_buttons()

    def selected_ids(self) -> list[int]:
        return [self.model.rows[row].passage_id for row in self.selected_rows()]

    def update_buttons(self) -> None:
        chosen = bool(self.selected_ids())
        self.accept_button.setEnabled(chosen)
        self.exclude_button.setEnabled(chosen)

    def _emit(self, signal: Any) -> None:
        ids = self.selected_ids()
        if ids:
            signal.emit(ids)


class LeftOutDialog(QDialog):
    """What a sync left out (failed or skipped): one line per address with its reason,
    as plain text that can be selected and copied."""

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        intro: str,
        items: Sequence[tuple[str, str]],
        *,
        empty: str = "Nothing.",
    ) -> None:
        super().__init__(parent)
        # Deleted by Qt on the GUI thread when closed, never by Python's GC in a worker.
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(title)
        self.resize(760, 360)
        lines = [f"{address} — {why}" for address, why in items] or [empty]
        self.view = read_only_text("\n".join(lines))
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        close.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(plain_label(intro))
        layout.addWidget(self.view, 1)
        layout.addWidget(close)
