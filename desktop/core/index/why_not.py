"""Why a passage was not retrieved: where it ranked in each list, and what cut it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from desktop.core.index.corpus import NO_FILTERS, Corpus, Filters, Mode, rank_sorted, unit_vector
from desktop.core.index.query import fts_query
from desktop.core.index.ranking import (
    DEFAULT_FUSION,
    Fusion,
    check_k,
    exact_matches,
    fuse,
    list_depth,
)
from desktop.core.index.search import ModeVerdict, WhyNot, run_search
from desktop.core.index.store import Vector


# -- why not -------------------------------------------------------------------------------------
def _rank_in(items: Sequence[tuple[int, float]], passage_id: int, score: float) -> int:
    """Where a passage with `score` would rank among `items` (others only; ties by id)."""
    better = sum(
        1
        for pid, s in items
        if pid != passage_id and (s > score or (s == score and pid < passage_id))
    )
    return better + 1


def why_not(
    corpus: Corpus,
    query: str,
    query_vector: Vector | None,
    passage_id: int,
    *,
    k: int,
    mode: Mode,
    min_score: float | None = None,
    filters: Filters = NO_FILTERS,
    fusion: Fusion = DEFAULT_FUSION,
) -> WhyNot:
    """The passage's rank and score in each mode for `query`, and what kept it out."""
    check_k(k)
    state = corpus.state(passage_id, filters)
    modes: dict[str, ModeVerdict] = {}
    if not state.exists:
        return WhyNot(passage_id, query, mode, k, min_score, state, modes)
    fts = fts_query(query)
    depth = list_depth(k)
    gates: list[str] = []
    if not state.included:
        gates.append(state.reason or "not included")
    if not state.matches_filter:
        gates.append("the filter leaves it out")

    keyword_all = corpus.keyword(fts, None, filters)
    kw_score = corpus.keyword_score(fts, passage_id)
    kw_rank = None if kw_score is None else _rank_in(keyword_all, passage_id, kw_score)
    lists_with: dict[str, list[tuple[int, float]]] = {}
    lists_with["keyword"] = _insert(keyword_all, passage_id, kw_score)[:depth]

    vec_score: float | None = None
    vec_rank: int | None = None
    vector_possible = query_vector is not None and corpus.embedder is not None
    if vector_possible:
        assert query_vector is not None
        exact = corpus.exact_vector(query_vector, filters)
        stored = corpus.vector_of(passage_id) if state.embedded else None
        if stored is not None:
            vec_score = dict(exact).get(passage_id)
            if vec_score is None:
                vec_score = float(np.dot(unit_vector(query_vector), unit_vector(stored)))
            vec_rank = _rank_in(exact, passage_id, vec_score)
        lists_with["vector"] = _insert(exact, passage_id, vec_score)[:depth]

    def verdict(name: Mode, rank: int | None, score: float | None, extra: list[str]) -> ModeVerdict:
        found = run_search(
            corpus,
            query,
            query_vector,
            k=k,
            mode=name,
            min_score=min_score,
            filters=filters,
            fusion=fusion,
        )
        if any(h.chunk_id == passage_id for h in found):
            return ModeVerdict(rank, score, True, [])
        cut = [*gates, *extra]
        if rank is not None and rank > k:
            cut.append(f"k: it ranks {rank}, below the top {k}")
        if min_score is not None and score is not None and score < min_score:
            cut.append(f"minimum score: {score:.4f} is under {min_score:g}")
        if not cut:
            cut.append(
                "not in the lists this search ranks"
                if rank is None
                else "the approximate vector pass missed it"
            )
        return ModeVerdict(rank, score, False, cut)

    kw_extra = [] if kw_score is not None else ["none of the question's words is in it"]
    modes["keyword"] = verdict("keyword", kw_rank, kw_score, kw_extra)
    if vector_possible:
        vec_extra = [] if state.embedded else ["not embedded yet (sync to embed it)"]
        modes["vector"] = verdict("vector", vec_rank, vec_score, vec_extra)
        candidates = {pid for items in lists_with.values() for pid, _ in items}
        fused = fuse(lists_with, fusion, exact_matches(corpus, query, candidates, fusion))
        position = next((i for i, (pid, _, _) in enumerate(fused, 1) if pid == passage_id), None)
        hy_score = next((s for pid, s, _ in fused if pid == passage_id), None)
        hy_extra = (
            []
            if position is not None
            else [f"in neither list's top {depth}, so fusion never saw it"]
        )
        modes["hybrid"] = verdict("hybrid", position, hy_score, hy_extra)
    return WhyNot(passage_id, query, mode, k, min_score, state, modes)


def _insert(
    items: list[tuple[int, float]], passage_id: int, score: float | None
) -> list[tuple[int, float]]:
    """The ranking with this passage in it at its score (as if it were eligible)."""
    others = [(pid, s) for pid, s in items if pid != passage_id]
    if score is None:
        return others
    return rank_sorted([*others, (passage_id, score)])
