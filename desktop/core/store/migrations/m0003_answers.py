"""Answer profiles, test sets with their questions, and kept test runs with per-question results."""

from __future__ import annotations

import apsw

SCHEMA = """
-- One answer set-up: which model, which prompt, how passages are retrieved.
create table answer_profiles(
    id integer primary key,
    name text not null unique,
    generator text not null,              -- "ollama:llama3.2", "mistral:mistral-small-latest"
    system_prompt text not null,
    retrieval_mode text not null default 'hybrid'
        check (retrieval_mode in ('hybrid', 'vector', 'keyword')),
    k integer not null default 5 check (k between 1 and 50),
    min_score real,                       -- null: no minimum
    temperature real not null default 0.2,
    max_tokens integer not null default 512,
    refusal text not null,
    created_at text not null,
    updated_at text not null
);

-- Saved questions. One set per workspace today ('default'); the table allows more.
create table test_sets(
    id integer primary key,
    name text not null unique,
    created_at text not null
);
create table test_questions(
    id integer primary key,
    test_set_id integer not null references test_sets(id) on delete cascade,
    ordinal integer not null,
    question text not null,
    expected_source text not null default '',   -- URL or path (or part of one); '|' separates
    must_include text not null default '[]',    -- JSON list of strings
    must_not_include text not null default '[]',
    should_decline integer,                      -- null: no expectation; 0/1
    created_at text not null
);
create index test_questions_set on test_questions(test_set_id, ordinal);

-- A run of a test set against one or more profiles; kept so runs can be compared.
create table test_runs(
    id integer primary key,
    test_set_id integer references test_sets(id) on delete set null,
    started_at text not null,
    finished_at text,
    status text not null default 'running'
        check (status in ('running', 'finished', 'cancelled', 'failed')),
    target text not null default 'workspace',   -- 'workspace' or 'bundle:<path>'
    profiles text not null,                      -- JSON {name: settings snapshot}
    totals text not null default '{}'            -- JSON totals per profile
);
create table test_results(
    id integer primary key,
    run_id integer not null references test_runs(id) on delete cascade,
    question_id integer references test_questions(id) on delete set null,
    question text not null,
    expected text not null default '{}',         -- JSON: the question's expectations then
    profile text not null,
    answer text not null default '',
    declined integer not null default 0,
    citations text not null default '[]',        -- JSON [{n, chunk_id, source}]
    invalid_citations text not null default '[]',
    passages text not null default '[]',         -- JSON: the passages given
    retrieved text not null default '[]',        -- JSON: sources retrieved (for retrieval hit)
    checks text not null default '{}',           -- JSON {expectation: true/false}
    passed integer not null default 0,
    error text not null default '',
    notes text not null default '[]',
    prompt_tokens integer,
    completion_tokens integer,
    first_token_s real,
    total_s real,
    cost real,
    created_at text not null
);
create index test_results_run on test_results(run_id);
"""


def migrate(conn: apsw.Connection) -> None:
    conn.execute(SCHEMA)
