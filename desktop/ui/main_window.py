"""The one main window: a start screen, then the workspace's pages, the jobs dock, menus."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMenu,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.core.errors import BotdeskError
from desktop.core.logs import log_file
from desktop.core.store.workspace import SUFFIX, Workspace
from desktop.services import content
from desktop.services.backends import Backends
from desktop.services.content import content_stats
from desktop.services.index import SearchHit
from desktop.services.workspaces import create_workspace, open_workspace
from desktop.ui.content.models import stats_line
from desktop.ui.content.page import ContentPage
from desktop.ui.context import WindowContext, with_saved_servers
from desktop.ui.first_run.model_step import ModelSetupDialog
from desktop.ui.first_run.wizard import FirstRunWizard
from desktop.ui.help import AboutDialog, GuideViewer, open_folder
from desktop.ui.jobs import JobsController, JobsDock
from desktop.ui.messages import MessageBridge
from desktop.ui.pages import Page
from desktop.ui.pages.registry import build_pages
from desktop.ui.refresh_dialog import RefreshScheduleDialog, announce_last_refresh
from desktop.ui.search.page import SearchPage
from desktop.ui.settings_dialog import SettingsDialog
from desktop.ui.start_screen import StartScreen
from desktop.ui.workspace_state import WorkspaceBanner, offer_restore

MAX_RECENT = 8
MAX_PAGE_SHORTCUTS = 9  # Ctrl+1 … Ctrl+9
# A visible focus ring on tables and lists, in the theme's own highlight colour (light and
# dark alike); the same border width either way, so focusing never shifts the layout.
FOCUS_RING_QSS = (
    "QTableView, QTreeView, QListView { border: 1px solid palette(mid); padding: 1px; }"
    " QTableView:focus, QTreeView:focus, QListView:focus"
    " { border: 2px solid palette(highlight); padding: 0px; }"
)


FIRST_SIZE = QSize(1280, 800)


def first_size(available: QSize) -> QSize:
    """The window's size at its first start: 1280x800, or the screen's free area when that
    is smaller (a 1366x768 laptop with its task bar), so the jobs panel and the status bar
    are not below the screen's edge. Later starts restore the size the user left."""
    return FIRST_SIZE.boundedTo(available)


