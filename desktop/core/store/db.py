"""Opening SQLite through apsw with sqlite-vec loaded, and the pragmas every connection gets.

The standard library's sqlite3 cannot load extensions on this machine's Python nor on
macOS's; apsw ships its own current SQLite with extension loading.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import apsw
import sqlite_vec

from desktop.core.errors import WorkspaceError

Row = dict[str, Any]


def connect(path: Path | str, *, readonly: bool = False) -> apsw.Connection:
    """Open a connection with sqlite-vec loaded and checked, WAL, foreign keys on."""
    _check_name(path)
    flags = (
        apsw.SQLITE_OPEN_READONLY
        if readonly
        else (apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE)
    )
    conn = apsw.Connection(str(path), flags=flags)
    load_sqlite_vec(conn)
    conn.setbusytimeout(5000)
    return conn


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


def fetch_one(conn: apsw.Connection, sql: str, params: Any = ()) -> Row | None:
    rows = fetch_all(conn, sql, params)
    return rows[0] if rows else None


def scalar(conn: apsw.Connection, sql: str, params: Any = ()) -> Any:
    """The first column of the first row, or None."""
    for row in conn.execute(sql, params):
        return row[0]
    return None
