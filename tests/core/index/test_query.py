"""The one FTS5 query builder: any word (ranking) and all words (filtering lists)."""

from __future__ import annotations

import apsw
import pytest

from desktop.core.index.query import ALL_WORDS, ANY_WORD, fts_query


def test_any_word_drops_stop_words_unless_nothing_else() -> None:
    assert fts_query("Where is the office?") == '"Where" OR "office"'
    assert fts_query("to be", ANY_WORD) == '"to" OR "be"'
    assert fts_query("?!") == ""


def test_all_words_keeps_every_term_whole() -> None:
    assert fts_query("where is the e-mail", ALL_WORDS) == '"where" "is" "the" "e-mail"'
    assert fts_query('say "hi"', ALL_WORDS) == '"say" """hi"""'
    assert fts_query("   ", ALL_WORDS) == ""


@pytest.fixture
def conn() -> apsw.Connection:
    db = apsw.Connection(":memory:")
    db.execute("create virtual table t using fts5(text)")
    for text in ("refunds to the card", "the card only", "refunds by e-mail", 'say "hi"'):
        db.execute("insert into t(text) values (?)", (text,))
    return db


def _rows(conn: apsw.Connection, query: str) -> set[int]:
    return {r[0] for r in conn.execute("select rowid from t where t match ?", (query,))}


def test_the_two_rules_on_a_real_fts5_table(conn: apsw.Connection) -> None:
    assert _rows(conn, fts_query("refunds card", ANY_WORD)) == {1, 2, 3}
    assert _rows(conn, fts_query("refunds card", ALL_WORDS)) == {1}
    assert _rows(conn, fts_query("e-mail", ALL_WORDS)) == {3}
    assert _rows(conn, fts_query('"hi" (', ALL_WORDS)) == {4}  # no syntax error
    assert _rows(conn, fts_query('say "hi"', ALL_WORDS)) == {4}
