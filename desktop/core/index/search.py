"""Retrieval: keyword (FTS5 BM25), vector (KNN) and hybrid search (the two lists fused),
and "why was this passage not retrieved?".

One search code serves a workspace and a published bundle: each is a `Corpus` that answers
four questions (keyword matches, vector neighbours, passage details, a passage's state);
ranking, fusion, minimum score, filters and explanations are shared.

Scores, higher is better, and `min_score` compares with the score of the mode searched:
- keyword: -bm25 (FTS5, porter tokenizer), 0 and up;
- vector: cosine similarity, -1 to 1 (for a binary bundle: 1 - hamming distance / D);
- hybrid: 0 to 1. Half is the keyword score over the best keyword score for this
  question, half the cosine over the best cosine (a passage missing from one list gets
  that list's lowest); 1.0 means first in both lists (and holding every rare identifier
  the question names). It is relative to the question's best matches, as RRF's was: a
  minimum of 0.5 keeps what is at least half as good as the best; no minimum is the default.

Fusion, chosen by measurement (bench/fusion_scifact.py; SciFact train, 807 questions, and
the 36 questions of bench/retrieval_quality.py; nDCG@10, all-MiniLM-L6-v2 vectors):

    fusion                                          SciFact train   36 questions
    keyword alone / vector alone                    0.700 / 0.632   0.477 / 0.681
    reciprocal rank fusion, k=60 (before)           0.700           0.664
    convex, keyword weight 0.2 / 0.3 / 0.4          0.700 / 0.724 / 0.734   0.693 / 0.688 / 0.710
    convex, keyword weight 0.5                      0.735           0.710
    convex, keyword weight 0.6                      0.730           0.654
    convex 0.5, missing scored 0 (not the lowest)   0.709           0.670
    convex 0.5, cosine rescaled from 0.3, not 0     0.724           0.678
    convex 0.3 / 0.5 on the raw cosine              0.735 / 0.729   0.687 / 0.590
    + keyword weight 0.6 / 0.8 for identifier qs    -0.001 / -0.004 no change
    + exact-match boost 0.1 / 0.2 / 0.3             0.740 / 0.741 / 0.738   0.710 / 0.710 / 0.700
    chosen: convex 0.5 + boost 0.2 (recall@100 0.960; RRF 0.956)   0.741   0.710

So: a convex combination of normalised scores (Bruch et al. 2023) with equal weights, the
lowest listed score for a passage missing from a list, and, when the question names a
rare identifier (a word with a digit found in at most 50 passages and 5% of them: QX0005,
TRA-4435, 2009), 20% of the score for holding it. Raising the keyword weight for such
questions did not help, so the weight stays. On the generated catalogue of near-duplicate
product pages (tests/helpers/catalogue.py) it puts the right page first for 24 of 24
code/SKU/model questions, where RRF did for 7. `Fusion(method="rrf")` is kept to compare.

Hybrid search scores the vectors on a worker thread while this thread runs the keyword
search (NumPy's BLAS and SQLite both release the GIL; only the calling thread uses the
connection); `parallel=False` gives the same results one after the other.

Vector search in a workspace is exact while its vectors fit `EXACT_MAX_BYTES` (1 GiB:
~700k passages at 384 dimensions): the included vectors are held in memory and scored
with one matrix product. Beyond that it is a coarse pass over the embedder's vec0 table of
sign bits (`bit[D]`, hamming distance) for OVERSAMPLE x the list depth candidates,
rescored exactly with the cached float32 vectors. bench/search_latency.py measured both:
the coarse pass was slower than the matrix product at 100k and lost recall.
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import apsw
import numpy as np

from desktop.core.content.curation import INCLUDED_WHERE
from desktop.core.errors import ConfigError
from desktop.core.index import store
from desktop.core.index.query import fts_query, query_words, words_query
from desktop.core.index.store import Vector
from desktop.core.model_specs import ModelSpec
from desktop.core.source_ref import SourceRef
from desktop.core.store.workspace import Workspace

Mode = Literal["keyword", "vector", "hybrid"]
MODES: tuple[Mode, ...] = ("hybrid", "vector", "keyword")
RRF_K = 60
MAX_K = 1000
# Candidates taken from the binary coarse pass per result wanted (measured in
# bench/search_latency.py: recall@10 against exact search), and at least this many.
OVERSAMPLE = 10
MIN_CANDIDATES = 100
MAX_CANDIDATES = 4096  # sqlite-vec's limit on k
# Up to this many bytes of vectors, vector search is exact: the included vectors are held
# in memory (unit rows, reloaded when the workspace changes) and scored with one matrix
# product, which measured faster than the vec0 coarse pass and is never wrong. Larger
# indexes use the coarse pass (bench/search_latency.py has both).
EXACT_MAX_BYTES = 1 << 30
# Per open connection (gone with it): a new connection never sees another's matrix.
_MATRICES: weakref.WeakKeyDictionary[apsw.Connection, dict[str, _Matrix]] = (
    weakref.WeakKeyDictionary()
)
# Document counts of words per connection and file state: the common-word check and the
# rare-identifier check ask for them on every question, and common words (the costly ones
# to count) recur from question to question.
_WORD_COUNTS: weakref.WeakKeyDictionary[apsw.Connection, _WordCounts] = (
    weakref.WeakKeyDictionary()
)
WORD_COUNT_CACHE = 20_000
# Rows read per step when the vectors are loaded into memory.
LOAD_CHUNK_ROWS = 4096


@dataclass(frozen=True)
class Filters:
    """Only passages of these workspace sources (empty: all) and under this URL or path prefix."""

    source_ids: tuple[int, ...] = ()
    url_prefix: str = ""

    def __bool__(self) -> bool:
        return bool(self.source_ids or self.url_prefix)


NO_FILTERS = Filters()


@dataclass
class SearchHit:
    """One retrieved passage: what the bot would be given, where it comes from, and why."""

    rank: int
    chunk_id: int
    text: str
    heading: str
    score: float
    source: SourceRef
    mode: Mode
    scores: dict[str, float] = field(default_factory=dict)  # per mode that found it
    ranks: dict[str, int] = field(default_factory=dict)
    document_id: int | None = None
    source_id: int | None = None  # the workspace source (None in a bundle)

    def as_json(self) -> dict[str, Any]:
        """The command line's contract: rank, score, chunk_id, text, heading, source."""
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "chunk_id": self.chunk_id,
            "text": self.text,
            "heading": self.heading,
            "source": self.source.to_json(),
        }