class MainWindow(QMainWindow):
    """Botdesk's main window, one per workspace."""

    def __init__(self, *, backends: Backends, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings("Botdesk", "Botdesk")
        self.messages = MessageBridge(self)
        self.jobs = JobsController(self.messages, self)
        # The Ollama server chosen in the window, if any, over the one the environment names.
        backends = with_saved_servers(backends, self.settings)
        self.context = WindowContext(
            self.messages, self.jobs, backends, self, settings=self.settings
        )
        self.setWindowTitle("Botdesk")
        self.setStyleSheet(FOCUS_RING_QSS)
        self.resize(first_size(self.screen().availableGeometry().size()))

        self.start_screen = self._build_start_screen()
        self.pages: list[Page] = build_pages(self.context)
        self._build_page_list()
        self.central = QStackedWidget()
        self.central.addWidget(self.start_screen)
        self.central.addWidget(self._build_workspace_view())
        self.setCentralWidget(self.central)
        self._build_jobs_dock_and_status_bar()
        self._build_menus()
        self.context.workspace_changed.connect(self._on_workspace_changed)
        self.context.content_changed.connect(self.update_content_status)
        self.start_screen.set_recent(self.recent_workspaces())
        self._restore_geometry()

    # -- layout --------------------------------------------------------------------
    def _build_start_screen(self) -> StartScreen:
        screen = StartScreen()
        screen.open_requested.connect(self.open_path)
        screen.new_requested.connect(self.new_workspace_dialog)
        screen.browse_requested.connect(self.open_workspace_dialog)
        return screen

    def _build_page_list(self) -> None:
        """The page list on the left (nav) and the stack of pages it switches, first shown."""
        self.nav = QListWidget()
        self.nav.setObjectName("page-list")
        self.nav.setMaximumWidth(130)
        self.page_stack = QStackedWidget()
        for page in self.pages:
            self.nav.addItem(page.title)
            self.page_stack.addWidget(page)
        self.nav.currentRowChanged.connect(self.page_stack.setCurrentIndex)
        for page in self.pages:
            self._connect_page_requests(page)
        self.nav.setCurrentRow(0)

    def _connect_page_requests(self, page: Page) -> None:
        """What a page may ask of the window: show a passage on Content, set up a model."""
        if isinstance(page, SearchPage):
            page.show_in_document.connect(self.show_passage_in_content)
        # "Open passage" (the Conversations page: the passage that misled the bot).
        open_passage = getattr(page, "open_passage_requested", None)
        if open_passage is not None:
            open_passage.connect(self.show_passage_by_id)
        # A page that needs a model (the Test bench's "Answers need a model") asks here.
        model_setup_requested = getattr(page, "model_setup_requested", None)
        if model_setup_requested is not None:
            model_setup_requested.connect(self.open_model_setup)

    def _build_workspace_view(self) -> QWidget:
        """The page list beside the pages, with the workspace banner above the pages."""
        workspace_view = QWidget()
        row = QHBoxLayout(workspace_view)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.nav)
        # Read-only, or held by another process: said above the pages (workspace_state.py).
        self.workspace_banner = WorkspaceBanner()
        pages_column = QVBoxLayout()
        pages_column.addWidget(self.workspace_banner)
        pages_column.addWidget(self.page_stack, 1)
        row.addLayout(pages_column, 1)
        return workspace_view

    def _build_jobs_dock_and_status_bar(self) -> None:
        self.jobs_dock = JobsDock(self.jobs, self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.jobs_dock)
        self.status_label = QLabel()
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.statusBar().addPermanentWidget(self.status_label, 1)
        self.messages.message_shown.connect(self._show_in_status_bar)

    # -- menus ---------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self._action(
            file_menu, "&New workspace…", QKeySequence.StandardKey.New, self.new_workspace_dialog
        )
        self._action(
            file_menu, "&Open workspace…", QKeySequence.StandardKey.Open, self.open_workspace_dialog
        )
        self.close_action = self._action(file_menu, "&Close workspace", None, self.close_workspace)
        file_menu.addSeparator()
        self._action(file_menu, "&Models…", None, self.open_model_setup)
        self._action(
            file_menu, "Se&ttings…", QKeySequence.StandardKey.Preferences, self.open_settings
        )
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        edit_menu = self.menuBar().addMenu("&Edit")
        undo = self.context.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.context.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        edit_menu.addAction(undo)
        edit_menu.addAction(redo)
        self.edit_menu = edit_menu
        self.view_menu = self.menuBar().addMenu("&View")
        self.page_actions: list[QAction] = []
        self._add_page_actions(self.view_menu)
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.jobs_dock.toggleViewAction())
        self.workspace_menu = self.menuBar().addMenu("&Workspace")
        self.sync_action = self._action(self.workspace_menu, "&Sync", "F5", self.sync_content)
        self.sync_action.setEnabled(False)
        self.refresh_schedule_action = self._action(
            self.workspace_menu, "&Refresh schedule…", None, self.open_refresh_schedule
        )
        self.refresh_schedule_action.setEnabled(False)
        help_menu = self.menuBar().addMenu("&Help")
        self._action(
            help_menu, "Botdesk &user guide", QKeySequence.StandardKey.HelpContents, self.show_guide
        )
        self._action(help_menu, "Open &log folder", None, self.open_log_folder)
        help_menu.addSeparator()
        self._action(help_menu, "&About Botdesk", None, self.show_about)

    def _add_page_actions(self, menu: QMenu) -> None:
        """One action per page, Ctrl+1… in the order of the page list (from the registry)."""
        group = QActionGroup(self)  # exclusive: the page shown is the one checked
        for number, page in enumerate(self.pages, start=1):
            shortcut = f"Ctrl+{number}" if number <= MAX_PAGE_SHORTCUTS else None
            action = self._action(
                menu, page.title, shortcut, functools.partial(self.show_page_at, number - 1)
            )
            action.setCheckable(True)
            group.addAction(action)
            self.page_actions.append(action)
        self.nav.currentRowChanged.connect(self._check_page_action)
        self._check_page_action(self.nav.currentRow())

    def _check_page_action(self, row: int) -> None:
        for index, action in enumerate(self.page_actions):
            action.setChecked(index == row)

    def _action(
        self,
        menu: QMenu,
        text: str,
        shortcut: QKeySequence.StandardKey | str | None,
        slot: Callable[[], object],
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def open_settings(self) -> SettingsDialog:
        """File ▸ Settings…: embedder, Ollama, the Mistral key, each with a connection test."""
        dialog = SettingsDialog(self.context, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def open_refresh_schedule(self) -> RefreshScheduleDialog | None:
        """Workspace ▸ Refresh schedule…: daily or weekly refreshes, and their history."""
        if self.workspace is None:
            return None
        dialog = RefreshScheduleDialog(
            self.workspace, self.messages, self, jobs=self.jobs, backends=self.context.backends
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def show_about(self) -> AboutDialog:
        """Help ▸ About: the version and where the workspace and the log are."""
        ws = self.workspace
        dialog = AboutDialog(self, workspace=ws.path.resolve() if ws is not None else None)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def show_guide(self) -> GuideViewer:
        """Help ▸ User guide (F1): the shipped guide, read-only, links open outside."""
        viewer = GuideViewer(self)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        viewer.show()
        return viewer

    def open_log_folder(self) -> bool:
        if not open_folder(log_file().parent):
            self.messages.info(f"The log is in {log_file().parent}.")
            return False
        return True

    # -- workspaces ----------------------------------------------------------------
    @property
    def workspace(self) -> Workspace | None:
        return self.context.workspace

    def new_workspace_dialog(self) -> FirstRunWizard:
        """File ▸ New: the first-run guide (name, sources, models, a first question)."""
        wizard = FirstRunWizard(
            self.context,
            create=lambda path, name: self.create_path(str(path), name),
            ask=self.ask_first_question,
            parent=self,
        )
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.show()
        return wizard

    def start_first_run_if_new(self) -> FirstRunWizard | None:
        """At start-up: no workspace and none used before means a new user: guide them."""
        if self.workspace is None and not self.recent_workspaces():
            return self.new_workspace_dialog()
        return None

    def open_model_setup(self) -> ModelSetupDialog:
        """File ▸ Models… and the Test bench's "set one up": Ollama, Mistral, the embedder."""
        dialog = ModelSetupDialog(self.context, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def ask_first_question(self, question: str) -> None:
        """The end of the first-run guide: the Test bench asks the question."""
        try:
            page: Any = self.show_page("Test bench")
        except KeyError:
            return
        if hasattr(page, "ask_question"):
            page.ask_question(question)
        elif hasattr(page, "question_edit") and hasattr(page, "ask"):
            page.question_edit.setPlainText(question)
            page.ask()

    def open_workspace_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open workspace", str(Path.home()), f"Botdesk (*{SUFFIX});;All files (*)"
        )
        if path:
            self.open_path(path)

    def create_path(self, path: str, name: str) -> bool:
        try:
            workspace = create_workspace(path, name=name)
        except BotdeskError as exc:
            self.messages.error(exc)
            return False
        self._set_workspace(workspace)
        return True

    def open_path(self, path: str) -> bool:
        try:
            workspace = open_workspace(path)
        except BotdeskError as exc:
            if not (self.messages.modal_dialogs and offer_restore(self, path, exc)):
                self.messages.error(exc)
                return False
            workspace = open_workspace(path)  # the restored backup
        self._set_workspace(workspace)
        return True

    def close_workspace(self) -> None:
        self._after_jobs(lambda: self.context.set_workspace(None))

    def _set_workspace(self, workspace: Workspace) -> None:
        def switch() -> None:
            self.context.set_workspace(workspace)
            self._remember_recent(str(workspace.path.resolve()))

        self._after_jobs(switch)

    def _after_jobs(self, then: Callable[[], None]) -> None:
        """Running jobs use the open workspace: cancel them, and close or switch it only
        once they have stopped (each loses at most its item in flight)."""
        running = self.jobs.running()
        if not running:
            then()
            return
        for job in running:
            job.cancel()

        async def when_stopped() -> None:
            await self.jobs.wait_all()
            then()

        self._closing = asyncio.ensure_future(when_stopped())  # kept: tasks are weakly held

    def _on_workspace_changed(self, workspace: Workspace | None) -> None:
        self.workspace_banner.set_workspace(workspace)
        if workspace is None:
            self.setWindowTitle("Botdesk")
            self.central.setCurrentWidget(self.start_screen)
            self.start_screen.set_recent(self.recent_workspaces())
            self.status_label.setText("")
        else:
            self.setWindowTitle(f"Botdesk — {workspace.path.name}")
            self.central.setCurrentIndex(1)
            self.update_content_status()
        self.close_action.setEnabled(workspace is not None)
        self.sync_action.setEnabled(workspace is not None)
        self.refresh_schedule_action.setEnabled(workspace is not None)
        announce_last_refresh(self.statusBar(), self.messages, workspace)

    def sync_content(self) -> None:
        """Workspace ▸ Sync (F5): every source, as a job in the jobs dock."""
        for page in self.pages:
            if isinstance(page, ContentPage):
                page.start_sync()

    def update_content_status(self) -> None:
        ws = self.workspace
        self.status_label.setText(stats_line(content_stats(ws)) if ws is not None else "")

    def show_page_at(self, row: int) -> Page:
        self.nav.setCurrentRow(row)
        return self.pages[row]

    def show_page(self, title: str) -> Page:
        for index, page in enumerate(self.pages):
            if page.title == title:
                self.nav.setCurrentRow(index)
                return page
        raise KeyError(title)

    def show_passage_in_content(self, hit: SearchHit) -> None:
        """Search ▸ Open in document: the hit's source, document and passage on Content."""
        self._select_in_content(hit.source_id, hit.document_id, hit.chunk_id)

    def show_passage_by_id(self, passage_id: int) -> None:
        """A passage by its id on the Content page (Conversations ▸ Open passage)."""
        ws = self.workspace
        if ws is None:
            return
        try:
            passage = content.get_passage(ws, passage_id)
            document = content.get_document(ws, passage.document_id)
        except BotdeskError as exc:
            self.messages.error(exc)
            return
        self._select_in_content(document.source_id, passage.document_id, passage_id)

    def _select_in_content(
        self, source_id: int | None, document_id: int | None, passage_id: int
    ) -> None:
        try:
            page: Any = self.show_page("Content")
        except KeyError:
            return
        # The Content page's selection methods, where that page offers them.
        for step, value in (("select_source", source_id), ("select_document", document_id)):
            if value is not None and hasattr(page, step):
                getattr(page, step)(value)
        if hasattr(page, "select_passages"):
            page.select_passages([passage_id])

    # -- recent files and geometry -------------------------------------------------
    def recent_workspaces(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):  # QSettings' INI format returns a lone string for one item
            value = [value]
        paths = [str(p) for p in value] if isinstance(value, list) else []
        return [p for p in paths if Path(p).exists()][:MAX_RECENT]

    def _remember_recent(self, path: str) -> None:
        paths = [path] + [p for p in self.recent_workspaces() if p != path]
        self.settings.setValue("recent", paths[:MAX_RECENT])

    def _restore_geometry(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)

    def _show_in_status_bar(self, level: str, text: str) -> None:
        if level != "bug":
            self.statusBar().showMessage(text.splitlines()[0], 10_000)

    def closeEvent(self, event: QCloseEvent) -> None:
        for job in self.jobs.running():
            job.cancel()  # committed work stays; the item in flight is dropped
        self.settings.setValue("geometry", self.saveGeometry())
        self.context.set_workspace(None)
        super().closeEvent(event)
