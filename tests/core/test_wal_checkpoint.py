"""The WAL is copied back into the workspace file by a thread of its own, never inside a
commit on the window's thread (where SQLite's automatic checkpoint stalled the GUI)."""

from __future__ import annotations

from typing import Any

from desktop.core.store import workspace as workspace_module
from desktop.core.store.workspace import Workspace


def test_a_grown_wal_is_checkpointed_in_the_background(workspace: Workspace) -> None:
    rows: list[Any] = workspace.conn.execute("pragma wal_autocheckpoint").fetchall()
    assert rows[0][0] == 0  # the committing thread never checkpoints
    with workspace.transaction():
        workspace.conn.execute("create table filler (text)")
        for _ in range(3):
            workspace.conn.execute("insert into filler values (?)", ("x" * 2_500_000,))
    checkpointer = workspace._checkpointer
    assert checkpointer is not None and checkpointer.name == "wal-checkpoint"
    checkpointer.join(workspace_module.CHECKPOINT_JOIN_S)
    busy, frames, copied = workspace.conn.execute("pragma wal_checkpoint(passive)").fetchall()[0]
    assert busy == 0 and frames == copied  # nothing left for anyone to copy


def test_a_small_commit_starts_no_thread(workspace: Workspace) -> None:
    with workspace.transaction():
        workspace.conn.execute("create table small (text)")
        workspace.conn.execute("insert into small values ('a')")
    assert workspace._checkpointer is None


def test_once_copied_back_small_commits_start_no_more_threads(
    workspace: Workspace, monkeypatch: Any
) -> None:
    """The WAL file never shrinks: its size on disk cannot say how full it is. Judged by
    it, every commit after the first big one started a checkpoint thread."""
    with workspace.transaction():
        workspace.conn.execute("create table filler (text)")
        for _ in range(3):
            workspace.conn.execute("insert into filler values (?)", ("x" * 2_500_000,))
    first = workspace._checkpointer
    assert first is not None
    first.join(workspace_module.CHECKPOINT_JOIN_S)
    started: list[str] = []
    monkeypatch.setattr(workspace_module, "_checkpoint", lambda path: started.append("again"))
    for i in range(20):
        with workspace.transaction():
            workspace.conn.execute("insert into filler values (?)", (str(i),))
    assert workspace._checkpointer is first and started == []
