"""Workspace state on bad days: damaged, read-only, busy, and the backups that undo them."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import apsw
import pytest

from desktop.core.errors import WorkspaceDamagedError, WorkspaceError, WorkspaceReadOnlyError
from desktop.core.store import backup, db, migrations
from desktop.core.store import workspace as workspace_module
from desktop.core.store.migrations import Migration
from desktop.core.store.scratch import leftovers, scratch_folder
from desktop.core.store.workspace import Workspace
from desktop.services.workspaces import create_workspace


def _workspace(tmp_path: Path) -> Path:
    with create_workspace(tmp_path / "shop.botdesk", name="Shop") as ws:
        ws.set_setting("marker", "kept")
    return tmp_path / "shop.botdesk"


def _truncate(path: Path, size: int = 40_000) -> None:
    data = path.read_bytes()[:size]
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    path.write_bytes(data)


@contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Make files or folders unwritable, also for root (the immutable attribute)."""
    if os.geteuid() == 0:
        flag = subprocess.run(["chattr", "+i", *map(str, paths)], check=False)
        if flag.returncode != 0:
            pytest.skip("cannot make files immutable here")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", *map(str, paths)], check=True)
        return
    modes = {p: p.stat().st_mode for p in paths}
    for p in paths:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        yield
    finally:
        for p, mode in modes.items():
            p.chmod(mode)


def test_opening_makes_one_checked_daily_copy(tmp_path: Path) -> None:
    path = _workspace(tmp_path)
    Workspace.open(path).close()
    Workspace.open(path).close()  # the same day: no second copy
    copies = backup.list_backups(path)
    assert [b.reason for b in copies] == ["daily copy"]
    with Workspace.open(copies[0].path) as copy:
        assert copy.setting("marker") == "kept"
    assert not list(backup.backup_folder(path).glob("*.tmp"))


def test_daily_copies_roll(tmp_path: Path) -> None:
    path = _workspace(tmp_path)
    with Workspace.open(path) as ws:
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for day in range(5):
            backup.make_backup(ws.conn, path, kind="daily", now=start + timedelta(days=day))
    kept = [b.created_at.date() for b in backup.list_backups(path) if b.reason == "daily copy"]
    # Today's copy (made at the opening) and the two newest of the five: the oldest went.
    assert len(kept) == backup.KEEP_DAILY
    assert kept[1:] == [date(2026, 1, 5), date(2026, 1, 4)]


def test_a_copy_is_made_before_a_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _workspace(tmp_path)
    shipped = migrations.all_migrations()
    number = shipped[-1].number + 1

    def migrate(conn: apsw.Connection) -> None:
        conn.execute("create table hardening_probe(x)")

    newer = [*shipped, Migration(number, f"m{number:04d}_probe", migrate)]
    monkeypatch.setattr(migrations, "all_migrations", lambda: newer)
    monkeypatch.setattr(workspace_module, "all_migrations", lambda: newer)
    with Workspace.open(path) as ws:
        assert ws.scalar("select count(*) from hardening_probe") == 0
    reasons = [b.reason for b in backup.list_backups(path)]
    assert f"before migration {number}" in reasons
    before = next(b for b in backup.list_backups(path) if b.reason != "daily copy")
    conn = apsw.Connection(str(before.path))
    assert conn.execute("pragma user_version").fetchall()[0][0] == number - 1
    conn.close()


def test_a_truncated_workspace_is_called_damaged_and_points_to_its_last_backup(
    tmp_path: Path,
) -> None:
    path = _workspace(tmp_path)
    with Workspace.open(path) as ws:  # the daily copy
        ws.set_setting("after", "backup")
    _truncate(path)
    with pytest.raises(WorkspaceDamagedError) as caught:
        Workspace.open(path)
    text = str(caught.value)
    assert "is damaged" in text and "sqlite-vec" not in text and "Reinstall" not in text
    assert str(backup.list_backups(path)[0].path) in text
    assert f"botdesk backup {path} --restore" in text

    kept = backup.restore_backup(path, backup.list_backups(path)[0].path)
    assert kept.read_bytes()[:16] == b"SQLite format 3\x00"  # the damaged file is kept
    with Workspace.open(path) as ws:
        assert ws.setting("marker") == "kept"


def test_damaged_with_no_backup_says_so(tmp_path: Path) -> None:
    path = tmp_path / "copy.botdesk"
    source = _workspace(tmp_path)
    path.write_bytes(source.read_bytes()[:40_000])
    with pytest.raises(WorkspaceDamagedError, match="There is no backup of it"):
        Workspace.open(path)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_workspace_opens_read_only_and_says_why_writes_are_refused(
    tmp_path: Path, what: str
) -> None:
    path = _workspace(tmp_path)
    Workspace.open(path).close()  # the daily copy exists: opening read-only makes none
    before = sorted(p.name for p in tmp_path.iterdir())
    with read_only(path if what == "file" else tmp_path), Workspace.open(path) as ws:
        assert ws.readonly
        assert ("the file shop.botdesk is read-only" if what == "file" else "folder") in (
            ws.readonly_reason
        )
        assert ws.setting("marker") == "kept"  # reads work
        with pytest.raises(WorkspaceReadOnlyError) as caught:
            ws.set_setting("marker", "changed")
        assert "open read-only" in str(caught.value) and "Nothing was changed" in str(caught.value)
        with pytest.raises(WorkspaceReadOnlyError), ws.transaction():
            pass
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no -wal/-shm left behind
    with Workspace.open(path) as ws:
        assert ws.setting("marker") == "kept"


def test_a_short_write_waits_for_another_writer_instead_of_failing(tmp_path: Path) -> None:
    path = _workspace(tmp_path)
    other = db.connect(path)
    other.execute("begin immediate")
    other.execute("insert into settings(key, value) values ('other', '1')")
    release = threading.Timer(0.3, lambda: other.execute("commit"))
    with Workspace.open(path) as ws:
        release.start()
        with ws.transaction():  # waits for the lock instead of raising BusyError
            ws.set_setting("mine", 2)
        release.join()
        assert ws.setting("other") == 1 and ws.setting("mine") == 2
    other.close()


def test_a_writer_that_never_finishes_gives_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 100)
    path = _workspace(tmp_path)
    Workspace.open(path).close()
    other = db.connect(path)
    other.execute("begin immediate")
    with Workspace.open(path) as ws, pytest.raises(WorkspaceError) as caught, ws.transaction():
        ws.set_setting("mine", 1)
    assert "The workspace is busy: another program kept writing to it" in str(caught.value)
    other.execute("rollback")
    other.close()


def test_a_killed_jobs_scratch_folder_is_beside_the_workspace_and_cleaned_next_time(
    tmp_path: Path,
) -> None:
    path = _workspace(tmp_path)
    with scratch_folder(path, "publish") as folder:
        assert folder.parent == tmp_path
        (folder / "bundle.sqlite").write_bytes(b"passage text")
        # A kill -9 here leaves the folder; simulate it by leaving a copy.
        left = tmp_path / f".{path.name}.publish-killed"
        left.mkdir()
        (left / "bundle.sqlite").write_bytes(b"passage text")
    assert leftovers(path, "publish") == [left]
    with scratch_folder(path, "publish"):
        assert not left.exists()
    assert leftovers(path, "publish") == []


def test_a_name_with_undecodable_bytes_is_refused_in_one_sentence(tmp_path: Path) -> None:
    name = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"caf\xe9.botdesk"))
    with pytest.raises(WorkspaceError, match=r"caf\ufffd.botdesk is not valid UTF-8"):
        Workspace.create(name, name="Cafe")
