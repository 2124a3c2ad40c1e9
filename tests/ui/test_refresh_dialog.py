"""Workspace ▸ Refresh schedule… in the real window, and the notice of a failed last refresh.

The Linux scheduler is used for real (unit files in the test's XDG_CONFIG_HOME) with the
`systemctl` stand-in first on PATH (tests/helpers/scheduler_stubs.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTime

from desktop.core.jobs import Job
from desktop.core.refresh_history import RefreshReport, TestOutcome
from desktop.core.schedule import entry_id
from desktop.services import refresh, refresh_history
from desktop.services.backends import Backends
from desktop.services.workspaces import create_workspace
from desktop.ui.main_window import MainWindow
from desktop.ui.refresh_dialog import NOTICE_NAME, RefreshHistoryModel, RefreshScheduleDialog
from desktop.ui.widgets import ElidedLabel
from tests.helpers.scheduler_stubs import calls, stubs

__all__ = ["stubs"]  # the fixture


def open_dialog(window: MainWindow, qloop: Any) -> RefreshScheduleDialog:
    window.refresh_schedule_action.trigger()
    [dialog] = [d for d in window.findChildren(RefreshScheduleDialog) if d.isVisible()]
    qloop.wait_until(lambda: dialog.current_label.text().startswith("Installed now"))
    return dialog


@pytest.fixture
def failed_once(tmp_path: Path, qloop: Any, backends: Backends) -> Path:
    """A workspace whose one refresh failed (it was asked to publish, with no endpoint)."""
    path = tmp_path / "acme.botdesk"
    with create_workspace(path, name="Acme") as ws:
        report = qloop.run(
            refresh.refresh(ws, Job("Refresh"), publish_after=True, backends=backends)
        )
        assert report.status == "failed"
    return path


def test_history_model_passes_the_model_tester(qtmodeltester: Any) -> None:
    model = RefreshHistoryModel()
    model.set_reports(
        [
            RefreshReport(
                id=2,
                started_at="2026-11-28T03:00:00+00:00",
                status="blocked",
                changes={
                    "changed": True,
                    "fetched": 3,
                    "passages_added": 2,
                    "passages_changed": 0,
                    "passages_removed": 1,
                    "removed": 0,
                },
                tests=TestOutcome(
                    ran=True,
                    questions=4,
                    passed=3,
                    failed=1,
                    regressions=["<b>Do you deliver?</b>"],
                ),
                reason="a test that passed before now fails: “<b>Do you deliver?</b>”",
                summary="Refresh of acme.botdesk BLOCKED: …",
            ),
            RefreshReport(id=1, started_at="2026-11-27T03:00:00+00:00", status="ok"),
        ]
    )
    qtmodeltester.check(model)
    assert model.rowCount() == 2 and model.columnCount() == len(refresh_history.HISTORY_HEADERS)
    assert model.index(0, 1).data() == "blocked"
    assert model.index(0, 3).data() == "3/4, 1 regressed"
    assert model.index(1, 4).data() == "no"
    tip = model.index(0, 5).data(Qt.ItemDataRole.ToolTipRole)
    assert "<b>" not in tip and "&lt;b&gt;" in tip  # visitor text is never live HTML
    assert model.index(0, 1).data(Qt.ItemDataRole.ForegroundRole) is not None


def test_opening_a_workspace_whose_last_refresh_failed_says_so(
    window: MainWindow, failed_once: Path
) -> None:
    shown: list[tuple[str, str]] = []
    window.messages.message_shown.connect(lambda level, text: shown.append((level, text)))
    assert window.open_path(str(failed_once))
    assert shown and shown[-1][0] == "info"
    assert "The last refresh" in shown[-1][1] and "failed" in shown[-1][1]
    notice = window.statusBar().findChild(ElidedLabel, NOTICE_NAME)
    assert notice is not None and notice.isVisible()
    assert "no endpoint remembered" in notice.text()
    assert window.isEnabled()  # nothing modal: the window stays usable
    window.resize(1024, 640)
    window.grab().save("/tmp/refresh-window-notice.png")
    window.close_workspace()
    assert not notice.isVisible()


def test_no_notice_when_the_last_refresh_went_well(window: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "fine.botdesk"
    create_workspace(path, name="Fine").close()
    shown: list[str] = []
    window.messages.message_shown.connect(lambda level, text: shown.append(text))
    assert window.open_path(str(path))
    assert not any("last refresh" in text for text in shown)


def test_schedule_daily_then_weekly_then_off_from_the_dialog(
    window: MainWindow, qloop: Any, failed_once: Path, stubs: Path, tmp_path: Path
) -> None:
    assert not window.refresh_schedule_action.isEnabled()
    assert window.open_path(str(failed_once))
    dialog = open_dialog(window, qloop)
    assert dialog.off_button.isChecked()
    assert dialog.current_label.text() == "Installed now: no schedule."
    # The history: the failed refresh, as a row.
    assert dialog.history_model.rowCount() == 1
    assert dialog.history_model.index(0, 1).data() == "failed"

    dialog.daily_button.setChecked(True)
    dialog.daily_time.setTime(QTime(4, 30))
    qloop.wait_until(lambda: "Daily at 04:30" in dialog.plan_label.text())
    plan = dialog.plan_label.text()
    units = tmp_path / "config" / "systemd" / "user"
    name = f"botdesk-refresh-{entry_id(failed_once.resolve())}"
    assert "systemd user timer" in plan and str(units / f"{name}.timer") in plan
    assert str(failed_once.resolve()) in plan and "--publish" in plan
    assert not units.exists()  # a preview changes nothing

    dialog.apply_button.click()
    qloop.wait_until(lambda: "daily at 04:30" in dialog.current_label.text())
    assert "OnCalendar=*-*-* 04:30:00" in (units / f"{name}.timer").read_text()
    assert f"systemctl --user enable --now {name}.timer" in calls(stubs)

    dialog.weekly_button.setChecked(True)
    dialog.weekday.setCurrentIndex(4)
    dialog.weekly_time.setTime(QTime(22, 15))
    dialog.publish_box.setChecked(False)
    dialog.apply_button.click()
    qloop.wait_until(lambda: "weekly on Friday at 22:15" in dialog.current_label.text())
    service = (units / f"{name}.service").read_text()
    assert "--publish" not in service

    dialog.off_button.setChecked(True)
    dialog.publish_box.setChecked(True)
    dialog.apply_button.click()
    qloop.wait_until(lambda: dialog.current_label.text() == "Installed now: no schedule.")
    assert not list(units.glob(f"{name}.*"))
    qloop.run(dialog.wait_idle())

    # Refresh now: a job of the window; its result and the history update when it ends.
    # Not while another job of the window works on the workspace.
    gate = asyncio.Event()

    async def busy(job: Job) -> None:
        await gate.wait()

    window.jobs.start("Sync acme", busy)
    assert dialog.run_now() is None and "wait for “Sync acme”" in dialog.last_run_label.text()
    gate.set()
    qloop.run(window.jobs.wait_all())
    handle = dialog.run_now()
    assert handle is not None and not dialog.run_now_button.isEnabled()
    qloop.run(window.jobs.wait_all())
    qloop.wait_until(lambda: dialog.history_model.rowCount() == 2)
    assert "FAILED" in dialog.last_run_label.text()  # publish ticked, no endpoint yet
    assert dialog.run_now_button.isEnabled()

    # Opened again, the dialog reads back what the system holds.
    dialog.close()
    again = open_dialog(window, qloop)
    assert again.off_button.isChecked()
    again.close()


def test_the_dialog_at_1024x640(
    window: MainWindow, qloop: Any, failed_once: Path, stubs: Path, qapp: Any
) -> None:
    assert window.open_path(str(failed_once))
    dialog = open_dialog(window, qloop)
    dialog.daily_button.setChecked(True)
    qloop.wait_until(lambda: "Daily at 03:00" in dialog.plan_label.text())
    for width, height, name in ((1024, 640, "1024"), (1920, 1080, "1920")):
        dialog.resize(width, height)
        qapp.processEvents()
        assert dialog.width() <= width  # the dialog never grows past its screen
        dialog.grab().save(f"/tmp/refresh-dialog-{name}.png")
    qloop.run(dialog.wait_idle())
    dialog.close()
