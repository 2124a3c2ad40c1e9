"""The Publish page: checks with fixes, changes since the last release, the widget form with a
live preview, dry run, publish with progress, and the release history with rollback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.core.errors import BotdeskError
from desktop.core.jobs import Job, JobEvent, JobState
from desktop.core.store.workspace import Workspace
from desktop.services import publish
from desktop.ui.context import WindowContext
from desktop.ui.jobs import JobHandle
from desktop.ui.pages import Page
from desktop.ui.widgets import plain_label

LEAD_FIELDS = ("name", "email", "phone", "company", "message")


def _size_text(size: int) -> str:
    return f"{size / 1024:.1f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


class WidgetPreview(QWidget):
    """Paints the chat widget as a visitor would see it: the launcher and the opened chat."""

    def __init__(self) -> None:
        super().__init__()
        self.config: dict[str, Any] = {}
        self.setMinimumSize(280, 420)

    def set_config(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)
        self.update()

    # What the painting uses, with safe fallbacks while the form holds invalid values.
    def colour(self) -> QColor:
        theme = self.config.get("theme") or {}
        colour = QColor(str(theme.get("primary_color", "")))
        return colour if colour.isValid() else QColor("#1a73e8")

    def dark(self) -> bool:
        mode = (self.config.get("theme") or {}).get("mode", "auto")
        if mode == "auto":
            return bool(self.palette().window().color().lightness() < 128)
        return bool(mode == "dark")

    def on_left(self) -> bool:
        return bool((self.config.get("theme") or {}).get("position") == "bottom-left")

    def paintEvent(self, event: QPaintEvent) -> None:
        del event
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        dark = self.dark()
        page_bg = QColor("#2b2b2b") if dark else QColor("#f3f3f3")
        panel_bg = QColor("#1f1f1f") if dark else QColor("#ffffff")
        text = QColor("#eeeeee") if dark else QColor("#202020")
        bubble = QColor("#333333") if dark else QColor("#eef1f5")
        primary = self.colour()
        on_primary = QColor("#ffffff") if primary.lightness() < 170 else QColor("#000000")
        painter.fillRect(self.rect(), page_bg)
        margin = 12.0
        width, height = float(self.width()), float(self.height())
        # The launcher: a pill with the label, or a circle when there is none.
        label = str((self.config.get("theme") or {}).get("launcher_label") or "")
        font = QFont(self.font())
        metrics = QFontMetrics(font)
        launcher_w = max(44.0, metrics.horizontalAdvance(label) + 36.0) if label else 44.0
        launcher = QRectF(
            margin if self.on_left() else width - margin - launcher_w,
            height - margin - 44.0,
            launcher_w,
            44.0,
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(primary)
        painter.drawRoundedRect(launcher, 22, 22)
        painter.setPen(on_primary)
        painter.drawText(launcher, Qt.AlignmentFlag.AlignCenter, label or "💬")
        # The opened chat above it.
        panel_w = min(300.0, width - 2 * margin)
        panel = QRectF(
            margin if self.on_left() else width - margin - panel_w,
            margin,
            panel_w,
            height - 3 * margin - 44.0,
        )
        path = QPainterPath()
        path.addRoundedRect(panel, 10, 10)
        painter.fillPath(path, panel_bg)
        painter.setPen(QPen(QColor(0, 0, 0, 40)))
        painter.drawPath(path)
        header = QRectF(panel.left(), panel.top(), panel.width(), 40.0)
        header_path = QPainterPath()
        header_path.addRoundedRect(header, 10, 10)
        header_path.addRect(QRectF(header.left(), header.top() + 20, header.width(), 20))
        painter.fillPath(header_path.simplified(), primary)
        painter.setPen(on_primary)
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        name = str(self.config.get("bot_name") or "")
        painter.drawText(
            header.adjusted(12, 0, -12, 0),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            QFontMetrics(bold).elidedText(name, Qt.TextElideMode.ElideRight, int(header.width())),
        )
        painter.setFont(font)
        # The greeting bubble, then the suggested questions as outlined chips.
        y = header.bottom() + 10
        greeting = str(self.config.get("greeting") or "")
        text_w = panel.width() - 40
        bounds = metrics.boundingRect(
            0, 0, int(text_w), 10_000, int(Qt.TextFlag.TextWordWrap), greeting
        )
        bubble_rect = QRectF(panel.left() + 10, y, text_w + 20, bounds.height() + 16)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(bubble)
        painter.drawRoundedRect(bubble_rect, 8, 8)
        painter.setPen(text)
        painter.drawText(
            bubble_rect.adjusted(10, 8, -10, -8), int(Qt.TextFlag.TextWordWrap), greeting
        )
        y = bubble_rect.bottom() + 10
        questions = self.config.get("suggested_questions") or []
        for question in questions if isinstance(questions, list) else []:
            chip_text = metrics.elidedText(str(question), Qt.TextElideMode.ElideRight, int(text_w))
            chip = QRectF(panel.left() + 10, y, metrics.horizontalAdvance(chip_text) + 20.0, 26.0)
            if chip.bottom() > panel.bottom() - 44:
                break
            painter.setPen(QPen(primary, 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(chip, 13, 13)
            painter.setPen(primary)
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, chip_text)
            y = chip.bottom() + 6
        # The input line at the bottom of the chat.
        box = QRectF(panel.left() + 10, panel.bottom() - 38, panel.width() - 20, 28)
        painter.setPen(QPen(QColor(128, 128, 128, 120)))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(box, 6, 6)
        painter.setPen(QColor(128, 128, 128))
        painter.drawText(
            box.adjusted(8, 0, 0, 0),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            "Ask a question…",
        )
        painter.end()


class WidgetForm(QWidget):
    """Every widget setting as a field; emits `changed` with the config the form describes."""

    changed = Signal(object)  # dict

    def __init__(self) -> None:
        super().__init__()
        self._loading = False
        self._base: dict[str, Any] = {}
        self.bot_name = QLineEdit()
        self.greeting = QPlainTextEdit()
        self.greeting.setFixedHeight(60)
        self.questions = QPlainTextEdit()
        self.questions.setPlaceholderText("One question per line (up to 6)")
        self.questions.setFixedHeight(70)
        self.primary_color = QLineEdit()
        self.primary_color.setPlaceholderText("#1a73e8")
        self.mode = QComboBox()
        self.mode.addItems(["auto", "light", "dark"])
        self.position = QComboBox()
        self.position.addItems(["bottom-right", "bottom-left"])
        self.launcher_label = QLineEdit()
        self.model = QLineEdit()
        self.embedding_model = QLineEdit()
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setFixedHeight(80)
        self.k = QSpinBox()
        self.k.setRange(1, 20)
        self.min_score = QLineEdit()
        self.min_score.setPlaceholderText("none")
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 1.5)
        self.temperature.setSingleStep(0.1)
        self.refusal = QPlainTextEdit()
        self.refusal.setFixedHeight(50)
        self.lead_enabled = QCheckBox("Ask visitors for their contact details")
        self.lead_fields = QLineEdit()
        self.lead_fields.setPlaceholderText("email, name (of: " + ", ".join(LEAD_FIELDS) + ")")
        self.lead_when = QComboBox()
        self.lead_when.addItems(["on_refusal", "after_first_answer", "before_chat"])
        self.origins = QPlainTextEdit()
        self.origins.setPlaceholderText("https://www.example.com (one per line)")
        self.origins.setFixedHeight(60)
        self.any_origin = QCheckBox("Any website may show the bot (not recommended)")
        self.per_session = QSpinBox()
        self.per_session.setRange(1, 1000)
        self.per_day = QSpinBox()
        self.per_day.setRange(1, 1_000_000)

        form = QFormLayout(self)
        # Labels above fields when the column is narrow (1280-wide screens), not a sideways scroll.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("Bot name", self.bot_name)
        form.addRow("Greeting", self.greeting)
        form.addRow("Suggested questions", self.questions)
        form.addRow("Primary colour", self.primary_color)
        form.addRow("Light / dark", self.mode)
        form.addRow("Position", self.position)
        form.addRow("Launcher label", self.launcher_label)
        form.addRow("Mistral model", self.model)
        form.addRow("Question embedder", self.embedding_model)
        form.addRow("System prompt", self.system_prompt)
        form.addRow("Passages (k)", self.k)
        form.addRow("Minimum score", self.min_score)
        form.addRow("Temperature", self.temperature)
        form.addRow("Refusal message", self.refusal)
        form.addRow("Lead capture", self.lead_enabled)
        form.addRow("Lead fields", self.lead_fields)
        form.addRow("Ask when", self.lead_when)
        form.addRow("Allowed websites", self.origins)
        form.addRow("", self.any_origin)
        form.addRow("Messages per session", self.per_session)
        form.addRow("Messages per day", self.per_day)

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
        for text in (self.greeting, self.questions, self.system_prompt, self.refusal, self.origins):
            text.textChanged.connect(self._emit)
        for combo in (self.mode, self.position, self.lead_when):
            combo.currentTextChanged.connect(self._emit)
        for box in (self.lead_enabled, self.any_origin):
            box.toggled.connect(self._emit)
        for spin in (self.k, self.per_session, self.per_day):
            spin.valueChanged.connect(self._emit)
        self.temperature.valueChanged.connect(self._emit)

    def load(self, config: Mapping[str, Any]) -> None:
        self._loading = True
        try:
            self._base = json.loads(json.dumps(dict(config)))
            theme = config.get("theme") or {}
            answering = config.get("answering") or {}
            lead = config.get("lead_capture") or {}
            limits = config.get("limits") or {}
            self.bot_name.setText(str(config.get("bot_name", "")))
            self.greeting.setPlainText(str(config.get("greeting", "")))
            self.questions.setPlainText("\n".join(map(str, config.get("suggested_questions", []))))
            self.primary_color.setText(str(theme.get("primary_color", "")))
            self.mode.setCurrentText(str(theme.get("mode", "auto")))
            self.position.setCurrentText(str(theme.get("position", "bottom-right")))
            self.launcher_label.setText(str(theme.get("launcher_label", "")))
            self.model.setText(str(answering.get("model", "")))
            self.embedding_model.setText(str(answering.get("embedding_model", "")))
            self.system_prompt.setPlainText(str(answering.get("system_prompt", "")))
            self.k.setValue(int(answering.get("k", 5)))
            score = answering.get("min_score")
            self.min_score.setText("" if score is None else str(score))
            self.temperature.setValue(float(answering.get("temperature", 0.2)))
            self.refusal.setPlainText(str(answering.get("refusal_message", "")))
            self.lead_enabled.setChecked(bool(lead.get("enabled", False)))
            self.lead_fields.setText(", ".join(map(str, lead.get("fields", []))))
            self.lead_when.setCurrentText(str(lead.get("when", "on_refusal")))
            self.origins.setPlainText("\n".join(map(str, config.get("allowed_origins", []))))
            self.any_origin.setChecked(bool(config.get("allow_any_origin", False)))
            self.per_session.setValue(int(limits.get("messages_per_session", 30)))
            self.per_day.setValue(int(limits.get("messages_per_day", 2000)))
        finally:
            self._loading = False
        self._emit()

    def config(self) -> dict[str, Any]:
        """The config the form describes (validated when saved, not here)."""
        config: dict[str, Any] = json.loads(json.dumps(self._base))
        score_text = self.min_score.text().strip()
        score: Any = None
        if score_text:
            try:
                score = float(score_text)
            except ValueError:
                score = score_text  # the schema says why it is wrong, naming the field
        config.update(
            bot_name=self.bot_name.text().strip(),
            greeting=self.greeting.toPlainText().strip(),
            suggested_questions=_lines(self.questions.toPlainText()),
            allowed_origins=_lines(self.origins.toPlainText()),
            allow_any_origin=self.any_origin.isChecked(),
        )
        config["theme"] = {
            **(config.get("theme") or {}),
            "primary_color": self.primary_color.text().strip(),
            "mode": self.mode.currentText(),
            "position": self.position.currentText(),
            "launcher_label": self.launcher_label.text().strip(),
        }
        config["answering"] = {
            **(config.get("answering") or {}),
            "model": self.model.text().strip(),
            "embedding_model": self.embedding_model.text().strip(),
            "system_prompt": self.system_prompt.toPlainText().strip(),
            "k": self.k.value(),
            "min_score": score,
            "temperature": round(self.temperature.value(), 2),
            "refusal_message": self.refusal.toPlainText().strip(),
        }
        config["lead_capture"] = {
            "enabled": self.lead_enabled.isChecked(),
            "fields": [f.strip() for f in self.lead_fields.text().split(",") if f.strip()],
            "when": self.lead_when.currentText(),
        }
        config["limits"] = {
            "messages_per_session": self.per_session.value(),
            "messages_per_day": self.per_day.value(),
        }
        return config

    def _emit(self, *_: object) -> None:
        if not self._loading:
            self.changed.emit(self.config())


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class PublishPage(Page):
    """Checks, changes, the widget form + preview, dry run / publish, releases and rollback."""

    title = "Publish"

    def __init__(self, context: WindowContext) -> None:
        super().__init__(context)
        # Injected by tests (loopback receiver, fake vectors); None means the real ones.
        self.vector_loader: Any = None
        self.client_options: dict[str, Any] | None = None
        self.job: JobHandle | None = None
        self.last_report: publish.PublishReport | None = None
        self._release_job_id: int | None = None

        # -- target and actions
        self.endpoint_edit = QLineEdit()
        self.endpoint_edit.setPlaceholderText("https://chat.example.com")
        self.bot_edit = QLineEdit()
        self.bot_edit.setPlaceholderText("your bot id on the service")
        self.token_label = plain_label()
        self.token_button = QPushButton("Set token…")
        self.token_button.clicked.connect(self._ask_token)
        self.notes_edit = QLineEdit()
        self.notes_edit.setPlaceholderText("release notes (optional)")
        self.dry_run_button = QPushButton("Dry run")
        self.dry_run_button.setToolTip("Run the checks and measure the bundle; send nothing")
        self.dry_run_button.clicked.connect(lambda: self.start_publish(dry_run=True))
        self.publish_button = QPushButton("Publish")
        self.publish_button.clicked.connect(lambda: self.start_publish(dry_run=False))
        self.quantize_combo = QComboBox()
        self.quantize_combo.addItems(["none", "int8", "binary"])
        self.quantize_combo.setToolTip(
            "Vector precision in the bundle: none (float32), int8 (~4x smaller vectors), "
            "binary (~32x smaller, lower recall; see bench/bundle_size.py)"
        )
        self.build_button = QPushButton("Build bundle file…")
        self.build_button.setToolTip("Write the bundle to a file, e.g. to test it in Test bench")
        self.build_button.clicked.connect(self._choose_bundle_file)
        self.status_label = plain_label("Run a dry run to see what would go live.")
        target_box = QGroupBox("Where")
        target_form = QFormLayout(target_box)
        target_form.addRow("Endpoint", self.endpoint_edit)
        target_form.addRow("Bot id", self.bot_edit)
        token_row = QHBoxLayout()
        token_row.addWidget(self.token_label, 1)
        token_row.addWidget(self.token_button)
        target_form.addRow("Token", token_row)
        target_form.addRow("Notes", self.notes_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.dry_run_button)
        buttons.addWidget(self.publish_button)
        buttons.addStretch(1)
        buttons.addWidget(QLabel("Vectors:"))
        buttons.addWidget(self.quantize_combo)
        buttons.addWidget(self.build_button)
        target_form.addRow(buttons)
        target_form.addRow(self.status_label)

        # -- checks and changes
        self.checks_list = QListWidget()
        self.checks_list.setWordWrap(True)
        self.changes_label = plain_label("Changes since the last release: run a dry run.")
        self.size_label = plain_label()
        checks_box = QGroupBox("Checks and changes")
        checks_layout = QVBoxLayout(checks_box)
        checks_layout.addWidget(self.checks_list, 1)
        checks_layout.addWidget(self.changes_label)
        checks_layout.addWidget(self.size_label)

        # -- releases
        self.releases_table = QTableWidget(0, 6)
        self.releases_table.setHorizontalHeaderLabels(
            ["Live", "Version", "Release", "Published", "Passages", "Notes"]
        )
        self.releases_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.releases_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.releases_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.releases_table.horizontalHeader().setSectionResizeMode(
            5, QHeaderView.ResizeMode.Stretch
        )
        self.releases_note = plain_label()
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh_releases)
        self.rollback_button = QPushButton("Make selected release live")
        self.rollback_button.clicked.connect(self.rollback_selected)
        releases_box = QGroupBox("Release history")
        releases_layout = QVBoxLayout(releases_box)
        releases_layout.addWidget(self.releases_table, 1)
        releases_layout.addWidget(self.releases_note)
        release_buttons = QHBoxLayout()
        release_buttons.addWidget(self.refresh_button)
        release_buttons.addWidget(self.rollback_button)
        release_buttons.addStretch(1)
        releases_layout.addLayout(release_buttons)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(target_box)
        left_layout.addWidget(checks_box, 2)
        left_layout.addWidget(releases_box, 2)

        # -- widget form and preview
        self.form = WidgetForm()
        self.preview = WidgetPreview()
        self.form.changed.connect(self._on_form_changed)
        self.widget_problems = plain_label()
        self.save_widget_button = QPushButton("Save widget settings")
        self.save_widget_button.clicked.connect(self.save_widget)
        form_scroll = QScrollArea()
        form_scroll.setWidgetResizable(True)
        form_scroll.setWidget(self.form)
        widget_box = QGroupBox("Chat widget")
        widget_layout = QHBoxLayout(widget_box)
        form_column = QVBoxLayout()
        form_column.addWidget(form_scroll, 1)
        form_column.addWidget(self.widget_problems)
        form_column.addWidget(self.save_widget_button)
        widget_layout.addLayout(form_column, 3)
        widget_layout.addWidget(self.preview, 2)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(widget_box)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([400, 800])  # the widget form and its preview need the room
        self.empty_label = plain_label("Open or create a workspace to publish its bot.")
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty_label)
        layout.addWidget(splitter, 1)
        self.body = splitter
        context.jobs.job_finished.connect(self._on_job_finished)
        context.jobs.job_changed.connect(self._on_job_changed)
        context.jobs.job_finished.connect(self._on_releases_finished)
        self.on_workspace_changed(context.workspace)

    @property
    def workspace(self) -> Workspace | None:
        return self.context.workspace

    # -- workspace -----------------------------------------------------------------------
    def on_workspace_changed(self, workspace: Workspace | None) -> None:
        self.body.setVisible(workspace is not None)
        self.empty_label.setVisible(workspace is None)
        self.checks_list.clear()
        self.releases_table.setRowCount(0)
        if workspace is None:
            return
        endpoint, bot_id = publish.get_target(workspace)
        self.endpoint_edit.setText(endpoint or "")
        self.bot_edit.setText(bot_id or "")
        self.form.load(publish.get_widget(workspace))
        self._show_local_releases()
        self._update_token_label()

    def _update_token_label(self) -> None:
        endpoint = self.endpoint_edit.text().strip()
        if not endpoint:
            self.token_label.setText("Give the endpoint first.")
            return
        try:
            found = publish.token_available(endpoint)
        except BotdeskError as exc:
            self.token_label.setText(exc.message)
            return
        self.token_label.setText(
            "found (keyring or BOTDESK_PUBLISH_TOKEN)" if found else "not set: Set token…"
        )

    def _ask_token(self) -> None:
        endpoint = self.endpoint_edit.text().strip()
        if not endpoint:
            self.context.messages.info("Give the endpoint URL first; the token is kept under it.")
            return
        token, ok = QInputDialog.getText(
            self, "Publish token", f"Token for {endpoint}:", QLineEdit.EchoMode.Password
        )
        if not ok or not token:
            return
        try:
            publish.set_token(endpoint, token)
        except BotdeskError as exc:
            self.context.messages.error(exc, context="Publish token")
            return
        self._update_token_label()
        self.context.messages.info(f"Token stored in the keyring for {endpoint}.")

    # -- widget form ---------------------------------------------------------------------
    def _on_form_changed(self, config: dict[str, Any]) -> None:
        self.preview.set_config(config)
        problems = publish.widget_problems(config)
        self.widget_problems.setText(
            "Before publishing:\n" + "\n".join(problems[:6]) if problems else "Ready to publish."
        )

    def save_widget(self) -> bool:
        ws = self.workspace
        if ws is None:
            return False
        try:
            publish.set_widget(ws, self.form.config())
        except BotdeskError as exc:
            self.context.messages.error(exc, context="Widget settings")
            return False
        self.context.messages.info("Widget settings saved.")
        return True

    # -- dry run and publish -------------------------------------------------------------
    def start_publish(self, *, dry_run: bool) -> JobHandle | None:
        ws = self.workspace
        if ws is None or self.job is not None:
            return None
        if not self.save_widget():
            return None
        endpoint = self.endpoint_edit.text().strip() or None
        bot_id = self.bot_edit.text().strip() or None
        notes = self.notes_edit.text().strip()
        loader, options = self.vector_loader, self.client_options
        quantization = self._quantization()

        async def work(job: Job) -> publish.PublishReport:
            return await publish.publish(
                ws,
                job,
                endpoint=endpoint,
                bot_id=bot_id,
                notes=notes,
                dry_run=dry_run,
                quantization=quantization,
                vector_loader=loader,
                client_options=options,
            )

        self.job = self.context.jobs.start("Dry run" if dry_run else "Publish", work)
        self.dry_run_button.setEnabled(False)
        self.publish_button.setEnabled(False)
        self.status_label.setText("Checking and building the bundle…")
        return self.job

    def _quantization(self) -> publish.Quantization:
        text = self.quantize_combo.currentText()
        return "int8" if text == "int8" else "binary" if text == "binary" else "none"

    def _choose_bundle_file(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        suggested = str(ws.path.with_suffix(".bundle"))
        path, _ = QFileDialog.getSaveFileName(self, "Save bundle", suggested, "Bundle (*.bundle)")
        if path:
            self.build_bundle_file(path)

    def build_bundle_file(self, path: str) -> JobHandle | None:
        """Write the bundle to `path` as a job (building reads every passage: off the click)."""
        ws = self.workspace
        if ws is None or self.job is not None:
            return None
        loader, quantization = self.vector_loader, self._quantization()

        async def work(job: Job) -> publish.BuiltBundle:
            built = await asyncio.to_thread(
                publish.build_bundle, ws, path, quantization=quantization, vector_loader=loader
            )
            job.finish(
                f"Wrote {built.path.name}: {built.manifest['passage_count']} passages, "
                f"{_size_text(built.size)}."
            )
            return built

        self.job = self.context.jobs.start("Build bundle", work)
        return self.job

    def _on_job_changed(self, event: JobEvent) -> None:
        if self.job is None or event.job_id != self.job.job_id:
            return
        if event.state is JobState.RUNNING:
            if event.stage == "upload bundle" and event.total:
                self.status_label.setText(
                    f"Uploading {_size_text(event.done)} of {_size_text(event.total)}…"
                )
            else:
                self.status_label.setText(f"{event.stage or 'Working'}…")

    def _on_job_finished(self, event: JobEvent, result: object) -> None:
        if self.job is None or event.job_id != self.job.job_id:
            return
        self.job = None
        self.dry_run_button.setEnabled(True)
        self.publish_button.setEnabled(True)
        self.status_label.setText(event.summary)
        if isinstance(result, publish.PublishReport):
            self.last_report = result
            self.show_report(result)
            if not result.dry_run:
                self._show_local_releases()
        self._update_token_label()
        if self.workspace is not None:
            endpoint, bot_id = publish.get_target(self.workspace)
            self.endpoint_edit.setText(endpoint or self.endpoint_edit.text())
            self.bot_edit.setText(bot_id or self.bot_edit.text())

    def show_report(self, report: publish.PublishReport) -> None:
        self.checks_list.clear()
        if not report.checks:
            self.checks_list.addItem("All checks passed.")
        for check in report.checks:
            label = "Must fix" if check.severity == "error" else "Warning"
            examples = "".join(f"\n   · {e}" for e in check.examples)
            self.checks_list.addItem(f"{label}: {check.message}{examples}\n   Fix: {check.fix}")
        changes = report.changes
        details = ""
        if changes.sources_added or changes.sources_removed:
            details = (
                f"\nSources added: {', '.join(changes.sources_added[:5]) or 'none'}; "
                f"removed: {', '.join(changes.sources_removed[:5]) or 'none'}."
            )
        self.changes_label.setText(changes.summary() + details)
        vectors = report.embedding
        kind = f"vectors {vectors['provider']}:{vectors['model']}" if vectors else "keyword only"
        self.size_label.setText(
            f"Bundle: {report.passage_count} passages, {_size_text(report.bundle_size)}, {kind}."
        )

    # -- releases ------------------------------------------------------------------------
    def _fill_releases(self, releases: list[publish.ReleaseInfo]) -> None:
        self.releases_table.setRowCount(len(releases))
        for row, info in enumerate(releases):
            cells = [
                "●" if info.active else "",
                str(info.version),
                info.release_id,
                info.published_at or info.created_at,
                "" if info.passage_count is None else str(info.passage_count),
                info.notes,
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, info.release_id)
                self.releases_table.setItem(row, column, item)
        if not releases:
            self.releases_note.setText("No releases yet.")

    def _show_local_releases(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        endpoint, bot_id = publish.get_target(ws)
        if not endpoint or not bot_id:
            self._fill_releases([])
            return
        self._fill_releases(publish.local_releases(ws, endpoint, bot_id))

    def refresh_releases(self) -> JobHandle | None:
        ws = self.workspace
        if ws is None:
            return None
        options = self.client_options

        async def work(job: Job) -> publish.ReleaseList:
            listed = await publish.list_releases(ws, client_options=options)
            job.finish(listed.remote_error or f"{len(listed.releases)} releases.")
            return listed

        job = self.context.jobs.start("Releases", work)
        self._release_job_id = job.job_id
        return job

    def _on_releases_finished(self, event: JobEvent, result: object) -> None:
        if event.job_id != self._release_job_id:
            return
        self._release_job_id = None
        if isinstance(result, publish.ReleaseList):
            self._fill_releases(result.releases)
            self.releases_note.setText(
                f"Showing what this workspace knows: {result.remote_error}"
                if result.remote_error
                else "Up to date with the endpoint."
            )
        elif isinstance(result, publish.ReleaseInfo):
            self.releases_note.setText(f"Release {result.version} is live again.")
            self._show_local_releases()

    def selected_release(self) -> str | None:
        items = self.releases_table.selectedItems()
        return str(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def rollback_selected(self) -> JobHandle | None:
        ws = self.workspace
        release_id = self.selected_release()
        if ws is None:
            return None
        if release_id is None:
            self.context.messages.info("Select the release to make live in the history first.")
            return None
        options = self.client_options

        async def work(job: Job) -> publish.ReleaseInfo:
            info = await publish.rollback(ws, release_id, client_options=options)
            job.finish(f"Release {info.version} is live.")
            return info

        job = self.context.jobs.start(f"Roll back to {release_id}", work)
        self._release_job_id = job.job_id
        return job
