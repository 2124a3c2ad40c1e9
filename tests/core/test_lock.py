"""The workspace lock: one long job at a time, a clear message, and no lock outlives its process."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.core.store.lock import WorkspaceBusyError, WorkspaceLock, current_holder, lock_path
from tests.helpers.lock_holder import hold_in_child


def test_second_lock_in_the_same_process_is_refused_until_released(tmp_path: Path) -> None:
    ws = tmp_path / "acme.botdesk"
    with WorkspaceLock(ws, "sync") as first:
        assert first.held and lock_path(ws).exists()
        with pytest.raises(WorkspaceBusyError) as caught:
            WorkspaceLock(ws, "refresh").acquire()
        assert "a sync of this workspace is already running" in str(caught.value)
        holder = current_holder(ws)
        assert holder is not None and holder.job == "sync"
    assert current_holder(ws) is None
    with WorkspaceLock(ws, "refresh"):  # free again
        pass


def test_another_process_holding_the_lock_is_named_with_pid_and_time(tmp_path: Path) -> None:
    ws = tmp_path / "acme.botdesk"
    with hold_in_child(ws, "publish") as child, pytest.raises(WorkspaceBusyError) as caught:
        WorkspaceLock(ws, "refresh").acquire()
    message = str(caught.value)
    assert f"a publish of this workspace is already running (pid {child.pid}, since " in message
    assert message.split("since ", 1)[1][:5].replace(":", "").isdigit()
    with WorkspaceLock(ws, "refresh"):
        pass


def test_a_killed_holder_does_not_block_forever(tmp_path: Path) -> None:
    ws = tmp_path / "acme.botdesk"
    with hold_in_child(ws) as child:
        child.kill()  # no clean-up ran: the record stays in the file, the OS lock does not
        child.wait(timeout=10)
    assert lock_path(ws).read_text()  # the dead holder's record is still there
    assert current_holder(ws) is None
    with WorkspaceLock(ws, "refresh") as lock:
        assert lock.held


def test_unwritable_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="Cannot create the lock file"):
        WorkspaceLock(tmp_path / "missing" / "acme.botdesk", "refresh").acquire()
