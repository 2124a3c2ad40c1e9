"""Bench: the longest stall of the GUI event loop while the window syncs a 1,000-page site.

The real main window (offscreen unless QT_QPA_PLATFORM says otherwise) opens a new
workspace, adds the generated site of bench/sync_site.py served on 127.0.0.1 (or, with
--mode files or without the crawler, the same pages as a folder of HTML files) and runs
the Content page's sync as a job, exactly as F5 does. A QTimer ticking every 5 ms records
when it actually fires: a gap much longer than 5 ms is time the window could not react.
Prints the longest gap, the p99 and p50 of the gaps, the sync's duration and pages/s,
and then the same for an unchanged re-sync. Target: longest gap under 100 ms.
--sample-stalls MS prints what the GUI thread was doing whenever a timed sync keeps it
busy longer than MS: a watcher thread samples its stack every 10 ms while it is stuck.
Run: python bench/gui_stall.py [--pages N] [--mode site|files] [--server process|thread]
     [--sample-stalls MS]
     [--screenshot PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib
import os
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import qasync
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from sync_site import make_site, served_site

from desktop.app import warm_up_http
from desktop.services.backends import Backends
from desktop.ui.collector import GuiThreadCollector
from desktop.ui.content.page import ContentPage
from desktop.ui.main_window import MainWindow

TICK_MS = 5
ATTRIBUTION: Any = None


class Attribution:
    """Time spent in the Content page's refreshes and in Python's garbage collector, the two
    suspects on the GUI thread that are not the sync itself."""

    def __init__(self) -> None:
        self.refreshes: list[float] = []
        self.gc_pauses: list[float] = []
        self._gc_start = 0.0
        for name in ("refresh", "catch_up"):
            self._time(name)
        gc.callbacks.append(self._on_gc)

    def _time(self, name: str) -> None:
        original = getattr(ContentPage, name)

        def timed(page: ContentPage) -> None:
            start = time.perf_counter()
            original(page)
            self.refreshes.append((time.perf_counter() - start) * 1000)

        setattr(ContentPage, name, timed)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        elif info.get("generation") == 2 and threading.current_thread() is threading.main_thread():
            self.gc_pauses.append((time.perf_counter() - self._gc_start) * 1000)

    def report(self, name: str) -> str:
        refresh = max(self.refreshes, default=0.0)
        pause = max(self.gc_pauses, default=0.0)
        line = (
            f"[{name}] page refreshes: {len(self.refreshes)}, longest {refresh:.1f} ms; "
            f"full GC collections on the GUI thread: {len(self.gc_pauses)}, longest {pause:.1f} ms"
        )
        self.refreshes, self.gc_pauses = [], []
        return line


class StallSampler:
    """While the meter runs, samples the GUI thread's stack whenever its timer is late by
    more than a threshold, and prints each stall's samples once the loop is back."""

    def __init__(self, threshold_ms: float) -> None:
        self.threshold = threshold_ms / 1000
        self.gui_thread = threading.get_ident()
        self.gui_task = f"/proc/self/task/{threading.get_native_id()}"
        self.last_tick = time.perf_counter()
        self.running = False
        threading.Thread(target=self._watch, name="stall-sampler", daemon=True).start()

    def _watch(self) -> None:
        samples: Counter[str] = Counter()
        stuck_since = 0.0
        sched_before = (0, 0)
        while True:
            time.sleep(0.01)
            stale = time.perf_counter() - self.last_tick
            if self.running and stale > self.threshold:
                if not stuck_since:
                    stuck_since, sched_before = self.last_tick, self._schedstat()
                frame = sys._current_frames().get(self.gui_thread)
                if frame is not None:
                    stack = traceback.format_stack(frame)[-14:]
                    where = "".join(line.split("\n")[0] + "\n" for line in stack)
                    samples[where + f"    (thread {self._kernel_state()})\n"] += 1
                    samples["other threads:\n" + self._other_threads()] += 1
            elif samples:
                total = (time.perf_counter() - stuck_since) * 1000
                ran, waited = (a - b for a, b in zip(self._schedstat(), sched_before, strict=True))
                print(
                    f"--- GUI thread stuck about {total:.0f} ms (since the first sample: on a CPU "
                    f"{ran / 1e6:.0f} ms, waiting for one {waited / 1e6:.0f} ms); stacks sampled "
                    "every 10 ms:"
                )
                for stack, count in samples.most_common(3):
                    print(f"  {count} sample(s):\n{stack}")
                samples.clear()
                stuck_since = 0.0

    def _other_threads(self) -> str:
        """Where the other threads are (the sync's runs on one of its own)."""
        names = {t.ident: t.name for t in threading.enumerate()}
        lines = []
        for ident, frame in sys._current_frames().items():
            name = names.get(ident, "?")
            if ident in (self.gui_thread, threading.get_ident()):
                continue
            stack = traceback.format_stack(frame)[-6:]
            lines.append(f"  [{name}]\n" + "".join(x.split("\n")[0] + "\n" for x in stack))
        return "".join(lines)

    def _schedstat(self) -> tuple[int, int]:
        """Nanoseconds the GUI thread has run on a CPU, and waited runnable for one (Linux)."""
        try:
            ran, waited, _ = Path(f"{self.gui_task}/schedstat").read_text().split()
        except (OSError, ValueError):
            return 0, 0
        return int(ran), int(waited)

    def _kernel_state(self) -> str:
        """Running, or asleep and in which kernel wait (Linux): tells waiting for the GIL
        (a futex) from working in Qt's C++ code, where the Python stack shows nothing."""
        try:
            stat = Path(f"{self.gui_task}/stat").read_text()
            wchan = Path(f"{self.gui_task}/wchan").read_text()
        except OSError:
            return "state unknown"
        state = stat.rsplit(")", 1)[1].split()[0]
        return f"state {state}, waiting in {wchan or '-'}"


