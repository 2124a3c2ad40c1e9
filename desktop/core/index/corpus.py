"""What search asks of a body of passages (`Corpus`: a workspace or a bundle), the filters,
and the helpers both corpora share (FTS5 top matches, unit vectors, word counts, the
threads that score vectors)."""

from __future__ import annotations

import json
import weakref
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import apsw
import numpy as np

from desktop.core.index.query import words_query
from desktop.core.index.store import Vector
from desktop.core.model_specs import ModelSpec

Mode = Literal["keyword", "vector", "hybrid"]
MODES: tuple[Mode, ...] = ("hybrid", "vector", "keyword")
MAX_CANDIDATES = 4096  # sqlite-vec's limit on k
# Document counts of words per connection and file state: the common-word check and the
# rare-identifier check ask for them on every question, and common words (the costly ones
# to count) recur from question to question.
_WORD_COUNTS: weakref.WeakKeyDictionary[apsw.Connection, _WordCounts] = weakref.WeakKeyDictionary()
WORD_COUNT_CACHE = 20_000


@dataclass(frozen=True)
class Filters:
    """Only passages of these workspace sources (empty: all) and under this URL or path prefix."""

    source_ids: tuple[int, ...] = ()
    url_prefix: str = ""

    def __bool__(self) -> bool:
        return bool(self.source_ids or self.url_prefix)


NO_FILTERS = Filters()


@dataclass(frozen=True)
class PassageState:
    """Whether a passage could be retrieved at all, and why not."""

    exists: bool
    included: bool = True
    reason: str = ""  # why it is not included: "excluded", "removed", "document excluded"...
    matches_filter: bool = True
    embedded: bool = False


def top_matches(
    conn: apsw.Connection, fts: str, query: str, limit: int, *, join: str, eligible: str
) -> list[tuple[int, float]] | None:
    """The `limit` best eligible matches by (-bm25, id), ranking in FTS5 alone and joining
    only its best rows to see which are eligible (joining every matching row first cost
    most of the time: 42 -> 15 ms at 100k passages). None when too many of the best rows
    were ineligible: the caller then ranks every match."""
    for fetch in (2 * limit + 10, 16 * limit + 80):
        rows: list[Any] = conn.execute(
            f"select f.rowid, f.s, coalesce(({eligible}), 0) from (select rowid,"
            f" bm25({fts}) as s from {fts} where {fts} match ? order by s, rowid"
            f" limit {int(fetch)}) f {join} order by f.s, f.rowid",
            (query,),
        ).fetchall()
        found = [(int(pid), -float(bm)) for pid, bm, ok in rows if ok]
        if len(found) >= limit or len(rows) < fetch:
            return found[:limit]
    return None


# Vector search work that needs no database, safe to call from several threads at once:
# each call scores what no other call has taken; the call that scores the last part returns
# the ranked list, every other call None (see WorkspaceCorpus.vector_task).
VectorTask = Callable[[], list[tuple[int, float]] | None]

_WORKERS: ThreadPoolExecutor | None = None


def search_workers() -> ThreadPoolExecutor:
    """The threads that score vectors beside the searching thread."""
    global _WORKERS  # noqa: PLW0603 -- one small pool for the process, made on first use
    if _WORKERS is None:
        _WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vector-search")
    return _WORKERS


def run_shared(
    task: VectorTask, first: Callable[[], None] | None = None
) -> list[tuple[int, float]]:
    """`task` done by a worker and this thread together; this thread does `first` (the
    keyword search of a hybrid search) before it joins in. A worker call that has not
    started by then (the workers busy with other searches) is cancelled, not waited for:
    this thread has done all the work."""
    future = search_workers().submit(task)
    try:
        if first is not None:
            first()
        mine = task()
    finally:
        theirs = None if future.cancel() else future.result()
    found = mine if mine is not None else theirs
    assert found is not None  # exactly one of the calls scored the last part
    return found


def unit_vector(vector: Vector) -> Vector:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def ids_json(ids: Iterable[int]) -> str:
    return json.dumps(sorted({int(i) for i in ids}))


