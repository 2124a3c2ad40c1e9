"""Retrieval: keyword (FTS5 BM25), vector (KNN) and hybrid search (the two lists fused),
and "why was this passage not retrieved?".

One search code serves a workspace and a published bundle: each is a `Corpus` that answers
four questions (keyword matches, vector neighbours, passage details, a passage's state);
ranking, fusion, minimum score, filters and explanations are shared.

Scores, higher is better, and `min_score` compares with the score of the mode searched:
- keyword: -bm25 (FTS5, porter tokenizer), 0 and up;
- vector: cosine similarity, -1 to 1 (for a binary bundle: 1 - hamming distance / D);
- hybrid: 0 to 1. Half is the keyword score over the best keyword score for this
  question, half the cosine over the best cosine (a passage missing from one list gets
  that list's lowest); 1.0 means first in both lists (and holding every rare identifier
  the question names). It is relative to the question's best matches, as RRF's was: a
  minimum of 0.5 keeps what is at least half as good as the best; no minimum is the default.

Fusion, chosen by measurement (bench/fusion_scifact.py; SciFact train, 807 questions, and
the 36 questions of bench/retrieval_quality.py; nDCG@10, all-MiniLM-L6-v2 vectors):

    fusion                                          SciFact train   36 questions
    keyword alone / vector alone                    0.700 / 0.632   0.477 / 0.681
    reciprocal rank fusion, k=60 (before)           0.700           0.664
    convex, keyword weight 0.2 / 0.3 / 0.4          0.700 / 0.724 / 0.734   0.693 / 0.688 / 0.710
    convex, keyword weight 0.5                      0.735           0.710
    convex, keyword weight 0.6                      0.730           0.654
    convex 0.5, missing scored 0 (not the lowest)   0.709           0.670
    convex 0.5, cosine rescaled from 0.3, not 0     0.724           0.678
    convex 0.3 / 0.5 on the raw cosine              0.735 / 0.729   0.687 / 0.590
    + keyword weight 0.6 / 0.8 for identifier qs    -0.001 / -0.004 no change
    + exact-match boost 0.1 / 0.2 / 0.3             0.740 / 0.741 / 0.738   0.710 / 0.710 / 0.700
    chosen: convex 0.5 + boost 0.2 (recall@100 0.960; RRF 0.956)   0.741   0.710

So: a convex combination of normalised scores (Bruch et al. 2023) with equal weights, the
lowest listed score for a passage missing from a list, and, when the question names a
rare identifier (a word with a digit found in at most 50 passages and 5% of them: QX0005,
TRA-4435, 2009), 20% of the score for holding it. Raising the keyword weight for such
questions did not help, so the weight stays. On the generated catalogue of near-duplicate
product pages (tests/helpers/catalogue.py) it puts the right page first for 24 of 24
code/SKU/model questions, where RRF did for 7. `Fusion(method="rrf")` is kept to compare.

Hybrid search scores the vectors on a worker thread while this thread runs the keyword
search (NumPy and SQLite both release the GIL; only the calling thread uses the
connection); `parallel=False` gives the same results one after the other. The vectors are
scored row by row on one core, not by BLAS's threaded matrix product, which took both
cores of a 2-core machine and left one spinning after it, so the two ran no faster side
by side than one after the other (workspace_corpus.similarities has the figures).

Vector search in a workspace is exact while its vectors fit `EXACT_MAX_BYTES` (1 GiB:
~700k passages at 384 dimensions): the included vectors are held in memory and all of
them scored. Beyond that it is a coarse pass over the embedder's vec0 table of
sign bits (`bit[D]`, hamming distance) for OVERSAMPLE x the list depth candidates,
rescored exactly with the cached float32 vectors. bench/search_latency.py measured both:
the coarse pass was slower than the matrix product at 100k and lost recall.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from desktop.core.index.corpus import NO_FILTERS, Corpus, Filters, Mode, PassageState
from desktop.core.index.ranking import (
    DEFAULT_FUSION,
    Fusion,
    check_k,
    exact_matches,
    fuse,
    list_depth,
    ranked_lists,
)
from desktop.core.index.store import Vector
from desktop.core.source_ref import SourceRef


@dataclass
class SearchHit:
    """One retrieved passage: what the bot would be given, where it comes from, and why."""

    rank: int
    chunk_id: int
    text: str
    heading: str
    score: float
    source: SourceRef
    mode: Mode
    scores: dict[str, float] = field(default_factory=dict)  # per mode that found it
    ranks: dict[str, int] = field(default_factory=dict)
    document_id: int | None = None
    source_id: int | None = None  # the workspace source (None in a bundle)

    def as_json(self) -> dict[str, Any]:
        """The command line's contract: rank, score, chunk_id, text, heading, source."""
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "chunk_id": self.chunk_id,
            "text": self.text,
            "heading": self.heading,
            "source": self.source.to_json(),
        }


