"""Settings in one place: the workspace's embedder (with its cost before anything runs), the
Ollama server, and the Mistral API key kept in the keyring, each with "Test connection".

Blocking calls (the keyring may hang on D-Bus) and network checks run off the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from desktop.core.errors import BotdeskError
from desktop.core.store.workspace import Workspace
from desktop.services import answers, connections, index, model_setup
from desktop.ui.context import WindowContext
from desktop.ui.first_run.model_step import ModelSetupDialog
from desktop.ui.tasks import TaskSet
from desktop.ui.widgets import plain_label

MAX_START_HEIGHT = 600  # the dialog opens no taller than this: its body scrolls
# Offered in the embedder box; any "ollama:MODEL" or "mistral:MODEL" can be typed.
SUGGESTED_EMBEDDERS = (
    "none",
    "ollama:nomic-embed-text",
    "ollama:all-minilm",
    "mistral:mistral-embed",
)


class SettingsDialog(QDialog):
    """File ▸ Settings… Changes apply at once; the dialog only closes."""

    def __init__(self, context: WindowContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Botdesk settings")
        self.context = context
        self._tasks = TaskSet()
        where = connections.endpoints(self.context.backends)
        embedder_box = self._build_embedder_box()
        ollama_box = self._build_ollama_box(where)
        mistral_box = self._build_mistral_box(where)
        answers_box = self._build_answers_box()  # after the two it takes test models from
        self._lay_out(embedder_box, answers_box, ollama_box, mistral_box)
        self._load_workspace()

    # -- building ------------------------------------------------------------------------
    def _build_embedder_box(self) -> QGroupBox:
        self.embedder_combo = QComboBox()
        self.embedder_combo.setEditable(True)
        self.embedder_combo.addItems(SUGGESTED_EMBEDDERS)
        self.embedder_combo.currentTextChanged.connect(self._estimate)
        self.embedder_status = plain_label()
        self.embedder_estimate = plain_label()
        self.apply_embedder_button = QPushButton("Use this embedder")
        self.apply_embedder_button.clicked.connect(self.apply_embedder)
        box = QGroupBox("This workspace's embedder")
        form = QFormLayout(box)
        form.addRow("Embedder", self.embedder_combo)
        form.addRow("Now", self.embedder_status)
        form.addRow("Switching", self.embedder_estimate)
        form.addRow("", self.apply_embedder_button)
        return box

    def _build_ollama_box(self, where: connections.Endpoints) -> QGroupBox:
        self.ollama_host_label = plain_label(where.ollama_host)
        self.ollama_model_edit = QLineEdit("ollama:llama3.2")
        self.ollama_test_button = QPushButton("Test connection")
        self.ollama_result = plain_label()
        self.ollama_test_button.clicked.connect(
            lambda: self._test(self.ollama_model_edit.text(), self.ollama_result)
        )
        box = QGroupBox("Ollama (offline testing)")
        form = QFormLayout(box)
        form.addRow("Server", self.ollama_host_label)
        change_host = "Change it in File ▸ Models… (Server): Botdesk remembers it."
        form.addRow("", plain_label(change_host))
        form.addRow("Test a model", self._row(self.ollama_model_edit, self.ollama_test_button))
        form.addRow("", self.ollama_result)
        return box

    def _build_mistral_box(self, where: connections.Endpoints) -> QGroupBox:
        usable, backend = where.keyring_usable, where.keyring_backend
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("paste the API key")
        self.save_key_button = QPushButton("Save in keyring")
        self.save_key_button.clicked.connect(self.save_key)
        self.remove_key_button = QPushButton("Remove")
        self.remove_key_button.clicked.connect(self.remove_key)
        self.keyring_label = plain_label(
            f"Kept in the system keyring ({backend})."
            if usable
            else f"Cannot keep the key: {backend}. "
            f"Set {where.mistral_key_env} before starting Botdesk."
        )
        for widget in (self.key_edit, self.save_key_button, self.remove_key_button):
            widget.setEnabled(usable)
        self.mistral_model_edit = QLineEdit("mistral:mistral-small-latest")
        self.mistral_test_button = QPushButton("Test connection")
        self.mistral_result = plain_label()
        self.mistral_test_button.clicked.connect(
            lambda: self._test(self.mistral_model_edit.text(), self.mistral_result)
        )
        box = QGroupBox("Mistral (hosted answers)")
        form = QFormLayout(box)
        form.addRow("Server", plain_label(where.mistral_url))
        form.addRow(
            "API key", self._row(self.key_edit, self.save_key_button, self.remove_key_button)
        )
        form.addRow("", self.keyring_label)
        form.addRow("Test a model", self._row(self.mistral_model_edit, self.mistral_test_button))
        form.addRow("", self.mistral_result)
        return box

    def _lay_out(self, *boxes: QGroupBox) -> None:
        """The boxes in a scrolling body, above Close and "Set up models…"."""
        self.model_setup_button = QPushButton("Set up models…")
        self.model_setup_button.setToolTip(
            "Find Ollama and download a model, or keep a Mistral key: the first-run guide's step"
        )
        self.model_setup_button.clicked.connect(self.open_model_setup)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.model_setup_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        body = QWidget()
        body_layout = QVBoxLayout(body)
        for box in boxes:
            body_layout.addWidget(box)
        # Scrolls rather than growing past a laptop's screen (it is taller than 640 px).
        scroll = QScrollArea()
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        self.resize(660, min(MAX_START_HEIGHT, body.sizeHint().height() + 60))

    def _build_answers_box(self) -> QGroupBox:
        """The model that answers: it is set on the profiles checked here (the Test bench's
        set-ups), the `default` one unless others are checked."""
        self.answer_model_combo = QComboBox()
        self.answer_model_combo.setEditable(True)
        self.answer_model_combo.addItems(
            [self.ollama_model_edit.text(), self.mistral_model_edit.text()]
        )
        self.profile_list = QListWidget()
        self.profile_list.setMaximumHeight(80)
        self.apply_model_button = QPushButton("Use for answers")
        self.apply_model_button.clicked.connect(self.apply_answer_model)
        self.answer_model_result = plain_label()
        box = QGroupBox("Answers in this workspace")
        form = QFormLayout(box)
        form.addRow("Model", self._row(self.answer_model_combo, self.apply_model_button))
        form.addRow(
            "", plain_label("Sets the model of the checked profiles (default if none is checked).")
        )
        form.addRow("Profiles", self.profile_list)
        form.addRow("", self.answer_model_result)
        return box

    @staticmethod
    def _row(*widgets: QWidget) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        for i, widget in enumerate(widgets):
            layout.addWidget(widget, 1 if i == 0 else 0)
        return row

    @property
    def workspace(self) -> Workspace | None:
        return self.context.workspace

    async def wait_idle(self) -> None:
        """For tests and closing: until every check started here has finished."""
        await self._tasks.wait_idle()

    # -- embedder ------------------------------------------------------------------------
    def _load_workspace(self) -> None:
        ws = self.workspace
        for widget in (
            self.embedder_combo,
            self.apply_embedder_button,
            self.answer_model_combo,
            self.apply_model_button,
            self.profile_list,
        ):
            widget.setEnabled(ws is not None)
        if ws is None:
            self.embedder_status.setText("Open a workspace to choose its embedder.")
            self.answer_model_result.setText("Open a workspace to choose its answer model.")
            return
        self._load_profiles(ws)
        status = index.index_status(ws)
        self.embedder_combo.blockSignals(True)
        self.embedder_combo.setCurrentText(status.embedder)
        self.embedder_combo.blockSignals(False)
        self.embedder_status.setText(status.line())
        self._estimate(status.embedder)

    def _estimate(self, spec: str) -> None:
        ws = self.workspace
        if ws is None:
            return
        try:
            estimate = index.estimate_embedder(ws, spec)
        except BotdeskError as exc:
            self.embedder_estimate.setText(f"{exc.message} {exc.hint}".strip())
            self.apply_embedder_button.setEnabled(False)
            return
        self.apply_embedder_button.setEnabled(True)
        if estimate is None:
            self.embedder_estimate.setText("Keyword search only: nothing to embed.")
        else:
            self.embedder_estimate.setText(estimate.line() + "; embedded at the next sync (F5).")

    def apply_embedder(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        try:
            estimate = index.set_embedder(ws, self.embedder_combo.currentText())
        except BotdeskError as exc:
            self.context.messages.error(exc, context="Embedder not changed")
            return
        done = "Embedder set" + (f": {estimate.line()}" if estimate else ": keyword search only")
        self.context.messages.info(done + ". Sync (F5) embeds what is missing.")
        self._load_workspace()
        self.context.content_changed.emit()

    # -- the answer model ------------------------------------------------------------------
    def _load_profiles(self, ws: Workspace) -> None:
        self.profile_list.clear()
        for profile in answers.list_profiles(ws):
            item = QListWidgetItem(f"{profile.name}  ({profile.generator})")
            item.setData(Qt.ItemDataRole.UserRole, profile.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            default = profile.name == "default"
            item.setCheckState(Qt.CheckState.Checked if default else Qt.CheckState.Unchecked)
            self.profile_list.addItem(item)
            if default:
                self.answer_model_combo.setCurrentText(profile.generator)

    def checked_profiles(self) -> list[str]:
        items = [self.profile_list.item(i) for i in range(self.profile_list.count())]
        checked = [it for it in items if it.checkState() == Qt.CheckState.Checked]
        return [str(it.data(Qt.ItemDataRole.UserRole)) for it in checked]

    def apply_answer_model(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        spec = self.answer_model_combo.currentText().strip()
        try:
            changed = model_setup.set_answer_model(ws, spec, self.checked_profiles())
        except BotdeskError as exc:
            self.answer_model_result.setText(f"✗ {exc.message} {exc.hint}".strip())
            return
        names = ", ".join(p.name for p in changed)
        self.answer_model_result.setText(f"✓ {spec} now answers in: {names}.")
        self._load_profiles(ws)
        self.context.content_changed.emit()

    def open_model_setup(self) -> ModelSetupDialog:
        dialog = ModelSetupDialog(self.context, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # -- connections ---------------------------------------------------------------------
    def _test(self, spec: str, result: QLabel) -> None:
        result.setText("Testing…")
        self._tasks.spawn(self._run_test(spec, result))

    async def _run_test(self, spec: str, result: QLabel) -> None:
        try:
            summary = await connections.check_connection(spec, self.context.backends)
        except BotdeskError as exc:
            result.setText(f"✗ {exc.message} {exc.hint}".strip())
            return
        result.setText(f"✓ {summary}")

    # -- the Mistral key ----------------------------------------------------------------
    def save_key(self) -> None:
        key = self.key_edit.text().strip()
        if not key:
            self.mistral_result.setText("Paste the key first.")
            return
        self._tasks.spawn(self._store_key(key))

    def remove_key(self) -> None:
        self._tasks.spawn(self._store_key(None))

    async def _store_key(self, key: str | None) -> None:
        try:
            if key is None:
                await connections.remove_mistral_key()
            else:
                await connections.set_mistral_key(key)
        except BotdeskError as exc:
            self.mistral_result.setText(f"✗ {exc.message} {exc.hint}".strip())
            return
        self.key_edit.clear()
        self.mistral_result.setText("Key saved in the keyring." if key else "Key removed.")
