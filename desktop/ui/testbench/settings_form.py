"""One profile's settings as a form: change any of them and re-ask, saved or not."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
)

from desktop.core.answering.types import MODES
from desktop.services.answers import AnswerProfile
from desktop.ui.widgets import CompactTextEdit, plain_label


class ProfileSettingsForm(QGroupBox):
    """Generator, retrieval, generation, refusal and prompt; `edited` on any change by hand."""

    edited = Signal()

    def __init__(self) -> None:
        super().__init__("Settings (change and re-ask; saving is optional)")
        self._loading = False
        self.generator_edit = QLineEdit()
        self.generator_edit.setPlaceholderText("ollama:MODEL or mistral:MODEL")
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(list(MODES))
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 50)
        self.min_score_check = QCheckBox("minimum score")
        self.min_score_spin = QDoubleSpinBox()
        self.min_score_spin.setDecimals(3)
        self.min_score_spin.setRange(-1000.0, 1000.0)
        self.min_score_spin.setSingleStep(0.05)
        self.min_score_check.toggled.connect(self.min_score_spin.setEnabled)
        self.temperature_spin = QDoubleSpinBox()
        self.temperature_spin.setRange(0.0, 2.0)
        self.temperature_spin.setSingleStep(0.1)
        self.max_tokens_spin = QSpinBox()
        self.max_tokens_spin.setRange(1, 32768)
        self.refusal_edit = QLineEdit()
        self.prompt_edit = CompactTextEdit(lines=2)
        self.prompt_edit.setMaximumHeight(80)
        retrieval = QHBoxLayout()
        retrieval.addWidget(self.mode_combo)
        retrieval.addWidget(plain_label("k", wrap=False))
        retrieval.addWidget(self.k_spin)
        retrieval.addWidget(self.min_score_check)
        retrieval.addWidget(self.min_score_spin)
        retrieval.addStretch(1)
        generation = QHBoxLayout()
        generation.addWidget(plain_label("temperature", wrap=False))
        generation.addWidget(self.temperature_spin)
        generation.addWidget(plain_label("max tokens", wrap=False))
        generation.addWidget(self.max_tokens_spin)
        generation.addStretch(1)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("Generator", self.generator_edit)
        form.addRow("Retrieval", retrieval)
        form.addRow("Generation", generation)
        form.addRow("Refusal", self.refusal_edit)
        form.addRow("System prompt", self.prompt_edit)
        for signal in (
            self.generator_edit.textEdited,
            self.mode_combo.currentTextChanged,
            self.k_spin.valueChanged,
            self.min_score_check.toggled,
            self.min_score_spin.valueChanged,
            self.temperature_spin.valueChanged,
            self.max_tokens_spin.valueChanged,
            self.refusal_edit.textEdited,
            self.prompt_edit.textChanged,
        ):
            signal.connect(self._on_edited)

    def show_profile(self, profile: AnswerProfile) -> None:
        self._loading = True
        self.generator_edit.setText(profile.generator)
        self.mode_combo.setCurrentText(profile.mode)
        self.k_spin.setValue(profile.k)
        self.min_score_check.setChecked(profile.min_score is not None)
        self.min_score_spin.setEnabled(profile.min_score is not None)
        self.min_score_spin.setValue(profile.min_score or 0.0)
        self.temperature_spin.setValue(profile.temperature)
        self.max_tokens_spin.setValue(profile.max_tokens)
        self.refusal_edit.setText(profile.refusal)
        self.prompt_edit.setPlainText(profile.system_prompt)
        self._loading = False

    def read(self, base: AnswerProfile) -> AnswerProfile:
        """`base` with the settings as shown."""
        mode = self.mode_combo.currentText()
        return replace(
            base,
            generator=self.generator_edit.text().strip(),
            mode=next((m for m in MODES if m == mode), "hybrid"),
            k=self.k_spin.value(),
            min_score=self.min_score_spin.value() if self.min_score_check.isChecked() else None,
            temperature=round(self.temperature_spin.value(), 3),
            max_tokens=self.max_tokens_spin.value(),
            refusal=self.refusal_edit.text(),
            system_prompt=self.prompt_edit.toPlainText(),
        )

    def summary(self) -> str:
        """The settings that differ most between two set-ups, in one line (shown while the
        form is folded away)."""
        generator = self.generator_edit.text().strip() or "no generator"
        minimum = (
            f", minimum score {self.min_score_spin.value():g}"
            if self.min_score_check.isChecked()
            else ""
        )
        return (
            f"{generator} · {self.mode_combo.currentText()} search, {self.k_spin.value()} "
            f"passages{minimum} · temperature {self.temperature_spin.value():g}"
        )

    def _on_edited(self, *_args: object) -> None:
        if not self._loading:
            self.edited.emit()
