"""Where vectors live in a workspace: the embedding cache and each embedder's vec0 table.

The cache (`embeddings`) holds float32 vectors keyed by (text hash, provider, model), where
the model is `cache_model`: its name, plus the document prefix it is sent (prefixes.py), so
vectors made with another prefix are never reused. Each
embedder also gets a vec0 table of sign bits (`bit[D]`) keyed by passage id: a coarse pass
that finds candidates fast, which search then rescores exactly with the cached floats.
The vec0 table holds the included passages whose current text has a cached vector; it is
brought up to date by `sync_vector_table` (after each embedded batch and at each embed run),
and search never trusts it alone (every candidate is checked against the cache).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np

from desktop.core.content.curation import INCLUDED_WHERE
from desktop.core.errors import BadResponseError
from desktop.core.index.prefixes import prefixes_for
from desktop.core.model_specs import ModelSpec, parse_model_spec
from desktop.core.store.workspace import Workspace, utc_now

# Settings keys: the embedder spec ("ollama:all-minilm" or "none") and its dimensions.
EMBEDDER_SETTING = "embedder"
DIMENSIONS_SETTING = "embedder_dimensions"


Vector = np.ndarray[Any, np.dtype[np.float32]]


class EmbedderLike(Protocol):
    """desktop.providers.base.Embedder as the core sees it (core does not import providers)."""

    @property
    def spec(self) -> ModelSpec: ...
    @property
    def max_batch(self) -> int: ...
    @property
    def max_input_tokens(self) -> int: ...

    async def embed_batch(self, texts: Sequence[str]) -> list[list[float]]: ...


def parse_embedder(text: str | None) -> ModelSpec | None:
    """ "ollama:MODEL" / "mistral:MODEL" -> ModelSpec; "none" or empty -> None."""
    return parse_model_spec(text, what="embedder")


def workspace_embedder(ws: Workspace) -> ModelSpec | None:
    value = ws.setting(EMBEDDER_SETTING, "none")
    return parse_embedder(value if isinstance(value, str) else None)


# -- the cache -------------------------------------------------------------------------------
def cache_model(embedder: ModelSpec) -> str:
    """The `model` the cache keys this embedder's vectors by: the model's name, and the
    document prefix its passages are sent with, if any ("nomic-embed-text|search_document: ")."""
    prefix = prefixes_for(embedder.model).document
    return f"{embedder.model}|{prefix}" if prefix else embedder.model


def to_blob(vector: Sequence[float] | Vector) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> Vector:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def check_vector(vector: Sequence[float], dimensions: int | None, embedder: ModelSpec) -> Vector:
    """A vector as float32, refused when its size differs or it holds NaN/inf."""
    try:
        array = np.asarray(vector, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise BadResponseError(
            f"{embedder} returned something that is not a vector ({exc})."
        ) from exc
    if array.ndim != 1 or array.size == 0:
        raise BadResponseError(f"{embedder} returned a vector of shape {array.shape}.")
    if dimensions is not None and array.size != dimensions:
        raise BadResponseError(
            f"{embedder} returned a vector of {array.size} dimensions; this workspace's "
            f"vectors have {dimensions}.",
            hint="If the model changed on the server, set the embedder again to re-embed "
            "everything (botdesk set-embedder).",
        )
    if not np.all(np.isfinite(array)):
        raise BadResponseError(f"{embedder} returned a vector with NaN or infinite values.")
    return array


def cached_hashes(ws: Workspace, embedder: ModelSpec) -> set[str]:
    rows = ws.conn.execute(
        "select text_hash from embeddings where provider = ? and model = ?",
        (embedder.provider, cache_model(embedder)),
    )
    return {str(r[0]) for r in rows}


def store_vectors(
    ws: Workspace,
    embedder: ModelSpec,
    items: Iterable[tuple[str, Vector, bool]],
) -> None:
    """Cache (text hash, vector, truncated) rows; call inside a transaction."""
    now = utc_now()
    model = cache_model(embedder)
    ws.conn.executemany(
        "insert into embeddings(text_hash, provider, model, dimensions, vector, truncated,"
        " created_at) values (?, ?, ?, ?, ?, ?, ?)"
        " on conflict(text_hash, provider, model) do update set dimensions = excluded.dimensions,"
        " vector = excluded.vector, truncated = excluded.truncated,"
        " created_at = excluded.created_at",
        [(h, embedder.provider, model, int(v.size), to_blob(v), int(t), now) for h, v, t in items],
    )


def cached_vectors(ws: Workspace, embedder: ModelSpec, hashes: Iterable[str]) -> dict[str, Vector]:
    wanted = sorted(set(hashes))
    if not wanted:
        return {}
    rows = ws.conn.execute(
        "select text_hash, vector from embeddings where provider = ? and model = ?"
        " and text_hash in (select value from json_each(?))",
        (embedder.provider, cache_model(embedder), json.dumps(wanted)),
    )
    return {str(h): from_blob(blob) for h, blob in rows}


# -- dimensions and the vec0 table ----------------------------------------------------------
def recorded_dimensions(ws: Workspace, embedder: ModelSpec) -> int | None:
    value = ws.scalar(
        "select dimensions from vector_tables where provider = ? and model = ?",
        (embedder.provider, embedder.model),
    )
    if value is not None:
        return int(value)
    value = ws.scalar(
        "select dimensions from embeddings where provider = ? and model = ? limit 1",
        (embedder.provider, cache_model(embedder)),
    )
    return None if value is None else int(value)


def vector_table(ws: Workspace, embedder: ModelSpec) -> tuple[str, int] | None:
    """(vec0 table name, dimensions) of this embedder, or None before its first vector."""
    row = ws.fetch_one(
        "select table_name, dimensions from vector_tables where provider = ? and model = ?",
        (embedder.provider, embedder.model),
    )
    if row is None:
        return None
    return str(row["table_name"]), int(row["dimensions"])


def _table_name(embedder: ModelSpec) -> str:
    return "vec_" + hashlib.sha256(str(embedder).encode()).hexdigest()[:12]


def bit_width(dimensions: int) -> int:
    """bit[N] columns need a multiple of 8; the padding bits are always 0."""
    return (dimensions + 7) // 8 * 8


def ensure_vector_table(ws: Workspace, embedder: ModelSpec, dimensions: int) -> str:
    """Create this embedder's vec0 table (and record its dimensions) if it does not exist."""
    found = vector_table(ws, embedder)
    if found is not None:
        return found[0]
    name = _table_name(embedder)
    with ws.transaction():
        ws.execute(f"drop table if exists {name}")
        ws.execute(
            f"create virtual table {name} using vec0("
            f"passage_id integer primary key, embedding bit[{bit_width(dimensions)}],"
            " +text_hash text)"
        )
        ws.execute(
            "insert into vector_tables(provider, model, dimensions, table_name, created_at)"
            " values (?, ?, ?, ?, ?)",
            (embedder.provider, embedder.model, dimensions, name, utc_now()),
        )
        if workspace_embedder(ws) == embedder:
            ws.set_setting(DIMENSIONS_SETTING, dimensions)
    return name