class StallMeter:
    """Records the gaps between the ticks of a fast timer on the GUI thread."""

    def __init__(self, sampler: StallSampler | None = None) -> None:
        self.sampler = sampler
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self.worst_at = ""
        self._last = 0.0
        self._worst = 0.0
        self.label = ""
        self._label_before = ""
        self.long: list[tuple[float, str]] = []

    def start(self, label: str) -> None:
        self.gaps, self.label, self.worst_at = [], label, ""
        self._worst, self._label_before = 0.0, label
        self.long = []
        self._last = time.perf_counter()
        self.timer.start()
        if self.sampler is not None:
            self.sampler.last_tick = self._last
            self.sampler.running = True

    def stop(self) -> None:
        self.timer.stop()
        if self.sampler is not None:
            self.sampler.running = False

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = (now - self._last) * 1000
        if not self.gaps or gap > self._worst:
            # The stage when the gap began, and when it ended if that changed meanwhile.
            ended = f" → {self.label}" if self.label != self._label_before else ""
            self.worst_at = self._label_before + ended
            self._worst = gap
        self.gaps.append(gap)
        if gap > 100:
            ended = f" → {self.label}" if self.label != self._label_before else ""
            self.long.append((gap, self._label_before + ended))
        self._last = now
        if self.sampler is not None:
            self.sampler.last_tick = now
        self._label_before = self.label

    def report(self, name: str) -> str:
        gaps = sorted(self.gaps)
        if not gaps:
            return f"[{name}] no ticks"

        def pct(p: float) -> float:
            return gaps[min(len(gaps) - 1, int(p * len(gaps)))]

        over = sum(1 for g in gaps if g > 100)
        where = "; ".join(f"{gap:.0f} ms in {label}" for gap, label in sorted(self.long)[::-1])
        return (
            f"[{name}] event-loop gaps (timer every {TICK_MS} ms, {len(gaps)} ticks): "
            f"longest {gaps[-1]:.1f} ms (during {self.worst_at or '?'}), p99 {pct(0.99):.1f} ms, "
            f"p50 {pct(0.50):.1f} ms, {over} over 100 ms" + (f" ({where})" if where else "")
        )


