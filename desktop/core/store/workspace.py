"""A workspace: one `NAME.botdesk` SQLite file holding everything about one bot."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import apsw

from desktop.core.errors import (
    NotAWorkspaceError,
    WorkspaceError,
    WorkspaceReadOnlyError,
    WorkspaceTooNewError,
)
from desktop.core.store import backup, db
from desktop.core.store.migrations import all_migrations, apply_pending, latest_version

log = logging.getLogger(__name__)

# 'BDK1': marks a SQLite file as a Botdesk workspace.
APPLICATION_ID = 0x42444B31
SUFFIX = ".botdesk"


def utc_now() -> str:
    """Timestamps are stored as ISO-8601 UTC strings."""
    return datetime.now(UTC).isoformat(timespec="seconds")


# Frames in the WAL after a commit past which it is copied back: SQLite's own automatic
# checkpoint point (1,000 pages of 4 KiB).
WAL_CHECKPOINT_PAGES = 1000
CHECKPOINT_JOIN_S = 30.0  # closing waits for a checkpoint under way


class Workspace:
    """An open workspace. Use as a context manager, or call close()."""

    def __init__(self, path: Path, conn: apsw.Connection, *, readonly_reason: str = "") -> None:
        self.path = path
        self.conn = conn
        # Why writes are refused ("" when writable): shown in the app's banner and in
        # every refused write's message.
        self.readonly_reason = readonly_reason
        self._checkpointer: threading.Thread | None = None  # see _checkpoint_when_large
        self._wal_pages = 0  # frames in the WAL after the last commit (SQLite's WAL hook)
        if not readonly_reason:
            conn.set_wal_hook(self._on_wal_commit)

    @property
    def readonly(self) -> bool:
        return bool(self.readonly_reason)

    # -- opening -------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path | str, *, name: str) -> Workspace:
        """Create a new workspace file; refuses to overwrite an existing file."""
        path = Path(path)
        if path.exists():
            raise WorkspaceError(
                f"{path} already exists.", hint="Choose another file name, or open it instead."
            )
        if not path.parent.exists():
            raise WorkspaceError(f"The folder {path.parent} does not exist.")
        conn = db.connect(path)
        conn.execute(f"pragma application_id = {APPLICATION_ID:d}")
        _configure(conn)
        apply_pending(conn)
        workspace = cls(path, conn)
        workspace.set_setting("name", name)
        workspace.set_setting("created_at", utc_now())
        return workspace

    @classmethod
    def open(cls, path: Path | str) -> Workspace:
        """Open a workspace and apply pending migrations; refuse foreign or newer files."""
        path = Path(path)
        if not path.is_file():
            raise WorkspaceError(f"No workspace at {path}.", hint="Create one with `botdesk init`.")
        with path.open("rb") as file:
            header = file.read(16)
        if header != b"SQLite format 3\x00":
            raise NotAWorkspaceError(
                f"{path} is not a Botdesk workspace (not a SQLite database).",
                hint="Open a .botdesk file made by Botdesk.",
            )
        readonly_reason = _readonly_reason(path)
        try:
            conn = db.connect(path, immutable=bool(readonly_reason))
        except db.DAMAGED_ERRORS as exc:
            raise db.damaged_error(path, exc) from exc
        try:
            application_id = int(db.scalar(conn, "pragma application_id"))
            version = int(db.scalar(conn, "pragma user_version"))
            # Reading the schema finds a truncated or overwritten file before any work.
            db.scalar(conn, "select count(*) from sqlite_schema")
        except db.DAMAGED_ERRORS as exc:
            conn.close()
            raise db.damaged_error(path, exc) from exc
        except apsw.Error as exc:
            conn.close()
            raise NotAWorkspaceError(
                f"{path} is not a Botdesk workspace (not a SQLite database: {exc})."
            ) from exc
        if application_id != APPLICATION_ID:
            conn.close()
            raise NotAWorkspaceError(
                f"{path} is not a Botdesk workspace.",
                hint="Open a .botdesk file made by Botdesk.",
            )
        if version > latest_version():
            conn.close()
            raise WorkspaceTooNewError(
                f"{path} was written by a newer Botdesk (schema {version}, "
                f"this one knows {latest_version()}).",
                hint="Update Botdesk to open it; the file was not changed.",
            )
        if readonly_reason:
            if version < latest_version():
                readonly_reason += " (and it was made by an older Botdesk: some views may fail)"
            _configure(conn, readonly=True)
            return cls(path, conn, readonly_reason=readonly_reason)
        _configure(conn)
        if 0 < version < latest_version():
            # A copy before the schema changes: the one way back if a migration goes wrong.
            upcoming = min(m.number for m in all_migrations() if m.number > version)
            backup.make_backup(conn, path, kind=f"before-migration-{upcoming}")
        apply_pending(conn)
        _daily_backup(conn, path)
        return cls(path, conn)

    def open_again(self) -> Workspace:
        """A second connection to this workspace's file, for work on a thread of its own
        (a sync, a bundle build): an apsw connection serves one call at a time, so work on
        this one would hold up every read of the window meanwhile.

        WAL lets it write while this one reads; its commits are seen here at the next read.
        A read-only workspace gives a read-only connection. The caller closes it."""
        conn = db.connect(self.path, immutable=self.readonly)
        _configure(conn, readonly=self.readonly)
        return Workspace(self.path, conn, readonly_reason=self.readonly_reason)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.join(CHECKPOINT_JOIN_S)
        self.conn.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries -------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[apsw.Connection]:
        """A transaction (a savepoint when nested): all or nothing.

        The outermost one takes the write lock at once (BEGIN IMMEDIATE): a transaction
        that reads then writes while another connection commits would fail with BUSY at
        once, without waiting out the busy timeout.
        """
        self.refuse_if_readonly()
        if self.conn.in_transaction:
            with self._translated(), self.conn:
                yield self.conn
            return
        with self._translated():
            self.conn.execute("begin immediate")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("rollback")
                raise
            self.conn.execute("commit")
        self._checkpoint_when_large()

    def _on_wal_commit(self, _conn: apsw.Connection, _name: str, pages: int) -> int:
        # Called by SQLite inside each commit of this connection: only note the size. The
        # WAL file never shrinks, so its size on disk cannot say how full it is: after the
        # first big sync every commit started a checkpoint thread (1,000 threads a sync).
        self._wal_pages = pages
        return apsw.SQLITE_OK

    def _checkpoint_when_large(self) -> None:
        """Copy a grown WAL back into the file on a thread of its own (see _configure)."""
        if self.readonly_reason or (self._checkpointer and self._checkpointer.is_alive()):
            return
        if self._wal_pages < WAL_CHECKPOINT_PAGES:
            return
        self._wal_pages = 0
        self._checkpointer = threading.Thread(
            target=_checkpoint, args=(self.path,), name="wal-checkpoint", daemon=True
        )
        self._checkpointer.start()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except apsw.Error as exc:
            known = db.user_error(exc, self.path)
            if known is None:
                raise
            if isinstance(known, WorkspaceReadOnlyError) and self.readonly_reason:
                known = self._readonly_error()
            raise known from exc

    def refuse_if_readonly(self) -> None:
        if self.readonly_reason:
            raise self._readonly_error()

    def _readonly_error(self) -> WorkspaceReadOnlyError:
        return WorkspaceReadOnlyError(
            f"The workspace is open read-only: {self.readonly_reason}. Nothing was changed.",
            hint="Copy it to a folder you can write to, or make it writable, then open it again.",
        )

    def fetch_all(self, sql: str, params: Any = ()) -> list[db.Row]:
        return db.fetch_all(self.conn, sql, params)

    def fetch_all_packed(
        self, columns: Mapping[str, str], tail: str, params: Any = (), *, order_by: str
    ) -> list[db.Row]:
        return db.fetch_all_packed(self.conn, columns, tail, params, order_by=order_by)

    def fetch_one(self, sql: str, params: Any = ()) -> db.Row | None:
        return db.fetch_one(self.conn, sql, params)

    def scalar(self, sql: str, params: Any = ()) -> Any:
        return db.scalar(self.conn, sql, params)

    def execute(self, sql: str, params: Any = ()) -> None:
        with self._translated():
            self.conn.execute(sql, params)

    def last_insert_id(self) -> int:
        return int(self.conn.last_insert_rowid())

    # -- settings ------------------------------------------------------------------
    def setting(self, key: str, default: Any = None) -> Any:
        value = self.scalar("select value from settings where key = ?", (key,))
        return default if value is None else json.loads(value)

    def set_setting(self, key: str, value: Any) -> None:
        self.execute(
            "insert into settings(key, value) values (?, ?)"
            " on conflict(key) do update set value = excluded.value",
            (key, json.dumps(value)),
        )

    @property
    def name(self) -> str:
        return str(self.setting("name", self.path.stem))


def _readonly_reason(path: Path) -> str:
    """Why this workspace can only be read ("" when it can be written)."""
    if not os.access(path, os.W_OK):
        return f"the file {path.name} is read-only"
    folder = path.absolute().parent
    if not os.access(folder, os.W_OK):
        # SQLite writes its journal (-wal, -shm) beside the file.
        return f"its folder {folder} is read-only"
    return ""


def _daily_backup(conn: apsw.Connection, path: Path) -> None:
    """The rolling daily copy; a failure is logged, never stops the opening."""
    if not backup.daily_backup_due(path):
        return
    try:
        backup.make_backup(conn, path, kind="daily")
    except WorkspaceError as exc:
        log.warning("daily backup of %s failed: %s", path, exc)


def _configure(conn: apsw.Connection, *, readonly: bool = False) -> None:
    conn.execute("pragma foreign_keys = on")
    if readonly:
        return  # opened immutable: nothing is written, so no journal settings apply
    # WAL + NORMAL never corrupts; only a power loss can drop the last commits.
    conn.execute("pragma journal_mode = wal")
    conn.execute("pragma synchronous = normal")
    # SQLite checkpoints inside the commit that grows the WAL past 1,000 pages, on the
    # committing thread: the window's, during a sync. A checkpoint writes the pages back
    # and syncs the file: 150-850 ms on a busy disk, measured as GUI stalls. Workspace
    # runs it on a thread of its own instead (_checkpoint_when_large).
    conn.execute("pragma wal_autocheckpoint = 0")


def _checkpoint(path: Path) -> None:
    """A passive checkpoint on a connection of its own: it never blocks the writer."""
    try:
        conn = db.connect(path)
        try:
            conn.execute("pragma wal_checkpoint(passive)").fetchall()
        finally:
            conn.close()
    except apsw.Error as exc:  # the next large WAL tries again
        log.warning("background checkpoint of %s failed: %s", path, exc)
