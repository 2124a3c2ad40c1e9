"""The index services end to end: sync embeds through the loopback Ollama and Mistral
stand-ins, re-sync embeds only what changed, bundles are searched by the same code as the
workspace, the embedder is switched with its cost shown first, and bad days are survived."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest

from desktop.core.bundle.write import build_bundle
from desktop.core.errors import (
    AuthenticationError,
    BadResponseError,
    ConfigError,
    ModelNotFoundError,
    ProviderError,
    ProviderUnavailableError,
)
from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace
from desktop.providers.retry import RetryPolicy
from desktop.services import answers, content, content_sources, index
from desktop.services.backends import Backends
from desktop.services.workspaces import create_workspace
from tests.helpers.backends import test_backends
from tests.helpers.model_script import Scripted

TOPICS = [
    "refunds are paid back to the card used for the order",
    "shipping abroad costs twelve euros and takes a week",
    "the shop opens at nine and closes at six on weekdays",
    "screen repairs are covered by the two year warranty",
    "reset a forgotten password from the login page",
]


def _site(folder: Path, pages: int = 100) -> Path:
    folder.mkdir()
    for p in range(pages):
        topic = TOPICS[p % len(TOPICS)]
        (folder / f"page{p:03d}.md").write_text(
            f"# Page {p}\n\n## Summary\n\nPage {p} says: {topic}.\n\n"
            f"## Details\n\nMore about item {p}: {topic}, with reference number {p * 7}.\n",
            encoding="utf-8",
        )
    return folder


def _workspace(tmp_path: Path, embedder: str = "ollama:all-minilm") -> Workspace:
    ws = create_workspace(tmp_path / "shop.botdesk", name="Shop", embedder=embedder)
    ws.set_setting("chunking", {"target_tokens": 24})  # a few passages per page
    return ws


def _sync(ws: Workspace, backends: Backends) -> Job:
    job = Job("Sync")
    asyncio.run(content.sync(ws, job, backends=backends))
    return job


def test_resync_with_one_changed_page_embeds_only_its_passages(
    fake_ollama: Any, tmp_path: Path, backends: Backends
) -> None:
    folder = _site(tmp_path / "site")
    with _workspace(tmp_path) as ws:
        content_sources.add_files(ws, [folder])
        job = _sync(ws, backends=backends)
        status = index.index_status(ws)
        assert status.included >= 200 and status.embedded == status.included
        assert status.pending == 0 and status.dimensions == 384
        assert ws.setting("embedder_dimensions") == 384
        assert "embedded" in job.summary
        first = len(fake_ollama.embedded_texts)
        assert first == status.included  # every distinct text once

        page = folder / "page042.md"
        page.write_text(
            page.read_text(encoding="utf-8").replace("reference number", "order code"),
            encoding="utf-8",
        )
        before = len(fake_ollama.calls("/api/embed"))
        _sync(ws, backends=backends)
        sent = fake_ollama.embedded_texts[first:]
        changed = ws.fetch_all(
            "select p.text from passages p join documents d on d.id = p.document_id"
            " where d.uri like '%page042.md' and p.removed = 0 and p.text like '%order code%'"
        )
        assert sent and sorted(sent) == sorted(r["text"] for r in changed)
        assert len(fake_ollama.calls("/api/embed")) - before == 1  # one batch, one call

        _sync(ws, backends=backends)  # nothing changed: no embedding call at all
        assert len(fake_ollama.embedded_texts) == first + len(sent)


def _content(ws: Workspace, tmp_path: Path, backends: Backends) -> None:
    content_sources.add_files(ws, [_site(tmp_path / "site", pages=25)])
    _sync(ws, backends=backends)
    # Curation the bundle and the workspace search must both honour.
    ws.execute("update passages set excluded = 1 where id % 9 = 0")


def _by_score(hits: Any) -> list[tuple[float, frozenset[int]]]:
    """The ranking as groups of equal score (float32 cosine: ties may swap by a last bit)."""
    groups: dict[float, set[int]] = {}
    for hit in hits:
        groups.setdefault(round(hit.score, 4), set()).add(hit.chunk_id)
    return [(score, frozenset(ids)) for score, ids in groups.items()]


QUERIES = ["how are refunds paid", "warranty screen repair", "when does the shop open"]


def test_a_bundle_is_searched_like_the_workspace(
    fake_ollama: Any, tmp_path: Path, backends: Backends
) -> None:
    with _workspace(tmp_path) as ws:
        _content(ws, tmp_path, backends=backends)
        bundle = build_bundle(ws, tmp_path / "shop.bundle")
        assert bundle.manifest["embedding"]["dimensions"] == 384
        with index.open_bundle(bundle.path) as target:
            for query in QUERIES:
                for mode in ("keyword", "vector", "hybrid"):
                    mine = asyncio.run(index.search(ws, query, k=8, mode=mode, backends=backends))
                    theirs = asyncio.run(
                        index.search(target, query, k=8, mode=mode, backends=backends)
                    )
                    if mode == "keyword":  # BM25 statistics differ: the bundle has fewer rows
                        assert [h.chunk_id for h in theirs] == [h.chunk_id for h in mine]
                    else:
                        assert _by_score(theirs) == _by_score(mine), (query, mode)
                    assert all((h.source.path or "").endswith(".md") for h in theirs)
            assert asyncio.run(index.search(target, QUERIES[0], backends=backends)).mode == "hybrid"


@pytest.mark.parametrize("quantization", ["int8", "binary"])
def test_quantised_bundles_are_searched_too(
    fake_ollama: Any, tmp_path: Path, quantization: str, backends: Backends
) -> None:
    with _workspace(tmp_path) as ws:
        _content(ws, tmp_path, backends=backends)
        path = tmp_path / f"{quantization}.bundle"
        build_bundle(ws, path, quantization=quantization)  # type: ignore[arg-type]
        with index.open_bundle(path) as target:
            exact = asyncio.run(
                index.search(ws, QUERIES[1], k=10, mode="vector", backends=backends)
            )
            approx = asyncio.run(
                index.search(target, QUERIES[1], k=10, mode="vector", backends=backends)
            )
            overlap = {h.chunk_id for h in exact} & {h.chunk_id for h in approx}
            assert len(overlap) >= 5
            why = asyncio.run(
                index.why_not(target, QUERIES[1], approx[0].chunk_id, k=3, backends=backends)
            )
            assert why.modes["vector"].retrieved


def test_the_answers_service_searches_a_bundle_through_the_index(
    fake_ollama: Any, tmp_path: Path, backends: Backends
) -> None:
    with _workspace(tmp_path, embedder="none") as ws:
        content_sources.add_files(ws, [_site(tmp_path / "site", pages=5)])
        _sync(ws, backends=backends)
        assert fake_ollama.calls("/api/embed") == []  # no embedder: keyword only
        bundle = build_bundle(ws, tmp_path / "kw.bundle")
        target = answers.open_bundle_target(bundle.path)
        try:
            hits = asyncio.run(
                answers._find(backends, target, "refunds card", k=3, mode="hybrid", min_score=None)
            )
            assert hits and all(h.mode == "keyword" for h in hits)
            assert "keyword search was used" in hits.notes[0]  # type: ignore[attr-defined]
            passage = answers._as_passage(hits[0])
            assert (passage.source.path or "").endswith(".md")
        finally:
            target.close()
        with pytest.raises(ConfigError, match="source ids"):
            asyncio.run(
                index.search(target_reopen(bundle.path), "x", source_ids=[1], backends=backends)
            )


def target_reopen(path: Path) -> index.BundleTarget:
    return index.open_bundle(path)


def test_filters_reach_the_search_service(
    fake_ollama: Any, tmp_path: Path, backends: Backends
) -> None:
    with _workspace(tmp_path) as ws:
        content_sources.add_files(ws, [_site(tmp_path / "site", pages=10)])
        content_sources.add_text(
            ws, "Hours", "The shop opens at nine and closes at six on weekdays."
        )
        _sync(ws, backends=backends)
        text_source = content_sources.list_sources(ws)[-1].id
        hits = asyncio.run(
            index.search(ws, "when does the shop open", source_ids=[text_source], backends=backends)
        )
        assert hits and {h.source_id for h in hits} == {text_source}
        prefix = str(tmp_path / "site" / "page003")
        hits = asyncio.run(index.search(ws, "shop opens", url_prefix=prefix, backends=backends))
        assert hits and all((h.source.path or "").startswith(prefix) for h in hits)


def test_switching_embedder_shows_the_cost_and_switching_back_is_free(
    fake_ollama: Any, tmp_path: Path, backends: Backends
) -> None:
    with _workspace(tmp_path) as ws:
        content_sources.add_files(ws, [_site(tmp_path / "site", pages=10)])
        _sync(ws, backends=backends)
        included = index.index_status(ws).included
        cost = index.estimate_embedder(ws, "ollama:nomic-embed-text")
        assert cost is not None and cost.to_embed == included and cost.cost_usd == 0.0
        assert index.estimate_embedder(ws, "none") is None
        index.set_embedder(ws, "ollama:nomic-embed-text")
        assert ws.setting("embedder") == "ollama:nomic-embed-text"
        assert index.index_status(ws).pending == included
        with pytest.raises(ConfigError, match="no passage is embedded"):
            asyncio.run(index.search(ws, "refunds", mode="vector", backends=backends))
        _sync(ws, backends=backends)
        assert index.index_status(ws).dimensions == 768
        calls = len(fake_ollama.calls("/api/embed"))
        back = index.set_embedder(ws, "ollama:all-minilm")
        assert back is not None and back.to_embed == 0
        hits = asyncio.run(index.search(ws, "refunds to my card", mode="vector", backends=backends))
        assert hits and len(hits[0].scores) == 1
        assert len(fake_ollama.calls("/api/embed")) == calls + 1  # the question only
        with pytest.raises(ConfigError, match="Unknown embedder"):
            index.set_embedder(ws, "openai:foo")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ollama_down_says_what_to_run_and_keeps_the_content(
    tmp_path: Path,
) -> None:
    down = f"http://127.0.0.1:{_free_port()}"
    backends = test_backends(ollama=down, retry=RetryPolicy(attempts=1, backoff_base_s=0.01))
    with _workspace(tmp_path) as ws:
        content_sources.add_files(ws, [_site(tmp_path / "site", pages=3)])
        with pytest.raises(ProviderUnavailableError, match="ollama serve"):
            _sync(ws, backends=backends)
        assert index.index_status(ws).included > 0  # the passages were saved
        assert index.index_status(ws).embedded == 0


def test_model_not_pulled(fake_ollama: Any, tmp_path: Path, backends: Backends) -> None:
    with _workspace(tmp_path, embedder="ollama:missing-model") as ws:
        content_sources.add_files(ws, [_site(tmp_path / "site", pages=2)])
        with pytest.raises(ModelNotFoundError, match="ollama pull missing-model"):
            _sync(ws, backends=backends)


def test_a_failed_batch_keeps_the_batches_before_it(
    fake_ollama: Any, tmp_path: Path, backends: Backends
) -> None:
    with _workspace(tmp_path) as ws:
        content_sources.add_files(ws, [_site(tmp_path / "site", pages=40)])  # > 2 batches of 32
        fake_ollama.script(
            "/api/embed",
            Scripted(),
            *[Scripted(status=500, body={"error": "boom"}) for _ in range(50)],
        )
        with pytest.raises(ProviderError, match="boom"):
            asyncio.run(content.sync(ws, Job("Sync"), backends=backends))
        kept = index.index_status(ws)
        assert 0 < kept.embedded < kept.included
        fake_ollama.script_state.queues.clear()
        before = len(fake_ollama.embedded_texts)
        _sync(ws, backends=backends)
        assert len(fake_ollama.embedded_texts) - before == kept.pending
        assert index.index_status(ws).pending == 0


def test_a_model_answering_another_vector_size_is_refused(
    fake_ollama: Any, tmp_path: Path, backends: Backends
) -> None:
    with _workspace(tmp_path) as ws:
        content_sources.add_files(ws, [_site(tmp_path / "site", pages=2)])
        _sync(ws, backends=backends)
        (tmp_path / "site" / "page000.md").write_text("# New\n\nA new text.\n", encoding="utf-8")
        fake_ollama.script("/api/embed", *[Scripted(dimensions=128) for _ in range(5)])
        with pytest.raises(BadResponseError, match="128"):
            _sync(ws, backends=backends)
        assert ws.scalar("select count(*) from embeddings where dimensions = 128") == 0


def test_mistral_embeds_and_a_wrong_key_says_so(
    fake_mistral: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backends: Backends
) -> None:
    with _workspace(tmp_path, embedder="mistral:mistral-embed") as ws:
        content_sources.add_files(ws, [_site(tmp_path / "site", pages=3)])
        _sync(ws, backends=backends)
        status = index.index_status(ws)
        assert status.pending == 0 and status.dimensions == 1024
        hits = asyncio.run(index.search(ws, "how are refunds paid", backends=backends))
        assert hits.mode == "hybrid" and hits
        monkeypatch.setenv("MISTRAL_API_KEY", "wrong-key")
        with pytest.raises(AuthenticationError):
            asyncio.run(index.search(ws, "refunds", mode="vector", backends=backends))
