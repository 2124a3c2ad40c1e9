"""Named schema migrations, applied in order, each in its own transaction with its record.

A migration is a module `mNNNN_name.py` in this package with `migrate(conn)`. Which ones
ran is recorded in `schema_migrations`; `PRAGMA user_version` holds the highest number
applied, and a workspace whose number is higher than the highest we know was written by
a newer Botdesk and is refused, never touched.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import apsw

_NAME = re.compile(r"^m(\d{4})_(\w+)$")


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    migrate: Callable[[apsw.Connection], None]


def all_migrations() -> list[Migration]:
    """Every migration shipped with this Botdesk, in order."""
    found: list[Migration] = []
    for info in pkgutil.iter_modules(__path__):
        match = _NAME.match(info.name)
        if not match:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.append(Migration(int(match.group(1)), info.name, module.migrate))
    found.sort(key=lambda m: m.number)
    numbers = [m.number for m in found]
    assert len(set(numbers)) == len(numbers), f"two migrations share a number: {numbers}"
    return found


def latest_version() -> int:
    return max(m.number for m in all_migrations())


def apply_pending(conn: apsw.Connection) -> list[str]:
    """Apply the migrations this workspace lacks; return their names."""
    with conn:
        conn.execute(
            "create table if not exists schema_migrations("
            " number integer primary key, name text not null, applied_at text not null)"
        )
    done = {int(str(row[0])) for row in conn.execute("select number from schema_migrations")}
    applied: list[str] = []
    for migration in all_migrations():
        if migration.number in done:
            continue
        with conn:  # one transaction: the schema change and its record land together
            migration.migrate(conn)
            conn.execute(
                "insert into schema_migrations(number, name, applied_at) values (?, ?, ?)",
                (migration.number, migration.name, datetime.now(UTC).isoformat()),
            )
            highest = max(done | {migration.number})
            conn.execute(f"pragma user_version = {highest:d}")
        done.add(migration.number)
        applied.append(migration.name)
    return applied
