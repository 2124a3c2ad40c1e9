"""The user's words as an FTS5 query: one builder, two intents.

- `ANY_WORD` ranks: search wants every passage holding some of the question's words, best
  first by BM25, so the words are OR-ed and English stop words left out (a question's "is",
  "the" would match nearly every passage).
- `ALL_WORDS` filters: the passage list, the conversation list want only the rows holding
  every word typed, as a search box does; each whitespace-separated term is kept whole
  (quoted, so "e-mail" stays a phrase) and stop words are kept ("to be" finds "to be").

Every term is quoted, so punctuation never makes an FTS5 syntax error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

MatchRule = Literal["any_word", "all_words"]
ANY_WORD: MatchRule = "any_word"
ALL_WORDS: MatchRule = "all_words"

WORD = re.compile(r"\w+", re.UNICODE)

# Lucene's English stop words, which the reference BM25 (Anserini/Pyserini) drops from
# queries.
_STOP_WORD_TEXT = (
    "a an and are as at be but by for if in into is it no not of on or such that the their"
    " then there these they this to was will with"
)
STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())


def query_words(query: str) -> list[str]:
    """The words of a question that keyword search looks for: English stop words are left
    out unless the question has nothing else."""
    words = WORD.findall(query)
    return [w for w in words if w.lower() not in STOP_WORDS] or words


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def words_query(words: Sequence[str]) -> str:
    """Words as an FTS5 query: each word quoted, any may match."""
    return " OR ".join(_quoted(w) for w in words)


def fts_query(query: str, rule: MatchRule = ANY_WORD) -> str:
    """`query` as an FTS5 query under `rule` (see the module's docstring); "" when it holds
    no term, which the caller must not send to MATCH."""
    if rule == ALL_WORDS:
        return " ".join(_quoted(t) for t in query.split())
    return words_query(query_words(query))
