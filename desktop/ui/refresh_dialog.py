"""Workspace ▸ Refresh schedule…: when the system refreshes this workspace, and how it went.

The dialog sets the system scheduler's entry (services.schedule: a systemd timer or crontab
line, a launchd agent, a Task Scheduler task) and shows what it installs and where, then
the refresh history (services.refresh_history) as a table. Scheduler commands run off the GUI
thread. `last_refresh_notice` is what the window says on opening a workspace whose last
refresh went wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTime
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QStatusBar,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.core.errors import BotdeskError
from desktop.core.jobs import Job, JobEvent
from desktop.core.refresh_history import PROBLEM_STATUSES, RefreshReport
from desktop.core.store.workspace import Workspace
from desktop.services import refresh, refresh_history, schedule
from desktop.services.backends import Backends
from desktop.services.schedule import Installed, Schedule, SchedulerHost
from desktop.ui.jobs import JobHandle, JobsController
from desktop.ui.messages import MessageBridge
from desktop.ui.tasks import TaskSet
from desktop.ui.widgets import ElidedLabel, escaped_tooltip, plain_label, table_view

WEEKDAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PROBLEM = QColor("#b3261e")
NOTICE_NAME = "last-refresh-notice"
AnyIndex = QModelIndex | QPersistentModelIndex


def last_refresh_notice(ws: Workspace) -> str | None:
    """One line for the window when the workspace's last refresh failed or was blocked."""
    problem = refresh_history.last_refresh_problem(ws)
    return None if problem is None else problem + " (Workspace ▸ Refresh schedule… shows more.)"


def announce_last_refresh(
    status_bar: QStatusBar, messages: MessageBridge, ws: Workspace | None
) -> str | None:
    """Say in the status bar (not in a dialog) that the last refresh went wrong, and why;
    cleared when another workspace, or none, is open."""
    label = status_bar.findChild(ElidedLabel, NOTICE_NAME)
    if label is None:
        label = ElidedLabel()
        label.setObjectName(NOTICE_NAME)
        label.setStyleSheet(f"color: {_PROBLEM.name()};")
        status_bar.addPermanentWidget(label, 2)
    notice = last_refresh_notice(ws) if ws is not None else None
    label.setText(notice or "")
    label.setVisible(bool(notice))
    if notice:
        messages.info(notice)
    return notice


