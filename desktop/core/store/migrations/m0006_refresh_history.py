"""Refresh history: one row per `botdesk refresh` (by hand or by the schedule)."""

from __future__ import annotations

import apsw

SCHEMA = """
-- A refresh syncs every source, runs the saved test set and may publish. Its row is written
-- at the start ('running') and completed at the end, so a run killed half-way shows as such.
create table refresh_runs(
    id integer primary key,
    started_at text not null,
    finished_at text,
    status text not null default 'running'
        check (status in ('running', 'ok', 'regressed', 'blocked', 'failed')),
    exit_code integer,
    publish_requested integer not null default 0,
    changes text not null default '{}',      -- sync counts (JSON): fetched, passages +/~/-...
    tests text not null default '{}',        -- run id, passed/failed, regressions by question
    published integer not null default 0,
    release_version integer,
    reason text not null default '',         -- why not published, or what failed
    summary text not null default ''         -- the one line the command printed
);
"""


def migrate(conn: apsw.Connection) -> None:
    conn.execute(SCHEMA)