def drop_vector_table(ws: Workspace, embedder: ModelSpec) -> None:
    """Forget an embedder's vec0 table (its cached vectors stay)."""
    found = vector_table(ws, embedder)
    if found is None:
        return
    with ws.transaction():
        ws.execute(f"drop table if exists {found[0]}")
        ws.execute(
            "delete from vector_tables where provider = ? and model = ?",
            (embedder.provider, embedder.model),
        )


def binary_code(vector: Vector) -> bytes:
    """Sign bits, little-endian within each byte (as sqlite-vec's vec_quantize_binary)."""
    return np.packbits(vector > 0, bitorder="little").tobytes()


def sync_vector_table(
    ws: Workspace, embedder: ModelSpec, hashes: Sequence[str] | None = None
) -> tuple[int, int]:
    """Make the vec0 table hold exactly the included passages with a cached vector of their
    current text (or, given `hashes`, add the passages with those texts: after a batch).
    Returns (rows added or replaced, rows deleted). Call inside a transaction."""
    found = vector_table(ws, embedder)
    if found is None:
        return 0, 0
    table, _ = found
    only = ""
    params: list[Any] = [embedder.provider, cache_model(embedder)]
    if hashes is not None:
        only = " and p.text_hash in (select value from json_each(?))"
        params.append(json.dumps(sorted(set(hashes))))
    want = {
        int(pid): str(h)
        for pid, h in ws.conn.execute(
            "select p.id, p.text_hash from passages p join documents d on d.id = p.document_id"
            " join embeddings e on e.text_hash = p.text_hash and e.provider = ? and e.model = ?"
            f" where {INCLUDED_WHERE}{only}",
            params,
        )
    }
    if hashes is None:
        have = {
            int(pid): str(h)
            for pid, h in ws.conn.execute(f"select passage_id, text_hash from {table}")
        }
    else:
        have = {
            int(pid): str(h)
            for pid, h in ws.conn.execute(
                f"select passage_id, text_hash from {table}"
                " where passage_id in (select value from json_each(?))",
                (json.dumps(sorted(want)),),
            )
        }
    stale = [pid for pid, h in have.items() if want.get(pid) != h]
    fresh = [pid for pid, h in want.items() if have.get(pid) != h]
    # vec0 (0.1.9) refuses INSERT OR REPLACE: delete, then insert, in the same transaction.
    ws.conn.executemany(f"delete from {table} where passage_id = ?", [(p,) for p in stale])
    if fresh:
        vectors = cached_vectors(ws, embedder, (want[p] for p in fresh))
        ws.conn.executemany(
            f"insert into {table}(passage_id, embedding, text_hash) values (?, vec_bit(?), ?)",
            [(pid, binary_code(vectors[want[pid]]), want[pid]) for pid in fresh],
        )
    return len(fresh), len([p for p in stale if p not in want])
