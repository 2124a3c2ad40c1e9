"""The Publish page's panels: where to publish, the checks, the release history, the widget.

Panels hold widgets and emit intent signals; they call no service (the page wires them to
desktop/ui/publish/actions.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.core.text import size_text
from desktop.services.publish import PublishReport, Quantization, ReleaseInfo
from desktop.ui.publish.form import FormScroll, WidgetForm
from desktop.ui.publish.models import RELEASE_ID_ROLE, ChecksModel, ReleasesModel
from desktop.ui.publish.preview import WidgetPreview
from desktop.ui.widgets import debounce, plain_label, table_view

NO_RELEASES = "No releases yet. Publish to make the first one live."


class TargetPanel(QGroupBox):
    """Endpoint, bot id, token, notes; dry run, publish and the bundle file; the status line."""

    dry_run_requested = Signal()
    publish_requested = Signal()
    build_requested = Signal()
    set_token_requested = Signal()
    forget_token_requested = Signal()
    endpoint_edited = Signal()

    def __init__(self) -> None:
        super().__init__("Where")
        self.endpoint_edit = QLineEdit()
        self.endpoint_edit.setPlaceholderText("https://chat.example.com")
        # Where the token is kept is looked up once typing pauses (it may ask the keyring).
        self._endpoint_pause = debounce(self, self.endpoint_edited.emit, 400)
        self.endpoint_edit.textChanged.connect(self._endpoint_typed)
        self.bot_edit = QLineEdit()
        self.bot_edit.setPlaceholderText("your bot id on the service")
        self.token_label = plain_label()
        self.token_button = QPushButton("Set token…")
        self.token_button.clicked.connect(self.set_token_requested)
        self.forget_token_button = QPushButton("Forget token")
        self.forget_token_button.clicked.connect(self.forget_token_requested)
        self.notes_edit = QLineEdit()
        self.notes_edit.setPlaceholderText("release notes (optional)")
        self.dry_run_button = QPushButton("Dry run")
        self.dry_run_button.setToolTip("Run the checks and measure the bundle; send nothing")
        self.dry_run_button.clicked.connect(self.dry_run_requested)
        self.publish_button = QPushButton("Publish")
        self.publish_button.clicked.connect(self.publish_requested)
        self.quantize_combo = QComboBox()
        self.quantize_combo.addItems(["none", "int8", "binary"])
        self.quantize_combo.setToolTip(
            "Vector precision in the bundle: none (float32), int8 (~4x smaller vectors), "
            "binary (~32x smaller, lower recall; see bench/bundle_size.py)"
        )
        self.build_button = QPushButton("Build bundle file…")
        self.build_button.setToolTip("Write the bundle to a file, e.g. to test it in Test bench")
        self.build_button.clicked.connect(self.build_requested)
        self.status_label = plain_label("Run a dry run to see what would go live.")
        self._lay_out()

    def _lay_out(self) -> None:
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("Endpoint", self.endpoint_edit)
        form.addRow("Bot id", self.bot_edit)
        form.addRow("Token", self.token_label)
        token_buttons = QHBoxLayout()
        token_buttons.addWidget(self.token_button)
        token_buttons.addWidget(self.forget_token_button)
        token_buttons.addStretch(1)
        form.addRow("", token_buttons)
        form.addRow("Notes", self.notes_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.dry_run_button)
        buttons.addWidget(self.publish_button)
        buttons.addStretch(1)
        form.addRow(buttons)
        bundle = QHBoxLayout()
        bundle.addWidget(QLabel("Vectors:"))
        bundle.addWidget(self.quantize_combo)
        bundle.addWidget(self.build_button)
        bundle.addStretch(1)
        form.addRow(bundle)
        form.addRow(self.status_label)

    def _endpoint_typed(self, _text: str) -> None:
        self._endpoint_pause.start()

    def target(self) -> tuple[str, str]:
        return self.endpoint_edit.text().strip(), self.bot_edit.text().strip()

    def set_target(self, endpoint: str | None, bot_id: str | None) -> None:
        self.endpoint_edit.setText(endpoint or "")
        self.bot_edit.setText(bot_id or "")

    def notes(self) -> str:
        return self.notes_edit.text().strip()

    def quantization(self) -> Quantization:
        text = self.quantize_combo.currentText()
        return "int8" if text == "int8" else "binary" if text == "binary" else "none"

    def set_busy(self, busy: bool) -> None:
        for button in (self.dry_run_button, self.publish_button, self.build_button):
            button.setEnabled(not busy)

    def set_status(self, text: str) -> None:
        self.status_label.setText(text)

    def set_token_text(self, text: str, *, found: bool) -> None:
        self.token_label.setText(text)
        self.forget_token_button.setEnabled(found)


class ChecksPanel(QWidget):
    """What the last dry run or publish found, what changed, and the bundle's size."""

    def __init__(self) -> None:
        super().__init__()
        self.model = ChecksModel()
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setWordWrap(True)
        self.view.setUniformItemSizes(False)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setMinimumHeight(80)
        self.changes_label = plain_label("Changes since the last release: run a dry run.")
        self.size_label = plain_label()
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.changes_label)
        layout.addWidget(self.size_label)

    def show_report(self, report: PublishReport) -> None:
        """A dry run's or publish's findings, what changed, and the bundle's size."""
        self.model.set_checks(report.checks)
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
            f"Bundle: {report.passage_count} passages, {size_text(report.bundle_size)}, {kind}."
        )

    def texts(self) -> list[str]:
        """Every finding as shown, with "All checks passed." when a run found nothing."""
        if self.model.ran and not self.model.rowCount():
            return ["All checks passed."]
        index = self.model.index
        return [str(self.model.data(index(row, 0))) for row in range(self.model.rowCount())]

    def clear(self) -> None:
        self.model.set_checks(None)
        self.changes_label.setText("Changes since the last release: run a dry run.")
        self.size_label.setText("")


