"""The index bundle: one SQLite file with the included passages, FTS5 and vec0, and a manifest.

The hosted service (and any sqlite-vec client) reads this file; its format is a contract,
documented in docs/bundle-format.md. The bundle is built in memory, written with
`VACUUM INTO` to a temporary file next to the target, checked, then renamed into place, so a
reader never sees half a bundle. Built twice from the same content with the same
`created_at`, it is byte-for-byte the same file: an interrupted publish re-run uploads
nothing twice.

What never goes in: excluded or removed passages, passages of excluded or removed
documents, settings (where keys or tokens could hide), and the user's local paths (a file
source is cited by its file name only).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote, urlsplit

import apsw
import numpy as np

from desktop import __version__
from desktop.core.bundle.format import (
    BUNDLE_APPLICATION_ID,
    FORMAT_VERSION,
    FTS_SQL,
    FTS_TOKENIZER,
    QUANTIZATIONS,
    SCHEMA,
    TABLES,
    Quantization,
    vec_column,
    vector_blob,
)
from desktop.core.content.curation import INCLUDED_WHERE
from desktop.core.errors import ConfigError, WorkspaceError
from desktop.core.index import BundleVectors, bundle_vectors
from desktop.core.index.prefixes import prefixes_for
from desktop.core.jobs import Job
from desktop.core.store import db
from desktop.core.store.workspace import Workspace, utc_now
from desktop.core.text import is_blank

# The contract's definition of a passage the bot may use.
INCLUDED_PASSAGES_SQL = f"""
select p.id, p.document_id, p.ordinal, p.heading_path, p.page, p.text, p.text_hash
from passages p join documents d on d.id = p.document_id
where {INCLUDED_WHERE}
order by p.id
"""


@dataclass(frozen=True)
class BundlePassage:
    """What a release held of one passage: enough to tell added, removed and edited."""

    passage_id: int
    text_hash: str
    source_key: str


@dataclass
class BuiltBundle:
    """A bundle file that was written, with what the publish step needs to know of it."""

    path: Path
    sha256: str
    size: int
    manifest: dict[str, Any]
    passages: list[BundlePassage] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        return str(self.manifest["content_hash"])


# (workspace, [(passage id, text hash)]) -> vectors, or None when the workspace has none.
VectorLoader = Callable[[Workspace, Sequence[tuple[int, str]]], BundleVectors | None]


# -- reading the workspace ---------------------------------------------------------------
def _file_name(uri: str) -> str:
    """The last part of a local path, whichever system wrote it."""
    name = PureWindowsPath(uri).name if "\\" in uri else PurePosixPath(uri).name
    return name or "file"


def _source_row(document: db.Row) -> dict[str, Any]:
    """A citation target: a public URL for web pages, a file name for files, never a path."""
    uri = str(document["uri"])
    kind = str(document["kind"])
    url: str | None = None
    name: str | None = None
    if urlsplit(uri).scheme in ("http", "https"):
        url = uri
    elif kind == "files" or uri.startswith(("/", "file:")) or "\\" in uri:
        name = _file_name(uri.removeprefix("file://"))
        base = _public_base(document.get("source_settings"))
        if base:  # the user said where these files are on the web
            url = f"{base.rstrip('/')}/{quote(name)}"
    # text and qa sources have neither: their title is what a citation shows.
    title = str(document["title"] or "")
    if not title and name is None and url is None:
        title = str(document["source_title"] or "")
    if _looks_like_path(title):
        title = _file_name(title)
    return {"id": int(document["id"]), "kind": kind, "url": url, "name": name, "title": title}


def _public_base(settings: str | None) -> str:
    try:
        data = json.loads(settings or "{}")
    except json.JSONDecodeError:
        return ""
    base = data.get("public_url") if isinstance(data, dict) else None
    if isinstance(base, str) and urlsplit(base).scheme in ("http", "https"):
        return base
    return ""


def _looks_like_path(text: str) -> bool:
    return text.startswith("/") or (len(text) > 2 and text[1] == ":" and text[2] in "\\/")


def source_key(source: Mapping[str, Any]) -> str:
    """How a release snapshot names a source: its URL, or its file name, or its title."""
    return str(source.get("url") or source.get("name") or source.get("title") or "")


def included_passages(ws: Workspace) -> list[db.Row]:
    """The passages a bundle carries: included ones with some text. A blank passage (edited
    to nothing, added empty) answers nothing, and the index never embeds it."""
    return [r for r in ws.fetch_all(INCLUDED_PASSAGES_SQL) if not is_blank(r["text"])]


def _chunker_settings(ws: Workspace, source_ids: Sequence[int]) -> dict[str, Any]:
    """The chunker defaults and any per-source overrides (settings JSON, minus locations)."""
    per_source: dict[str, Any] = {}
    for row in ws.fetch_all("select id, settings from sources order by id"):
        if row["id"] not in source_ids:
            continue
        try:
            settings = json.loads(row["settings"] or "{}")
        except json.JSONDecodeError:
            continue
        chunking = settings.get("chunking") or settings.get("chunker")
        if isinstance(chunking, dict) and chunking:
            per_source[str(row["id"])] = chunking
    default = ws.setting("chunker", None) or ws.setting("chunking", None) or {}
    return {"default": default, "per_source": per_source}


def default_vector_loader(
    ws: Workspace, passages: Sequence[tuple[int, str]]
) -> BundleVectors | None:
    """The index's vectors for these passages, or None when the workspace has no embedder
    (a keyword-only bundle). desktop.core.index owns where vectors live."""
    return bundle_vectors(ws, passages)


# -- building -----------------------------------------------------------------------------
def _check_vectors(
    vectors: BundleVectors, passages: Sequence[db.Row]
) -> dict[int, np.ndarray[Any, Any]]:
    arrays: dict[int, np.ndarray[Any, Any]] = {}
    missing = 0
    for row in passages:
        raw = vectors.vectors.get(int(row["id"]))
        if raw is None:
            missing += 1
            continue
        array = np.asarray(raw, dtype=np.float32)
        if array.shape != (vectors.dimensions,):
            raise ConfigError(
                f"Passage {row['id']} has a vector of {array.size} dimensions; "
                f"the embedder {vectors.provider}:{vectors.model} gives {vectors.dimensions}.",
                hint="Re-embed the workspace (sync) before building the bundle.",
            )
        arrays[int(row["id"])] = array
    if missing:
        raise ConfigError(
            f"{missing} included passage(s) have no vector yet.",
            hint="Sync the workspace so every included passage is embedded, then build again.",
        )
    return arrays


def _content_hash(
    head: Mapping[str, Any],
    sources: Sequence[Mapping[str, Any]],
    passages: Sequence[db.Row],
    source_of: Mapping[int, int],
    blobs: Mapping[int, bytes],
) -> str:
    """A hash of everything a bot answers from (not the build time, not the bot id)."""
    digest = hashlib.sha256()

    def feed(value: Any) -> None:
        digest.update(json.dumps(value, sort_keys=True, ensure_ascii=False).encode())
        digest.update(b"\n")

    feed(head)
    for source in sources:
        feed(source)
    for row in passages:
        pid = int(row["id"])
        feed([pid, source_of[pid], row["ordinal"], row["heading_path"], row["page"], row["text"]])
        if pid in blobs:
            digest.update(hashlib.sha256(blobs[pid]).digest())
    return digest.hexdigest()


@dataclass(frozen=True)
class _Content:
    """What a bundle carries, read from the workspace."""

    passages: list[db.Row]  # the included ones, by id
    sources_by_id: dict[int, dict[str, Any]]  # citation targets by document id
    source_of: dict[int, int]  # passage id -> document id

    @property
    def sources(self) -> list[dict[str, Any]]:
        return [self.sources_by_id[k] for k in sorted(self.sources_by_id)]

    def snapshot(self) -> list[BundlePassage]:
        return [
            BundlePassage(
                int(r["id"]),
                str(r["text_hash"]),
                source_key(self.sources_by_id[self.source_of[int(r["id"])]]),
            )
            for r in self.passages
        ]


@dataclass(frozen=True)
class _EncodedVectors:
    """The passages' vectors as the bundle stores them, and what the manifest says of them."""

    vectors: BundleVectors
    blobs: dict[int, bytes]  # passage id -> the vector in the bundle's form
    embedding: dict[str, Any]  # the manifest's "embedding"
    distance: str


