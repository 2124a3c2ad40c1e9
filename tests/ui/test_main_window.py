"""The main window: start screen, opening workspaces, jobs panel, refusing bad files."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, QSize, QUrl, Slot
from PySide6.QtGui import QColor, QDesktopServices, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox, QTableView

from desktop.core.errors import SourceError
from desktop.core.jobs import Job, JobState
from desktop.core.logs import log_file
from desktop.core.store.workspace import Workspace
from desktop.services.workspaces import create_workspace
from desktop.ui.help import GuideViewer
from desktop.ui.jobs import JobDetailsDialog
from desktop.ui.main_window import MainWindow, first_size


def test_start_screen_then_open_workspace(window: MainWindow, tmp_path: Path, qloop: Any) -> None:
    assert window.central.currentWidget() is window.start_screen
    path = tmp_path / "acme.botdesk"
    create_workspace(path, name="Acme").close()
    assert window.open_path(str(path))
    assert window.windowTitle() == "Botdesk — acme.botdesk"
    assert window.workspace is not None and window.workspace.name == "Acme"
    assert str(path.resolve()) in window.recent_workspaces()
    window.close_workspace()  # after any job a page started on opening has stopped
    qloop.wait_until(lambda: window.central.currentWidget() is window.start_screen)
    assert window.start_screen.recent_list.count() == 1


def test_not_a_workspace_is_refused_with_a_message(window: MainWindow, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.botdesk"
    bogus.write_text("just some notes")
    shown: list[tuple[str, str]] = []
    window.messages.message_shown.connect(lambda level, text: shown.append((level, text)))
    assert not window.open_path(str(bogus))
    assert shown and shown[0][0] == "error" and "not a Botdesk workspace" in shown[0][1]
    assert window.workspace is None
    assert bogus.read_text() == "just some notes"


def test_job_progress_and_cancel_in_the_jobs_dock(window: MainWindow, qloop: Any) -> None:
    started = asyncio.Event()
    processed: list[int] = []

    async def work(job: Job) -> None:
        job.stage("count", total=1000)
        for i in range(1000):
            job.check()
            processed.append(i)
            job.advance(message=f"item {i}")
            started.set()
            await asyncio.sleep(0.001)

    job = window.jobs.start("Counting", work)
    qloop.wait_until(lambda: len(processed) > 5)
    row = window.jobs_dock.rows[job.job_id]
    assert "Counting" in row.label.text()
    row.cancel_button.click()
    qloop.wait_until(lambda: job.state is JobState.CANCELLED)
    assert 5 < len(processed) < 1000
    assert row.cancel_button.text() == "Cancelled"


def test_a_job_on_its_own_thread_writes_through_its_own_connection(
    window: MainWindow, qloop: Any, workspace: Workspace
) -> None:
    """A sync's work runs off the window's thread, with a connection of its own; its
    progress still arrives on the window's thread, and the window reads what it commits."""
    gui_thread = threading.get_ident()
    seen: dict[str, Any] = {}
    events: list[tuple[int, JobState, int]] = []

    async def work(job: Job, ws: Workspace) -> str:
        seen["thread"], seen["conn"] = threading.get_ident(), ws.conn
        job.stage("write", total=50)
        for i in range(50):
            with ws.transaction():
                ws.set_setting(f"item-{i}", i)
            job.advance()
        job.finish("Wrote 50.")
        return "done"

    handle = window.jobs.start_on_thread("Writing", workspace, work)
    handle.changed.connect(lambda e: events.append((threading.get_ident(), e.state, e.done)))
    results: list[object] = []
    handle.finished.connect(lambda _event, result: results.append(result))
    qloop.run(window.jobs.wait_all())
    assert seen["thread"] != gui_thread and seen["conn"] is not workspace.conn
    assert results == ["done"] and handle.state is JobState.FINISHED
    assert workspace.setting("item-49") == 49  # committed, and read on the window's connection
    assert events and all(thread == gui_thread for thread, _, _ in events)
    # The last event shown is the end, and no late progress from the thread follows it.
    assert events[-1][1:] == (JobState.FINISHED, 50)
    qloop.wait_until(lambda: True)
    assert events[-1][1:] == (JobState.FINISHED, 50)
    assert window.jobs_dock.rows[handle.job_id].cancel_button.text() == "Finished"


