"""Searching a published bundle file: its FTS5 table and vec0 column (float, int8 or bit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw
import numpy as np

from desktop.core.errors import ConfigError
from desktop.core.index import store
from desktop.core.index.corpus import (
    MAX_CANDIDATES,
    Filters,
    FtsWords,
    PassageState,
    ids_json,
    rank_sorted,
    top_matches,
    unit_vector,
)
from desktop.core.index.store import Vector
from desktop.core.source_ref import SourceRef


# -- a bundle ------------------------------------------------------------------------------------
class BundleCorpus(FtsWords):
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
            top = top_matches(
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
            unit = unit_vector(query)
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
        return rank_sorted(scored)[:depth]

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
        return rank_sorted(out)

    def _stored_similarity(self, query: Vector, stored: Vector) -> float:
        if self.quantization == "binary":
            mine = np.unpackbits(
                np.frombuffer(store.binary_code(query), dtype=np.uint8), bitorder="little"
            )[: self.dimensions]
            theirs = stored > 0
            return 1.0 - float(np.count_nonzero(mine.astype(bool) != theirs)) / float(
                self.dimensions or 1
            )
        return float(np.dot(unit_vector(query), unit_vector(stored)))

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
            (ids_json(ids),),
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
