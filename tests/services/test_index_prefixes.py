"""Model-specific query and document prefixes, as sent to the loopback Ollama stand-in,
and an embedding cache that never reuses vectors made with another prefix."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from desktop.core.index import store
from desktop.core.index.prefixes import NO_PREFIXES, PREFIX_TABLE, Prefixes, prefixes_for
from desktop.core.jobs import Job
from desktop.core.model_specs import ModelSpec
from desktop.core.store.workspace import Workspace
from desktop.services import content, content_sources, index
from desktop.services.backends import Backends
from desktop.services.workspaces import create_workspace

PAGES = {
    "returns.md": "# Returns\n\nRefunds are paid to the card used for the order within a week.\n",
    "shipping.md": "# Shipping\n\nShipping abroad costs twelve euros and takes a week.\n",
    "hours.md": "# Hours\n\nThe shop opens at nine and closes at six on weekdays.\n",
}


def _workspace(tmp_path: Path, embedder: str) -> Workspace:
    folder = tmp_path / "site"
    folder.mkdir()
    for name, text in PAGES.items():
        (folder / name).write_text(text, encoding="utf-8")
    ws = create_workspace(tmp_path / "shop.botdesk", name="Shop", embedder=embedder)
    content_sources.add_files(ws, [folder])
    return ws


def _passages(ws: Workspace) -> list[str]:
    return [str(r["text"]) for r in ws.fetch_all("select text from passages where removed = 0")]


@pytest.mark.parametrize(
    ("model", "query", "document"),
    [
        ("nomic-embed-text", "search_query: ", "search_document: "),
        ("nomic-embed-text:latest", "search_query: ", "search_document: "),
        ("jeffh/intfloat-multilingual-e5-large:f16", "query: ", "passage: "),
        ("e5-small-v2", "query: ", "passage: "),
        ("mxbai-embed-large", "Represent this sentence for searching relevant passages: ", ""),
        ("all-minilm", "", ""),
        ("mistral-embed", "", ""),
    ],
)
def test_one_table_names_each_models_prefixes(model: str, query: str, document: str) -> None:
    assert prefixes_for(model) == Prefixes(query, document)


def test_models_without_prefixes_keep_their_plain_cache_key() -> None:
    assert all(p != NO_PREFIXES for _, p in PREFIX_TABLE)
    assert store.cache_model(ModelSpec("ollama", "all-minilm")) == "all-minilm"
    nomic = ModelSpec("ollama", "nomic-embed-text")
    assert store.cache_model(nomic) == "nomic-embed-text|search_document: "


def test_nomic_passages_and_questions_are_sent_with_their_prefixes(
    fake_ollama: Any, tmp_path: Path, backends: Backends
) -> None:
    with _workspace(tmp_path, "ollama:nomic-embed-text") as ws:
        asyncio.run(content.sync(ws, Job("Sync"), backends=backends))
        sent = list(fake_ollama.embedded_texts)
        assert sorted(sent) == sorted("search_document: " + t for t in _passages(ws))
        assert index.index_status(ws).embedded == len(PAGES)

        hits = asyncio.run(
            index.search(ws, "when do you open", k=3, mode="hybrid", backends=backends)
        )
        assert fake_ollama.embedded_texts[len(sent) :] == ["search_query: when do you open"]
        assert hits and hits.mode == "hybrid"


def test_a_model_without_prefixes_gets_the_text_alone(
    fake_ollama: Any, tmp_path: Path, backends: Backends
) -> None:
    with _workspace(tmp_path, "ollama:all-minilm") as ws:
        asyncio.run(content.sync(ws, Job("Sync"), backends=backends))
        assert sorted(fake_ollama.embedded_texts) == sorted(_passages(ws))
        asyncio.run(index.search(ws, "when do you open", k=3, mode="vector", backends=backends))
        assert fake_ollama.embedded_texts[-1] == "when do you open"


def test_vectors_cached_without_the_prefix_are_not_reused(
    fake_ollama: Any, tmp_path: Path, backends: Backends
) -> None:
    with _workspace(tmp_path, "ollama:nomic-embed-text") as ws:
        asyncio.run(content.sync(ws, Job("Sync"), backends=backends))
        first = len(fake_ollama.embedded_texts)
        # As an older Botdesk cached them: keyed by the bare model, made without a prefix.
        ws.execute("update embeddings set model = 'nomic-embed-text'")
        assert index.index_status(ws).embedded == 0  # not this key: nothing counts as done
        asyncio.run(content.sync(ws, Job("Sync"), backends=backends))
        again = fake_ollama.embedded_texts[first:]
        assert sorted(again) == sorted("search_document: " + t for t in _passages(ws))
        assert index.index_status(ws).embedded == len(PAGES)
        hits = asyncio.run(
            index.search(ws, "refunds to the card", k=3, mode="vector", backends=backends)
        )
        assert hits  # the vec0 table holds the new vectors, not the stale ones