def build_bundle(
    ws: Workspace,
    out: Path | str,
    *,
    bot_id: str = "",
    quantization: Quantization = "none",
    created_at: str | None = None,
    vector_loader: VectorLoader | None = None,
    job: Job | None = None,
) -> BuiltBundle:
    """Write the bundle of `ws`'s included passages to `out` (atomically) and describe it.

    `created_at` defaults to now; pass an earlier bundle's to rebuild it byte for byte.
    """
    out = _checked_target(out, quantization)
    if job is not None:
        job.stage("read passages")
    content = _read_content(ws)
    loader = vector_loader or default_vector_loader
    vectors = loader(ws, [(int(r["id"]), str(r["text_hash"])) for r in content.passages])
    encoded = None if vectors is None else _encode_vectors(vectors, content, quantization)
    manifest = _manifest(
        ws, content, encoded, quantization=quantization, bot_id=bot_id, created_at=created_at
    )
    if job is not None:
        job.stage("write bundle", total=len(content.passages))
    memory = apsw.Connection(":memory:")
    try:
        db.load_sqlite_vec(memory)
        with memory:
            _write_tables(memory, manifest, content)
            if encoded is not None:
                _write_vectors(memory, encoded, content, quantization, job)
            memory.execute(f"pragma application_id = {BUNDLE_APPLICATION_ID:d}")
            memory.execute(f"pragma user_version = {FORMAT_VERSION:d}")
        if job is not None:
            job.stage("save bundle")
        return _write_atomically(memory, out, manifest=manifest, content=content)
    finally:
        memory.close()


