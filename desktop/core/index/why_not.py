"""Why a passage was not retrieved: where it ranked in each list, and what cut it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class _Asked:
    """One why-not question: the search it repeats per mode, and what keeps the passage out
    in every mode (not included, left out by the filter)."""

    corpus: Corpus
    query: str
    query_vector: Vector | None
    passage_id: int
    k: int
    min_score: float | None
    filters: Filters
    fusion: Fusion
    gates: list[str]

    def verdict(
        self, name: Mode, rank: int | None, score: float | None, extra: list[str]
    ) -> ModeVerdict:
        """Whether the search in this mode returns the passage, and if not, what cut it."""
        found = run_search(
            self.corpus,
            self.query,
            self.query_vector,
            k=self.k,
            mode=name,
            min_score=self.min_score,
            filters=self.filters,
            fusion=self.fusion,
        )
        if any(h.chunk_id == self.passage_id for h in found):
            return ModeVerdict(rank, score, True, [])
        cut = [*self.gates, *extra]
        if rank is not None and rank > self.k:
            cut.append(f"k: it ranks {rank}, below the top {self.k}")
        if self.min_score is not None and score is not None and score < self.min_score:
            cut.append(f"minimum score: {score:.4f} is under {self.min_score:g}")
        if not cut:
            cut.append(
                "not in the lists this search ranks"
                if rank is None
                else "the approximate vector pass missed it"
            )
        return ModeVerdict(rank, score, False, cut)


@dataclass(frozen=True)
class _Place:
    """Where the passage stands in one list ranked over every passage."""

    rank: int | None  # None when it is not in the list at all
    score: float | None
    top: list[tuple[int, float]]  # the list's top as fusion sees it, the passage in it


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
    gates: list[str] = []
    if not state.included:
        gates.append(state.reason or "not included")
    if not state.matches_filter:
        gates.append("the filter leaves it out")
    asked = _Asked(corpus, query, query_vector, passage_id, k, min_score, filters, fusion, gates)
    depth = list_depth(k)
    keyword = _keyword_place(asked, fts_query(query), depth)
    vector: _Place | None = None
    if query_vector is not None and corpus.embedder is not None:
        vector = _vector_place(asked, query_vector, embedded=state.embedded, depth=depth)

    kw_extra = [] if keyword.score is not None else ["none of the question's words is in it"]
    modes["keyword"] = asked.verdict("keyword", keyword.rank, keyword.score, kw_extra)
    if vector is not None:
        vec_extra = [] if state.embedded else ["not embedded yet (sync to embed it)"]
        modes["vector"] = asked.verdict("vector", vector.rank, vector.score, vec_extra)
        modes["hybrid"] = _hybrid_verdict(asked, {"keyword": keyword.top, "vector": vector.top})
    return WhyNot(passage_id, query, mode, k, min_score, state, modes)


def _keyword_place(asked: _Asked, fts: str, depth: int) -> _Place:
    ranked = asked.corpus.keyword(fts, None, asked.filters)
    score = asked.corpus.keyword_score(fts, asked.passage_id)
    rank = None if score is None else _rank_in(ranked, asked.passage_id, score)
    return _Place(rank, score, _insert(ranked, asked.passage_id, score)[:depth])


def _vector_place(asked: _Asked, query_vector: Vector, *, embedded: bool, depth: int) -> _Place:
    """Its place in the exact vector ranking (its score computed when the ranking lacks it)."""
    exact = asked.corpus.exact_vector(query_vector, asked.filters)
    stored = asked.corpus.vector_of(asked.passage_id) if embedded else None
    score: float | None = None
    rank: int | None = None
    if stored is not None:
        score = dict(exact).get(asked.passage_id)
        if score is None:
            score = float(np.dot(unit_vector(query_vector), unit_vector(stored)))
        rank = _rank_in(exact, asked.passage_id, score)
    return _Place(rank, score, _insert(exact, asked.passage_id, score)[:depth])


def _hybrid_verdict(asked: _Asked, lists_with: dict[str, list[tuple[int, float]]]) -> ModeVerdict:
    """Fuse the two lists' tops (the passage in them) and see where it lands."""
    candidates = {pid for items in lists_with.values() for pid, _ in items}
    fused = fuse(
        lists_with, asked.fusion, exact_matches(asked.corpus, asked.query, candidates, asked.fusion)
    )
    position = next((i for i, (pid, _, _) in enumerate(fused, 1) if pid == asked.passage_id), None)
    score = next((s for pid, s, _ in fused if pid == asked.passage_id), None)
    extra = (
        []
        if position is not None
        else [f"in neither list's top {list_depth(asked.k)}, so fusion never saw it"]
    )
    return asked.verdict("hybrid", position, score, extra)


def _insert(
    items: list[tuple[int, float]], passage_id: int, score: float | None
) -> list[tuple[int, float]]:
    """The ranking with this passage in it at its score (as if it were eligible)."""
    others = [(pid, s) for pid, s in items if pid != passage_id]
    if score is None:
        return others
    return rank_sorted([*others, (passage_id, score)])