class RefreshHistoryModel(QAbstractTableModel):
    """The refresh history as rows (newest first); it adapts the service's records."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._reports: list[RefreshReport] = []
        self._rows: list[list[str]] = []

    def set_reports(self, reports: Sequence[RefreshReport]) -> None:
        self.beginResetModel()
        self._reports = list(reports)
        self._rows = refresh_history.history_rows(self._reports)
        self.endResetModel()

    def report(self, row: int) -> RefreshReport:
        return self._reports[row]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(refresh_history.HISTORY_HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(refresh_history.HISTORY_HEADERS)
        ):
            header = refresh_history.HISTORY_HEADERS[section]
            return header[:1].upper() + header[1:]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        cells = self._rows[index.row()]
        if not 0 <= index.column() < len(cells):
            return None
        report = self._reports[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cells[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            cell = cells[index.column()]
            extra = f"\n\n{report.summary}" if report.summary and report.summary != cell else ""
            return escaped_tooltip(cell + extra) if cell or extra else None
        problem = report.status in PROBLEM_STATUSES
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 1 and problem:
            return QBrush(_PROBLEM)
        return None


class RefreshScheduleDialog(QDialog):
    """Off / daily at HH:MM / weekly on DAY at HH:MM; what that installs; the history."""

    def __init__(
        self,
        ws: Workspace,
        messages: MessageBridge,
        parent: QWidget | None = None,
        *,
        host: SchedulerHost | None = None,
        jobs: JobsController | None = None,
        backends: Backends | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Refresh schedule — {ws.path.name}")
        self.ws = ws
        self.workspace_path = ws.path.resolve()
        self.messages = messages
        self.host = host or SchedulerHost()
        self.jobs = jobs
        self.backends = backends  # with `jobs`: what "Refresh now" reaches the world through
        self.tasks = TaskSet()
        self.installed: Installed | None = None
        self._build_when()
        self._build_plan()
        self._build_history()
        self._lay_out()
        self.resize(900, 600)
        for signal in (
            self.mode.buttonToggled,
            self.daily_time.timeChanged,
            self.weekly_time.timeChanged,
            self.weekday.currentIndexChanged,
            self.publish_box.toggled,
        ):
            signal.connect(self._update_plan)
        self.load_history()
        self.tasks.spawn(self._read_installed())

    # -- building ------------------------------------------------------------------------
    def _build_when(self) -> None:
        """Off / daily / weekly and the publish box, in the "When" group."""
        self.off_button = QRadioButton("Off")
        self.daily_button = QRadioButton("Daily at")
        self.weekly_button = QRadioButton("Weekly on")
        self.mode = QButtonGroup(self)
        for button in (self.off_button, self.daily_button, self.weekly_button):
            self.mode.addButton(button)
        self.off_button.setChecked(True)
        self.daily_time = QTimeEdit(QTime(3, 0))
        self.daily_time.setDisplayFormat("HH:mm")
        self.weekday = QComboBox()
        self.weekday.addItems(list(WEEKDAY_LABELS))
        self.weekly_time = QTimeEdit(QTime(3, 0))
        self.weekly_time.setDisplayFormat("HH:mm")
        self.publish_box = QCheckBox(
            "Publish the result when the checks pass and no test regresses"
        )
        self.publish_box.setChecked(True)
        self.when_box = QGroupBox("When")
        grid = QGridLayout(self.when_box)
        grid.addWidget(self.off_button, 0, 0)
        grid.addWidget(self.daily_button, 1, 0)
        grid.addWidget(self.daily_time, 1, 1)
        grid.addWidget(self.weekly_button, 2, 0)
        grid.addWidget(self.weekday, 2, 1)
        grid.addWidget(QLabel("at"), 2, 2)
        grid.addWidget(self.weekly_time, 2, 3)
        grid.addWidget(self.publish_box, 3, 0, 1, 5)
        grid.setColumnStretch(4, 1)

    def _build_plan(self) -> None:
        """What is installed now, what Apply would install, and the Apply button."""
        self.current_label = plain_label("Reading what is installed…")
        self.plan_label = plain_label("")
        self.plan_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.apply_button = QPushButton("Apply")
        self.apply_button.clicked.connect(self.apply)

    def _build_history(self) -> None:
        """The history table (or the words for none yet) and "Refresh now"."""
        self.history_model = RefreshHistoryModel(self)
        self.history_view = table_view(self.history_model, stretch=5)
        for column, width in enumerate((120, 80, 260, 110, 90)):
            self.history_view.setColumnWidth(column, width)
        self.history_empty = plain_label(
            "No refresh yet. Once scheduled (or run with `botdesk refresh`), each one is "
            "listed here with what changed, the test results and whether it went live."
        )
        self.run_now_button = QPushButton("Refresh now")
        self.run_now_button.setToolTip(
            "Run one refresh now, as the schedule would (publishing only if the box above is "
            "ticked and it is safe); it shows in the jobs panel and then in the history."
        )
        self.run_now_button.clicked.connect(self.run_now)
        self.run_now_button.setEnabled(self.jobs is not None and self.backends is not None)
        self.last_run_label = plain_label("")
        self.last_run_label.setVisible(False)  # until a refresh run from here ends

    def _lay_out(self) -> None:
        intro = plain_label(
            "Botdesk can refresh this workspace on its own: sync every source, run the saved "
            "tests, and publish only if nothing that passed before now fails. Your system's "
            "scheduler starts it; nothing of Botdesk keeps running in between, and the "
            "computer must be on (a missed run happens at the next start where the system "
            "allows it)."
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.when_box)
        layout.addWidget(self.plan_label)
        row = QGridLayout()
        row.addWidget(self.current_label, 0, 0)
        row.addWidget(self.apply_button, 0, 1, Qt.AlignmentFlag.AlignTop)
        row.setColumnStretch(0, 1)
        layout.addLayout(row)
        history_row = QHBoxLayout()
        history_row.addWidget(QLabel("History"))
        history_row.addStretch(1)
        history_row.addWidget(self.run_now_button)
        layout.addLayout(history_row)
        layout.addWidget(self.last_run_label)
        layout.addWidget(self.history_empty)
        layout.addWidget(self.history_view, 1)
        layout.addWidget(buttons)

    # -- what the form says --------------------------------------------------------------
    def chosen(self) -> Schedule | None:
        if self.daily_button.isChecked():
            time = self.daily_time.time()
            return Schedule(time.hour(), time.minute())
        if self.weekly_button.isChecked():
            time = self.weekly_time.time()
            return Schedule(time.hour(), time.minute(), self.weekday.currentIndex())
        return None

    def _show_schedule(self, installed: Installed | None) -> None:
        """Set the form to what is installed (without marking it as changed)."""
        if installed is None:
            self.off_button.setChecked(True)
        else:
            when = installed.schedule
            time = QTime(when.hour, when.minute)
            if when.weekday is None:
                self.daily_button.setChecked(True)
                self.daily_time.setTime(time)
            else:
                self.weekly_button.setChecked(True)
                self.weekday.setCurrentIndex(when.weekday)
                self.weekly_time.setTime(time)
            self.publish_box.setChecked("--publish" in installed.command)
        self.current_label.setText(
            "Installed now: " + (installed.describe() if installed else "no schedule.")
        )

    def _update_plan(self) -> None:
        self.tasks.spawn(self._describe_plan(self.chosen(), self.publish_box.isChecked()))

    async def _describe_plan(self, wanted: Schedule | None, publish: bool) -> None:
        if wanted is None:
            text = (
                "Off: Apply removes this workspace's entry from the system's scheduler."
                if self.installed
                else "Off: nothing is installed."
            )
        else:
            try:
                plan = await asyncio.to_thread(
                    schedule.preview, self.workspace_path, wanted, publish=publish, host=self.host
                )
            except BotdeskError as exc:
                text = f"Cannot schedule here: {exc}"
            else:
                files = "".join(f"\n  {path}" for path in plan.write)
                text = (
                    f"{wanted.describe().capitalize()} (local time): Apply installs "
                    f"{plan.describe()}.{' Files:' if files else ''}{files}"
                    f"\nIt runs: {' '.join(plan.argv)}"
                )
        if self.chosen() == wanted:  # an older answer must not overwrite a newer choice
            self.plan_label.setText(text)

    # -- actions -------------------------------------------------------------------------
    async def _read_installed(self) -> None:
        try:
            self.installed = await asyncio.to_thread(
                schedule.show, self.workspace_path, host=self.host
            )
        except BotdeskError as exc:
            self.current_label.setText(f"Could not read the installed schedule: {exc}")
            return
        self._show_schedule(self.installed)
        self._update_plan()

    def apply(self) -> None:
        self.apply_button.setEnabled(False)
        self.tasks.spawn(self._apply(self.chosen(), self.publish_box.isChecked()))

    async def _apply(self, wanted: Schedule | None, publish: bool) -> None:
        try:
            if wanted is None:
                removed = await asyncio.to_thread(
                    schedule.remove, self.workspace_path, host=self.host
                )
                self.installed = None
                self.messages.info(removed.describe())
            else:
                self.installed = await asyncio.to_thread(
                    schedule.install, self.workspace_path, wanted, publish=publish, host=self.host
                )
                self.messages.info(f"Refresh schedule set: {wanted.describe()}.")
        except BotdeskError as exc:
            self.current_label.setText(f"Not changed: {exc}")
            self.messages.error(exc, context="Refresh schedule")
        else:
            self._show_schedule(self.installed)
            self._update_plan()
        finally:
            self.apply_button.setEnabled(True)

    def run_now(self) -> JobHandle | None:
        """One refresh now, as a job of the window (the lock keeps it from overlapping a
        scheduled one: the second says so)."""
        if self.jobs is None or self.backends is None:
            return None
        running = self.jobs.running()
        if running:  # a sync or publish of the window works on the same workspace
            self.last_run_label.setText(
                f"Not started: wait for “{running[0].title}” to finish (jobs panel), then refresh."
            )
            self.last_run_label.setVisible(True)
            return None
        ws, publish_after, backends = self.ws, self.publish_box.isChecked(), self.backends

        async def work(job: Job, refresh_ws: Workspace) -> RefreshReport:
            return await refresh.refresh(
                refresh_ws, job, publish_after=publish_after, backends=backends
            )

        self.run_now_button.setEnabled(False)
        # A refresh may publish: a cancel must let the release call hear its answer (the
        # publish client checks for it between calls), so it stops at the next check only.
        handle = self.jobs.start_on_thread(f"Refresh {ws.path.name}", ws, work, stop_at_once=False)
        handle.finished.connect(self._run_finished)
        self._run_handle = handle  # kept: the handle has no Qt parent
        return handle

    def _run_finished(self, event: JobEvent, result: object) -> None:
        self.run_now_button.setEnabled(True)
        if isinstance(result, RefreshReport):
            self.last_run_label.setText(result.summary)
            self.last_run_label.setVisible(True)
        self.load_history()

    def load_history(self) -> None:
        reports = refresh_history.history(self.ws)
        self.history_model.set_reports(reports)
        self.history_empty.setVisible(not reports)
        self.history_view.setVisible(bool(reports))

    async def wait_idle(self) -> None:
        await self.tasks.wait_idle()

    def done(self, result: int) -> None:
        self.tasks.cancel_all()
        super().done(result)
