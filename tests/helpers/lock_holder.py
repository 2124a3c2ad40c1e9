"""A child process that holds a workspace's lock, for tests of what a second job sees."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HOLDER = """
import sys
from desktop.core.store.lock import WorkspaceLock
lock = WorkspaceLock(sys.argv[1], sys.argv[2]).acquire()
print("held", flush=True)
sys.stdin.readline()  # hold it until the test says so (or dies)
"""


@contextmanager
def hold_in_child(workspace: Path, job: str = "refresh") -> Iterator[subprocess.Popen[str]]:
    """A child process that takes the lock and keeps it until its stdin closes."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(workspace), job],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "held"
        try:
            yield child
        finally:
            if child.poll() is None:
                child.stdin.close()
            child.wait(timeout=10)
