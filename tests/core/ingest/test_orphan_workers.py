"""After `kill -9` of a sync, its PDF parsers and extraction workers die too (3 survived
for over 36 minutes): each worker ends with its parent, busy or idle."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

# A stand-in for a sync: one PDF worker stuck in a parse, one idle extraction-pool worker;
# it prints their pids and waits to be killed.
PARENT = textwrap.dedent(
    """
    import concurrent.futures, functools, multiprocessing, sys, time
    from desktop.core.ingest import pdf
    from desktop.core.ingest.extractor import _worker_start

    if __name__ == "__main__":
        worker = pdf._take_worker(256)
        worker.conn.send((b"%PDF-1.4", functools.partial(time.sleep, 3600)))
        pool = concurrent.futures.ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_start
        )
        pool.submit(abs, 1).result()
        print(worker.process.pid, *pool._processes, flush=True)
        time.sleep(3600)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by init) counts as gone.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9 and /proc are POSIX")
def test_workers_die_when_their_parent_is_killed() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True
    ) as parent:
        assert parent.stdout is not None
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 20  # a bound for a loaded machine, not a speed claim
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [pid for pid in pids if _alive(pid)]
    for pid in survivors:  # never leave them behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert survivors == []
