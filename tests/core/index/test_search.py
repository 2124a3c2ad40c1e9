"""Keyword, vector and hybrid search over a workspace; filters, minimum score, why-not."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from desktop.core import index
from desktop.core.errors import ConfigError
from desktop.core.index import ranking
from desktop.core.index import workspace_corpus as workspace_corpus_module
from desktop.core.index.corpus import Filters
from desktop.core.index.query import fts_query
from desktop.core.index.ranking import check_mode, fuse
from desktop.core.index.search import run_search
from desktop.core.index.why_not import why_not
from desktop.core.index.workspace_corpus import MIN_CANDIDATES, WorkspaceCorpus
from desktop.core.jobs import Job
from desktop.core.source_ref import SourceRef
from desktop.core.store.workspace import Workspace
from tests.core.index.support import CountingEmbedder, hashed_vector, new_workspace
from tests.core.publish.factory import add_document, add_passage, add_source, edit_passage

TEXTS = {
    "refund": "Refunds are paid to your card within five days of the return.",
    "refund2": "A refund needs the receipt; card refunds take longer at weekends.",
    "shipping": "Shipping is free for orders over fifty euros, delivery in three days.",
    "hours": "Our store is open from nine to six; phone support keeps the same hours.",
    "warranty": "The warranty covers screen repair and battery replacement for two years.",
    "password": "To reset your password, open the login page and choose forgot password.",
}


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = new_workspace(tmp_path / "search.botdesk")
    yield workspace
    workspace.close()


def _content(ws: Workspace) -> dict[str, int]:
    site = add_source(ws, "site", "https://shop.example/", "Shop")
    docs = add_source(ws, "files", "/data/manuals", "Manuals")
    help_doc = add_document(ws, site, "https://shop.example/help/returns", "Returns")
    faq = add_document(ws, site, "https://shop.example/faq", "FAQ")
    manual = add_document(ws, docs, "/data/manuals/manual.pdf", "Manual")
    ids = {
        "refund": add_passage(ws, help_doc, TEXTS["refund"], heading="Returns > Refunds"),
        "refund2": add_passage(ws, help_doc, TEXTS["refund2"], heading="Returns"),
        "shipping": add_passage(ws, faq, TEXTS["shipping"], heading="Shipping"),
        "hours": add_passage(ws, faq, TEXTS["hours"]),
        "warranty": add_passage(ws, manual, TEXTS["warranty"], page=4),
        "password": add_passage(ws, faq, TEXTS["password"]),
    }
    ids["site"], ids["files"] = site, docs
    asyncio.run(index.embed_pending(ws, CountingEmbedder(), Job("embed")))
    return ids


def _q(text: str) -> np.ndarray:
    return np.asarray(hashed_vector(text), dtype=np.float32)


def _search(ws: Workspace, query: str, mode: index.Mode, k: int = 10, **kw: object) -> list[int]:
    hits = run_search(WorkspaceCorpus(ws), query, _q(query), k=k, mode=mode, **kw)  # type: ignore[arg-type]
    return [h.chunk_id for h in hits]


def test_keyword_ranks_by_bm25_and_only_matching_passages(ws: Workspace) -> None:
    ids = _content(ws)
    found = _search(ws, "refunds to my card?", "keyword")
    assert found[:2] == [ids["refund2"], ids["refund"]] or found[:2] == [
        ids["refund"],
        ids["refund2"],
    ]
    assert ids["warranty"] not in found and ids["shipping"] not in found
    hits = run_search(WorkspaceCorpus(ws), "refunds card", None, k=5, mode="keyword")
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(h.score > 0 and h.ranks == {"keyword": h.rank} for h in hits)
    assert set(hits[0].scores) == {"keyword"}


def test_keyword_query_never_breaks_on_fts_syntax(ws: Workspace) -> None:
    _content(ws)
    for query in ('"unbalanced', "NEAR(a b)", "x AND OR", "what's -the price*?", "?!"):
        run_search(WorkspaceCorpus(ws), query, None, k=3, mode="keyword")
    assert fts_query("?!") == ""
    assert fts_query('say "hi"') == '"say" OR "hi"'
    assert fts_query("Where is the office?") == '"Where" OR "office"'
    assert fts_query("to be or not to be") == " OR ".join(
        f'"{w}"' for w in ["to", "be", "or", "not", "to", "be"]
    )  # nothing but stop words: keep them


def test_vector_ranks_by_cosine_like_exact_search(ws: Workspace) -> None:
    ids = _content(ws)
    query = "is the store open and when is phone support"
    hits = run_search(WorkspaceCorpus(ws), query, _q(query), k=6, mode="vector")
    assert hits[0].chunk_id == ids["hours"]
    exact = sorted(
        ((float(np.dot(_q(query), _q(t))), ids[name]) for name, t in TEXTS.items()),
        reverse=True,
    )
    assert [h.chunk_id for h in hits] == [pid for _, pid in exact]
    assert hits[0].score == pytest.approx(exact[0][0], abs=1e-5)


def test_hybrid_fuses_both_lists_with_reciprocal_rank(ws: Workspace) -> None:
    ids = _content(ws)
    query = "card refunds"
    hits = run_search(WorkspaceCorpus(ws), query, _q(query), k=6, mode="hybrid")
    top = hits[0]
    assert top.chunk_id in (ids["refund"], ids["refund2"])
    assert set(top.ranks) == {"keyword", "vector", "hybrid"}
    assert set(top.scores) == {"keyword", "vector", "hybrid"}
    assert top.ranks["hybrid"] == 1
    assert all(0 < h.score <= 1.0 for h in hits)
    # A passage that only one list found still comes back, ranked after those in both.
    assert any("keyword" not in h.ranks for h in hits)


def test_fuse_scales_first_in_both_to_one() -> None:
    fused = fuse({"keyword": [(1, 9.0), (2, 5.0)], "vector": [(1, 0.9), (3, 0.5)]})
    assert fused[0][0] == 1 and fused[0][1] == pytest.approx(1.0)
    assert fused[0][2] == {"keyword": 1, "vector": 1}
    assert [pid for pid, _, _ in fused[1:]] == [2, 3]  # tie broken by id


def test_hits_carry_the_passage_and_its_source(ws: Workspace) -> None:
    ids = _content(ws)
    hits = run_search(WorkspaceCorpus(ws), "battery warranty", None, k=1, mode="keyword")
    hit = hits[0]
    assert hit.chunk_id == ids["warranty"] and hit.text == TEXTS["warranty"]
    assert hit.source == SourceRef(path="/data/manuals/manual.pdf", title="Manual", page=4)
    assert hit.as_json()["source"] == {
        "path": "/data/manuals/manual.pdf",
        "title": "Manual",
        "page": 4,
    }
    assert hit.source_id == ids["files"]
    web = run_search(WorkspaceCorpus(ws), "refunds card", None, k=1, mode="keyword")[0]
    assert web.source.url == "https://shop.example/help/returns"
    assert web.heading.startswith("Returns")
    assert set(web.as_json()) == {"rank", "score", "chunk_id", "text", "heading", "source"}


def test_excluded_and_removed_passages_never_come_back(ws: Workspace) -> None:
    ids = _content(ws)
    ws.execute("update passages set excluded = 1 where id = ?", (ids["refund"],))
    ws.execute("update passages set removed = 1 where id = ?", (ids["refund2"],))
    for mode in ("keyword", "vector", "hybrid"):
        found = _search(ws, "refunds card", mode)  # type: ignore[arg-type]
        assert ids["refund"] not in found and ids["refund2"] not in found, mode


def test_filters_by_source_and_url_prefix(ws: Workspace) -> None:
    ids = _content(ws)
    only_files = Filters(source_ids=(ids["files"],))
    for mode in ("keyword", "vector", "hybrid"):
        found = _search(ws, "warranty refunds card store", mode, filters=only_files)  # type: ignore[arg-type]
        assert found == [ids["warranty"]], mode
    faq = Filters(url_prefix="https://shop.example/faq")
    found = _search(ws, "store shipping password refunds", "hybrid", filters=faq)
    assert set(found) == {ids["shipping"], ids["hours"], ids["password"]}
    assert _search(ws, "refunds", "keyword", filters=Filters(url_prefix="https://other/")) == []


def test_min_score_cuts_weak_hits(ws: Workspace) -> None:
    _content(ws)
    hits = run_search(WorkspaceCorpus(ws), "store refunds", _q("store refunds"), k=6, mode="vector")
    everything = [h.chunk_id for h in hits]
    threshold = (hits[0].score + hits[-1].score) / 2
    strong = _search(ws, "store refunds", "vector", k=6, min_score=threshold)
    assert 0 < len(strong) < len(everything)
    assert strong == everything[: len(strong)]


def test_modes_default_and_fall_back(ws: Workspace, tmp_path: Path) -> None:
    _content(ws)
    assert check_mode(None, WorkspaceCorpus(ws)) == ("hybrid", [])
    with new_workspace(tmp_path / "kw.botdesk", embedder="none") as plain:
        corpus = WorkspaceCorpus(plain)
        assert check_mode(None, corpus) == ("keyword", [])
        mode, notes = check_mode("hybrid", corpus)
        assert mode == "keyword" and "no embedder" in notes[0]
        with pytest.raises(ConfigError, match="Vector search is not possible"):
            check_mode("vector", corpus)
    with new_workspace(tmp_path / "fresh.botdesk") as fresh:  # an embedder, nothing embedded
        mode, notes = check_mode(None, WorkspaceCorpus(fresh))
        assert mode == "keyword" and "no passage is embedded yet" in notes[0]
    with pytest.raises(ConfigError, match="Unknown search mode"):
        check_mode("fuzzy", WorkspaceCorpus(ws))
    with pytest.raises(ConfigError, match="k must be"):
        _search(ws, "refunds", "keyword", k=0)


def test_an_edited_passage_is_not_found_by_its_old_vector(ws: Workspace) -> None:
    ids = _content(ws)
    edit_passage(ws, ids["hours"], "Gift cards never expire.")
    query = "is the store open and when is phone support"
    assert ids["hours"] not in _search(ws, query, "vector")
    assert ids["hours"] in _search(ws, "gift cards", "keyword")
    asyncio.run(index.embed_pending(ws, CountingEmbedder(), Job("embed")))
    assert _search(ws, "gift cards expire", "vector")[0] == ids["hours"]


@pytest.mark.parametrize("in_memory", [True, False])
def test_the_coarse_pass_finds_what_exact_search_finds(
    ws: Workspace, in_memory: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not in_memory:  # too big for memory: the vec0 sign-bit pass, rescored
        monkeypatch.setattr(workspace_corpus_module, "EXACT_MAX_BYTES", 0)
    rng = random.Random(7)
    vocabulary = [f"w{i}" for i in range(300)]
    site = add_source(ws, "site", "https://big.example/", "Big")
    texts: dict[int, str] = {}
    for d in range(30):
        doc = add_document(ws, site, f"https://big.example/{d}", "")
        for _ in range(20):
            text = " ".join(rng.choices(vocabulary, k=12))
            texts[add_passage(ws, doc, text)] = text
    assert len(texts) > MIN_CANDIDATES
    asyncio.run(index.embed_pending(ws, CountingEmbedder(max_batch=100), Job("embed")))
    ids = np.array(sorted(texts))
    matrix = np.stack([_q(texts[i]) for i in ids])
    found = total = 0
    for _ in range(20):
        query = " ".join(rng.choices(vocabulary, k=6))
        exact = ids[np.argsort(-(matrix @ _q(query)), kind="stable")[:10]]
        got = _search(ws, query, "vector", k=10)
        found += len(set(got) & set(exact.tolist()))
        total += 10
    # 64-dim sign bits of bag-of-words vectors are coarse; the in-memory path is exact.
    assert found / total == 1.0 if in_memory else found / total >= 0.8


def test_why_not_explains_each_cut(ws: Workspace) -> None:
    ids = _content(ws)
    corpus = WorkspaceCorpus(ws)
    query = "refunds to my card"

    found = why_not(corpus, query, _q(query), ids["refund"], k=5, mode="hybrid")
    assert found.modes["hybrid"].retrieved and "Retrieved at rank" in found.summary()

    cut_k = why_not(corpus, query, _q(query), ids["warranty"], k=1, mode="vector")
    verdict = cut_k.modes["vector"]
    assert not verdict.retrieved and verdict.rank is not None and verdict.rank > 1
    assert any(c.startswith("k:") for c in verdict.cut_by)
    assert cut_k.modes["keyword"].cut_by == ["none of the question's words is in it"]

    low = why_not(corpus, query, _q(query), ids["refund"], k=5, mode="vector", min_score=0.99)
    assert any(c.startswith("minimum score") for c in low.modes["vector"].cut_by)

    ws.execute("update passages set excluded = 1 where id = ?", (ids["refund"],))
    excluded = why_not(WorkspaceCorpus(ws), query, _q(query), ids["refund"], k=5, mode="hybrid")
    assert not excluded.state.included
    for verdict in excluded.modes.values():
        assert not verdict.retrieved and "excluded" in verdict.cut_by
    assert excluded.modes["keyword"].rank in (1, 2)  # where it would rank if included

    filtered = why_not(
        corpus,
        query,
        _q(query),
        ids["refund2"],
        k=5,
        mode="keyword",
        filters=Filters(url_prefix="https://shop.example/faq"),
    )
    assert "the filter leaves it out" in filtered.modes["keyword"].cut_by

    edit_passage(ws, ids["hours"], "Gift cards never expire.")
    stale = why_not(
        WorkspaceCorpus(ws), "gift cards", _q("gift cards"), ids["hours"], k=5, mode="vector"
    )
    assert "not embedded yet (sync to embed it)" in stale.modes["vector"].cut_by
    assert stale.modes["keyword"].retrieved

    missing = why_not(corpus, query, _q(query), 9999, k=5, mode="hybrid")
    assert not missing.state.exists and "no passage" in missing.summary()


def test_the_in_memory_vectors_follow_changes(ws: Workspace) -> None:
    ids = _content(ws)
    query = "is the store open and when is phone support"
    assert _search(ws, query, "vector")[0] == ids["hours"]
    ws.execute("update passages set excluded = 1 where id = ?", (ids["hours"],))
    assert ids["hours"] not in _search(ws, query, "vector")
    ws.execute("update passages set excluded = 0 where id = ?", (ids["hours"],))
    assert _search(ws, query, "vector")[0] == ids["hours"]
    only_files = Filters(source_ids=(ids["files"],))
    assert _search(ws, query, "vector", filters=only_files) == [ids["warranty"]]


def test_the_in_memory_vectors_see_another_connections_changes(ws: Workspace) -> None:
    ids = _content(ws)
    query = "is the store open and when is phone support"
    assert _search(ws, query, "vector")[0] == ids["hours"]
    with Workspace.open(ws.path) as other:
        other.execute("update passages set excluded = 1 where id = ?", (ids["hours"],))
    assert ids["hours"] not in _search(ws, query, "vector")


def _keyword_corpus(ws: Workspace) -> dict[str, list[int]]:
    """60 passages that all say "common"; a few say "zebra"; the best "zebra" ones excluded."""
    site = add_source(ws, "site", "https://zoo.example/", "Zoo")
    doc = add_document(ws, site, "https://zoo.example/animals", "Animals")
    ids: dict[str, list[int]] = {"zebra": [], "hidden": [], "plain": []}
    for i in range(60):
        if i % 12 == 0:
            ids["zebra"].append(add_passage(ws, doc, f"A common zebra, number {i}, grazes here."))
        elif i % 12 == 1:
            text = f"Zebra zebra zebra: the common zebra herd {i}."
            ids["hidden"].append(add_passage(ws, doc, text, excluded=True))
        else:
            ids["plain"].append(add_passage(ws, doc, f"A common animal, number {i}, sleeps."))
    return ids


def _every_match(corpus: WorkspaceCorpus, query: str) -> list[tuple[int, float]]:
    """The ranking without any shortcut: every match scored, joined and sorted in SQL."""
    return corpus.keyword(fts_query(query), None, Filters())


def test_keyword_shortcuts_rank_like_scoring_every_match(ws: Workspace) -> None:
    ids = _keyword_corpus(ws)
    corpus = WorkspaceCorpus(ws)
    assert corpus.common_words(["common", "zebra", "Common"]) == {"common"}
    full = _every_match(corpus, "common zebra")
    for limit in (3, 5, 8, 30):
        found = ranking.keyword_ranked(corpus, "common zebra", limit)
        # "common" is left out while "zebra" fills the list (its idf is 1e-6 anyway).
        assert [pid for pid, _ in found] == [pid for pid, _ in full[:limit]], limit
        assert all(abs(a[1] - b[1]) < 1e-4 for a, b in zip(found, full, strict=False))
    assert {pid for pid, _ in full[:5]} == set(ids["zebra"])
    assert not set(ids["hidden"]) & {pid for pid, _ in full}
    # The best FTS5 rows are excluded: the list still comes out whole and right, whether
    # a deeper look finds enough (limit 3) or every match is ranked after all (limit 1).
    doc = int(ws.scalar("select document_id from passages where id = ?", (ids["zebra"][0],)))
    for i in range(100):
        add_passage(ws, doc, f"Zebra zebra zebra zebra {i}.", excluded=True)
    full = _every_match(corpus, "zebra")
    assert {pid for pid, _ in full} == set(ids["zebra"])
    for limit in (1, 3, 5, 10):
        assert corpus.keyword(fts_query("zebra"), limit, Filters()) == full[:limit], limit
