"""What every command shares: JSON and table output, progress lines on stderr."""

from __future__ import annotations

import json
import sys
import time
from typing import Any, TextIO

from desktop.core.jobs import Job, JobEvent, JobState


def print_json(value: Any, *, stream: TextIO | None = None) -> None:
    """One JSON document on stdout (or `stream`), UTF-8, no ASCII escaping."""
    print(json.dumps(value, ensure_ascii=False, default=str), file=stream or sys.stdout)


def print_json_line(value: Any) -> None:
    """One compact JSON document per line (for streams of results)."""
    print(json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":")), flush=True)


def print_table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = min(max(widths[i], len(cell)), 60)
    line = "  ".join(h.ljust(widths[i]) for i, h in enumerate(headers))
    print(line.rstrip())
    for row in rows:
        cells = [
            (c if len(c) <= widths[i] else c[: widths[i] - 1] + "…").ljust(widths[i])
            for i, c in enumerate(row)
        ]
        print("  ".join(cells).rstrip())


def progress_job(title: str, *, quiet: bool = False) -> Job:
    """A job whose progress goes to stderr; `quiet` (with --json) keeps stderr to errors."""
    return Job(title, listeners=[] if quiet else [StderrProgress()])


class StderrProgress:
    """A job listener that prints progress to stderr, at most a few times a second."""

    def __init__(self, *, stream: TextIO | None = None, interval_s: float = 0.5) -> None:
        self.stream = stream or sys.stderr
        self.interval_s = interval_s
        self._last = 0.0
        self._last_stage = ""

    def __call__(self, event: JobEvent) -> None:
        now = time.monotonic()
        changed_stage = event.stage != self._last_stage
        throttled = now - self._last < self.interval_s
        if event.state is JobState.RUNNING and not changed_stage and throttled:
            return
        self._last, self._last_stage = now, event.stage
        count = f"{event.done}/{event.total}" if event.total is not None else f"{event.done}"
        errors = f" · {event.error_count} errors" if event.error_count else ""
        text = event.summary if event.state is not JobState.RUNNING else event.message
        print(f"[{event.stage or event.title}] {count}{errors} {text}".rstrip(), file=self.stream)
