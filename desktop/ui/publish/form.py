"""The chat widget's settings as a form: every field labelled as checks and errors name it.

The form emits `changed` with the config it describes on every edit (the preview follows);
the config is validated when saved, not while typing.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.core.publish.widget_config import FIELD_LABELS
from desktop.ui.widgets import CompactTextEdit

LEAD_FIELDS = ("name", "email", "phone", "company", "message")
# Narrower than this, labels go above their fields (a laptop beside the preview).
LABELS_ABOVE_BELOW_PX = 460


def _text_box(height: int, placeholder: str = "") -> QPlainTextEdit:
    box = CompactTextEdit(lines=2)  # below Qt's 70 px minimum: a short box is enough here
    box.setFixedHeight(height)
    box.setPlaceholderText(placeholder)
    box.setTabChangesFocus(True)
    return box


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class WidgetForm(QWidget):
    """Every widget setting as a field; emits `changed` with the config the form describes."""

    changed = Signal(object)  # dict

    def __init__(self) -> None:
        super().__init__()
        self._loading = False
        self._base: dict[str, Any] = {}
        self._forms: list[QFormLayout] = []
        self._build_fields()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._section("Look", self._look_rows()))
        layout.addWidget(self._section("Answers", self._answer_rows()))
        layout.addWidget(self._section("Visitors' details", self._lead_rows()))
        layout.addWidget(self._section("Where and how much", self._where_rows()))
        layout.addStretch(1)
        self._connect_edits()

    def _build_fields(self) -> None:
        self.bot_name = QLineEdit()
        self.greeting = _text_box(56)
        self.questions = _text_box(70, "One question per line (up to 6)")
        self.primary_color = QLineEdit()
        self.primary_color.setPlaceholderText("#1a73e8")
        self.mode = QComboBox()
        self.mode.addItems(["auto", "light", "dark"])
        self.position = QComboBox()
        self.position.addItems(["bottom-right", "bottom-left"])
        self.launcher_label = QLineEdit()
        self.model = QLineEdit()
        self.embedding_model = QLineEdit()
        self.embedding_model.setToolTip(
            "What the hosted service embeds visitors' questions with: it must be the embedder "
            "of your passages (the workspace's, by default)."
        )
        self.system_prompt = _text_box(80)
        self.k = QSpinBox()
        self.k.setRange(1, 20)
        self.min_score = QLineEdit()
        self.min_score.setPlaceholderText("none")
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 1.5)
        self.temperature.setSingleStep(0.1)
        self.refusal = _text_box(50)
        self.lead_enabled = QCheckBox("Ask for contact details")
        self.lead_fields = QLineEdit()
        self.lead_fields.setPlaceholderText("email, name (of: " + ", ".join(LEAD_FIELDS) + ")")
        self.lead_when = QComboBox()
        self.lead_when.addItems(["on_refusal", "after_first_answer", "before_chat"])
        self.consent = _text_box(50, "A consent the visitor ticks first (optional)")
        self.origins = _text_box(60, "https://www.example.com (one per line)")
        self.any_origin = QCheckBox("Any website (not recommended)")
        self.per_session = QSpinBox()
        self.per_session.setRange(1, 1000)
        self.per_day = QSpinBox()
        self.per_day.setRange(1, 1_000_000)

    def _look_rows(self) -> list[tuple[str, QWidget]]:
        return [
            ("bot_name", self.bot_name),
            ("greeting", self.greeting),
            ("suggested_questions", self.questions),
            ("theme.primary_color", self.primary_color),
            ("theme.mode", self.mode),
            ("theme.position", self.position),
            ("theme.launcher_label", self.launcher_label),
        ]

    def _answer_rows(self) -> list[tuple[str, QWidget]]:
        return [
            ("answering.model", self.model),
            ("answering.embedding_model", self.embedding_model),
            ("answering.system_prompt", self.system_prompt),
            ("answering.k", self.k),
            ("answering.min_score", self.min_score),
            ("answering.temperature", self.temperature),
            ("answering.refusal_message", self.refusal),
        ]

    def _lead_rows(self) -> list[tuple[str, QWidget]]:
        return [
            ("lead_capture.enabled", self.lead_enabled),
            ("lead_capture.fields", self.lead_fields),
            ("lead_capture.when", self.lead_when),
            ("lead_capture.consent_text", self.consent),
        ]

    def _where_rows(self) -> list[tuple[str, QWidget]]:
        return [
            ("allowed_origins", self.origins),
            ("", self.any_origin),
            ("limits.messages_per_session", self.per_session),
            ("limits.messages_per_day", self.per_day),
        ]

    def _section(self, title: str, rows: list[tuple[str, QWidget]]) -> QGroupBox:
        box = QGroupBox(title)
        form = QFormLayout(box)
        for key, field in rows:
            form.addRow(FIELD_LABELS.get(key, ""), field)
        self._forms.append(form)
        return box

    def fit_width(self, width: int) -> None:
        """Labels above fields when the room is narrow: no clipped field, no sideways scroll."""
        narrow = width < LABELS_ABOVE_BELOW_PX
        policy = (
            QFormLayout.RowWrapPolicy.WrapAllRows
            if narrow
            else QFormLayout.RowWrapPolicy.DontWrapRows
        )
        for form in self._forms:
            if form.rowWrapPolicy() != policy:
                form.setRowWrapPolicy(policy)

    def _connect_edits(self) -> None:
        for line in (
            self.bot_name,
            self.primary_color,
            self.launcher_label,
            self.model,
            self.embedding_model,
            self.min_score,
            self.lead_fields,
        ):
            line.textChanged.connect(self._emit)
        for text in (
            self.greeting,
            self.questions,
            self.system_prompt,
            self.refusal,
            self.consent,
            self.origins,
        ):
            text.textChanged.connect(self._emit)
        for combo in (self.mode, self.position, self.lead_when):
            combo.currentTextChanged.connect(self._emit)
        for box in (self.lead_enabled, self.any_origin):
            box.toggled.connect(self._emit)
        for spin in (self.k, self.per_session, self.per_day):
            spin.valueChanged.connect(self._emit)
        self.temperature.valueChanged.connect(self._emit)

    # -- config in and out ------------------------------------------------------------------
    def load(self, config: Mapping[str, Any]) -> None:
        self._loading = True
        try:
            self._base = copy.deepcopy(dict(config))
            self._load_look(config)
            self._load_answers(config.get("answering") or {})
            lead = config.get("lead_capture") or {}
            limits = config.get("limits") or {}
            self.lead_enabled.setChecked(bool(lead.get("enabled", False)))
            self.lead_fields.setText(", ".join(map(str, lead.get("fields", []))))
            self.lead_when.setCurrentText(str(lead.get("when", "on_refusal")))
            self.consent.setPlainText(str(lead.get("consent_text", "")))
            origins = [str(o) for o in config.get("allowed_origins", [])]
            # "*" alone is what the "Any website" box means: shown by the box, not the list.
            any_site = origins == ["*"] and bool(config.get("allow_any_origin", False))
            self.origins.setPlainText("" if any_site else "\n".join(origins))
            self.any_origin.setChecked(bool(config.get("allow_any_origin", False)))
            self.per_session.setValue(int(limits.get("messages_per_session", 30)))
            self.per_day.setValue(int(limits.get("messages_per_day", 2000)))
        finally:
            self._loading = False
        self._emit()

    def _load_look(self, config: Mapping[str, Any]) -> None:
        theme = config.get("theme") or {}
        self.bot_name.setText(str(config.get("bot_name", "")))
        self.greeting.setPlainText(str(config.get("greeting", "")))
        self.questions.setPlainText("\n".join(map(str, config.get("suggested_questions", []))))
        self.primary_color.setText(str(theme.get("primary_color", "")))
        self.mode.setCurrentText(str(theme.get("mode", "auto")))
        self.position.setCurrentText(str(theme.get("position", "bottom-right")))
        self.launcher_label.setText(str(theme.get("launcher_label", "")))

    def _load_answers(self, answering: Mapping[str, Any]) -> None:
        self.model.setText(str(answering.get("model", "")))
        self.embedding_model.setText(str(answering.get("embedding_model", "")))
        self.system_prompt.setPlainText(str(answering.get("system_prompt", "")))
        self.k.setValue(int(answering.get("k", 5)))
        score = answering.get("min_score")
        self.min_score.setText("" if score is None else str(score))
        self.temperature.setValue(float(answering.get("temperature", 0.2)))
        self.refusal.setPlainText(str(answering.get("refusal_message", "")))

    def config(self) -> dict[str, Any]:
        """The config the form describes (validated when saved, not here)."""
        config: dict[str, Any] = copy.deepcopy(self._base)
        origins = _lines(self.origins.toPlainText())
        if self.any_origin.isChecked() and not origins:
            origins = ["*"]  # the box ticked and no list: every site
        config.update(
            bot_name=self.bot_name.text().strip(),
            greeting=self.greeting.toPlainText().strip(),
            suggested_questions=_lines(self.questions.toPlainText()),
            allowed_origins=origins,
            allow_any_origin=self.any_origin.isChecked(),
        )
        config["theme"] = {
            **(config.get("theme") or {}),
            "primary_color": self.primary_color.text().strip(),
            "mode": self.mode.currentText(),
            "position": self.position.currentText(),
            "launcher_label": self.launcher_label.text().strip(),
        }
        config["answering"] = {**(config.get("answering") or {}), **self._answers()}
        config["lead_capture"] = {
            **(config.get("lead_capture") or {}),
            "enabled": self.lead_enabled.isChecked(),
            "fields": [f.strip() for f in self.lead_fields.text().split(",") if f.strip()],
            "when": self.lead_when.currentText(),
            "consent_text": self.consent.toPlainText().strip(),
        }
        config["limits"] = {
            "messages_per_session": self.per_session.value(),
            "messages_per_day": self.per_day.value(),
        }
        return config

    def _answers(self) -> dict[str, Any]:
        score_text = self.min_score.text().strip()
        score: Any = None
        if score_text:
            try:
                score = float(score_text)
            except ValueError:
                score = score_text  # the schema says why it is wrong, naming the field
        return {
            "model": self.model.text().strip(),
            "embedding_model": self.embedding_model.text().strip(),
            "system_prompt": self.system_prompt.toPlainText().strip(),
            "k": self.k.value(),
            "min_score": score,
            "temperature": round(self.temperature.value(), 2),
            "refusal_message": self.refusal.toPlainText().strip(),
        }

    def _emit(self, *_: object) -> None:
        if not self._loading:
            self.changed.emit(self.config())


class FormScroll(QScrollArea):
    """The form in a vertical scroll area that tells it how wide it may be."""

    def __init__(self, form: WidgetForm) -> None:
        super().__init__()
        self.form = form
        self.setWidgetResizable(True)
        self.setWidget(form)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.form.fit_width(self.viewport().width())
        super().resizeEvent(event)
