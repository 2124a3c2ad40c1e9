"""Opening a bundle file read-only and reading its manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import apsw

from desktop.core.bundle.format import BUNDLE_APPLICATION_ID
from desktop.core.errors import ConfigError
from desktop.core.store import db


def open_bundle(path: Path | str) -> apsw.Connection:
    """Open a bundle read-only with sqlite-vec loaded; refuse files that are not bundles."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"No bundle file at {path}.")
    with path.open("rb") as file:
        if file.read(16) != b"SQLite format 3\x00":
            raise ConfigError(f"{path} is not a Botdesk bundle (not a SQLite file).")
    try:
        conn = db.connect(path, readonly=True)
        application_id = int(db.scalar(conn, "pragma application_id"))
    except apsw.Error as exc:
        raise ConfigError(f"{path} is not a Botdesk bundle ({exc}).") from exc
    if application_id != BUNDLE_APPLICATION_ID:
        conn.close()
        raise ConfigError(f"{path} is not a Botdesk bundle.")
    return conn


def read_manifest(conn: apsw.Connection) -> dict[str, Any]:
    return {
        str(key): json.loads(value)
        for key, value in conn.execute("select key, value from manifest")
    }
