"""The bundle file: only included passages, no path or secret, readable by plain sqlite-vec."""

from __future__ import annotations

from pathlib import Path

import apsw
import numpy as np
import pytest
import sqlite_vec

from desktop.core.bundle import format as bundle_format
from desktop.core.bundle import write as bundle_mod
from desktop.core.bundle.read import open_bundle, read_manifest
from desktop.core.bundle.write import build_bundle
from desktop.core.errors import ConfigError
from desktop.core.index import BundleVectors
from desktop.core.store.workspace import Workspace
from tests.core.publish.factory import (
    PLANTED_KEY,
    fake_vectors,
    hashed_vector,
    sample_workspace,
)


def _loader(dimensions: int = 64) -> bundle_mod.VectorLoader:
    def load(ws: Workspace, passages: object) -> BundleVectors:
        return BundleVectors("ollama", "fake-embed", dimensions, fake_vectors(ws, dimensions))

    return load


def _plain(path: Path) -> apsw.Connection:
    conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
    conn.enable_load_extension(True)
    conn.load_extension(sqlite_vec.loadable_path())
    return conn


def _all_text(path: Path) -> str:
    """Every text value of every table, and the raw bytes, as one string to scan."""
    conn = _plain(path)
    parts: list[str] = []
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
    for table in tables:
        if table.startswith("passages_vec_") or table.startswith("sqlite_"):
            continue
        for row in conn.execute(f'select * from "{table}"'):
            parts.extend(str(v) for v in row if isinstance(v, str))
    conn.close()
    parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def test_bundle_holds_only_included_passages_and_no_path_or_secret(
    workspace: Workspace, tmp_path: Path
) -> None:
    content = sample_workspace(workspace, str(tmp_path))
    out = tmp_path / "bot.bundle"
    built = build_bundle(workspace, out, bot_id="acme", vector_loader=_loader())
    conn = _plain(out)
    ids = {r[0] for r in conn.execute("select id from passages")}
    expected = {content.ids[k] for k in ("shipping", "refund", "battery", "warranty", "hours")}
    assert ids == expected
    assert {p.passage_id for p in built.passages} == expected
    text = _all_text(out)
    for marker in ("SECRET-EXCLUDED", "REMOVED-PASSAGE", "GONE-DOCUMENT", "HIDDEN-DOCUMENT"):
        assert marker not in text
    assert str(tmp_path) not in text
    assert PLANTED_KEY not in text
    # The edited text went in, the file is cited by name, the page kept.
    row = conn.execute(
        "select p.text, p.page, s.name, s.url from passages p join sources s on s.id = p.source_id"
        " where p.id = ?",
        (content.ids["warranty"],),
    ).fetchall()[0]
    assert row == ("The warranty covers screen repair for three years.", 4, "manual.pdf", None)
    urls = {r[0] for r in conn.execute("select url from sources where url is not null")}
    assert urls == {"https://example.com/shipping"}
    manifest = read_manifest(conn)
    assert manifest["format_version"] == 1
    assert manifest["bot_id"] == "acme"
    assert manifest["embedding"] == {"provider": "ollama", "model": "fake-embed", "dimensions": 64}
    assert manifest["passage_count"] == 5
    assert manifest["distance"] == "cosine"
    assert manifest["content_hash"] == built.content_hash
    conn.close()


def test_plain_sqlite_vec_runs_knn_and_fts(workspace: Workspace, tmp_path: Path) -> None:
    content = sample_workspace(workspace, str(tmp_path))
    out = tmp_path / "bot.bundle"
    build_bundle(workspace, out, vector_loader=_loader())
    conn = _plain(out)
    query = hashed_vector("how long does the warranty cover screen repair")
    knn = conn.execute(
        "select passage_id, distance from passages_vec where embedding match ? and k = 3"
        " order by distance",
        (query.astype(np.float32).tobytes(),),
    ).fetchall()
    assert knn[0][0] == content.ids["warranty"]
    fts = conn.execute(
        "select rowid from passages_fts where passages_fts match ? order by bm25(passages_fts)",
        ("refunds",),  # porter stemming: refunds -> refund
    ).fetchall()
    assert [r[0] for r in fts] == [content.ids["refund"]]
    conn.close()


@pytest.mark.parametrize("quantization", ["int8", "binary"])
def test_quantized_bundle_answers_knn(
    workspace: Workspace, tmp_path: Path, quantization: bundle_format.Quantization
) -> None:
    content = sample_workspace(workspace, str(tmp_path))
    out = tmp_path / "bot.bundle"
    build_bundle(workspace, out, quantization=quantization, vector_loader=_loader())
    conn = _plain(out)
    manifest = read_manifest(conn)
    assert manifest["quantization"] == quantization
    question = hashed_vector("warranty screen repair years")
    query = bundle_format.quantize_query(question, quantization)
    wrap = "vec_int8(?)" if quantization == "int8" else "vec_bit(?)"
    knn = conn.execute(
        f"select passage_id from passages_vec where embedding match {wrap} and k = 2"
        " order by distance",
        (query,),
    ).fetchall()
    assert knn[0][0] == content.ids["warranty"]
    conn.close()