@runtime_checkable
class Corpus(Protocol):
    """What search, ranking and the why-not explanations ask of a body of passages: the
    workspace (WorkspaceCorpus) or a published bundle (BundleCorpus)."""

    @property
    def kind(self) -> str:
        """ "workspace" or "bundle"."""
        ...

    @property
    def embedder(self) -> ModelSpec | None:
        """What made the vectors (None: keyword only)."""
        ...

    @property
    def dimensions(self) -> int | None: ...

    def has_vectors(self) -> bool: ...

    def keyword(self, fts: str, limit: int | None, filters: Filters) -> list[tuple[int, float]]:
        """(passage id, -bm25), best first, among passages search may return."""
        ...

    def keyword_score(self, fts: str, passage_id: int) -> float | None: ...

    def word_counts(self, words: Iterable[str]) -> tuple[dict[str, int], int]: ...

    def common_words(self, words: Sequence[str]) -> set[str]: ...

    def containing(self, word: str, ids: Sequence[int]) -> set[int]: ...

    def vector_task(self, query: Vector, depth: int, filters: Filters) -> VectorTask | None:
        """The vector search as work that needs no database, for other threads to share
        while keyword search reads FTS5; None if it needs the database."""
        ...

    def vector(self, query: Vector, depth: int, filters: Filters) -> list[tuple[int, float]]:
        """(passage id, similarity), best first."""
        ...

    def exact_vector(self, query: Vector, filters: Filters) -> list[tuple[int, float]]:
        """Every eligible vector's similarity, best first (for explanations)."""
        ...

    def vector_of(self, passage_id: int) -> Vector | None: ...

    def details(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]: ...

    def state(self, passage_id: int, filters: Filters) -> PassageState: ...


class FtsWords:
    """What both corpora share, given their FTS5 table: word counts (cached per connection
    and file state), the common-word check, which passages hold a word, and no vector task
    unless the corpus has one. A corpus inherits it and names its table (`_fts_table`,
    `_indexed_rows`); search sees the corpus only as a `Corpus`."""

    kind = ""
    embedder: ModelSpec | None = None  # keyword only until the corpus says otherwise
    dimensions: int | None = None

    def _fts_table(self) -> tuple[apsw.Connection, str]:
        """The connection and the FTS5 table."""
        raise NotImplementedError

    def _indexed_rows(self) -> int:
        """How many rows the FTS5 table indexes."""
        raise NotImplementedError

    def word_counts(self, words: Iterable[str]) -> tuple[dict[str, int], int]:
        """({word (lower case): passages indexed with it}, passages indexed). Counted once
        per connection until the file changes: the common-word and the rare-identifier
        checks ask on every question, and common words, the costly ones to count, recur."""
        conn, fts = self._fts_table()
        found: list[Any] = conn.execute("pragma data_version").fetchall()
        version = (fts, int(found[0][0]), int(conn.total_changes()))
        cache = _WORD_COUNTS.get(conn)
        if cache is None or cache.version != version or len(cache.counts) > WORD_COUNT_CACHE:
            cache = _WordCounts(version, self._indexed_rows(), {})
            _WORD_COUNTS[conn] = cache
        out: dict[str, int] = {}
        for word in {w.lower() for w in words}:
            count = cache.counts.get(word)
            if count is None:
                rows: list[Any] = conn.execute(
                    f"select count(*) from {fts} where {fts} match ?", (words_query([word]),)
                ).fetchall()
                count = cache.counts[word] = int(rows[0][0])
            out[word] = count
        return out, cache.rows

    def common_words(self, words: Sequence[str]) -> set[str]:
        """The words in at least half of the indexed passages: FTS5's BM25 gives them an idf
        of 1e-6 (log((N - n + 0.5) / (n + 0.5)) <= 0 is floored there), so they barely
        change a score, yet matching them means scoring most of the index."""
        counts, rows = self.word_counts(words)
        return {word for word, count in counts.items() if 2 * count >= rows > 0}

    def containing(self, word: str, ids: Sequence[int]) -> set[int]:
        """Which of these passages are indexed with `word`."""
        conn, fts = self._fts_table()
        rows: list[Any] = conn.execute(
            f"select rowid from {fts} where {fts} match ?"
            " and rowid in (select value from json_each(?))",
            (words_query([word]), ids_json(ids)),
        ).fetchall()
        return {int(r[0]) for r in rows}

    def vector_task(self, query: Vector, depth: int, filters: Filters) -> VectorTask | None:
        """The vector search as work that needs no database (its reads done now), for other
        threads to share while keyword search reads FTS5; None if it needs the database."""
        return None


def rank_sorted(scored: Iterable[tuple[int, float]]) -> list[tuple[int, float]]:
    """Best score first; ties by passage id, so results are stable."""
    return sorted(scored, key=lambda item: (-item[1], item[0]))


@dataclass
class _WordCounts:
    version: tuple[str, int, int]
    rows: int
    counts: dict[str, int]
