"""The first-run guide: name → website and files → models → a first question.

It opens when Botdesk starts with no workspace yet, and from File ▸ New. The workspace is
created after the first step; the first sync starts after the second and runs while the user
chooses the models; at the end the passages are embedded and the Test bench asks the first
question.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget, QWizard, QWizardPage

from desktop.core.jobs import Job, JobEvent, JobState
from desktop.core.store.workspace import Workspace
from desktop.services import content, index
from desktop.ui.context import WindowContext
from desktop.ui.first_run.model_step import ModelsPage
from desktop.ui.first_run.name_step import NamePage
from desktop.ui.first_run.sources_step import SourcesPage
from desktop.ui.jobs import JobHandle
from desktop.ui.widgets import plain_label

FIRST_QUESTION = "What can you help me with?"
AskQuestion = Callable[[str], None]


class ReadyPage(QWizardPage):
    """The last step: how the first sync is going, and the first question to ask."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Ask your bot a first question")
        self.setSubTitle(
            "When the sync has finished, the Test bench opens and asks it. "
            "Save good questions there as tests."
        )
        self.sync_label = plain_label("No sources to sync yet: add them on the Content page.")
        self.question_edit = QLineEdit(FIRST_QUESTION)
        layout = QVBoxLayout(self)
        layout.addWidget(self.sync_label)
        layout.addWidget(plain_label("First question"))
        layout.addWidget(self.question_edit)
        layout.addStretch(1)

    def show_sync(self, event: JobEvent) -> None:
        if event.state is JobState.RUNNING:
            count = f" ({event.done}/{event.total})" if event.total else ""
            self.sync_label.setText(f"Syncing: {event.stage or 'starting'}{count}…")
        else:
            self.sync_label.setText(f"Sync {event.state.value}: {event.summary}")


class FirstRunWizard(QWizard):
    """The guided first hour."""

    def __init__(
        self,
        context: WindowContext,
        *,
        create: Callable[[Path, str], bool],
        ask: AskQuestion,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.context = context
        self._create_workspace = create
        self._ask = ask
        self.created: Path | None = None
        self.sync_job: JobHandle | None = None
        self.setWindowTitle("Set up your bot")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage)
        self.name_page = NamePage(self._create)
        self.sources_page = SourcesPage(context, self._start_sync)
        self.models_page = ModelsPage(context)
        self.ready_page = ReadyPage()
        for page in (self.name_page, self.sources_page, self.models_page, self.ready_page):
            self.addPage(page)
        self.resize(760, 600)

    def _create(self, path: Path, name: str) -> bool:
        if not self._create_workspace(path, name):
            return False
        ws = self.context.workspace
        if ws is None or ws.path.resolve() != path.resolve():
            return False  # the window could not switch (jobs still stopping): say so there
        self.created = path
        return True

    def _start_sync(self) -> None:
        ws = self.context.workspace
        if ws is None or self.sync_job is not None:
            return

        backends = self.context.backends

        async def work(job: Job, sync_ws: Workspace) -> object:
            return await content.sync(sync_ws, job, backends=backends)

        self.sync_job = self.context.jobs.start_on_thread("First sync", ws, work)
        self.sync_job.changed.connect(self.ready_page.show_sync)
        self.sync_job.finished.connect(self._sync_finished)

    def _sync_finished(self, event: JobEvent, result: object) -> None:
        self.ready_page.show_sync(event)
        self.context.content_changed.emit()

    def accept(self) -> None:
        """Finish: embed once the sync is done, then the Test bench asks the first question."""
        question = self.ready_page.question_edit.text().strip() or FIRST_QUESTION
        ws = self.context.workspace
        if ws is not None:
            follow_up(self.context, ws, self.sync_job, question, self._ask)
        super().accept()


def follow_up(
    context: WindowContext,
    ws: Workspace,
    sync_job: JobHandle | None,
    question: str,
    ask: AskQuestion,
) -> None:
    """After the first sync: embed what it found (if an embedder is chosen), then ask."""

    def embed_then_ask() -> None:
        if context.workspace is not ws:
            return  # the user moved on to another workspace meanwhile
        if index.index_status(ws).pending == 0:
            ask(question)
            return
        backends = context.backends
        embed = context.jobs.start_on_thread(
            "Embed passages",
            ws,
            lambda job, embed_ws: index.embed_pending(embed_ws, job, backends=backends),
        )
        embed.finished.connect(lambda *_: ask(question) if context.workspace is ws else None)

    if sync_job is None or sync_job.state is not JobState.RUNNING:
        embed_then_ask()
    else:
        sync_job.finished.connect(lambda *_: embed_then_ask())
