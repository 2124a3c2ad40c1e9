"""Opening SQLite through apsw with sqlite-vec loaded, and the pragmas every connection gets.

The standard library's sqlite3 cannot load extensions on this machine's Python nor on
macOS's; apsw ships its own current SQLite with extension loading.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import apsw
import sqlite_vec

from desktop.core.errors import WorkspaceDamagedError, WorkspaceError, WorkspaceReadOnlyError
from desktop.core.text import is_blank

Row = dict[str, Any]


# Short writes wait this long for another connection's write to end (a sync commits each
# document alone, so waits are short); past it, WorkspaceBusyError says so.
BUSY_TIMEOUT_MS = 10_000


def connect(
    path: Path | str, *, readonly: bool = False, immutable: bool = False
) -> apsw.Connection:
    """Open a connection with sqlite-vec loaded and checked, WAL, foreign keys on.

    immutable: read-only, and SQLite neither locks nor writes anything beside the file (no
    -wal/-shm): for a read-only file or a file in a read-only folder.
    """
    _check_name(path)
    if immutable:
        uri = "file:" + urllib.parse.quote(str(Path(path).absolute())) + "?immutable=1"
        conn = apsw.Connection(uri, flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
    else:
        flags = (
            apsw.SQLITE_OPEN_READONLY
            if readonly
            else (apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE)
        )
        conn = apsw.Connection(str(path), flags=flags)
    try:
        load_sqlite_vec(conn)
    except BaseException:
        conn.close()
        raise
    conn.setbusytimeout(BUSY_TIMEOUT_MS)
    register_functions(conn)
    return conn


def register_functions(conn: apsw.Connection) -> None:
    """SQL functions that must agree with Python: `is_blank(text)` is `core.text.is_blank`
    (SQL's trim() knows only the characters it is given, so a passage of U+2003 spaces was
    blank to the embedder but waiting for a vector in `index_status`, forever)."""
    conn.create_scalar_function("is_blank", _sql_is_blank, 1, deterministic=True)


def _sql_is_blank(*values: Any) -> int:  # called with one value: numargs=1
    return int(is_blank(values[0]))


DAMAGED_ERRORS = (apsw.CorruptError, apsw.NotADBError)


def damaged_error(path: Path | str | None, exc: BaseException) -> WorkspaceDamagedError:
    """The message for a damaged workspace file, naming its last good backup if any."""
    from desktop.core.store.backup import last_good_backup  # backup imports this module

    name = f"The workspace file {path}" if path else "The workspace file"
    restore = f"`botdesk backup {path or 'WS'} --restore` (the damaged file is kept)"
    hint = f"Restore its last good backup with {restore}."
    if path is not None:
        backup = last_good_backup(path)
        if backup is None:
            hint = "There is no backup of it; open another workspace or create a new one."
        else:
            hint = f"Its last good backup is {backup.describe()}: restore it with {restore}."
    return WorkspaceDamagedError(f"{name} is damaged ({exc}).", hint=hint)


def user_error(exc: BaseException, path: Path | str | None = None) -> WorkspaceError | None:
    """A storage error as the sentence a user should read, or None if it is not one."""
    if isinstance(exc, DAMAGED_ERRORS):
        return damaged_error(path, exc)
    if isinstance(exc, apsw.ReadOnlyError):
        return WorkspaceReadOnlyError(
            "The workspace is read-only here: nothing was changed.",
            hint="Copy it to a folder you can write to, or make the file writable.",
        )
    if isinstance(exc, apsw.BusyError):
        return WorkspaceError(
            "The workspace is busy: another program kept writing to it for "
            f"{BUSY_TIMEOUT_MS // 1000} s.",
            hint="Try again when it has finished.",
        )
    return None


def _check_name(path: Path | str) -> None:
    """SQLite takes UTF-8 file names: a name with undecodable bytes (kept by Python as lone
    surrogates, common from Windows and zip archives) cannot be opened."""
    text = os.fspath(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(text).decode("utf-8", errors="replace")
        raise WorkspaceError(
            f"The workspace file name {shown} is not valid UTF-8.",
            hint="Rename the file (or choose another name) using ordinary characters.",
        ) from None


def load_sqlite_vec(conn: apsw.Connection) -> str:
    """Load sqlite-vec and return its version; a wheel that imports but fails to load is caught."""
    try:
        conn.enable_load_extension(True)
        conn.load_extension(sqlite_vec.loadable_path())
        conn.enable_load_extension(False)
        version = conn.execute("select vec_version()").fetchall()[0][0]
    except DAMAGED_ERRORS:
        raise  # the file, not the extension: the caller names the file
    except apsw.Error as exc:  # one release shipped a broken ARM64 wheel
        raise WorkspaceError(
            f"The sqlite-vec extension could not be loaded ({exc}).",
            hint="Reinstall Botdesk's dependencies (pip install --force-reinstall sqlite-vec).",
        ) from exc
    return str(version)


def fetch_all(conn: apsw.Connection, sql: str, params: Any = ()) -> list[Row]:
    """Run a query and return its rows as dicts keyed by column name."""
    cursor = conn.execute(sql, params)
    rows: list[Row] = []
    names: list[str] | None = None
    for row in cursor:
        if names is None:  # the description is only available while the cursor is active
            names = [d[0] for d in cursor.getdescription()]
        rows.append(dict(zip(names, row, strict=True)))
    return rows


def fetch_all_packed(
    conn: apsw.Connection,
    columns: Mapping[str, str],
    tail: str,
    params: Any = (),
    *,
    order_by: str,
) -> list[Row]:
    """fetch_all of `select <columns> <tail> order by <order_by>` ({name: SQL expression}),
    in one step of SQLite: the rows come back packed in one JSON array.

    apsw lets go of the GIL around each step, one per row, and must win it back after.
    Beside a busy Python thread (a sync runs on one) each win waits up to the switch
    interval, 5 ms: 1,000 rows took 135-270 ms on the window's thread that way, and 6 ms
    packed. For the long lists the window reads while a job runs. Text, integers and
    NULLs only: JSON holds no blobs, and a REAL comes back rounded to 15 digits."""
    packed = ", ".join(columns.values())
    sql = f"select json_group_array(json_array({packed}) order by {order_by}) {tail}"
    text = scalar(conn, sql, params)
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in json.loads(text or "[]")]


def fetch_one(conn: apsw.Connection, sql: str, params: Any = ()) -> Row | None:
    rows = fetch_all(conn, sql, params)
    return rows[0] if rows else None


def scalar(conn: apsw.Connection, sql: str, params: Any = ()) -> Any:
    """The first column of the first row, or None."""
    for row in conn.execute(sql, params):
        return row[0]
    return None