class SearchResults(list[SearchHit]):
    """The hits, best first, with the mode actually searched and notes for the user."""

    def __init__(self, hits: Iterable[SearchHit] = (), *, mode: Mode, notes: Sequence[str] = ()):
        super().__init__(hits)
        self.mode: Mode = mode
        self.notes: list[str] = list(notes)


@dataclass(frozen=True)
class PassageState:
    """Whether a passage could be retrieved at all, and why not."""

    exists: bool
    included: bool = True
    reason: str = ""  # why it is not included: "excluded", "removed", "document excluded"...
    matches_filter: bool = True
    embedded: bool = False


@dataclass(frozen=True)
class ModeVerdict:
    rank: int | None  # where it ranks among the passages this search could return
    score: float | None
    retrieved: bool
    cut_by: list[str]


@dataclass(frozen=True)
class WhyNot:
    """For one question and one passage: its rank and score per mode, and what cut it."""

    passage_id: int
    query: str
    mode: Mode
    k: int
    min_score: float | None
    state: PassageState
    modes: dict[str, ModeVerdict]

    def summary(self) -> str:
        verdict = self.modes.get(self.mode)
        if not self.state.exists:
            return f"There is no passage {self.passage_id}."
        if verdict is None:
            return "Not searched."
        if verdict.retrieved:
            return f"Retrieved at rank {verdict.rank} ({self.mode})."
        return f"Not retrieved ({self.mode}): " + "; ".join(verdict.cut_by) + "."


def _top_matches(
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


def _unit(vector: Vector) -> Vector:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def _ids_json(ids: Iterable[int]) -> str:
    return json.dumps(sorted({int(i) for i in ids}))


class Corpus:
    """What search needs of a workspace or a bundle."""

    kind = ""
    embedder: ModelSpec | None = None
    dimensions: int | None = None

    def has_vectors(self) -> bool:
        raise NotImplementedError

    def keyword(self, fts: str, limit: int | None, filters: Filters) -> list[tuple[int, float]]:
        """(passage id, -bm25), best first, among passages search may return."""
        raise NotImplementedError

    def keyword_score(self, fts: str, passage_id: int) -> float | None:
        raise NotImplementedError

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
            (words_query([word]), _ids_json(ids)),
        ).fetchall()
        return {int(r[0]) for r in rows}

    def vector_task(
        self, query: Vector, depth: int, filters: Filters
    ) -> Callable[[], list[tuple[int, float]]] | None:
        """The vector search as work that needs no database (its reads done now), to run on
        another thread while keyword search reads FTS5; None if it needs the database."""
        return None

    def vector(self, query: Vector, depth: int, filters: Filters) -> list[tuple[int, float]]:
        """(passage id, similarity), best first."""
        raise NotImplementedError

    def exact_vector(self, query: Vector, filters: Filters) -> list[tuple[int, float]]:
        """Every eligible vector's similarity, best first (for explanations)."""
        raise NotImplementedError

    def vector_of(self, passage_id: int) -> Vector | None:
        raise NotImplementedError

    def details(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        raise NotImplementedError

    def state(self, passage_id: int, filters: Filters) -> PassageState:
        raise NotImplementedError


def _rank_sorted(scored: Iterable[tuple[int, float]]) -> list[tuple[int, float]]:
    """Best score first; ties by passage id, so results are stable."""
    return sorted(scored, key=lambda item: (-item[1], item[0]))


def _cosine(matrix: np.ndarray[Any, Any], query: Vector) -> np.ndarray[Any, Any]:
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0] = 1.0
    return np.asarray((matrix @ _unit(query)) / norms, dtype=np.float64)


@dataclass
class _WordCounts:
    version: tuple[str, int, int]
    rows: int
    counts: dict[str, int]


# -- a workspace -------------------------------------------------------------------------------
@dataclass
class _Matrix:
    """A workspace's included vectors in memory, as of one state of the file."""

    version: tuple[int, int]
    ids: np.ndarray[Any, Any]
    unit: np.ndarray[Any, Any]


def _top(
    ids: np.ndarray[Any, Any], scores: np.ndarray[Any, Any], depth: int
) -> list[tuple[int, float]]:
    if len(ids) > depth * 2:
        keep = np.argpartition(-scores, depth * 2)[: depth * 2]
        ids, scores = ids[keep], scores[keep]
    return _rank_sorted(zip(ids.tolist(), scores.tolist(), strict=True))[:depth]