def _checked_target(out: Path | str, quantization: str) -> Path:
    if quantization not in QUANTIZATIONS:
        raise ConfigError(
            f"Unknown quantization {quantization!r}.", hint="Use none, int8 or binary."
        )
    out = Path(out)
    if not out.parent.is_dir():
        raise ConfigError(f"The folder {out.parent} does not exist.")
    return out


def _encode_vectors(
    vectors: BundleVectors, content: _Content, quantization: Quantization
) -> _EncodedVectors:
    if quantization == "binary" and vectors.dimensions % 8:
        raise ConfigError(
            f"Binary quantization needs a multiple of 8 dimensions; "
            f"{vectors.provider}:{vectors.model} has {vectors.dimensions}.",
            hint="Build with --quantize int8 or none.",
        )
    arrays = _check_vectors(vectors, content.passages)
    blobs = {pid: vector_blob(a, quantization) for pid, a in arrays.items()}
    embedding: dict[str, Any] = {
        "provider": vectors.provider,
        "model": vectors.model,
        "dimensions": vectors.dimensions,
    }
    # The service must embed questions as the passages were: with the model's prefixes.
    # Only where the model has them, so other bundles' manifests stay as they were.
    wanted = prefixes_for(vectors.model)
    if wanted.query:
        embedding["query_prefix"] = wanted.query
    if wanted.document:
        embedding["document_prefix"] = wanted.document
    distance = "hamming" if quantization == "binary" else vectors.distance
    return _EncodedVectors(vectors, blobs, embedding, distance)


def _manifest(
    ws: Workspace,
    content: _Content,
    encoded: _EncodedVectors | None,
    *,
    quantization: Quantization,
    bot_id: str,
    created_at: str | None,
) -> dict[str, Any]:
    source_ids = [int(r["id"]) for r in ws.fetch_all("select id from sources order by id")]
    head = {
        "format_version": FORMAT_VERSION,
        "embedding": encoded.embedding if encoded is not None else None,
        "distance": encoded.distance if encoded is not None else "none",
        "quantization": quantization if encoded is not None else "none",
        "chunker": _chunker_settings(ws, source_ids),
        "fts_tokenizer": FTS_TOKENIZER,
    }
    blobs = encoded.blobs if encoded is not None else {}
    sources = content.sources
    return {
        **head,
        "bot_id": bot_id,
        "created_at": created_at or utc_now(),
        "passage_count": len(content.passages),
        "source_count": len(sources),
        "content_hash": _content_hash(head, sources, content.passages, content.source_of, blobs),
        "tables": dict(TABLES) if encoded is not None else _tables_without_vectors(),
        "generator": f"botdesk {__version__}",
    }