async def run_sync(
    page: ContentPage, meter: StallMeter, name: str, attribution: Attribution
) -> tuple[float, str]:
    stages: list[str] = []

    def on_change(event: Any) -> None:
        stage = event.stage or "start"
        meter.label = stage
        if not stages or stages[-1] != stage:
            stages.append(stage)

    page.context.jobs.job_changed.connect(on_change)
    start = time.perf_counter()
    meter.start("start")
    job = page.start_sync()
    assert job is not None
    while page.sync_job is not None:
        await asyncio.sleep(0.05)
    meter.label = "refresh after sync"
    await asyncio.sleep(0.3)  # the page refresh after the job, still measured
    meter.stop()
    elapsed = time.perf_counter() - start - 0.3
    page.context.jobs.job_changed.disconnect(on_change)
    print(meter.report(name))
    print(attribution.report(name))
    summary = job.snapshot().summary
    print(f"[{name}] sync: {elapsed:.1f} s; stages: {' > '.join(stages)}; {summary}")
    return elapsed, summary


async def bench(args: argparse.Namespace, window: MainWindow, tmp: Path) -> None:
    page = next(p for p in window.pages if isinstance(p, ContentPage))
    page.content_actions.auto_sync = False
    assert window.create_path(str(tmp / "stall.botdesk"), "Stall bench")
    mode = args.mode
    if mode == "site":
        try:
            importlib.import_module("desktop.core.ingest.crawl")
        except ImportError:
            print("[site] the crawler is not available: syncing the pages as files instead")
            mode = "files"
    with contextlib.ExitStack() as stack:
        if mode == "site":
            origin = stack.enter_context(served_site(args.pages, server=args.server))
            page.content_actions.add_site(origin + "/", max_pages=args.pages + 10, max_depth=50)
        else:
            folder = tmp / "pages"
            folder.mkdir()
            for path, body in make_site(args.pages).items():
                if path != "/":
                    (folder / (path.strip("/").replace("/", "_") + ".html")).write_bytes(body)
            page.content_actions.add_files([folder])
        await _measure(args, window, page, mode)


async def _measure(
    args: argparse.Namespace, window: MainWindow, page: ContentPage, mode: str
) -> None:
    meter = StallMeter(StallSampler(args.sample_stalls) if args.sample_stalls else None)
    attribution = ATTRIBUTION
    attribution.report("setup")  # forget what opening the window cost
    try:
        await asyncio.sleep(0.2)
        first, _ = await run_sync(page, meter, f"{mode}: first sync", attribution)
        print(f"[{mode}: first sync] {args.pages / first:.1f} pages/s")
        await run_sync(page, meter, f"{mode}: unchanged re-sync", attribution)
        # Curating in the populated page: the refresh after one edit, measured alone.
        documents = page.documents.documents
        page.select_document(documents[len(documents) // 2].id)
        if page.passages.passages:
            meter.start("exclude + refresh")
            t0 = time.perf_counter()
            page.select_passages([page.passages.passages[0].id])
            page.set_chosen_excluded(True)
            meter.stop()
            print(
                f"[{mode}] exclude one passage and refresh the page: "
                f"{(time.perf_counter() - t0) * 1000:.1f} ms"
            )
        if args.screenshot:
            window.resize(1280, 800)
            await asyncio.sleep(0.2)
            window.grab().save(args.screenshot)
            print(f"screenshot: {args.screenshot}")
    finally:
        window.close_workspace()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--mode", choices=("site", "files"), default="site")
    parser.add_argument(
        "--server",
        choices=("process", "thread"),
        default="process",
        help="serve the site from a process of its own (as a real site) or a thread of this one",
    )
    parser.add_argument("--screenshot", default="")
    parser.add_argument("--sample-stalls", type=float, default=0.0, metavar="MS")
    args = parser.parse_args()
    global ATTRIBUTION  # noqa: PLW0603
    ATTRIBUTION = Attribution()  # before the window: its signals bind the timed refresh
    app = QApplication.instance() or QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(backends=Backends.from_environment(), settings=settings)  # as app.py
        window.messages.modal_dialogs = False
        window.messages.message_shown.connect(
            lambda level, text: (
                print(f"  ({level}) {text.splitlines()[0]}") if level != "info" else None
            )
        )
        # As desktop.app.run does: warm HTTP up off the GUI thread, freeze start-up objects
        # out of the collector once the window is up, and collect on the GUI thread only.
        threading.Thread(target=warm_up_http, name="http-warm-up", daemon=True).start()
        window.resize(1280, 800)
        window.show()
        gc.freeze()
        collector = GuiThreadCollector(app)
        collector.start()
        with loop:
            loop.run_until_complete(bench(args, window, Path(tmp)))
        collector.stop()
        window.close()


if __name__ == "__main__":
    main()
