"""The embedding cache and the record of each embedder's vec0 table.

Vectors are cached by (passage text hash, provider, model) as float32 blobs: a re-sync
re-embeds only text that changed, and switching back to an earlier embedder costs
nothing. The vec0 tables themselves are created by desktop.core.index once the
embedder's dimensions are known (learnt from the first vector it returns).
"""

from __future__ import annotations

import apsw

SCHEMA = """
-- A rowid table: a WITHOUT ROWID row this long goes to an overflow page of its own (4.7 KB
-- per 384-dim vector measured), a rowid row shares its page (bench/search_latency.py).
create table embeddings(
    id integer primary key,
    text_hash text not null,          -- passages.text_hash (sha256 of the effective text)
    provider text not null,
    model text not null,
    dimensions integer not null,
    vector blob not null,             -- float32 little-endian, as the model returned it
    truncated integer not null default 0,   -- the text was cut to the model's input limit
    created_at text not null,
    unique (text_hash, provider, model)
);
-- "Which texts does this model have?" without reading the vectors.
create index embeddings_model on embeddings(provider, model, text_hash);

-- One vec0 table per embedder the workspace has used: a binary-quantised (bit[D]) coarse
-- index keyed by passage id, its +text_hash saying which text each row was built from.
create table vector_tables(
    provider text not null,
    model text not null,
    dimensions integer not null,
    table_name text not null unique,
    created_at text not null,
    primary key (provider, model)
);
"""


def migrate(conn: apsw.Connection) -> None:
    conn.execute(SCHEMA)