def test_a_job_on_its_own_thread_stops_at_cancel_and_keeps_its_work(
    window: MainWindow, qloop: Any, workspace: Workspace
) -> None:
    stored: list[int] = []

    async def work(job: Job, ws: Workspace) -> None:
        for i in range(10_000):
            job.check()
            with ws.transaction():
                ws.set_setting("last", i)
            stored.append(i)
            await asyncio.sleep(0.001)

    handle = window.jobs.start_on_thread("Endless", workspace, work)
    qloop.wait_until(lambda: len(stored) > 5)
    window.jobs_dock.rows[handle.job_id].cancel_button.click()
    qloop.wait_until(lambda: handle.state is JobState.CANCELLED)
    assert 5 < len(stored) < 10_000
    assert workspace.setting("last") == stored[-1]  # what was done is kept
    # Closing the workspace while such a job runs stops it, and closes only after it.
    assert window.open_path(str(workspace.path)) and window.workspace is not None
    stored.clear()
    handle = window.jobs.start_on_thread("Endless again", window.workspace, work)
    qloop.wait_until(lambda: len(stored) > 2)
    window.close_workspace()
    qloop.wait_until(lambda: window.central.currentWidget() is window.start_screen)
    assert handle.state is JobState.CANCELLED
    assert workspace.setting("last") == stored[-1]


def test_a_failing_job_reports_without_stopping_the_others(window: MainWindow, qloop: Any) -> None:
    """The error box must not be a nested event loop inside the failing job's task."""
    window.messages.modal_dialogs = True
    ticks: list[int] = []

    async def ticking(job: Job) -> None:
        for i in range(40):
            ticks.append(i)
            await asyncio.sleep(0.005)

    async def failing(job: Job) -> None:
        await asyncio.sleep(0.01)
        raise SourceError("The site answered 500.", hint="Try again later.")

    steady = window.jobs.start("Ticking", ticking)
    broken = window.jobs.start("Failing", failing)
    qloop.wait_until(lambda: steady.state is not JobState.RUNNING, timeout=20)
    assert broken.state is JobState.FAILED
    assert steady.state is JobState.FINISHED and len(ticks) == 40
    boxes = [w for w in window.findChildren(QMessageBox) if w.isVisible()]
    assert any("500" in box.text() for box in boxes)
    for box in boxes:
        box.close()


