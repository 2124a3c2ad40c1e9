"""Sources, documents, passages, their full-text index, and workspace settings."""

from __future__ import annotations

import apsw

SCHEMA = """
-- Workspace-wide settings as JSON values: name, embedder, chunker defaults, endpoint...
create table settings(
    key text primary key,
    value text not null
);

-- What the user pointed Botdesk at.
create table sources(
    id integer primary key,
    kind text not null check (kind in ('site', 'files', 'text', 'qa')),
    location text not null,          -- start URL, file or folder path; '' for text and qa
    title text not null default '',
    settings text not null default '{}',   -- JSON: include/exclude, limits, chunker settings
    created_at text not null,
    last_synced_at text,
    last_sync_summary text            -- JSON summary of the last sync of this source
);

-- One fetched page or file (or the single document of a text/qa source).
create table documents(
    id integer primary key,
    source_id integer not null references sources(id) on delete cascade,
    uri text not null,                -- canonical URL, absolute file path, or text:<source id>
    title text not null default '',
    content_type text not null default '',
    status text not null default 'pending'
        check (status in ('pending', 'ok', 'unchanged', 'failed', 'removed', 'skipped', 'no_text')),
    status_reason text not null default '',
    etag text,
    last_modified text,
    content_hash text,                -- sha256 of the raw bytes fetched or read
    markdown text,                    -- extracted main content as Markdown
    markdown_hash text,
    pages text,                       -- JSON [[page_number, start, end], ...] spans into markdown
    excluded integer not null default 0,
    fetched_at text,
    updated_at text not null,
    unique (source_id, uri)
);
create index documents_status on documents(status);

-- A passage: what the bot is given. Chunker output plus the user's curation.
create table passages(
    id integer primary key,
    document_id integer not null references documents(id) on delete cascade,
    ordinal integer not null,         -- position in the document
    origin text not null default 'chunker' check (origin in ('chunker', 'manual')),
    heading_path text not null default '',   -- "Pricing > Enterprise"
    page integer,                     -- 1-based PDF page, null otherwise
    char_start integer,               -- span in documents.markdown, null for manual
    char_end integer,
    source_text text not null,        -- what the chunker produced (or the manual text)
    source_hash text not null,        -- sha256 of source_text: the identity across re-syncs
    edited_text text,                 -- the user's edit, null when not edited
    review_source_text text,          -- new chunker text when an edited passage's source changed
    needs_review integer not null default 0,
    excluded integer not null default 0,
    boilerplate integer not null default 0,  -- repeats across many documents
    removed integer not null default 0,      -- its document disappeared or it was re-chunked away
    text text not null,               -- effective text: edited_text if set, else source_text
    text_hash text not null,          -- sha256 of text: the embedding cache key
    tokens integer not null,
    created_at text not null,
    updated_at text not null
);
create index passages_document on passages(document_id, ordinal);
create index passages_source_hash on passages(source_hash);
create index passages_text_hash on passages(text_hash);

-- Full-text index over the effective text. Porter stemming reproduced reference BM25 on a
-- public retrieval set, plain unicode61 lost 1.4 points of nDCG@10.
create virtual table passages_fts using fts5(
    text, heading_path,
    content='passages', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
create trigger passages_ai after insert on passages begin
    insert into passages_fts(rowid, text, heading_path) values (new.id, new.text, new.heading_path);
end;
create trigger passages_ad after delete on passages begin
    insert into passages_fts(passages_fts, rowid, text, heading_path)
        values ('delete', old.id, old.text, old.heading_path);
end;
create trigger passages_au after update of text, heading_path on passages begin
    insert into passages_fts(passages_fts, rowid, text, heading_path)
        values ('delete', old.id, old.text, old.heading_path);
    insert into passages_fts(rowid, text, heading_path) values (new.id, new.text, new.heading_path);
end;
"""


def migrate(conn: apsw.Connection) -> None:
    conn.execute(SCHEMA)
