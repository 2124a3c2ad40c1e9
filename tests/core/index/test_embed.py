"""embed_pending: only what is not cached, per-batch commits, cancel and resume, bad vectors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from desktop.core import index
from desktop.core.errors import BadResponseError, CancelledError
from desktop.core.index import store
from desktop.core.index.embed import truncate_to_tokens
from desktop.core.jobs import Job
from desktop.core.model_specs import ModelSpec
from desktop.core.store.workspace import Workspace
from desktop.core.text import count_tokens
from tests.core.index.support import CountingEmbedder, new_workspace
from tests.core.publish.factory import add_document, add_passage, add_source, edit_passage

EMBEDDER = ModelSpec("ollama", "hashed")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = new_workspace(tmp_path / "index.botdesk")
    yield workspace  # type: ignore[misc]
    workspace.close()


def _fill(ws: Workspace, pages: int = 10, per_page: int = 3) -> list[int]:
    site = add_source(ws, "site", "https://example.com/", "Example")
    ids = []
    for p in range(pages):
        doc = add_document(ws, site, f"https://example.com/p{p}", f"Page {p}")
        for i in range(per_page):
            ids.append(add_passage(ws, doc, f"page {p} passage {i} about topic{p} item{i}"))
    return ids


def _embed(ws: Workspace, embedder: CountingEmbedder, **kw: object) -> index.EmbedReport:
    return asyncio.run(index.embed_pending(ws, embedder, Job("embed"), **kw))  # type: ignore[arg-type]


def _vec_rows(ws: Workspace) -> set[int]:
    found = store.vector_table(ws, EMBEDDER)
    assert found is not None
    return {int(r["passage_id"]) for r in ws.fetch_all(f"select passage_id from {found[0]}")}


def test_embeds_in_batches_then_nothing_when_cached(ws: Workspace) -> None:
    ids = _fill(ws)
    embedder = CountingEmbedder(max_batch=8)
    report = _embed(ws, embedder)
    assert report.embedded == 30 and report.calls == 4  # 8 + 8 + 8 + 6
    assert all(len(b) <= 8 for b in embedder.batches)
    assert sorted(embedder.texts) == sorted(
        str(ws.scalar("select text from passages where id = ?", (i,))) for i in ids
    )
    assert report.dimensions == 64 and ws.setting("embedder_dimensions") == 64
    assert _vec_rows(ws) == set(ids)

    again = CountingEmbedder(max_batch=8)
    report = _embed(ws, again)
    assert again.batches == [] and report.embedded == 0 and report.cached == 30


def test_only_a_changed_passage_is_re_embedded_after_an_edit(ws: Workspace) -> None:
    ids = _fill(ws)
    _embed(ws, CountingEmbedder())
    edit_passage(ws, ids[4], "an edited text about refunds")
    embedder = CountingEmbedder()
    report = _embed(ws, embedder)
    assert embedder.texts == ["an edited text about refunds"]
    assert report.embedded == 1 and report.calls == 1
    vt, _ = store.vector_table(ws, EMBEDDER) or ("", 0)
    row = ws.fetch_one(f"select text_hash from {vt} where passage_id = ?", (ids[4],))
    assert row is not None
    assert row["text_hash"] == ws.scalar("select text_hash from passages where id = ?", (ids[4],))


def test_excluded_removed_and_empty_passages_are_not_embedded(ws: Workspace) -> None:
    site = add_source(ws, "site", "https://example.com/", "Example")
    doc = add_document(ws, site, "https://example.com/a", "A")
    hidden_doc = add_document(ws, site, "https://example.com/h", "H")
    ws.execute("update documents set excluded = 1 where id = ?", (hidden_doc,))
    gone_doc = add_document(ws, site, "https://example.com/g", "G", status="removed")
    keep = add_passage(ws, doc, "kept passage about shipping")
    add_passage(ws, doc, "excluded passage", excluded=True)
    add_passage(ws, doc, "removed passage", removed=True)
    add_passage(ws, doc, "   \n\t ")
    add_passage(ws, doc, "")
    add_passage(ws, hidden_doc, "passage of an excluded document")
    add_passage(ws, gone_doc, "passage of a removed document")
    embedder = CountingEmbedder()
    report = _embed(ws, embedder)
    assert embedder.texts == ["kept passage about shipping"]
    assert report.skipped_empty == 2
    assert _vec_rows(ws) == {keep}


def test_excluding_later_takes_the_passage_out_of_the_vector_table(ws: Workspace) -> None:
    ids = _fill(ws, pages=2)
    _embed(ws, CountingEmbedder())
    ws.execute("update passages set excluded = 1 where id = ?", (ids[0],))
    embedder = CountingEmbedder()
    _embed(ws, embedder)
    assert embedder.batches == []
    assert ids[0] not in _vec_rows(ws)
    ws.execute("update passages set excluded = 0 where id = ?", (ids[0],))
    _embed(ws, embedder)
    assert embedder.batches == []  # its vector was cached: back without a call
    assert ids[0] in _vec_rows(ws)


def test_the_same_text_is_embedded_once(ws: Workspace) -> None:
    site = add_source(ws, "site", "https://example.com/", "Example")
    for p in range(3):
        doc = add_document(ws, site, f"https://example.com/{p}", "")
        add_passage(ws, doc, "Cookie settings: we use cookies.")
    embedder = CountingEmbedder()
    _embed(ws, embedder)
    assert embedder.texts == ["Cookie settings: we use cookies."]
    assert len(_vec_rows(ws)) == 3


def test_cancel_mid_embed_keeps_finished_batches_and_resumes(ws: Workspace) -> None:
    ids = _fill(ws, pages=10)  # 30 texts, batches of 4
    job = Job("embed")
    embedder = CountingEmbedder(max_batch=4)
    embedder.on_batch = lambda n: job.cancel() if n == 3 else None
    with pytest.raises(CancelledError):
        asyncio.run(index.embed_pending(ws, embedder, job, concurrency=1))
    kept = len(store.cached_hashes(ws, EMBEDDER))
    assert kept == 12  # batches 1-3 committed; batch 4 never started
    assert len(_vec_rows(ws)) == 12

    rest = CountingEmbedder(max_batch=4)
    report = _embed(ws, rest)
    assert report.embedded == 18 and report.cached == 12
    assert not set(rest.texts) & {t for b in embedder.batches for t in b}
    assert _vec_rows(ws) == set(ids)


def test_concurrent_batches_are_bounded(ws: Workspace) -> None:
    _fill(ws, pages=10)
    in_flight = 0
    peak = 0

    class Slow(CountingEmbedder):
        async def embed_batch(self, texts):  # type: ignore[no-untyped-def]
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1
            return await super().embed_batch(texts)

    report = _embed(ws, Slow(max_batch=2), concurrency=3)
    assert report.embedded == 30 and peak == 3


def test_a_vector_of_the_wrong_size_is_refused_and_nothing_of_it_is_saved(ws: Workspace) -> None:
    _fill(ws, pages=2)
    _embed(ws, CountingEmbedder(dimensions=64))
    ws.execute("update passages set text = text || ' changed', text_hash = text_hash || 'x'")
    with pytest.raises(BadResponseError, match=r"32 dimensions.*64"):
        _embed(ws, CountingEmbedder(dimensions=32))
    assert ws.scalar("select count(*) from embeddings where dimensions = 32") == 0


def test_a_batch_answering_the_wrong_count_is_refused(ws: Workspace) -> None:
    _fill(ws, pages=1)

    class Short(CountingEmbedder):
        async def embed_batch(self, texts):  # type: ignore[no-untyped-def]
            return (await super().embed_batch(texts))[:-1]

    with pytest.raises(BadResponseError, match="2 vectors for 3 texts"):
        _embed(ws, Short())
    assert ws.scalar("select count(*) from embeddings") == 0


def test_a_nan_vector_is_refused(ws: Workspace) -> None:
    _fill(ws, pages=1)

    class Broken(CountingEmbedder):
        async def embed_batch(self, texts):  # type: ignore[no-untyped-def]
            return [[float("nan")] * 64 for _ in texts]

    with pytest.raises(BadResponseError, match="NaN"):
        _embed(ws, Broken())


def test_an_over_long_passage_is_truncated_and_reported(ws: Workspace) -> None:
    site = add_source(ws, "site", "https://example.com/", "Example")
    doc = add_document(ws, site, "https://example.com/long", "Long")
    long_id = add_passage(ws, doc, " ".join(f"word{i}" for i in range(2000)))
    add_passage(ws, doc, "short passage")
    embedder = CountingEmbedder(max_input_tokens=100)
    job = Job("embed")
    report = asyncio.run(index.embed_pending(ws, embedder, job))
    assert report.truncated == [long_id]
    sent = max(embedder.texts, key=len)
    assert count_tokens(sent) <= 100 and sent.startswith("word0 word1")
    assert any(f"passage {long_id}" == e.item for e in job.errors)
    assert ws.scalar("select truncated from embeddings where truncated = 1") == 1


def test_truncate_keeps_whole_tokens() -> None:
    text, cut = truncate_to_tokens("alpha beta, gamma delta", 3)
    assert cut and text == "alpha beta"
    same, cut = truncate_to_tokens("short", 100)
    assert same == "short" and not cut


def test_cost_estimate_counts_only_what_a_new_embedder_must_embed(ws: Workspace) -> None:
    _fill(ws, pages=4)
    _embed(ws, CountingEmbedder())
    cached = index.estimate(ws, EMBEDDER)
    assert cached.to_embed == 0 and cached.passages == 12 and cached.cost_usd == 0.0
    mistral = index.estimate(ws, ModelSpec("mistral", "mistral-embed"))
    assert mistral.to_embed == 12 and mistral.tokens > 0
    assert mistral.cost_usd is not None and mistral.cost_usd > 0
    assert "12 of 12" in mistral.line()
    unknown = index.estimate(ws, ModelSpec("mistral", "other-embed"))
    assert unknown.cost_usd is None and "unknown cost" in unknown.line()


def test_bundle_vectors_give_the_cached_vectors_by_passage(ws: Workspace) -> None:
    ids = _fill(ws, pages=2)
    rows = ws.fetch_all("select id, text_hash from passages")
    before = index.bundle_vectors(ws, [(r["id"], r["text_hash"]) for r in rows])
    assert before is not None and not before.vectors  # the builder says to sync first
    _embed(ws, CountingEmbedder())
    vectors = index.bundle_vectors(ws, [(r["id"], r["text_hash"]) for r in rows])
    assert vectors is not None
    assert (vectors.provider, vectors.model, vectors.dimensions) == ("ollama", "hashed", 64)
    assert set(vectors.vectors) == set(ids)
    assert np.asarray(vectors.vectors[ids[0]]).shape == (64,)


def test_bundle_vectors_none_without_an_embedder(tmp_path: Path) -> None:
    with new_workspace(tmp_path / "kw.botdesk", embedder="none") as ws:
        _fill(ws, pages=1)
        assert index.bundle_vectors(ws, [(1, "x")]) is None