class UrlCatcher(QObject):
    """Stands in for the system browser / file manager (QDesktopServices' own hook)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[QUrl] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.urls.append(url)


@pytest.fixture
def opened_urls() -> Iterator[list[QUrl]]:
    catcher = UrlCatcher()
    for scheme in ("http", "https", "file"):
        QDesktopServices.setUrlHandler(scheme, catcher, "open")  # type: ignore[arg-type]  # stubs say bytes, PySide wants str
    yield catcher.urls
    for scheme in ("http", "https", "file"):
        QDesktopServices.unsetUrlHandler(scheme)


def test_view_menu_and_ctrl_numbers_switch_pages(window: MainWindow, tmp_path: Path) -> None:
    assert window.create_path(str(tmp_path / "acme.botdesk"), "Acme")
    titles = [page.title for page in window.pages]
    assert [a.text() for a in window.page_actions] == titles  # derived from the page list
    for number, action in enumerate(window.page_actions, start=1):
        assert action.shortcut().toString() == f"Ctrl+{number}"
        assert action in window.view_menu.actions()
    for row in reversed(range(len(window.pages))):
        window.page_actions[row].trigger()
        assert window.nav.currentRow() == row
        assert window.page_stack.currentWidget() is window.pages[row]
        assert [a.isChecked() for a in window.page_actions].count(True) == 1
        assert window.page_actions[row].isChecked()
    window.show_page("Search")
    assert window.page_actions[titles.index("Search")].isChecked()


def test_the_user_guide_opens_read_only_and_links_go_outside(
    window: MainWindow, qtbot: Any, opened_urls: list[QUrl]
) -> None:
    viewer = window.show_guide()
    qtbot.waitExposed(viewer)
    text = viewer.browser.toPlainText()
    for heading in ("The first hour", "The five pages", "Syncing", "Testing", "Publishing"):
        assert heading in text
    assert "Conversations" in text and "botdesk sync" in text
    assert viewer.browser.isReadOnly() and not viewer.browser.openLinks()
    before = viewer.browser.toPlainText()
    viewer.browser.anchorClicked.emit(QUrl("https://example.com/help"))
    viewer.browser.anchorClicked.emit(QUrl("file:///etc/passwd"))
    assert [u.toString() for u in opened_urls] == ["https://example.com/help"]
    assert viewer.browser.toPlainText() == before  # nothing was loaded inside the app


def test_the_guide_never_renders_raw_html(qtbot: Any, tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text("# Guide\n\nSee <b>bold</b> and <img src=x onerror=alert(1)> here.\n")
    viewer = GuideViewer(None, path=guide)
    qtbot.addWidget(viewer)
    text = viewer.browser.toPlainText()
    assert "<b>bold</b>" in text and "<img src=x" in text  # shown as text, not markup


def test_about_shows_the_version_and_the_paths(
    window: MainWindow, tmp_path: Path, qtbot: Any
) -> None:
    from desktop import __version__

    path = tmp_path / "acme.botdesk"
    assert window.create_path(str(path), "Acme")
    about = window.show_about()
    qtbot.waitExposed(about)
    assert about.isVisible()
    text = about.text()
    assert f"Botdesk {__version__}" in text
    assert str(path.resolve()) in text
    assert str(log_file()) in text and str(tmp_path / "data") in str(log_file())


def test_help_opens_the_log_folder(window: MainWindow, opened_urls: list[QUrl]) -> None:
    assert window.open_log_folder()
    assert [Path(u.toLocalFile()) for u in opened_urls] == [log_file().parent]
    assert log_file().parent.is_dir()


def test_tables_show_a_focus_ring_in_the_theme_colour(
    window: MainWindow, tmp_path: Path, qtbot: Any
) -> None:
    assert window.create_path(str(tmp_path / "acme.botdesk"), "Acme")
    page = window.show_page("Search")
    table = page.findChild(QTableView)
    assert table is not None
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)

    def border_colour() -> QColor:
        image = table.grab().toImage()
        return image.pixelColor(0, image.height() // 2)

    table.clearFocus()
    unfocused = border_colour()
    table.setFocus()
    qtbot.waitUntil(table.hasFocus)
    focused = border_colour()
    highlight = table.palette().color(QPalette.ColorRole.Highlight)
    assert focused == highlight
    assert unfocused != focused


def test_finished_jobs_fold_into_one_row_that_clears(window: MainWindow, qloop: Any) -> None:
    async def quick(job: Job) -> str:
        job.finish("Done quickly.")
        return "ok"

    async def broken(job: Job) -> None:
        job.item_error("https://shop.example/a", "HTTP 404")
        raise SourceError("The site answered 500.", hint="Try again later.")

    handles = [window.jobs.start(f"Job {i}", quick) for i in range(3)]
    failed = window.jobs.start("Sync shop.example", broken)
    qloop.run(window.jobs.wait_all())
    dock = window.jobs_dock
    header = dock.finished_header
    assert not header.isHidden() and header.toggle.text() == "Finished (4)"
    assert dock.finished_box.isHidden()  # folded until asked for
    assert not dock.empty_label.isHidden()  # nothing running
    header.toggle.click()
    assert not dock.finished_box.isHidden()
    assert all(dock.rows[h.job_id].parent() is dock.finished_box for h in handles)

    # A failed job's reason is one click away, with the items that failed.
    row = dock.rows[failed.job_id]
    assert not row.details_button.isHidden()
    assert dock.rows[handles[0].job_id].details_button.isHidden()
    row.details_button.click()
    dialogs = [w for w in window.findChildren(JobDetailsDialog) if w.isVisible()]
    assert len(dialogs) == 1
    report = dialogs[0].text_view.toPlainText()
    assert "The site answered 500." in report and "https://shop.example/a — HTTP 404" in report
    dialogs[0].close()

    header.clear_button.click()
    assert dock.rows == {} and header.isHidden()
    assert failed.job_id not in window.jobs.jobs


def test_a_long_job_summary_never_resizes_the_window(window: MainWindow, qloop: Any) -> None:
    window.resize(1024, 640)
    before = window.size()
    long_name = "https://shop.example/" + "very-long-path/" * 80

    async def long_summary(job: Job) -> None:
        job.stage(f"fetch {long_name}", total=3)
        job.advance(message=long_name)
        job.finish(f"Synced 1 page; skipped {long_name} (robots.txt)")

    handle = window.jobs.start(f"Sync {long_name}", long_summary)
    qloop.run(window.jobs.wait_all())
    window.jobs_dock.finished_header.toggle.click()
    qloop.wait_until(lambda: True)
    assert window.size() == before
    assert window.jobs_dock.minimumSizeHint().width() < 600
    label = window.jobs_dock.rows[handle.job_id].label
    assert label.text().startswith("Sync https://shop.example/")  # the full text is kept
    assert label.displayed_text().endswith("…") and len(label.displayed_text()) < 400


def test_the_jobs_panel_is_one_line_when_idle_and_grows_for_a_running_job(
    window: MainWindow, qloop: Any
) -> None:
    """On a 640-px laptop screen the idle panel takes one line, not a block of empty space;
    a running job's row (with its progress bar and Cancel) is shown whole, and the window
    itself keeps its size throughout."""
    window.resize(1024, 640)
    qloop.wait_until(lambda: True)
    dock = window.jobs_dock
    size = window.size()
    idle = dock.height()
    line = dock.empty_label.sizeHint().height()
    assert idle < 3 * line + 10  # the title bar and one line
    release = asyncio.Event()

    async def waiting(job: Job) -> None:
        job.stage("fetch", total=10)
        job.advance()
        await release.wait()

    def shown_whole(handle: Any) -> bool:
        row = dock.rows[handle.job_id]
        return row.visibleRegion().boundingRect().height() >= row.sizeHint().height()

    handles = [window.jobs.start(f"Sync shop{i}.example", waiting) for i in range(3)]
    qloop.wait_until(lambda: all(shown_whole(h) for h in handles))
    assert dock.height() > idle
    release.set()
    qloop.run(window.jobs.wait_all())
    # Back to two lines: "No jobs running" and the folded "Finished (3)".
    qloop.wait_until(lambda: dock.height() < idle + line + 10)
    assert window.size() == size


def test_byte_progress_reads_in_mb(window: MainWindow, qloop: Any) -> None:
    async def download(job: Job) -> None:
        job.stage("download llama3.2", total=2_019_393_189, unit="bytes")
        job.advance(404_000_000)

    handle = window.jobs.start("Download llama3.2", download)
    qloop.run(window.jobs.wait_all())
    bar = window.jobs_dock.rows[handle.job_id].bar
    assert bar.format() == "385.3 of 1925.8 MB"
    assert bar.maximum() == 1925 and bar.value() == 385  # no int overflow above 2 GB


def test_cancel_stops_a_job_on_its_own_thread_at_once(
    window: MainWindow, qloop: Any, workspace: Workspace
) -> None:
    """A job waiting on a slow server (a fetch may wait 20 s) stops at cancel, without
    waiting for its next check: closing the window must not leave the process behind
    holding the workspace's lock."""
    waiting = threading.Event()
    finished_cleanly: list[bool] = []

    async def slow(job: Job, ws: Workspace) -> None:
        waiting.set()
        try:
            await asyncio.sleep(60)  # a fetch from a server that does not answer
        finally:
            finished_cleanly.append(True)  # the finally blocks run (Extractor.aclose...)

    handle = window.jobs.start_on_thread("Sync a slow site", workspace, slow)
    qloop.wait_until(waiting.is_set)
    started = time.monotonic()
    handle.cancel()
    qloop.wait_until(lambda: handle.state is JobState.CANCELLED, timeout=10)
    assert time.monotonic() - started < 10 and finished_cleanly == [True]
    handle.cancel()  # again, after the end: nothing happens


