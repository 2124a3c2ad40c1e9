"""The models step: find a local Ollama (and download what is missing), or keep a Mistral
key; choose the model that answers and the embedder, with its cost.

`ModelSetupPanel` is the step's body; the first-run guide shows it as a page and
`ModelSetupDialog` on its own (from the Test bench's "set one up" and File ▸ Models).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from desktop.core.errors import BotdeskError
from desktop.core.jobs import Job, JobEvent, JobState
from desktop.core.store.workspace import Workspace
from desktop.services import connections, index, model_setup
from desktop.services.backends import OLLAMA_DEFAULT_HOST
from desktop.services.model_setup import OllamaFound
from desktop.ui.context import WindowContext
from desktop.ui.jobs import JobHandle
from desktop.ui.tasks import TaskSet
from desktop.ui.widgets import plain_label

MB = 1_000_000


def _bar_text(event: JobEvent) -> str:
    return event.count_text() if event.total else (event.message or event.stage)


class ModelSetupPanel(QWidget):
    """Ollama, Mistral, and the two choices (answers, embedder) for one workspace."""

    found_changed = Signal(object)  # OllamaFound

    def __init__(self, context: WindowContext, *, choose_profiles: bool) -> None:
        super().__init__()
        self.context = context
        self._tasks = TaskSet()
        self.found: OllamaFound | None = None
        self.download: JobHandle | None = None
        self.choose_profiles = choose_profiles
        self._build_ollama_box()
        self._build_mistral_box()
        self._build_choice_box(choose_profiles)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.ollama_box)
        layout.addWidget(self.mistral_box)
        layout.addWidget(self.choice_box)
        layout.addStretch(1)
        self.embedder_combo.currentTextChanged.connect(self.update_cost)

    # -- building ------------------------------------------------------------------------
    def _build_ollama_box(self) -> None:
        self.ollama_status = plain_label("Looking for Ollama…")
        # Ollama may run on another computer (a consultant's GPU box): its address here,
        # kept for the next start, instead of an environment variable set before starting.
        self.server_edit = QLineEdit(self.context.backends.ollama_host)
        self.server_edit.setPlaceholderText(OLLAMA_DEFAULT_HOST)
        self.server_edit.setToolTip(
            "Where Ollama runs: this computer (http://127.0.0.1:11434) or another one on "
            "your network. Botdesk remembers it."
        )
        self.server_edit.returnPressed.connect(self.detect)
        self.check_button = QPushButton("Check again")
        self.check_button.clicked.connect(self.detect)
        self.pull_edit = QLineEdit(model_setup.SUGGESTED_OLLAMA_GENERATOR)
        self.pull_edit.setPlaceholderText("a model from ollama.com/library, e.g. llama3.2")
        self.pull_button = QPushButton("Download")
        self.pull_button.clicked.connect(self.start_download)
        self.pull_bar = QProgressBar()
        self.pull_bar.hide()
        self.pull_result = plain_label()
        pull_row = QHBoxLayout()
        pull_row.addWidget(self.pull_edit, 1)
        pull_row.addWidget(self.pull_button)
        pull_row.addWidget(self.check_button)
        self.ollama_box = QGroupBox("On this computer: Ollama (free, private)")
        form = QFormLayout(self.ollama_box)
        form.addRow("Server", self.server_edit)
        form.addRow(self.ollama_status)  # its own row: a wrapped label beside a button clips
        form.addRow("Download a model", pull_row)
        form.addRow(self.pull_bar)
        form.addRow(self.pull_result)

    def _build_mistral_box(self) -> None:
        where = connections.endpoints(self.context.backends)
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("paste your Mistral API key")
        self.save_key_button = QPushButton("Keep in keyring")
        self.save_key_button.clicked.connect(self.save_key)
        self.key_status = plain_label(
            f"Kept in the system keyring ({where.keyring_backend}), never in the workspace."
            if where.keyring_usable
            else f"No keyring here ({where.keyring_backend}): set {where.mistral_key_env} "
            "before starting Botdesk instead."
        )
        for widget in (self.key_edit, self.save_key_button):
            widget.setEnabled(where.keyring_usable)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.save_key_button)
        self.mistral_box = QGroupBox("Hosted: Mistral (needs an API key)")
        form = QFormLayout(self.mistral_box)
        form.addRow("API key", key_row)
        form.addRow(self.key_status)

    def _build_choice_box(self, choose_profiles: bool) -> None:
        self.generator_combo = QComboBox()
        self.generator_combo.setEditable(True)
        self.embedder_combo = QComboBox()
        self.embedder_combo.setEditable(True)
        self.cost_label = plain_label()
        self.profile_list = QListWidget()
        self.profile_list.setMaximumHeight(90)
        self.profile_list.setVisible(choose_profiles)
        self.choice_box = QGroupBox("Your choice")
        form = QFormLayout(self.choice_box)
        answers_label = "Answers by (for the checked profiles)" if choose_profiles else "Answers by"
        form.addRow(answers_label, self.generator_combo)
        if choose_profiles:
            form.addRow("Profiles", self.profile_list)
        form.addRow("Embedder", self.embedder_combo)
        form.addRow("Cost", self.cost_label)
        self._fill_choices()

    # -- the workspace -------------------------------------------------------------------
    @property
    def workspace(self) -> Workspace | None:
        return self.context.workspace

    def load(self) -> None:
        """Show the open workspace's profiles and embedder, then look for Ollama."""
        ws = self.workspace
        self.profile_list.clear()
        if ws is not None:
            for name in model_setup.profile_names(ws):
                item = QListWidgetItem(name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(
                    Qt.CheckState.Checked if name == "default" else Qt.CheckState.Unchecked
                )
                self.profile_list.addItem(item)
            self.embedder_combo.setCurrentText(index.index_status(ws).embedder)
        self.update_cost()
        self.detect()

    def checked_profiles(self) -> list[str]:
        items = (self.profile_list.item(i) for i in range(self.profile_list.count()))
        return [it.text() for it in items if it.checkState() == Qt.CheckState.Checked]

    def update_cost(self) -> None:
        ws = self.workspace
        spec = self.embedder_combo.currentText().strip()
        if ws is None or not spec:
            self.cost_label.setText("")
            return
        self.cost_label.setText(model_setup.embedder_cost(ws, spec))

    def apply(self) -> bool:
        """Record the embedder and the answer model; False (and a message) if refused."""
        ws = self.workspace
        if ws is None:
            return False
        profiles = self.checked_profiles() if self.choose_profiles else []
        try:
            index.set_embedder(ws, self.embedder_combo.currentText().strip())
            generator = self.generator_combo.currentText().strip()
            if generator:
                model_setup.set_answer_model(ws, generator, profiles)
        except BotdeskError as exc:
            self.context.messages.error(exc, context="Models not set")
            return False
        self.context.content_changed.emit()
        return True

    # -- Ollama ----------------------------------------------------------------------------
    def detect(self) -> None:
        """Look for Ollama at the address in the Server field (a new one is used from now on)."""
        typed = self.server_edit.text().strip() or OLLAMA_DEFAULT_HOST
        if typed != self.context.backends.ollama_host:
            try:
                self.server_edit.setText(self.context.use_ollama_server(typed))
            except BotdeskError as exc:
                self.ollama_status.setText(f"✗ {exc.message} {exc.hint}".strip())
                return
        self.ollama_status.setText("Looking for Ollama…")
        self._tasks.spawn(self._detect())

    async def _detect(self) -> None:
        found = await model_setup.find_ollama(self.context.backends)
        self.found = found
        if found.running:
            listed = ", ".join(found.models) or "no models yet"
            self.ollama_status.setText(f"✓ Ollama at {found.host}: {listed}.")
            missing = [
                m
                for m in (
                    model_setup.SUGGESTED_OLLAMA_GENERATOR,
                    model_setup.SUGGESTED_OLLAMA_EMBEDDER,
                )
                if not found.has(m)
            ]
            self.pull_edit.setText(missing[0] if missing else "")
        else:
            self.ollama_status.setText(f"✗ {found.problem}")
        self.pull_button.setEnabled(found.running and self.download is None)
        self._fill_choices()
        self.found_changed.emit(found)

    def _fill_choices(self) -> None:
        found = self.found
        chat = [f"ollama:{m}" for m in found.chat_models()] if found else []
        embed = [f"ollama:{m}" for m in found.embedding_models()] if found else []
        current_generator = self.generator_combo.currentText()
        current_embedder = self.embedder_combo.currentText()
        self.generator_combo.clear()
        self.generator_combo.addItems([*chat, model_setup.MISTRAL_GENERATOR])
        self.embedder_combo.clear()
        self.embedder_combo.addItems(["none", *embed, model_setup.MISTRAL_EMBEDDER])
        if current_generator:
            self.generator_combo.setCurrentText(current_generator)
        if current_embedder:
            self.embedder_combo.setCurrentText(current_embedder)
        elif embed:
            self.embedder_combo.setCurrentText(embed[0])

    def start_download(self) -> JobHandle | None:
        name = self.pull_edit.text().strip()
        if not name or self.download is not None:
            return None

        async def work(job: Job) -> str:
            return await model_setup.pull_ollama_model(name, job, self.context.backends)

        self.download = self.context.jobs.start(f"Download {name}", work)
        self.download.changed.connect(self._on_download_progress)
        self.download.finished.connect(self._on_download_finished)
        self.pull_button.setEnabled(False)
        self.pull_bar.setRange(0, 0)
        self.pull_bar.show()
        self.pull_result.setText(f"Downloading {name}…")
        return self.download

    def _on_download_progress(self, event: JobEvent) -> None:
        if event.total:
            # In MB: a byte count does not fit a QProgressBar's int above 2 GB.
            self.pull_bar.setRange(0, max(1, event.total // MB))
            self.pull_bar.setValue(event.done // MB)
        self.pull_bar.setFormat(_bar_text(event))

    def _on_download_finished(self, event: JobEvent, result: object) -> None:
        self.download = None
        self.pull_bar.hide()
        if event.state is JobState.FINISHED:
            self.pull_result.setText(f"✓ {result}")
        else:
            self.pull_result.setText(f"✗ {event.summary}")
        self.detect()

    # -- Mistral ---------------------------------------------------------------------------
    def save_key(self) -> None:
        key = self.key_edit.text().strip()
        if not key:
            self.key_status.setText("Paste the key first.")
            return
        self._tasks.spawn(self._store_key(key))

    async def _store_key(self, key: str) -> None:
        try:
            await connections.set_mistral_key(key)
        except BotdeskError as exc:
            self.key_status.setText(f"✗ {exc.message} {exc.hint}".strip())
            return
        self.key_edit.clear()
        self.key_status.setText("✓ Key kept in the keyring.")
        self.generator_combo.setCurrentText(model_setup.MISTRAL_GENERATOR)

    async def wait_idle(self) -> None:
        """For tests and closing: until detection, downloads' start and key saves are done."""
        await self._tasks.wait_idle()


class ModelsPage(QWizardPage):
    """The first-run guide's models step."""

    def __init__(self, context: WindowContext) -> None:
        super().__init__()
        self.setTitle("Choose the models")
        self.setSubTitle(
            "A model on this computer (Ollama) is free and private; Mistral runs hosted. "
            "The embedder lets questions find passages by meaning."
        )
        self.panel = ModelSetupPanel(context, choose_profiles=False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel)

    def initializePage(self) -> None:
        self.panel.load()

    def validatePage(self) -> bool:
        return self.panel.apply()


class ModelSetupDialog(QDialog):
    """The models step on its own: from the Test bench ("Answers need a model") and File ▸
    Models…; sets the answer model of the checked profiles and the workspace's embedder."""

    def __init__(self, context: WindowContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Set up the models")
        self.panel = ModelSetupPanel(context, choose_profiles=True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Close
        )
        self.apply_button = buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.clicked.connect(self._apply)
        buttons.rejected.connect(self.reject)
        self.result_label = plain_label()
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel, 1)
        layout.addWidget(self.result_label)
        layout.addWidget(buttons)
        self.resize(680, self.sizeHint().height())
        self.apply_button.setEnabled(context.workspace is not None)
        if context.workspace is None:
            self.result_label.setText("Open or create a workspace to choose its models.")
        self.panel.load()

    def _apply(self) -> None:
        if self.panel.apply():
            profiles = ", ".join(self.panel.checked_profiles()) or "default"
            generator = self.panel.generator_combo.currentText()
            self.result_label.setText(
                f"Saved: {generator} answers in {profiles}; "
                f"embedder {self.panel.embedder_combo.currentText()} (embedded at the next sync)."
            )