class WorkspaceCorpus(Corpus):
    """The included passages of a workspace, with its embedder's vectors."""

    kind = "workspace"

    def __init__(self, ws: Workspace, embedder: ModelSpec | None = None) -> None:
        self.ws = ws
        self.embedder = embedder if embedder is not None else store.workspace_embedder(ws)
        table = store.vector_table(ws, self.embedder) if self.embedder else None
        self.table = table[0] if table else None
        self.dimensions = table[1] if table else None

    def _filter_sql(self, filters: Filters) -> tuple[str, list[Any]]:
        sql, params = "", list[Any]()
        if filters.source_ids:
            sql += " and d.source_id in (select value from json_each(?))"
            params.append(_ids_json(filters.source_ids))
        if filters.url_prefix:
            sql += " and substr(d.uri, 1, ?) = ?"
            params += [len(filters.url_prefix), filters.url_prefix]
        return sql, params

    def has_vectors(self) -> bool:
        if self.table is None:
            return False
        return self.ws.scalar(f"select 1 from {self.table} limit 1") is not None

    def _fts_table(self) -> tuple[apsw.Connection, str]:
        return self.ws.conn, "passages_fts"

    def _indexed_rows(self) -> int:
        # Every passage row is in passages_fts (the triggers index each one).
        return int(self.ws.scalar("select count(*) from passages"))

    def keyword(self, fts: str, limit: int | None, filters: Filters) -> list[tuple[int, float]]:
        if not fts:
            return []
        try:
            if limit is not None and not filters:
                top = _top_matches(
                    self.ws.conn,
                    "passages_fts",
                    fts,
                    limit,
                    join="left join passages p on p.id = f.rowid"
                    " left join documents d on d.id = p.document_id",
                    eligible=INCLUDED_WHERE,
                )
                if top is not None:
                    return top
        except apsw.SQLError as exc:  # a query FTS5 cannot parse: our quoting prevents it
            raise ConfigError(f"The search words could not be used ({exc}).") from exc
        where, params = self._filter_sql(filters)
        sql = (
            "select p.id, bm25(passages_fts) from passages_fts"
            " join passages p on p.id = passages_fts.rowid"
            " join documents d on d.id = p.document_id"
            f" where passages_fts match ? and {INCLUDED_WHERE}{where}"
            " order by bm25(passages_fts), p.id"
        )
        if limit is not None:
            sql += f" limit {int(limit)}"
        try:
            rows: list[Any] = self.ws.conn.execute(sql, [fts, *params]).fetchall()
        except apsw.SQLError as exc:  # a query FTS5 cannot parse: our quoting prevents it
            raise ConfigError(f"The search words could not be used ({exc}).") from exc
        return [(int(pid), -float(bm)) for pid, bm in rows]

    def keyword_score(self, fts: str, passage_id: int) -> float | None:
        if not fts:
            return None
        value = self.ws.scalar(
            "select bm25(passages_fts) from passages_fts where passages_fts match ? and rowid = ?",
            (fts, passage_id),
        )
        return None if value is None else -float(value)

    def _eligible_vectors(
        self, filters: Filters, ids: Sequence[int] | None
    ) -> tuple[list[int], np.ndarray[Any, Any]]:
        assert self.embedder is not None
        where, params = self._filter_sql(filters)
        if ids is not None:
            where += " and p.id in (select value from json_each(?))"
            params.append(_ids_json(ids))
        rows: list[Any] = self.ws.conn.execute(
            "select p.id, e.vector from passages p join documents d on d.id = p.document_id"
            " join embeddings e on e.text_hash = p.text_hash and e.provider = ? and e.model = ?"
            f" where {INCLUDED_WHERE}{where}",
            [self.embedder.provider, store.cache_model(self.embedder), *params],
        ).fetchall()
        if not rows:
            return [], np.zeros((0, self.dimensions or 1), dtype=np.float32)
        matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype="<f4").reshape(len(rows), -1)
        return [int(r[0]) for r in rows], matrix

    def _check_query(self, query: Vector) -> None:
        if self.dimensions is not None and query.size != self.dimensions:
            raise ConfigError(
                f"The question's vector has {query.size} dimensions; the index has "
                f"{self.dimensions}.",
                hint="The embedder changed: sync to re-embed the passages.",
            )

    def _version(self) -> tuple[int, int]:
        """Changes when anyone commits to the file (data_version) or this connection writes."""
        return int(self.ws.scalar("pragma data_version")), int(self.ws.conn.total_changes())

    def _matrix(self) -> _Matrix | None:
        """The included vectors in memory, or None when they would not fit the budget."""
        assert self.embedder is not None
        rows = int(self.ws.scalar("select count(*) from passages"))
        if rows * (self.dimensions or 0) * 4 > EXACT_MAX_BYTES:
            return None
        kept = _MATRICES.setdefault(self.ws.conn, {})
        version = self._version()
        found = kept.get(str(self.embedder))
        if found is not None and found.version == version:
            return found
        kept.clear()  # one embedder's matrix per connection; let the old one go first
        ids, unit = self._load_unit_rows()
        made = _Matrix(version, ids, unit)
        kept[str(self.embedder)] = made
        return made

    def _load_unit_rows(self) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """(ids, unit rows) of the included vectors, filled in place: the float32 matrix is
        allocated once and each chunk of blobs is copied into its slice and scaled there.
        Joining all blobs, copying and dividing peaked at 4x the matrix (603 MB for 147 MB
        at 100k x 384); this peaks at the matrix plus one chunk."""
        assert self.embedder is not None
        dims = int(self.dimensions or 0)
        select = (
            " from passages p join documents d on d.id = p.document_id join embeddings e"
            " on e.text_hash = p.text_hash and e.provider = ? and e.model = ?"
            f" where {INCLUDED_WHERE}"
        )
        params = (self.embedder.provider, store.cache_model(self.embedder))
        expected = int(self.ws.scalar("select count(*)" + select, params) or 0)
        ids = np.empty(expected, dtype=np.int64)
        unit = np.empty((expected, dims), dtype=np.float32)
        width = 4 * dims
        filled = 0
        chunk_ids: list[int] = []
        chunk_blobs: list[bytes] = []

        def flush() -> None:
            nonlocal ids, unit, filled
            if not chunk_ids:
                return
            end = filled + len(chunk_ids)
            if end > len(ids):  # rows committed between the count and the read
                ids = np.concatenate([ids, np.empty(end - len(ids), dtype=np.int64)])
                unit = np.concatenate([unit, np.empty((end - len(unit), dims), np.float32)])
            ids[filled:end] = chunk_ids
            rows = unit[filled:end]
            rows[:] = np.frombuffer(b"".join(chunk_blobs), dtype="<f4").reshape(-1, dims)
            norms = np.linalg.norm(rows, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            rows /= norms
            filled = end
            chunk_ids.clear()
            chunk_blobs.clear()

        for pid, blob in self.ws.conn.execute("select p.id, e.vector" + select, params):
            if len(blob) != width:  # another size than the index's: never scored
                continue
            chunk_ids.append(int(pid))
            chunk_blobs.append(blob)
            if len(chunk_ids) >= LOAD_CHUNK_ROWS:
                flush()
        flush()
        return ids[:filled], unit[:filled]

    def _allowed(self, filters: Filters) -> np.ndarray[Any, Any]:
        where, params = self._filter_sql(filters)
        rows: list[Any] = self.ws.conn.execute(
            "select p.id from passages p join documents d on d.id = p.document_id"
            f" where {INCLUDED_WHERE}{where}",
            params,
        ).fetchall()
        return np.asarray([int(r[0]) for r in rows], dtype=np.int64)

    def _exact(
        self, query: Vector, filters: Filters
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]] | None:
        matrix = self._matrix()
        if matrix is None:
            return None
        ids, unit = matrix.ids, matrix.unit
        if filters:
            mask = np.isin(ids, self._allowed(filters))
            ids, unit = ids[mask], unit[mask]
        scores = unit @ _unit(np.asarray(query, dtype=np.float32))
        return ids, scores.astype(np.float64)

    def vector_task(
        self, query: Vector, depth: int, filters: Filters
    ) -> Callable[[], list[tuple[int, float]]] | None:
        if self.table is None or self.embedder is None:
            return None
        self._check_query(query)
        matrix = self._matrix()
        if matrix is None:
            return None
        ids, unit = matrix.ids, matrix.unit
        if filters:
            mask = np.isin(ids, self._allowed(filters))
            ids, unit = ids[mask], unit[mask]
        target = _unit(np.asarray(query, dtype=np.float32))

        def work() -> list[tuple[int, float]]:
            return _top(ids, (unit @ target).astype(np.float64), depth)

        return work

    def vector(self, query: Vector, depth: int, filters: Filters) -> list[tuple[int, float]]:
        if self.table is None or self.embedder is None:
            return []
        self._check_query(query)
        task = self.vector_task(query, depth, filters)
        if task is not None:
            return task()
        if filters:
            # The filter may keep few passages: score every one of them exactly.
            ids, matrix = self._eligible_vectors(filters, None)
        else:
            candidates = min(MAX_CANDIDATES, max(MIN_CANDIDATES, OVERSAMPLE * depth))
            rows: list[Any] = self.ws.conn.execute(
                f"select passage_id from {self.table} where embedding match vec_bit(?) and k = ?",
                (store.binary_code(query), candidates),
            ).fetchall()
            ids, matrix = self._eligible_vectors(NO_FILTERS, [int(r[0]) for r in rows])
        if not ids:
            return []
        scores = _cosine(matrix, query)
        return _rank_sorted(zip(ids, scores.tolist(), strict=True))[:depth]

    def exact_vector(self, query: Vector, filters: Filters) -> list[tuple[int, float]]:
        if self.embedder is None:
            return []
        self._check_query(query)
        exact = self._exact(query, filters)
        if exact is not None:
            return _rank_sorted(zip(exact[0].tolist(), exact[1].tolist(), strict=True))
        ids, matrix = self._eligible_vectors(filters, None)
        if not ids:
            return []
        return _rank_sorted(zip(ids, _cosine(matrix, query).tolist(), strict=True))

    def vector_of(self, passage_id: int) -> Vector | None:
        if self.embedder is None:
            return None
        blob = self.ws.scalar(
            "select e.vector from passages p join embeddings e on e.text_hash = p.text_hash"
            " and e.provider = ? and e.model = ? where p.id = ?",
            (self.embedder.provider, store.cache_model(self.embedder), passage_id),
        )
        return None if blob is None else store.from_blob(blob)

    def details(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        rows = self.ws.fetch_all(
            "select p.id, p.text, p.heading_path, p.page, p.document_id, d.source_id, d.uri,"
            " d.title from passages p join documents d on d.id = p.document_id"
            " where p.id in (select value from json_each(?))",
            (_ids_json(ids),),
        )
        out: dict[int, dict[str, Any]] = {}
        for row in rows:
            source = SourceRef.from_uri(
                str(row["uri"]), title=row["title"] or "", page=row["page"]
            )
            out[int(row["id"])] = {
                "text": row["text"],
                "heading": row["heading_path"] or "",
                "source": source,
                "document_id": int(row["document_id"]),
                "source_id": int(row["source_id"]),
            }
        return out

    def state(self, passage_id: int, filters: Filters) -> PassageState:
        row = self.ws.fetch_one(
            "select p.excluded, p.removed, p.text, p.text_hash, d.excluded as doc_excluded,"
            " d.status, d.source_id, d.uri from passages p join documents d"
            " on d.id = p.document_id where p.id = ?",
            (passage_id,),
        )
        if row is None:
            return PassageState(exists=False, included=False)
        reason = ""
        if row["removed"]:
            reason = "removed (no longer in its document)"
        elif row["status"] == "removed":
            reason = "its document was removed"
        elif row["doc_excluded"]:
            reason = "its document is excluded"
        elif row["excluded"]:
            reason = "excluded"
        matches = True
        if filters.source_ids and int(row["source_id"]) not in filters.source_ids:
            matches = False
        if filters.url_prefix and not str(row["uri"]).startswith(filters.url_prefix):
            matches = False
        embedded = False
        if self.embedder is not None:
            embedded = (
                self.ws.scalar(
                    "select 1 from embeddings where text_hash = ? and provider = ? and model = ?",
                    (row["text_hash"], self.embedder.provider, store.cache_model(self.embedder)),
                )
                is not None
            )
        return PassageState(True, not reason, reason, matches, embedded)


# -- a bundle ------------------------------------------------------------------------------------
class BundleCorpus(Corpus):
    """A published bundle file (docs/bundle-format.md), read-only."""

    kind = "bundle"

    def __init__(self, conn: apsw.Connection, manifest: dict[str, Any]) -> None:
        self.conn = conn
        self.manifest = manifest
        if manifest.get("format_version") != 1:
            raise ConfigError(
                f"This bundle has format version {manifest.get('format_version')!r}; "
                "this Botdesk reads version 1."
            )
        tables = dict(manifest.get("tables") or {})
        self.passages = str(tables.get("passages", "passages"))
        self.sources = str(tables.get("sources", "sources"))
        self.fts = str(tables.get("fts", "passages_fts"))
        self.vectors = tables.get("vectors")
        embedding = manifest.get("embedding") or None
        self.quantization = str(manifest.get("quantization") or "none")
        if embedding and self.vectors:
            self.embedder = store.parse_embedder(f"{embedding['provider']}:{embedding['model']}")
            self.dimensions = int(embedding["dimensions"])

    def close(self) -> None:
        self.conn.close()

    def _fts_table(self) -> tuple[apsw.Connection, str]:
        return self.conn, self.fts

    def _indexed_rows(self) -> int:
        rows: list[Any] = self.conn.execute(f"select count(*) from {self.passages}").fetchall()
        return int(rows[0][0])

    def _filter_sql(self, filters: Filters) -> tuple[str, list[Any]]:
        if filters.source_ids:
            raise ConfigError(
                "A bundle does not keep the workspace's source ids.",
                hint="Filter a bundle by URL prefix, or search the workspace.",
            )
        if filters.url_prefix:
            return (
                " and substr(coalesce(s.url, s.name, ''), 1, ?) = ?",
                [len(filters.url_prefix), filters.url_prefix],
            )
        return "", []

    def has_vectors(self) -> bool:
        return self.embedder is not None

    def keyword(self, fts: str, limit: int | None, filters: Filters) -> list[tuple[int, float]]:
        if not fts:
            return []
        if limit is not None and not filters:
            top = _top_matches(
                self.conn,
                self.fts,
                fts,
                limit,
                join=f"left join {self.passages} p on p.id = f.rowid"
                f" left join {self.sources} s on s.id = p.source_id",
                eligible="s.id is not null",
            )
            if top is not None:
                return top
        where, params = self._filter_sql(filters)
        sql = (
            f"select p.id, bm25({self.fts}) from {self.fts} join {self.passages} p"
            f" on p.id = {self.fts}.rowid join {self.sources} s on s.id = p.source_id"
            f" where {self.fts} match ?{where} order by bm25({self.fts}), p.id"
        )
        if limit is not None:
            sql += f" limit {int(limit)}"
        return [(int(pid), -float(bm)) for pid, bm in self.conn.execute(sql, [fts, *params])]

    def keyword_score(self, fts: str, passage_id: int) -> float | None:
        if not fts:
            return None
        for (value,) in self.conn.execute(
            f"select bm25({self.fts}) from {self.fts} where {self.fts} match ? and rowid = ?",
            (fts, passage_id),
        ):
            return -float(value)
        return None

    def _query_blob(self, query: Vector) -> tuple[str, bytes]:
        if self.quantization == "int8":
            unit = _unit(query)
            return "vec_int8(?)", np.clip(np.round(unit * 127), -127, 127).astype(np.int8).tobytes()
        if self.quantization == "binary":
            return "vec_bit(?)", store.binary_code(query)
        return "?", query.astype("<f4").tobytes()

    def _similarity(self, distance: float) -> float:
        if self.quantization == "binary":
            return 1.0 - distance / float(self.dimensions or 1)
        return 1.0 - distance  # cosine distance

    def vector(self, query: Vector, depth: int, filters: Filters) -> list[tuple[int, float]]:
        if self.vectors is None or self.embedder is None:
            return []
        if self.dimensions is not None and query.size != self.dimensions:
            raise ConfigError(
                f"The question's vector has {query.size} dimensions; the bundle has "
                f"{self.dimensions}."
            )
        where, params = self._filter_sql(filters)
        k = min(MAX_CANDIDATES, depth if not filters else MAX_CANDIDATES)
        wrap, blob = self._query_blob(query)
        rows: list[Any] = self.conn.execute(
            f"select v.passage_id, v.distance from {self.vectors} v"
            f" join {self.passages} p on p.id = v.passage_id"
            f" join {self.sources} s on s.id = p.source_id"
            f" where v.embedding match {wrap} and k = ?{where}",
            [blob, k, *params],
        ).fetchall()
        scored = [(int(pid), self._similarity(float(d))) for pid, d in rows]
        return _rank_sorted(scored)[:depth]

    def _decode(self, blob: bytes) -> Vector:
        if self.quantization == "int8":
            return np.frombuffer(blob, dtype=np.int8).astype(np.float32) / 127.0
        if self.quantization == "binary":
            bits = np.unpackbits(np.frombuffer(blob, dtype=np.uint8), bitorder="little")
            return (bits[: self.dimensions].astype(np.float32) * 2.0) - 1.0
        return np.frombuffer(blob, dtype="<f4").astype(np.float32)

    def exact_vector(self, query: Vector, filters: Filters) -> list[tuple[int, float]]:
        if self.vectors is None:
            return []
        # The stored (possibly quantised) vectors, scored as the bundle's KNN would.
        allowed = self._eligible_ids(filters)
        out: list[tuple[int, float]] = []
        for pid, blob in self.conn.execute(f"select passage_id, embedding from {self.vectors}"):
            if int(pid) in allowed:
                out.append((int(pid), self._stored_similarity(query, self._decode(blob))))
        return _rank_sorted(out)

    def _stored_similarity(self, query: Vector, stored: Vector) -> float:
        if self.quantization == "binary":
            mine = np.unpackbits(
                np.frombuffer(store.binary_code(query), dtype=np.uint8), bitorder="little"
            )[: self.dimensions]
            theirs = stored > 0
            return 1.0 - float(np.count_nonzero(mine.astype(bool) != theirs)) / float(
                self.dimensions or 1
            )
        return float(np.dot(_unit(query), _unit(stored)))

    def _eligible_ids(self, filters: Filters) -> set[int]:
        where, params = self._filter_sql(filters)
        rows = self.conn.execute(
            f"select p.id from {self.passages} p join {self.sources} s on s.id = p.source_id"
            f" where 1{where}",
            params,
        )
        return {int(r[0]) for r in rows}

    def vector_of(self, passage_id: int) -> Vector | None:
        if self.vectors is None:
            return None
        for (blob,) in self.conn.execute(
            f"select embedding from {self.vectors} where passage_id = ?", (passage_id,)
        ):
            return self._decode(blob)
        return None

    def details(self, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        for pid, text, heading, page, doc_id, url, name, title in self.conn.execute(
            f"select p.id, p.text, p.heading_path, p.page, p.source_id, s.url, s.name, s.title"
            f" from {self.passages} p join {self.sources} s on s.id = p.source_id"
            f" where p.id in (select value from json_each(?))",
            (_ids_json(ids),),
        ):
            source = SourceRef(
                url=url or None, path=None if url else name, title=title or "", page=page
            )
            out[int(pid)] = {
                "text": text,
                "heading": heading or "",
                "source": source,
                "document_id": int(doc_id),
                "source_id": None,
            }
        return out

    def state(self, passage_id: int, filters: Filters) -> PassageState:
        rows = self.conn.execute(
            f"select s.url, s.name from {self.passages} p join {self.sources} s"
            f" on s.id = p.source_id where p.id = ?",
            (passage_id,),
        ).fetchall()
        if not rows:
            return PassageState(
                exists=False, included=False, reason="not in the bundle (excluded or removed)"
            )
        url, name = rows[0]
        matches = not filters.url_prefix or str(url or name or "").startswith(filters.url_prefix)
        embedded = self.vector_of(passage_id) is not None
        return PassageState(True, True, "", matches, embedded)


# -- ranking ------------------------------------------------------------------------------------
def list_depth(k: int) -> int:
    """How deep each list goes before fusion: deeper than k so fusion can reorder."""
    return min(MAX_CANDIDATES, max(2 * k, 20))


@dataclass(frozen=True)
class Fusion:
    """How hybrid search combines its two lists (the module docstring says why these).

    `method` "convex": keyword_weight x (BM25 / the list's best BM25) + (1 - keyword_weight)
    x the vector part, where the vector part is the cosine similarity rescaled so that the
    list's best is 1 and `vector_floor` is 0 ("max"), or the raw cosine ("raw"). A passage
    missing from a list gets that list's lowest normalised score there ("min") or 0.
    When the question holds a rare identifier (a word with a digit, such as QX0005, in at
    most `rare_max` passages), the keyword weight becomes `identifier_weight` and a passage
    holding it gains `exact_boost` x the share of those identifiers it holds.
    `method` "rrf": reciprocal rank fusion, 1 / (rrf_k + rank) summed, scaled to 1.
    """

    method: Literal["convex", "rrf"] = "convex"
    keyword_weight: float = 0.5
    vector_norm: Literal["max", "raw"] = "max"
    vector_floor: float = 0.0
    missing: Literal["min", "zero"] = "min"
    identifier_weight: float = 0.5
    exact_boost: float = 0.2
    rare_max: int = 50
    rrf_k: int = RRF_K


RRF = Fusion(method="rrf")
DEFAULT_FUSION = Fusion()


_IDENTIFIER = re.compile(r"\w*\d\w*", re.UNICODE)


def identifier_words(query: str) -> list[str]:
    """The question's words with a digit in them (product codes, SKUs, model numbers,
    prices, dates), each once, lower case."""
    seen: dict[str, None] = {}
    for word in _IDENTIFIER.findall(query):
        if len(word) >= 2 or not word.isdigit():
            seen.setdefault(word.lower(), None)
    return list(seen)


def rare_limit(fusion: Fusion, rows: int) -> int:
    """At most this many passages hold a word that counts as a rare identifier."""
    return max(1, min(fusion.rare_max, rows // 20 or 1)) if fusion.rare_max > 0 else 0


def exact_matches(
    corpus: Corpus, query: str, candidates: Iterable[int], fusion: Fusion = DEFAULT_FUSION
) -> dict[int, float] | None:
    """For a question naming rare identifiers: {candidate: share of them it holds}. None
    when it names none (or the fusion does not look for them)."""
    words = identifier_words(query)
    if not words or fusion.method != "convex" or fusion.rare_max <= 0:
        return None
    counts, rows = corpus.word_counts(words)
    limit = rare_limit(fusion, rows)
    rare = [w for w in words if 0 < counts.get(w, 0) <= limit]
    if not rare:
        return None
    ids = sorted(set(candidates))
    held: dict[int, float] = {}
    for word in rare:
        for pid in corpus.containing(word, ids):
            held[pid] = held.get(pid, 0.0) + 1.0 / len(rare)
    return held


def _normalised(
    items: list[tuple[int, float]], *, kind: str, fusion: Fusion
) -> tuple[dict[int, float], float]:
    """({id: score in 0..1}, the score given to a passage missing from the list)."""
    if not items:
        return {}, 0.0
    if kind == "vector" and fusion.vector_norm == "raw":
        scores = {pid: max(0.0, s) for pid, s in items}
    else:
        floor = fusion.vector_floor if kind == "vector" else 0.0
        top = max(s for _, s in items)
        span = top - floor
        scores = {pid: (max(0.0, s - floor) / span if span > 0 else 1.0) for pid, s in items}
    missing = min(scores.values()) if fusion.missing == "min" else 0.0
    return scores, missing


def fuse(
    lists: dict[str, list[tuple[int, float]]],
    fusion: Fusion = DEFAULT_FUSION,
    exact: dict[int, float] | None = None,
) -> list[tuple[int, float, dict[str, int]]]:
    """The two lists as one ranking: (passage id, hybrid score, {mode: rank}), best first.
    `exact`: the passages holding the question's rare identifiers (`exact_matches`)."""
    ranks: dict[int, dict[str, int]] = {}
    for name, items in lists.items():
        for rank, (pid, _) in enumerate(items, 1):
            ranks.setdefault(pid, {})[name] = rank
    fused: dict[int, float] = {}
    if fusion.method == "rrf":
        for items in lists.values():
            for rank, (pid, _) in enumerate(items, 1):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (fusion.rrf_k + rank)
        best = max(1, len(lists)) / (fusion.rrf_k + 1)
        fused = {pid: score / best for pid, score in fused.items()}
    else:
        weight = fusion.identifier_weight if exact is not None else fusion.keyword_weight
        weights = {"keyword": weight, "vector": 1.0 - weight}
        if len(lists) == 1:
            weights = dict.fromkeys(lists, 1.0)
        boost = fusion.exact_boost if exact is not None else 0.0
        parts = {
            name: _normalised(items, kind=name, fusion=fusion) for name, items in lists.items()
        }
        for pid in ranks:
            total = 0.0
            for name, (scores, missing) in parts.items():
                total += weights.get(name, 0.0) * scores.get(pid, missing)
            if exact:
                total = (1.0 - boost) * total + boost * exact.get(pid, 0.0)
            fused[pid] = total
    order = sorted(fused, key=lambda pid: (-fused[pid], pid))
    return [(pid, fused[pid], ranks[pid]) for pid in order]


def keyword_ranked(
    corpus: Corpus, query: str, limit: int, filters: Filters = NO_FILTERS
) -> list[tuple[int, float]]:
    """The `limit` best keyword matches. Words in half the index or more are left out of
    the query while others remain and these still fill the list: a passage matching only
    those words scores about 1e-6 and could only come after every passage matching another
    word, and the scores of the rest change by about that much. Measured at 100k passages
    of Zipfian words (bench/search_latency.py): 254 -> 29 ms."""
    words = query_words(query)
    if len(words) > 1:
        common = corpus.common_words(words)
        kept = [w for w in words if w.lower() not in common]
        if common and kept:
            found = corpus.keyword(words_query(kept), limit, filters)
            if len(found) >= limit:
                return found
    return corpus.keyword(words_query(words), limit, filters)


def check_mode(mode: str | None, corpus: Corpus) -> tuple[Mode, list[str]]:
    """The mode to search in: hybrid by default with vectors, else keyword (and why)."""
    notes: list[str] = []
    has_vectors = corpus.embedder is not None and corpus.has_vectors()
    if mode is None:
        if corpus.embedder is not None and not has_vectors:
            notes.append("keyword search was used: no passage is embedded yet (sync to embed)")
        return ("hybrid" if has_vectors else "keyword"), notes
    if mode not in MODES:
        raise ConfigError(f"Unknown search mode {mode!r}.", hint="Use hybrid, vector or keyword.")
    if mode != "keyword" and not has_vectors:
        why = (
            "there is no embedder (keyword search only)"
            if corpus.embedder is None
            else "no passage is embedded yet (sync to embed them)"
        )
        if mode == "vector":
            raise ConfigError(f"Vector search is not possible: {why}.")
        notes.append(f"keyword search was used: {why}")
        return "keyword", notes
    return mode, notes


def check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ConfigError(f"k must be a whole number from 1 to {MAX_K}, not {k!r}.")
    return k


_WORKERS: ThreadPoolExecutor | None = None


def _workers() -> ThreadPoolExecutor:
    global _WORKERS  # noqa: PLW0603 -- one small pool for the process, made on first use
    if _WORKERS is None:
        _WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vector-search")
    return _WORKERS


def ranked_lists(
    corpus: Corpus,
    query: str,
    query_vector: Vector | None,
    *,
    mode: Mode,
    depth: int,
    filters: Filters = NO_FILTERS,
    parallel: bool = True,
) -> dict[str, list[tuple[int, float]]]:
    """Each mode's `depth` best (passage id, score), best first. For hybrid with the vectors
    in memory, the matrix product runs on a worker thread while this thread runs the
    keyword search: both release the GIL (NumPy's BLAS, SQLite inside apsw), and only this
    thread touches the database connection."""
    lists: dict[str, list[tuple[int, float]]] = {}
    if mode in ("vector", "hybrid") and query_vector is None:
        raise ConfigError("Vector search needs the question's vector.")
    task = None
    if mode == "hybrid" and parallel:
        assert query_vector is not None
        task = corpus.vector_task(query_vector, depth, filters)
    if task is not None:
        future = _workers().submit(task)
        try:
            lists["keyword"] = keyword_ranked(corpus, query, depth, filters)
        finally:
            vector = future.result()
        lists["vector"] = vector
        return lists
    if mode in ("keyword", "hybrid"):
        lists["keyword"] = keyword_ranked(corpus, query, depth, filters)
    if mode in ("vector", "hybrid"):
        assert query_vector is not None
        lists["vector"] = corpus.vector(query_vector, depth, filters)
    return lists


def run_search(
    corpus: Corpus,
    query: str,
    query_vector: Vector | None,
    *,
    k: int,
    mode: Mode,
    min_score: float | None = None,
    filters: Filters = NO_FILTERS,
    notes: Sequence[str] = (),
    fusion: Fusion = DEFAULT_FUSION,
    parallel: bool = True,
) -> SearchResults:
    """The k best passages for `query` in `mode` (the vector already embedded, if needed).
    `parallel`: in hybrid mode, score the vectors on a worker thread while keyword search
    reads FTS5 (the same results as one after the other)."""
    check_k(k)
    depth = list_depth(k)
    lists = ranked_lists(
        corpus, query, query_vector, mode=mode, depth=depth, filters=filters, parallel=parallel
    )
    scores = {name: dict(items) for name, items in lists.items()}
    ranked: list[tuple[int, float, dict[str, int]]]
    if mode == "hybrid":
        candidates = {pid for items in lists.values() for pid, _ in items}
        ranked = fuse(lists, fusion, exact_matches(corpus, query, candidates, fusion))
    else:
        ranked = [(pid, s, {mode: r}) for r, (pid, s) in enumerate(lists[mode], 1)]
    if min_score is not None:
        ranked = [item for item in ranked if item[1] >= min_score]
    ranked = ranked[:k]
    details = corpus.details([pid for pid, _, _ in ranked])
    hits = SearchResults(mode=mode, notes=notes)
    for position, (pid, score, ranks) in enumerate(ranked, 1):
        info = details.get(pid)
        if info is None:  # gone between the two queries
            continue
        per_mode = {name: scores[name][pid] for name in scores if pid in scores[name]}
        if mode == "hybrid":
            per_mode["hybrid"] = score
            ranks = {**ranks, "hybrid": position}  # noqa: PLW2901
        hits.append(
            SearchHit(
                rank=position,
                chunk_id=pid,
                text=str(info["text"]),
                heading=str(info["heading"]),
                score=float(score),
                source=info["source"],
                mode=mode,
                scores=per_mode,
                ranks=dict(ranks),
                document_id=info["document_id"],
                source_id=info["source_id"],
            )
        )
    return hits


# -- why not -------------------------------------------------------------------------------------
def _rank_in(items: Sequence[tuple[int, float]], passage_id: int, score: float) -> int:
    """Where a passage with `score` would rank among `items` (others only; ties by id)."""
    better = sum(
        1
        for pid, s in items
        if pid != passage_id and (s > score or (s == score and pid < passage_id))
    )
    return better + 1


def why_not(
    corpus: Corpus,
    query: str,
    query_vector: Vector | None,
    passage_id: int,
    *,
    k: int,
    mode: Mode,
    min_score: float | None = None,
    filters: Filters = NO_FILTERS,
    fusion: Fusion = DEFAULT_FUSION,
) -> WhyNot:
    """The passage's rank and score in each mode for `query`, and what kept it out."""
    check_k(k)
    state = corpus.state(passage_id, filters)
    modes: dict[str, ModeVerdict] = {}
    if not state.exists:
        return WhyNot(passage_id, query, mode, k, min_score, state, modes)
    fts = fts_query(query)
    depth = list_depth(k)
    gates: list[str] = []
    if not state.included:
        gates.append(state.reason or "not included")
    if not state.matches_filter:
        gates.append("the filter leaves it out")

    keyword_all = corpus.keyword(fts, None, filters)
    kw_score = corpus.keyword_score(fts, passage_id)
    kw_rank = None if kw_score is None else _rank_in(keyword_all, passage_id, kw_score)
    lists_with: dict[str, list[tuple[int, float]]] = {}
    lists_with["keyword"] = _insert(keyword_all, passage_id, kw_score)[:depth]

    vec_score: float | None = None
    vec_rank: int | None = None
    vector_possible = query_vector is not None and corpus.embedder is not None
    if vector_possible:
        assert query_vector is not None
        exact = corpus.exact_vector(query_vector, filters)
        stored = corpus.vector_of(passage_id) if state.embedded else None
        if stored is not None:
            vec_score = dict(exact).get(passage_id)
            if vec_score is None:
                vec_score = float(np.dot(_unit(query_vector), _unit(stored)))
            vec_rank = _rank_in(exact, passage_id, vec_score)
        lists_with["vector"] = _insert(exact, passage_id, vec_score)[:depth]

    def verdict(name: Mode, rank: int | None, score: float | None, extra: list[str]) -> ModeVerdict:
        found = run_search(
            corpus,
            query,
            query_vector,
            k=k,
            mode=name,
            min_score=min_score,
            filters=filters,
            fusion=fusion,
        )
        if any(h.chunk_id == passage_id for h in found):
            return ModeVerdict(rank, score, True, [])
        cut = [*gates, *extra]
        if rank is not None and rank > k:
            cut.append(f"k: it ranks {rank}, below the top {k}")
        if min_score is not None and score is not None and score < min_score:
            cut.append(f"minimum score: {score:.4f} is under {min_score:g}")
        if not cut:
            cut.append(
                "not in the lists this search ranks"
                if rank is None
                else "the approximate vector pass missed it"
            )
        return ModeVerdict(rank, score, False, cut)

    kw_extra = [] if kw_score is not None else ["none of the question's words is in it"]
    modes["keyword"] = verdict("keyword", kw_rank, kw_score, kw_extra)
    if vector_possible:
        vec_extra = [] if state.embedded else ["not embedded yet (sync to embed it)"]
        modes["vector"] = verdict("vector", vec_rank, vec_score, vec_extra)
        candidates = {pid for items in lists_with.values() for pid, _ in items}
        fused = fuse(lists_with, fusion, exact_matches(corpus, query, candidates, fusion))
        position = next((i for i, (pid, _, _) in enumerate(fused, 1) if pid == passage_id), None)
        hy_score = next((s for pid, s, _ in fused if pid == passage_id), None)
        hy_extra = (
            []
            if position is not None
            else [f"in neither list's top {depth}, so fusion never saw it"]
        )
        modes["hybrid"] = verdict("hybrid", position, hy_score, hy_extra)
    return WhyNot(passage_id, query, mode, k, min_score, state, modes)


def _insert(
    items: list[tuple[int, float]], passage_id: int, score: float | None
) -> list[tuple[int, float]]:
    """The ranking with this passage in it at its score (as if it were eligible)."""
    others = [(pid, s) for pid, s in items if pid != passage_id]
    if score is None:
        return others
    return _rank_sorted([*others, (passage_id, score)])
