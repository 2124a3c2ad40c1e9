"""Stand-ins for the system's schedulers: `systemctl` and `crontab` scripts put first on
PATH that record their arguments (CI has no systemd user session and no cron)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

STUB = """#!/bin/sh
echo "$(basename "$0") $*" >> "$STUB_LOG"
if [ "$(basename "$0")" = crontab ]; then
  if [ "$1" = "-l" ]; then
    if [ -f "$STUB_CRONTAB" ]; then cat "$STUB_CRONTAB"; exit 0; fi
    echo "no crontab for tester" >&2; exit 1
  fi
  if [ "$1" = "-" ]; then cat > "$STUB_CRONTAB"; exit 0; fi
fi
if [ "$(basename "$0")" = systemctl ] && [ "$2" = "show-environment" ]; then
  exit "${STUB_SESSION_EXIT:-0}"
fi
exit 0
"""


@pytest.fixture
def stubs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """systemctl and crontab stand-ins first on PATH; their calls go to stub.log."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ("systemctl", "crontab"):
        path = folder / name
        path.write_text(STUB)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STUB_LOG", str(tmp_path / "stub.log"))
    monkeypatch.setenv("STUB_CRONTAB", str(tmp_path / "crontab.txt"))
    return tmp_path / "stub.log"


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def make_workspace(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.botdesk"
    path.write_bytes(b"SQLite format 3\x00")  # the schedule only needs the file to exist
    return path