def test_same_content_same_bytes_and_hash(workspace: Workspace, tmp_path: Path) -> None:
    sample_workspace(workspace, str(tmp_path))
    first = build_bundle(workspace, tmp_path / "a.bundle", vector_loader=_loader())
    second = build_bundle(
        workspace,
        tmp_path / "b.bundle",
        created_at=first.manifest["created_at"],
        vector_loader=_loader(),
    )
    assert first.sha256 == second.sha256
    assert first.content_hash == second.content_hash
    workspace.execute(
        "update passages set excluded = 1 where id = ?", (first.passages[0].passage_id,)
    )
    third = build_bundle(workspace, tmp_path / "c.bundle", vector_loader=_loader())
    assert third.content_hash != first.content_hash


def test_keyword_only_bundle_without_vectors(workspace: Workspace, tmp_path: Path) -> None:
    sample_workspace(workspace, str(tmp_path))
    out = tmp_path / "bot.bundle"
    built = build_bundle(workspace, out, vector_loader=lambda ws, p: None)
    assert built.manifest["embedding"] is None
    assert "vectors" not in built.manifest["tables"]
    conn = open_bundle(out)
    names = {r[0] for r in conn.execute("select name from sqlite_master")}
    assert "passages_vec" not in names and "passages_fts" in names
    conn.close()


def test_missing_or_wrong_vectors_refused_and_target_untouched(
    workspace: Workspace, tmp_path: Path
) -> None:
    sample_workspace(workspace, str(tmp_path))
    out = tmp_path / "bot.bundle"
    out.write_bytes(b"previous bundle")

    def partial(ws: Workspace, passages: object) -> BundleVectors:
        vectors = dict(fake_vectors(ws))
        vectors.pop(next(iter(vectors)))
        return BundleVectors("ollama", "fake-embed", 64, vectors)

    with pytest.raises(ConfigError, match="no vector yet"):
        build_bundle(workspace, out, vector_loader=partial)
    with pytest.raises(ConfigError, match="32 dimensions"):
        build_bundle(
            workspace,
            out,
            vector_loader=lambda ws, p: BundleVectors("ollama", "m", 64, fake_vectors(ws, 32)),
        )
    assert out.read_bytes() == b"previous bundle"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_open_bundle_refuses_other_files(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a Botdesk bundle"):
        open_bundle(workspace.path)
    junk = tmp_path / "junk.bundle"
    junk.write_bytes(b"not sqlite at all" * 10)
    with pytest.raises(ConfigError, match="not a Botdesk bundle"):
        open_bundle(junk)
    with pytest.raises(ConfigError, match="No bundle file"):
        open_bundle(tmp_path / "missing.bundle")


def test_file_source_with_public_url_is_cited_by_it(workspace: Workspace, tmp_path: Path) -> None:
    content = sample_workspace(workspace, str(tmp_path))
    workspace.execute(
        'update sources set settings = \'{"public_url": "https://example.com/docs/"}\''
        " where kind = 'files'"
    )
    out = tmp_path / "bot.bundle"
    build_bundle(workspace, out, vector_loader=lambda ws, p: None)
    conn = _plain(out)
    row = conn.execute(
        "select s.url, s.name from passages p join sources s on s.id = p.source_id where p.id = ?",
        (content.ids["battery"],),
    ).fetchall()
    assert row == [("https://example.com/docs/manual.pdf", "manual.pdf")]
    conn.close()


def test_binary_needs_whole_bytes(workspace: Workspace, tmp_path: Path) -> None:
    sample_workspace(workspace, str(tmp_path))
    with pytest.raises(ConfigError, match="multiple of 8"):
        build_bundle(
            workspace,
            tmp_path / "b.bundle",
            quantization="binary",
            vector_loader=lambda ws, p: BundleVectors("ollama", "m", 12, fake_vectors(ws, 12)),
        )


def test_blank_passages_stay_out_of_the_bundle(workspace: Workspace, tmp_path: Path) -> None:
    """The index never embeds a blank passage, so the bundle must not wait for its vector."""
    sample_workspace(workspace, str(tmp_path))
    blank = int(workspace.scalar("select min(id) from passages where excluded = 0"))
    workspace.execute("update passages set text = ' \n\t ' where id = ?", (blank,))

    def without_blank(ws: Workspace, passages: object) -> BundleVectors:
        vectors = {k: v for k, v in fake_vectors(ws).items() if k != blank}
        return BundleVectors("ollama", "fake-embed", 64, vectors)

    built = build_bundle(workspace, tmp_path / "bot.bundle", vector_loader=without_blank)
    conn = _plain(tmp_path / "bot.bundle")
    ids = {r[0] for r in conn.execute("select id from passages")}
    conn.close()
    assert blank not in ids and ids
    assert built.manifest["passage_count"] == len(ids)


def test_the_manifest_names_the_prefixes_a_model_wants(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The service must embed questions as the passages were; models without prefixes keep
    the manifest they always had."""
    sample_workspace(workspace, str(tmp_path))

    def nomic(ws: Workspace, passages: object) -> BundleVectors:
        return BundleVectors("ollama", "nomic-embed-text", 64, fake_vectors(ws, 64))

    build_bundle(workspace, tmp_path / "nomic.bundle", bot_id="acme", vector_loader=nomic)
    embedding = read_manifest(_plain(tmp_path / "nomic.bundle"))["embedding"]
    assert embedding["query_prefix"] == "search_query: "
    assert embedding["document_prefix"] == "search_document: "
    build_bundle(workspace, tmp_path / "plain.bundle", bot_id="acme", vector_loader=_loader())
    plain = read_manifest(_plain(tmp_path / "plain.bundle"))["embedding"]
    assert set(plain) == {"provider", "model", "dimensions"}