class ReleasesPanel(QWidget):
    """The release history with refresh and "make selected release live"."""

    refresh_requested = Signal()
    rollback_requested = Signal(str)  # release id

    def __init__(self) -> None:
        super().__init__()
        self.model = ReleasesModel()
        self.table = table_view(self.model, stretch=5)
        for column, width in enumerate((40, 60, 90, 150, 70)):
            self.table.setColumnWidth(column, width)
        self.table.setMinimumHeight(90)
        self.note = plain_label(NO_RELEASES)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Ask the endpoint which releases it has and which is live")
        self.refresh_button.clicked.connect(self.refresh_requested)
        self.rollback_button = QPushButton("Make selected release live…")
        self.rollback_button.clicked.connect(self._rollback_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        buttons = QHBoxLayout()
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.rollback_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

    def show_releases(self, releases: Sequence[ReleaseInfo], note: str = "") -> None:
        """The list, and a note that always matches it (never "no releases" over rows)."""
        self.model.set_releases(releases)
        self.set_note(note)

    def set_note(self, text: str) -> None:
        self.note.setText(text if self.model.rowCount() else f"{NO_RELEASES} {text}".strip())

    def selected_release(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return str(self.model.data(rows[0], RELEASE_ID_ROLE))

    def selected_info(self) -> ReleaseInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.release(rows[0].row()) if rows else None

    def _rollback_clicked(self) -> None:
        release_id = self.selected_release()
        self.rollback_requested.emit(release_id or "")


class WidgetPanel(QWidget):
    """The widget form beside its quick preview; what stops publishing; save, confirmed."""

    save_requested = Signal(object)  # the form's config
    form_changed = Signal(object)  # the form's config, on every edit

    def __init__(self) -> None:
        super().__init__()
        self.form = WidgetForm()
        self.preview = WidgetPreview()
        self.problems_label = plain_label()
        self.save_button = QPushButton("Save widget settings")
        self.save_button.clicked.connect(self._save_clicked)
        self.saved_label = plain_label()
        self.saved_label.setObjectName("widget-saved")
        self.form.changed.connect(self._on_form_changed)
        scroll = FormScroll(self.form)
        column = QWidget()
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.addWidget(scroll, 1)
        column_layout.addWidget(self.problems_label)
        save_row = QHBoxLayout()
        save_row.addWidget(self.save_button)
        save_row.addWidget(self.saved_label, 1)
        column_layout.addLayout(save_row)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(column)
        splitter.addWidget(self.preview)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

    def _save_clicked(self) -> None:
        self.save_requested.emit(self.form.config())

    def load(self, config: dict[str, Any]) -> None:
        self.saved_label.setText("")
        self.form.load(config)

    def show_problems(self, problems: Sequence[str]) -> None:
        self.problems_label.setText(
            "Before publishing:\n" + "\n".join(problems[:6]) if problems else "Ready to publish."
        )

    def show_saved(self, text: str) -> None:
        self.saved_label.setText(text)

    def _on_form_changed(self, config: dict[str, Any]) -> None:
        self.preview.set_config(config)
        self.saved_label.setText("")  # an edit since the save: no longer "saved"
        self.form_changed.emit(config)
