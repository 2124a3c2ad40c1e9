"""Publishing: the widget config, the endpoint and bot id, releases, and what each one held."""

from __future__ import annotations

import apsw

SCHEMA = """
-- One row: the widget config (JSON) and where this workspace publishes to. The endpoint's
-- token is never here: it lives in the keyring under the endpoint's URL.
create table publish_settings(
    id integer primary key check (id = 1),
    widget text not null default '{}',
    endpoint text,
    bot_id text,
    updated_at text not null
);

-- Releases this workspace published (status 'published'), started ('pending': the bundle
-- may be uploaded but the release was not created), or saw on the endpoint ('seen').
create table publish_releases(
    id integer primary key,
    endpoint text not null,
    bot_id text not null,
    release_id text,                  -- the endpoint's id; null while pending
    version integer,
    status text not null check (status in ('pending', 'published', 'seen')),
    active integer not null default 0,
    bundle_sha256 text not null,
    bundle_size integer,
    content_hash text not null default '',
    created_at text not null,         -- when the bundle was built (also its manifest's created_at)
    published_at text,
    notes text not null default '',
    idempotency_key text not null default '',   -- sent with the release call, reused on re-run
    manifest text not null default '{}',
    widget text not null default '{}',
    unique (endpoint, bot_id, release_id)
);
create index publish_releases_target on publish_releases(endpoint, bot_id, status);

-- What a published release held, to show the changes since the last release.
create table publish_release_passages(
    release_row_id integer not null references publish_releases(id) on delete cascade,
    passage_id integer not null,
    text_hash text not null,
    source_key text not null default '',    -- the citation's URL or file name
    primary key (release_row_id, passage_id)
) without rowid;
"""


def migrate(conn: apsw.Connection) -> None:
    conn.execute(SCHEMA)
