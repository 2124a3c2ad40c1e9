"""The bundle file's format: its tables, manifest names and stored vector forms.

docs/bundle-format.md is the contract; the writer (write.py) and the readers (read.py, the
search's BundleCorpus) follow this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from desktop.core.bundle.quantization import QUANTIZATIONS as QUANTIZATIONS  # noqa: PLC0414
from desktop.core.bundle.quantization import Quantization as Quantization  # noqa: PLC0414
from desktop.core.errors import ConfigError

FORMAT_VERSION = 1
# 'BDB1': marks a SQLite file as a Botdesk bundle (workspaces are 'BDK1').
BUNDLE_APPLICATION_ID = 0x42444231
# The same tokenizer as the workspace's passages_fts, so keyword scores match the app's.
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"
# Table names, also written into the manifest so search code can be pointed at them.
TABLES = {
    "manifest": "manifest",
    "sources": "sources",
    "passages": "passages",
    "fts": "passages_fts",
    "vectors": "passages_vec",
}

SCHEMA = """
create table manifest(key text primary key, value text not null);
create table sources(
    id integer primary key,
    kind text not null,
    url text,
    name text,
    title text not null default ''
);
create table passages(
    id integer primary key,
    source_id integer not null references sources(id),
    ordinal integer not null,
    heading_path text not null default '',
    page integer,
    text text not null,
    text_hash text not null
);
create index passages_source on passages(source_id, ordinal);
"""

FTS_SQL = f"""
create virtual table passages_fts using fts5(
    text, heading_path, content='passages', content_rowid='id',
    tokenize='{FTS_TOKENIZER}'
);
insert into passages_fts(passages_fts) values ('rebuild');
"""


def vec_column(quantization: Quantization, dimensions: int, distance: str) -> str:
    if quantization == "int8":
        return f"int8[{dimensions}] distance_metric={distance}"
    if quantization == "binary":
        return f"bit[{dimensions}]"  # hamming distance is the only one for bit vectors
    return f"float[{dimensions}] distance_metric={distance}"


def vector_blob(vector: np.ndarray[Any, Any], quantization: Quantization) -> bytes:
    """The stored form: float32, int8 of the unit vector scaled by 127, or sign bits."""
    if quantization == "int8":
        unit = _unit(vector)
        return np.clip(np.round(unit * 127.0), -127, 127).astype(np.int8).tobytes()
    if quantization == "binary":
        return np.packbits(vector > 0, bitorder="little").tobytes()
    return vector.astype(np.float32).tobytes()


def _unit(vector: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def quantize_query(vector: Sequence[float] | np.ndarray[Any, Any], quantization: str) -> bytes:
    """A query vector in the form the bundle's vec0 column expects (see the format doc)."""
    array = np.asarray(vector, dtype=np.float32)
    if quantization not in QUANTIZATIONS:
        raise ConfigError(f"Unknown quantization {quantization!r}.")
    return vector_blob(array, quantization)