def _write_tables(memory: apsw.Connection, manifest: Mapping[str, Any], content: _Content) -> None:
    """The schema, the manifest, the sources, the passages and their FTS5 index."""
    memory.execute(SCHEMA)
    memory.executemany(
        "insert into manifest(key, value) values (?, ?)",
        [(k, json.dumps(v, sort_keys=True)) for k, v in sorted(manifest.items())],
    )
    memory.executemany(
        "insert into sources(id, kind, url, name, title) values (?, ?, ?, ?, ?)",
        [(s["id"], s["kind"], s["url"], s["name"], s["title"]) for s in content.sources],
    )
    memory.executemany(
        "insert into passages(id, source_id, ordinal, heading_path, page, text, text_hash)"
        " values (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                r["id"],
                content.source_of[int(r["id"])],
                r["ordinal"],
                r["heading_path"],
                r["page"],
                r["text"],
                r["text_hash"],
            )
            for r in content.passages
        ],
    )
    memory.execute(FTS_SQL)


def _write_vectors(
    memory: apsw.Connection,
    encoded: _EncodedVectors,
    content: _Content,
    quantization: Quantization,
    job: Job | None,
) -> None:
    vectors = encoded.vectors
    column = vec_column(quantization, vectors.dimensions, vectors.distance)
    memory.execute(
        f"create virtual table passages_vec using vec0("
        f"passage_id integer primary key, embedding {column})"
    )
    insert = (
        "insert into passages_vec(passage_id, embedding) values (?, vec_bit(?))"
        if quantization == "binary"
        else "insert into passages_vec(passage_id, embedding) values (?, vec_int8(?))"
        if quantization == "int8"
        else "insert into passages_vec(passage_id, embedding) values (?, ?)"
    )
    for done, row in enumerate(content.passages, 1):
        pid = int(row["id"])
        memory.execute(insert, (pid, encoded.blobs[pid]))
        if job is not None and done % 500 == 0:
            job.check()
            job.advance(500)


def _read_content(ws: Workspace) -> _Content:
    """The included passages, their citation targets by document id, passage -> document."""
    passages = included_passages(ws)
    documents = {
        int(r["id"]): r
        for r in ws.fetch_all(
            "select d.id, d.uri, d.title, d.source_id, s.kind, s.title as source_title,"
            " s.settings as source_settings"
            " from documents d join sources s on s.id = d.source_id"
        )
    }
    sources_by_id: dict[int, dict[str, Any]] = {}
    source_of: dict[int, int] = {}
    for row in passages:
        document = documents[int(row["document_id"])]
        sources_by_id.setdefault(int(document["id"]), _source_row(document))
        source_of[int(row["id"])] = int(document["id"])
    return _Content(passages, sources_by_id, source_of)


def passage_snapshot(ws: Workspace) -> list[BundlePassage]:
    """What a bundle built now would hold, passage by passage (no file is written)."""
    return _read_content(ws).snapshot()


def _tables_without_vectors() -> dict[str, str]:
    return {k: v for k, v in TABLES.items() if k != "vectors"}


def _write_atomically(
    memory: apsw.Connection,
    out: Path,
    *,
    manifest: dict[str, Any],
    content: _Content,
) -> BuiltBundle:
    handle, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    tmp.unlink()  # VACUUM INTO refuses an existing file
    try:
        memory.execute("vacuum into ?", (str(tmp),))
        check = apsw.Connection(str(tmp), flags=apsw.SQLITE_OPEN_READONLY)
        try:
            verdict = db.scalar(check, "pragma integrity_check")
        finally:
            check.close()
        if verdict != "ok":
            raise WorkspaceError(f"The bundle written to {out} failed its integrity check.")
        with tmp.open("rb") as file:
            os.fsync(file.fileno())
        sha256, size = file_sha256(tmp)
        os.replace(tmp, out)
    except apsw.Error as exc:
        raise WorkspaceError(f"Could not write the bundle to {out}: {exc}") from exc
    except OSError as exc:
        raise WorkspaceError(f"Could not write the bundle to {out}: {exc.strerror}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return BuiltBundle(out, sha256, size, manifest, content.snapshot())


def file_sha256(path: Path) -> tuple[str, int]:
    """The sha256 (hex) and size of a file, read in blocks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
