"""A workspace: one `NAME.botdesk` SQLite file holding everything about one bot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import apsw

from desktop.core.errors import NotAWorkspaceError, WorkspaceError, WorkspaceTooNewError
from desktop.core.store import db
from desktop.core.store.migrations import apply_pending, latest_version

# 'BDK1': marks a SQLite file as a Botdesk workspace.
APPLICATION_ID = 0x42444B31
SUFFIX = ".botdesk"


def utc_now() -> str:
    """Timestamps are stored as ISO-8601 UTC strings."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Workspace:
    """An open workspace. Use as a context manager, or call close()."""

    def __init__(self, path: Path, conn: apsw.Connection) -> None:
        self.path = path
        self.conn = conn

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
        try:
            conn = db.connect(path)
            application_id = int(db.scalar(conn, "pragma application_id"))
            version = int(db.scalar(conn, "pragma user_version"))
        except apsw.Error as exc:  # NotADBError, CorruptError...
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
        _configure(conn)
        apply_pending(conn)
        return cls(path, conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries -------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[apsw.Connection]:
        """A transaction (a savepoint when nested): all or nothing."""
        with self.conn:
            yield self.conn

    def fetch_all(self, sql: str, params: Any = ()) -> list[db.Row]:
        return db.fetch_all(self.conn, sql, params)

    def fetch_one(self, sql: str, params: Any = ()) -> db.Row | None:
        return db.fetch_one(self.conn, sql, params)

    def scalar(self, sql: str, params: Any = ()) -> Any:
        return db.scalar(self.conn, sql, params)

    def execute(self, sql: str, params: Any = ()) -> None:
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


def _configure(conn: apsw.Connection) -> None:
    # WAL + NORMAL never corrupts; only a power loss can drop the last commits.
    conn.execute("pragma journal_mode = wal")
    conn.execute("pragma synchronous = normal")
    conn.execute("pragma foreign_keys = on")
