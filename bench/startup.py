"""Bench: start-up time of the `botdesk` command (`--help`) and of the window's first paint.

`--help`: the median of N runs of `python -m desktop --help` (a fresh interpreter each time,
as the `botdesk` script is), or of a frozen binary's `botdesk --help` with --binary.
Target: under 0.3 s.

First paint: a fresh interpreter runs the app's own start-up (`desktop.app.run`) and reports
the first paint event of any widget in the main window; the time counts from just before the
process is started to the moment the parent reads that report, so the interpreter's start and
every import are in it. Measured with no workspace (and a fresh settings folder: a first
start, so the first-run guide opens too) and with the demo workspace open. Offscreen
(QT_QPA_PLATFORM=offscreen) unless the environment says otherwise: an X server would add
its own round trips, the imports and the widget work are the same.
Target: under 1.5 s.

--checkout points at another checkout (e.g. a `git worktree add /tmp/before HEAD~N`) to get
the before figures from the same machine; --importtime lists the slowest imports of `--help`.
Each figure is the median wall-clock time and, beside it, the median CPU time (user +
system) of the child: on a busy machine the wall clock includes waiting for a core, the CPU
time much less so. Where the kernel groups processes by session (autogroup), a session of
its own with a higher priority gives figures close to an idle machine's:
    setsid bash -c 'echo -15 > /proc/self/autogroup; python bench/startup.py'

Measured that way on the 2-core development machine (Python 3.11, offscreen), before
(commit f3be3a1) and after, two rounds of 7 runs each:
    --help                       1.31-1.67 s  ->  0.14-0.20 s
    first paint, no workspace    1.73-2.15 s  ->  1.23-1.28 s
    first paint, demo workspace  1.64-1.97 s  ->  1.17-1.28 s
(the window gained a fifth page and the first-run guide in between).
Run: python bench/startup.py [--runs N] [--checkout PATH] [--binary PATH] [--importtime]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The child: the app's own start-up, reporting the first paint of the main window.
FIRST_PAINT_CHILD = r"""
import sys
import time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

app = QApplication(sys.argv)


class FirstPaint(QObject):
    seen = False

    def eventFilter(self, watched, event):
        if (
            not self.seen
            and event.type() == QEvent.Type.Paint
            and isinstance(watched, QWidget)
            and type(watched.window()).__name__ == "MainWindow"
        ):
            self.seen = True
            print("painted", time.process_time(), flush=True)
            QTimer.singleShot(0, app.quit)
        return False


watcher = FirstPaint()
app.installEventFilter(watcher)
from desktop.app import run

workspace = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None
raise SystemExit(run(workspace_path=workspace))
"""


def child_env(checkout: Path, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(checkout)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    # A scratch home: the window's recent files and settings are not the user's.
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    env["XDG_DATA_HOME"] = str(home / ".local" / "share")
    return env


def time_help(
    command: list[str], env: dict[str, str], runs: int, cwd: Path
) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds (user + system) of each run."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def time_first_paint(
    workspace: str, env: dict[str, str], runs: int, cwd: Path
) -> tuple[list[float], list[float]]:
    """Wall-clock seconds to the first paint, and the child's CPU seconds by then."""
    walls, cpus = [], []
    for _ in range(runs):
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", FIRST_PAINT_CHILD, workspace],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        line = child.stdout.readline()
        elapsed = time.perf_counter() - start
        try:
            _, errors = child.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            raise SystemExit("the window did not close after its first paint") from None
        word, _, cpu = line.strip().partition(" ")
        if word != "painted":
            raise SystemExit(f"the window never painted:\n{errors[-2000:]}")
        walls.append(elapsed)
        cpus.append(float(cpu))
    return walls, cpus


def import_offenders(env: dict[str, str], cwd: Path, top: int) -> list[tuple[int, str]]:
    """The slowest imports (cumulative microseconds) of one `--help`."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "desktop", "--help"],
        env=env,
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
        rows.append((int(cumulative_us), name.strip()))
    # Top-level packages only, so one slow tree is not listed once per module.
    top_level = [row for row in rows if "." not in row[1]]
    return sorted(top_level, reverse=True)[:top]


def summary(label: str, times: tuple[list[float], list[float]]) -> str:
    walls, cpus = times
    return (
        f"{label}: median {statistics.median(walls):.3f} s wall "
        f"(min {min(walls):.3f}, max {max(walls):.3f}), "
        f"{statistics.median(cpus):.3f} s CPU, {len(walls)} runs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--checkout", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--binary", type=Path, help="also time a frozen build's `--help`")
    parser.add_argument("--importtime", action="store_true", help="the slowest imports")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    print(f"checkout: {checkout}  python: {sys.version.split()[0]}  runs: {args.runs}")
    with tempfile.TemporaryDirectory(prefix="botdesk-startup-") as scratch:
        home = Path(scratch)
        env = child_env(checkout, home)
        # Warm the disk cache and the bytecode once; the figures are for a warm start.
        subprocess.run(
            [sys.executable, "-m", "desktop", "--help"],
            env=env,
            cwd=home,
            check=True,
            capture_output=True,
        )
        print(
            summary(
                "--help",
                time_help([sys.executable, "-m", "desktop", "--help"], env, args.runs, home),
            )
        )
        if args.binary is not None:
            command = [str(args.binary.resolve()), "--help"]
            subprocess.run(command, env=env, cwd=home, check=True, capture_output=True)
            print(summary("--help (frozen)", time_help(command, env, args.runs, home)))
        if args.importtime:
            print("slowest imports of --help (cumulative):")
            for micros, name in import_offenders(env, home, 12):
                print(f"  {micros / 1e6:7.3f} s  {name}")
        demo = home / "demo.botdesk"
        subprocess.run(
            [sys.executable, "-m", "desktop", "demo", "--no-gui", "--path", str(demo)],
            env=env,
            cwd=home,
            check=True,
            capture_output=True,
        )
        time_first_paint("", env, 1, home)  # warm-up
        first_start = time_first_paint("", env, args.runs, home)
        print(summary("first paint, no workspace (a first start)", first_start))
        print(
            summary(
                "first paint, demo workspace", time_first_paint(str(demo), env, args.runs, home)
            )
        )


if __name__ == "__main__":
    main()