class SearchResults(list[SearchHit]):
    """The hits, best first, with the mode actually searched and notes for the user."""

    def __init__(self, hits: Iterable[SearchHit] = (), *, mode: Mode, notes: Sequence[str] = ()):
        super().__init__(hits)
        self.mode: Mode = mode
        self.notes: list[str] = list(notes)


@dataclass(frozen=True)
class ModeVerdict:
    rank: int | None  # where it ranks among the passages this search could return
    score: float | None
    retrieved: bool
    cut_by: list[str]


@dataclass(frozen=True)
class WhyNot:
    """For one question and one passage: its rank and score per mode, and what cut it."""

    passage_id: int
    query: str
    mode: Mode
    k: int
    min_score: float | None
    state: PassageState
    modes: dict[str, ModeVerdict]

    def summary(self) -> str:
        verdict = self.modes.get(self.mode)
        if not self.state.exists:
            return f"There is no passage {self.passage_id}."
        if verdict is None:
            return "Not searched."
        if verdict.retrieved:
            return f"Retrieved at rank {verdict.rank} ({self.mode})."
        return f"Not retrieved ({self.mode}): " + "; ".join(verdict.cut_by) + "."


def run_search(
    corpus: Corpus,
    query: str,
    query_vector: Vector | None,
    *,
    k: int,
    mode: Mode,
    min_score: float | None = None,
    filters: Filters = NO_FILTERS,
    notes: Sequence[str] = (),
    fusion: Fusion = DEFAULT_FUSION,
    parallel: bool = True,
) -> SearchResults:
    """The k best passages for `query` in `mode` (the vector already embedded, if needed).
    `parallel`: in hybrid mode, score the vectors on a worker thread while keyword search
    reads FTS5 (the same results as one after the other)."""
    check_k(k)
    depth = list_depth(k)
    lists = ranked_lists(
        corpus, query, query_vector, mode=mode, depth=depth, filters=filters, parallel=parallel
    )
    scores = {name: dict(items) for name, items in lists.items()}
    ranked: list[tuple[int, float, dict[str, int]]]
    if mode == "hybrid":
        candidates = {pid for items in lists.values() for pid, _ in items}
        ranked = fuse(lists, fusion, exact_matches(corpus, query, candidates, fusion))
    else:
        ranked = [(pid, s, {mode: r}) for r, (pid, s) in enumerate(lists[mode], 1)]
    if min_score is not None:
        ranked = [item for item in ranked if item[1] >= min_score]
    ranked = ranked[:k]
    details = corpus.details([pid for pid, _, _ in ranked])
    hits = SearchResults(mode=mode, notes=notes)
    for position, (pid, score, ranks) in enumerate(ranked, 1):
        info = details.get(pid)
        if info is None:  # gone between the two queries
            continue
        per_mode = {name: scores[name][pid] for name in scores if pid in scores[name]}
        if mode == "hybrid":
            per_mode["hybrid"] = score
            ranks = {**ranks, "hybrid": position}  # noqa: PLW2901
        hits.append(
            SearchHit(
                rank=position,
                chunk_id=pid,
                text=str(info["text"]),
                heading=str(info["heading"]),
                score=float(score),
                source=info["source"],
                mode=mode,
                scores=per_mode,
                ranks=dict(ranks),
                document_id=info["document_id"],
                source_id=info["source_id"],
            )
        )
    return hits
