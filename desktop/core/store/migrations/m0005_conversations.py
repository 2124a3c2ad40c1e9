"""Conversations pulled from the hosted bot: their messages, leads, full-text index, the cursor.

Visitors' words are personal data: they live here, in the workspace, and never in a bundle
(the bundle builder reads passages and sources only). Deletions overwrite the freed bytes
(`secure_delete`, and FTS5's own 'secure-delete'), so a forgotten or expired conversation
does not linger in the file.
"""

from __future__ import annotations

import apsw

SCHEMA = """
-- One conversation as the service last sent it; `target` is "endpoint bot-id".
create table conversations(
    id integer primary key,
    target text not null,
    remote_id text not null,
    started_at text not null,
    updated_at text not null,
    release_id text,                    -- the release that answered (the service's id)
    page_url text,                      -- the page the widget was on
    messages integer not null default 0,
    questions integer not null default 0,        -- visitor messages
    answers integer not null default 0,          -- assistant messages
    declined integer not null default 0,         -- answers that declined
    down integer not null default 0,             -- answers with a thumbs down
    uncited integer not null default 0,          -- answers (not declined) with no citation
    cited integer not null default 0,            -- answers with at least one citation
    pulled_at text not null,
    unique (target, remote_id)
);
create index conversations_updated on conversations(updated_at);
create index conversations_release on conversations(release_id);

create table conversation_messages(
    id integer primary key,
    conversation_id integer not null references conversations(id) on delete cascade,
    ordinal integer not null,
    remote_id text not null,
    role text not null check (role in ('visitor', 'assistant')),
    text text not null,                 -- visitor text masked when the setting says so
    at text not null default '',
    declined integer not null default 0,
    feedback text,                      -- 'up', 'down' or null
    citations text not null default '[]',   -- JSON [{n, passage_id, url}]
    latency_ms integer,
    prompt_tokens integer,
    completion_tokens integer,
    truncated integer not null default 0    -- the text was cut to the stored maximum
);
create index conversation_messages_conversation on conversation_messages(conversation_id, ordinal);

create virtual table conversation_messages_fts using fts5(
    text,
    content='conversation_messages', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
insert into conversation_messages_fts(conversation_messages_fts, rank) values ('secure-delete', 1);
create trigger conversation_messages_ai after insert on conversation_messages begin
    insert into conversation_messages_fts(rowid, text) values (new.id, new.text);
end;
create trigger conversation_messages_ad after delete on conversation_messages begin
    insert into conversation_messages_fts(conversation_messages_fts, rowid, text)
        values ('delete', old.id, old.text);
end;
create trigger conversation_messages_au after update of text on conversation_messages begin
    insert into conversation_messages_fts(conversation_messages_fts, rowid, text)
        values ('delete', old.id, old.text);
    insert into conversation_messages_fts(rowid, text) values (new.id, new.text);
end;

-- A lead as captured by the widget (kept as given: the visitor handed these over).
create table conversation_leads(
    conversation_id integer primary key references conversations(id) on delete cascade,
    name text not null default '',
    email text not null default '',
    phone text not null default '',
    company text not null default '',
    message text not null default ''
);

-- Conversations the user forgot whose DELETE has not reached the service yet: retried at
-- each pull, and never stored again meanwhile.
create table conversation_erasures(
    target text not null,
    remote_id text not null,
    requested_at text not null,
    primary key (target, remote_id)
) without rowid;

-- Per endpoint and bot: the cursor to pull from next time, and what the last pull brought.
create table conversation_pulls(
    target text primary key,
    cursor text,
    last_pull_at text,
    last_summary text not null default '{}'   -- JSON PullSummary
);
"""


def migrate(conn: apsw.Connection) -> None:
    conn.execute(SCHEMA)
