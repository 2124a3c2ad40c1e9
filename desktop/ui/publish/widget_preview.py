"""The Publish page's "Widget" panel: the embed snippet to copy, and the real widget previewed
on the customer's own page through the local preview server (services.preview), opened in
the system browser (the installed Qt has no web engine, and the system browser is what
visitors use anyway)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.core.jobs import Job, JobEvent, JobState
from desktop.core.store.workspace import Workspace
from desktop.services import answers, preview
from desktop.ui.context import WindowContext
from desktop.ui.jobs import JobHandle
from desktop.ui.widgets import plain_label

UrlOpener = Callable[[QUrl], bool]


class WidgetPreviewPanel(QWidget):
    """The embed snippet with a Copy button; "Preview on my page…" with its address and Stop."""

    # The preview listens at this address (emitted on the GUI thread by the job's callback).
    preview_ready = Signal(str)

    def __init__(
        self,
        context: WindowContext,
        *,
        open_url: UrlOpener = QDesktopServices.openUrl,
    ) -> None:
        super().__init__()
        self.context = context
        self.open_url = open_url
        self.job: JobHandle | None = None
        self.address = ""

        layout = QVBoxLayout(self)
        layout.addWidget(self._build_embed_box())
        layout.addWidget(self._build_preview_box())
        layout.addStretch(1)
        self.preview_ready.connect(self._on_ready)
        context.workspace_changed.connect(self.on_workspace_changed)
        self.on_workspace_changed(context.workspace)

    def _build_embed_box(self) -> QGroupBox:
        """The embed snippet, its Copy button and the notes under it."""
        self.snippet = QPlainTextEdit()
        self.snippet.setReadOnly(True)
        self.snippet.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.snippet.setFixedHeight(64)
        self.snippet.setAccessibleName("Embed snippet")
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(self.copy_snippet)
        self.copy_note = plain_label()
        self.snippet_note = plain_label()
        embed_box = QGroupBox("Put the chat on your website")
        embed_layout = QVBoxLayout(embed_box)
        embed_layout.addWidget(
            plain_label(
                "Paste this one line into your pages, just before </body>. It loads without "
                "slowing the page or moving anything on it."
            )
        )
        embed_layout.addWidget(self.snippet)
        copy_row = QHBoxLayout()
        copy_row.addWidget(self.copy_button)
        copy_row.addWidget(self.copy_note, 1)
        embed_layout.addLayout(copy_row)
        embed_layout.addWidget(self.snippet_note)
        return embed_box

    def _build_preview_controls(self) -> None:
        """The page address, the answer profile, Start/Open/Stop and the status line."""
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("https://www.example.com/ (empty: a demo page)")
        self.url_edit.returnPressed.connect(self.start_preview)
        self.profile_combo = QComboBox()
        self.start_button = QPushButton("Preview on my page…")
        self.start_button.clicked.connect(self.start_preview)
        self.open_button = QPushButton("Open in browser")
        self.open_button.clicked.connect(self.open_in_browser)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop_preview)
        self.status = plain_label(
            "See the real widget on your own page, answering from this workspace. "
            "It runs on this computer only; nothing is published."
        )
        self.status.setAccessibleName("Preview status")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def _build_preview_box(self) -> QGroupBox:
        """The "Preview on my page" box: the controls as a form, and what the preview shows."""
        self._build_preview_controls()
        preview_box = QGroupBox("Preview on my page")
        form = QFormLayout(preview_box)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("Page", self.url_edit)
        form.addRow("Answer profile", self.profile_combo)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.open_button, self.stop_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        form.addRow(buttons)
        form.addRow(self.status)
        form.addRow(
            plain_label(
                "The preview uses the saved widget settings. Your page's own scripts do not "
                "run in it, so pages drawn by JavaScript may look bare."
            )
        )
        return preview_box

    # -- workspace -------------------------------------------------------------------------
    def on_workspace_changed(self, workspace: Workspace | None) -> None:
        if self.job is not None:
            self.stop_preview()  # it answers from the workspace that was closed
        self.setEnabled(workspace is not None)
        self.refresh(workspace)
        self._show_idle()

    def showEvent(self, event: QShowEvent) -> None:
        # The publish target may have changed on the page since: the snippet follows it.
        self.refresh(self.context.workspace)
        super().showEvent(event)

    def refresh(self, workspace: Workspace | None) -> None:
        if workspace is None:
            self.snippet.setPlainText("")
            self.profile_combo.clear()
            return
        self.snippet.setPlainText(preview.snippet_for(workspace))
        from desktop.services import publish

        endpoint, bot_id = publish.get_target(workspace)
        self.snippet_note.setText(
            ""
            if endpoint and bot_id
            else "Set the endpoint and bot id under Publish first: the snippet shows "
            "placeholders until then."
        )
        current = self.profile_combo.currentText()
        self.profile_combo.clear()
        self.profile_combo.addItems([p.name for p in answers.list_profiles(workspace)])
        if current:
            self.profile_combo.setCurrentText(current)

    # -- the snippet ---------------------------------------------------------------------------
    def copy_snippet(self) -> None:
        QGuiApplication.clipboard().setText(self.snippet.toPlainText())
        self.copy_note.setText("Copied.")

    # -- the preview ---------------------------------------------------------------------------
    def start_preview(self) -> JobHandle | None:
        ws = self.context.workspace
        if ws is None or self.job is not None:
            return None
        page_url = self.url_edit.text().strip() or None
        profile = self.profile_combo.currentText() or "default"
        backends = self.context.backends
        ready = self.preview_ready.emit

        async def work(job: Job) -> preview.PreviewReport:
            return await preview.run_preview(
                ws, job, page_url=page_url, profile=profile, backends=backends, on_ready=ready
            )

        self.job = self.context.jobs.start("Widget preview", work)
        self.job.finished.connect(self._on_finished)
        self.job.changed.connect(self._on_changed)
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText(f"Fetching {page_url}…" if page_url else "Starting the preview…")
        return self.job

    def stop_preview(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Stopping the preview…")

    def open_in_browser(self) -> None:
        if self.address and not self.open_url(QUrl(self.address)):
            self.context.messages.info(f"Open {self.address} in your browser.")

    def _on_ready(self, url: str) -> None:
        self.address = url
        self.open_button.setEnabled(True)
        self.status.setText(
            f"Preview running at {url} (this computer only). Answers come from the "
            f"{self.profile_combo.currentText() or 'default'} profile."
        )
        self.open_in_browser()

    def _on_changed(self, event: JobEvent) -> None:
        if event.error_count and event.state is JobState.RUNNING and self.address:
            self.status.setText(
                f"Preview running at {self.address}. {event.error_count} answer(s) failed: "
                "see the jobs panel for why."
            )

    def _on_finished(self, event: JobEvent, result: object) -> None:
        self.job = None
        self.address = ""
        self._show_idle()
        if isinstance(result, preview.PreviewReport):
            self.status.setText(event.summary)
        elif event.state is JobState.FAILED:
            self.status.setText(f"The preview could not start: {event.summary}")

    def _show_idle(self) -> None:
        running = self.job is not None
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.open_button.setEnabled(running and bool(self.address))
