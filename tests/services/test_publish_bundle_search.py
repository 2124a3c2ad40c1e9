"""A published bundle, opened with plain apsw + sqlite-vec (no Botdesk code), answers a KNN and
an FTS5 query exactly as the app's own search does over the workspace."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from typing import Any

import apsw
import numpy as np
import pytest
import sqlite_vec

from desktop.core.index import BundleVectors
from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace
from desktop.services import publish
from desktop.services.backends import Backends
from tests.core.publish.factory import add_document, add_passage, add_source, hashed_vector
from tests.helpers.backends import OFFLINE, with_changes
from tests.helpers.receiver import Receiver

TOKEN = "test-token-123"
TOPICS = [
    "refund policy for returned orders paid by card",
    "shipping costs and delivery times for international orders",
    "warranty on screen repair and battery replacement",
    "opening hours of the store and phone support",
    "password reset and account login problems",
    "discount codes and subscription upgrades",
]


def _workspace(ws: Workspace) -> dict[int, np.ndarray]:
    site = add_source(ws, "site", "https://example.com/", "Example")
    rng = np.random.default_rng(3)
    for d, topic in enumerate(TOPICS):
        document = add_document(ws, site, f"https://example.com/{d}", topic.title())
        for i in range(8):
            words = topic.split()
            extra = " ".join(rng.choice(words, size=6))
            add_passage(ws, document, f"{topic} {extra} note {d}-{i}")
    # Curation the bundle must honour: these must not come back from either search.
    ws.execute("update passages set excluded = 1 where id % 7 = 0")
    rows = ws.fetch_all("select id, text from passages")
    return {int(r["id"]): hashed_vector(r["text"], 96) for r in rows}


def _plain(path: Path) -> apsw.Connection:
    conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
    conn.enable_load_extension(True)
    conn.load_extension(sqlite_vec.loadable_path())
    return conn


def _workspace_keyword(ws: Workspace, query: str, k: int) -> list[int]:
    """The app's keyword search: H6's when it is there, else the workspace's own FTS5."""
    if importlib.util.find_spec("desktop.services.index") is not None:
        from desktop.services import index  # type: ignore[attr-defined]

        hits: Any = asyncio.run(index.search(ws, query, k=k, mode="keyword", backends=OFFLINE))
        return [int(h.chunk_id) for h in hits]
    rows = ws.fetch_all(
        "select f.rowid as id from passages_fts f join passages p on p.id = f.rowid"
        " join documents d on d.id = p.document_id where passages_fts match ?"
        " and p.excluded = 0 and p.removed = 0 and d.excluded = 0 and d.status != 'removed'"
        " order by bm25(passages_fts), f.rowid limit ?",
        (query, k),
    )
    return [int(r["id"]) for r in rows]


def test_published_bundle_matches_the_apps_search(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backends: Backends
) -> None:
    vectors = _workspace(workspace)
    monkeypatch.setenv("BOTDESK_PUBLISH_TOKEN", TOKEN)
    publish.set_widget_value(workspace, "allowed_origins", '["https://example.com"]')
    publish.set_widget_value(workspace, "answering.embedding_model", "ollama:hashed")

    def loader(ws: Workspace, passages: object) -> BundleVectors:
        return BundleVectors("ollama", "hashed", 96, vectors)

    with Receiver() as receiver:
        report = asyncio.run(
            publish.publish(
                workspace,
                Job("Publish"),
                endpoint=receiver.url,
                bot_id="acme",
                backends=with_changes(backends, bundle_vectors=loader),
            )
        )
        live = receiver.live()
        assert live is not None and live.release_id == report.release_id
        path = tmp_path / "published.bundle"
        path.write_bytes(receiver.store.bundles[live.bundle_sha256])

    included = {
        int(r["id"]) for r in workspace.fetch_all("select id from passages where excluded = 0")
    }
    conn = _plain(path)
    for query in ("refunds card", "international delivery", "screen battery warranty"):
        bundle_fts = [
            r[0]
            for r in conn.execute(
                "select rowid from passages_fts where passages_fts match ?"
                " order by bm25(passages_fts), rowid limit 10",
                (query,),
            )
        ]
        assert bundle_fts, query
        assert bundle_fts == _workspace_keyword(workspace, query, 10)
        assert set(bundle_fts) <= included

    ids = np.array(sorted(included))
    matrix = np.stack([vectors[i] for i in ids])
    for question in ("how do refunds work for card payments", "phone support hours of the store"):
        q = hashed_vector(question, 96)
        rows = conn.execute(
            "select passage_id, distance from passages_vec where embedding match ? and k = 10",
            (q.astype(np.float32).tobytes(),),
        ).fetchall()
        knn = [pid for pid, _ in sorted(rows, key=lambda r: (round(r[1], 6), r[0]))]
        scores = matrix @ q
        exact = [
            int(ids[i])
            for i in sorted(range(len(ids)), key=lambda i: (round(1 - scores[i], 6), ids[i]))
        ]
        # Same ranking as exact cosine search over the workspace's included vectors (ties aside).
        assert knn[:3] == exact[:3]
        assert len(set(knn) & set(exact[:10])) >= 9
    conn.close()
