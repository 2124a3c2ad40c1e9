"""Searching a workspace: FTS5 and the embedder's vectors, exact in memory up to
`EXACT_MAX_BYTES` (the matrix kept per connection), a vec0 coarse pass beyond."""

from __future__ import annotations

import itertools
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import apsw
import numpy as np

from desktop.core.content.curation import INCLUDED_WHERE
from desktop.core.errors import ConfigError
from desktop.core.index import store
from desktop.core.index.corpus import (
    MAX_CANDIDATES,
    NO_FILTERS,
    Filters,
    FtsWords,
    PassageState,
    VectorTask,
    ids_json,
    rank_sorted,
    run_shared,
    top_matches,
    unit_vector,
)
from desktop.core.index.store import Vector
from desktop.core.model_specs import ModelSpec
from desktop.core.source_ref import SourceRef
from desktop.core.store.workspace import Workspace

# Candidates taken from the binary coarse pass per result wanted (measured in
# bench/search_latency.py: recall@10 against exact search), and at least this many.
OVERSAMPLE = 10
MIN_CANDIDATES = 100
# Up to this many bytes of vectors, vector search is exact: the included vectors are held
# in memory (unit rows, reloaded when the workspace changes) and scored with one matrix
# product, which measured faster than the vec0 coarse pass and is never wrong. Larger
# indexes use the coarse pass (bench/search_latency.py has both).
EXACT_MAX_BYTES = 1 << 30
# Per open connection (gone with it): a new connection never sees another's matrix.
_MATRICES: weakref.WeakKeyDictionary[apsw.Connection, dict[str, _Matrix]] = (
    weakref.WeakKeyDictionary()
)
# Rows read per step when the vectors are loaded into memory.
LOAD_CHUNK_ROWS = 4096
# Rows scored per part when threads share a vector search (100k rows: 13 parts).
PART_ROWS = 8192


def _cosine(matrix: np.ndarray[Any, Any], query: Vector) -> np.ndarray[Any, Any]:
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0] = 1.0
    return np.asarray((matrix @ unit_vector(query)) / norms, dtype=np.float64)


# -- a workspace -------------------------------------------------------------------------------
@dataclass
class _Matrix:
    """A workspace's included vectors in memory, as of one state of the file."""

    version: tuple[int, int]
    passages: int  # every passage row, included or not: what the budget counts
    ids: np.ndarray[Any, Any]
    unit: np.ndarray[Any, Any]


def similarities(
    unit: np.ndarray[Any, Any], query: Vector, out: np.ndarray[Any, Any] | None = None
) -> np.ndarray[Any, Any]:
    """Cosine of each unit row with `query` (float32, into `out` if given): one dot product
    per row (a stack of 1 x D by D x 1 products, which NumPy hands to BLAS's sdot row by
    row, on this thread). Not the matrix-vector product: OpenBLAS's sgemv used both cores
    for it, and left its second thread spinning for ~0.1 s after, on the core keyword
    search runs on during a hybrid search; on one core, row by row was faster than sgemv
    on two (100k x 384: 5.1 against 6.6 ms; 100k x 1024: 12.9 against 13.8 ms). Scores
    differ from sgemv's by float32 rounding (< 1e-7), and a row's score never depends on
    the rows around it, so scoring the rows in parts gives the same scores."""
    target = unit_vector(np.asarray(query, dtype=np.float32))
    stacked = None if out is None else out[:, None, None]
    scores: np.ndarray[Any, Any] = np.matmul(unit[:, None, :], target[:, None], out=stacked)
    return scores[:, 0, 0]


class SharedTop:
    """The `depth` best rows for a question, scored in parts of PART_ROWS rows by every
    thread that calls it: a worker, and the searching thread once its own work is done.
    The call that scores the last part ranks them (see corpus.VectorTask)."""

    def __init__(
        self, ids: np.ndarray[Any, Any], unit: np.ndarray[Any, Any], query: Vector, depth: int
    ) -> None:
        self.ids, self.unit, self.query, self.depth = ids, unit, query, depth
        self.scores = np.empty(len(ids), dtype=np.float32)
        self.part_rows = PART_ROWS
        self.parts = max(1, -(-len(ids) // self.part_rows))
        self._claims = itertools.count()  # next() on it is atomic under the GIL
        self._lock = threading.Lock()
        self._scored = 0

    def __call__(self) -> list[tuple[int, float]] | None:
        for part in self._claims:
            if part >= self.parts:
                return None
            rows = slice(part * self.part_rows, (part + 1) * self.part_rows)
            similarities(self.unit[rows], self.query, out=self.scores[rows])
            with self._lock:
                self._scored += 1
                last = self._scored == self.parts
            if last:
                return _top(self.ids, self.scores, self.depth)
        return None  # pragma: no cover -- count() never ends


def _top(
    ids: np.ndarray[Any, Any], scores: np.ndarray[Any, Any], depth: int
) -> list[tuple[int, float]]:
    """The `depth` best (id, score), best first, ties by id. Only the scores at or above
    the depth-th best are sorted, all of them, so a tie at the cut is broken by id and not
    by where a partition happened to leave it."""
    if len(ids) > depth:
        cut = np.partition(scores, len(scores) - depth)[len(scores) - depth]
        keep = np.flatnonzero(scores >= cut)
        ids, scores = ids[keep], scores[keep]
    best = np.lexsort((ids, -scores))[:depth]
    return list(zip(ids[best].tolist(), scores[best].astype(np.float64).tolist(), strict=True))


class WorkspaceCorpus(FtsWords):
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
            params.append(ids_json(filters.source_ids))
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
                top = top_matches(
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
            params.append(ids_json(ids))
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
        kept = _MATRICES.setdefault(self.ws.conn, {})
        version = self._version()
        found = kept.get(str(self.embedder))
        current = found if found is not None and found.version == version else None
        # The file unchanged since the load: its passages need no counting again (count(*)
        # of 100k passages took 0.2 ms a search).
        rows = current.passages if current else int(self.ws.scalar("select count(*) from passages"))
        if rows * (self.dimensions or 0) * 4 > EXACT_MAX_BYTES:
            return None
        if current is not None:
            return current
        kept.clear()  # one embedder's matrix per connection; let the old one go first
        ids, unit = self._load_unit_rows()
        made = _Matrix(version, rows, ids, unit)
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
        return ids, similarities(unit, query).astype(np.float64)

    def vector_task(self, query: Vector, depth: int, filters: Filters) -> VectorTask | None:
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
        return SharedTop(ids, unit, query, depth)

    def vector(self, query: Vector, depth: int, filters: Filters) -> list[tuple[int, float]]:
        if self.table is None or self.embedder is None:
            return []
        self._check_query(query)
        task = self.vector_task(query, depth, filters)
        if task is not None:
            return run_shared(task)
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
        return rank_sorted(zip(ids, scores.tolist(), strict=True))[:depth]

    def exact_vector(self, query: Vector, filters: Filters) -> list[tuple[int, float]]:
        if self.embedder is None:
            return []
        self._check_query(query)
        exact = self._exact(query, filters)
        if exact is not None:
            return rank_sorted(zip(exact[0].tolist(), exact[1].tolist(), strict=True))
        ids, matrix = self._eligible_vectors(filters, None)
        if not ids:
            return []
        return rank_sorted(zip(ids, _cosine(matrix, query).tolist(), strict=True))

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
            (ids_json(ids),),
        )
        out: dict[int, dict[str, Any]] = {}
        for row in rows:
            source = SourceRef.from_uri(str(row["uri"]), title=row["title"] or "", page=row["page"])
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
