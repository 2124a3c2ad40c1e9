"""Worker processes die with their parent, however the parent ends (kill -9 included).

Called first thing in every worker process we start (PDF parsers, the extraction pool).
Linux: the kernel sends SIGKILL when the parent goes (prctl PR_SET_PDEATHSIG), even to a
worker stuck in C code. Everywhere: a thread waits on the parent's pipe (multiprocessing's
parent sentinel, closed by the OS when the parent exits) and ends the process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from multiprocessing.connection import wait

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Make this (child) process end when its parent ends."""
    parent = multiprocessing.parent_process()
    if sys.platform.startswith("linux"):
        _linux_death_signal()
    if parent is not None and parent.sentinel is not None:
        threading.Thread(
            target=_watch, args=(parent.sentinel,), name="botdesk-parent-watch", daemon=True
        ).start()
        if parent.pid is not None and not _alive(parent.pid):
            os._exit(1)  # the parent went before the watch began


def _linux_death_signal() -> None:
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _watch(sentinel: int) -> None:
    wait([sentinel])  # ready when the parent's end of its pipe closes: the parent is gone
    os._exit(1)


def _alive(pid: int) -> bool:
    if sys.platform == "win32":
        return True  # os.kill would terminate it there; the sentinel watch covers Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