def test_a_job_that_must_hear_an_answer_stops_at_its_next_check(
    window: MainWindow, qloop: Any, workspace: Workspace
) -> None:
    """A refresh may publish: its release call must hear its answer, so its cancel waits
    for the job's next check instead of dropping the call in flight."""
    sent = threading.Event()
    heard: list[str] = []

    async def releasing(job: Job, ws: Workspace) -> None:
        sent.set()
        await asyncio.sleep(0.5)  # the release call's answer on its way
        heard.append("release answered")
        job.check()
        heard.append("went on after the cancel")

    handle = window.jobs.start_on_thread("Refresh", workspace, releasing, stop_at_once=False)
    qloop.wait_until(sent.is_set)
    handle.cancel()
    qloop.wait_until(lambda: handle.state is JobState.CANCELLED)
    assert heard == ["release answered"]


def test_a_job_on_its_own_thread_that_fails_says_why(
    window: MainWindow, qloop: Any, workspace: Workspace
) -> None:
    shown: list[tuple[str, str]] = []
    window.messages.message_shown.connect(lambda level, text: shown.append((level, text)))

    async def failing(job: Job, ws: Workspace) -> None:
        job.item_error("https://shop.example/a", "HTTP 404")
        raise SourceError("The site answered 500.", hint="Try again later.")

    handle = window.jobs.start_on_thread("Sync shop.example", workspace, failing)
    qloop.run(window.jobs.wait_all())
    assert handle.state is JobState.FAILED and "500" in handle.snapshot().summary
    assert [e.item for e in handle.errors] == ["https://shop.example/a"]
    assert any(level == "error" and "The site answered 500." in text for level, text in shown)
    row = window.jobs_dock.rows[handle.job_id]
    assert not row.details_button.isHidden()  # the failed items, one click away


def test_the_first_window_fits_a_small_screen(window: MainWindow) -> None:
    """At its first start the window is 1280x800 or the screen's free area, whichever is
    smaller: on a 1366x768 laptop the jobs panel and status bar stay on the screen."""
    assert first_size(QSize(1920, 1080)) == QSize(1280, 800)
    assert first_size(QSize(1366, 728)) == QSize(1280, 728)
    assert first_size(QSize(1024, 640)) == QSize(1024, 640)
    available = window.screen().availableGeometry().size()  # offscreen: 800x800
    # No wider or taller than the screen's free area, unless the window cannot be smaller.
    assert window.size() == first_size(available).expandedTo(window.minimumSizeHint())
    assert window.height() <= available.height()
