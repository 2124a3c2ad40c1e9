"""Ranking: list depths, fusion of the keyword and vector lists (convex or RRF), the
rare-identifier boost, and the keyword/vector lists run side by side."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from desktop.core.errors import ConfigError
from desktop.core.index.corpus import (
    MAX_CANDIDATES,
    MODES,
    NO_FILTERS,
    Corpus,
    Filters,
    Mode,
    run_shared,
)
from desktop.core.index.query import query_words, words_query
from desktop.core.index.store import Vector

RRF_K = 60
MAX_K = 1000


# -- ranking ------------------------------------------------------------------------------------
def list_depth(k: int) -> int:
    """How deep each list goes before fusion: deeper than k so fusion can reorder."""
    return min(MAX_CANDIDATES, max(2 * k, 20))


@dataclass(frozen=True)
class Fusion:
    """How hybrid search combines its two lists (the module docstring says why these).

    `method` "convex": keyword_weight x (BM25 / the list's best BM25) + (1 - keyword_weight)
    x the vector part, where the vector part is the cosine similarity rescaled so that the
    list's best is 1 and `vector_floor` is 0 ("max"), or the raw cosine ("raw"). A passage
    missing from a list gets that list's lowest normalised score there ("min") or 0.
    When the question holds a rare identifier (a word with a digit, such as QX0005, in at
    most `rare_max` passages), the keyword weight becomes `identifier_weight` and a passage
    holding it gains `exact_boost` x the share of those identifiers it holds.
    `method` "rrf": reciprocal rank fusion, 1 / (rrf_k + rank) summed, scaled to 1.
    """

    method: Literal["convex", "rrf"] = "convex"
    keyword_weight: float = 0.5
    vector_norm: Literal["max", "raw"] = "max"
    vector_floor: float = 0.0
    missing: Literal["min", "zero"] = "min"
    identifier_weight: float = 0.5
    exact_boost: float = 0.2
    rare_max: int = 50
    rrf_k: int = RRF_K


RRF = Fusion(method="rrf")
DEFAULT_FUSION = Fusion()


_IDENTIFIER = re.compile(r"\w*\d\w*", re.UNICODE)


def identifier_words(query: str) -> list[str]:
    """The question's words with a digit in them (product codes, SKUs, model numbers,
    prices, dates), each once, lower case."""
    seen: dict[str, None] = {}
    for word in _IDENTIFIER.findall(query):
        if len(word) >= 2 or not word.isdigit():
            seen.setdefault(word.lower(), None)
    return list(seen)


def rare_limit(fusion: Fusion, rows: int) -> int:
    """At most this many passages hold a word that counts as a rare identifier."""
    return max(1, min(fusion.rare_max, rows // 20 or 1)) if fusion.rare_max > 0 else 0


def exact_matches(
    corpus: Corpus, query: str, candidates: Iterable[int], fusion: Fusion = DEFAULT_FUSION
) -> dict[int, float] | None:
    """For a question naming rare identifiers: {candidate: share of them it holds}. None
    when it names none (or the fusion does not look for them)."""
    words = identifier_words(query)
    if not words or fusion.method != "convex" or fusion.rare_max <= 0:
        return None
    counts, rows = corpus.word_counts(words)
    limit = rare_limit(fusion, rows)
    rare = [w for w in words if 0 < counts.get(w, 0) <= limit]
    if not rare:
        return None
    ids = sorted(set(candidates))
    held: dict[int, float] = {}
    for word in rare:
        for pid in corpus.containing(word, ids):
            held[pid] = held.get(pid, 0.0) + 1.0 / len(rare)
    return held


def _normalised(
    items: list[tuple[int, float]], *, kind: str, fusion: Fusion
) -> tuple[dict[int, float], float]:
    """({id: score in 0..1}, the score given to a passage missing from the list)."""
    if not items:
        return {}, 0.0
    if kind == "vector" and fusion.vector_norm == "raw":
        scores = {pid: max(0.0, s) for pid, s in items}
    else:
        floor = fusion.vector_floor if kind == "vector" else 0.0
        top = max(s for _, s in items)
        span = top - floor
        scores = {pid: (max(0.0, s - floor) / span if span > 0 else 1.0) for pid, s in items}
    missing = min(scores.values()) if fusion.missing == "min" else 0.0
    return scores, missing


def fuse(
    lists: dict[str, list[tuple[int, float]]],
    fusion: Fusion = DEFAULT_FUSION,
    exact: dict[int, float] | None = None,
) -> list[tuple[int, float, dict[str, int]]]:
    """The two lists as one ranking: (passage id, hybrid score, {mode: rank}), best first.
    `exact`: the passages holding the question's rare identifiers (`exact_matches`)."""
    ranks: dict[int, dict[str, int]] = {}
    for name, items in lists.items():
        for rank, (pid, _) in enumerate(items, 1):
            ranks.setdefault(pid, {})[name] = rank
    fused: dict[int, float] = {}
    if fusion.method == "rrf":
        for items in lists.values():
            for rank, (pid, _) in enumerate(items, 1):
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (fusion.rrf_k + rank)
        best = max(1, len(lists)) / (fusion.rrf_k + 1)
        fused = {pid: score / best for pid, score in fused.items()}
    else:
        weight = fusion.identifier_weight if exact is not None else fusion.keyword_weight
        weights = {"keyword": weight, "vector": 1.0 - weight}
        if len(lists) == 1:
            weights = dict.fromkeys(lists, 1.0)
        boost = fusion.exact_boost if exact is not None else 0.0
        parts = {
            name: _normalised(items, kind=name, fusion=fusion) for name, items in lists.items()
        }
        for pid in ranks:
            total = 0.0
            for name, (scores, missing) in parts.items():
                total += weights.get(name, 0.0) * scores.get(pid, missing)
            if exact:
                total = (1.0 - boost) * total + boost * exact.get(pid, 0.0)
            fused[pid] = total
    order = sorted(fused, key=lambda pid: (-fused[pid], pid))
    return [(pid, fused[pid], ranks[pid]) for pid in order]


def keyword_ranked(
    corpus: Corpus, query: str, limit: int, filters: Filters = NO_FILTERS
) -> list[tuple[int, float]]:
    """The `limit` best keyword matches. Words in half the index or more are left out of
    the query while others remain and these still fill the list: a passage matching only
    those words scores about 1e-6 and could only come after every passage matching another
    word, and the scores of the rest change by about that much. Measured at 100k passages
    of Zipfian words (bench/search_latency.py): 254 -> 29 ms."""
    words = query_words(query)
    if len(words) > 1:
        common = corpus.common_words(words)
        kept = [w for w in words if w.lower() not in common]
        if common and kept:
            found = corpus.keyword(words_query(kept), limit, filters)
            if len(found) >= limit:
                return found
    return corpus.keyword(words_query(words), limit, filters)


def check_mode(mode: str | None, corpus: Corpus) -> tuple[Mode, list[str]]:
    """The mode to search in: hybrid by default with vectors, else keyword (and why)."""
    notes: list[str] = []
    has_vectors = corpus.embedder is not None and corpus.has_vectors()
    if mode is None:
        if corpus.embedder is not None and not has_vectors:
            notes.append("keyword search was used: no passage is embedded yet (sync to embed)")
        return ("hybrid" if has_vectors else "keyword"), notes
    if mode not in MODES:
        raise ConfigError(f"Unknown search mode {mode!r}.", hint="Use hybrid, vector or keyword.")
    if mode != "keyword" and not has_vectors:
        why = (
            "there is no embedder (keyword search only)"
            if corpus.embedder is None
            else "no passage is embedded yet (sync to embed them)"
        )
        if mode == "vector":
            raise ConfigError(f"Vector search is not possible: {why}.")
        notes.append(f"keyword search was used: {why}")
        return "keyword", notes
    return mode, notes


def check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ConfigError(f"k must be a whole number from 1 to {MAX_K}, not {k!r}.")
    return k


def ranked_lists(
    corpus: Corpus,
    query: str,
    query_vector: Vector | None,
    *,
    mode: Mode,
    depth: int,
    filters: Filters = NO_FILTERS,
    parallel: bool = True,
) -> dict[str, list[tuple[int, float]]]:
    """Each mode's `depth` best (passage id, score), best first. For hybrid with the vectors
    in memory, a worker thread scores them (on one core) while this thread runs the keyword
    search (on the other), then joins in on what is left: both release the GIL (NumPy,
    SQLite inside apsw), and only this thread touches the database connection."""
    lists: dict[str, list[tuple[int, float]]] = {}
    if mode in ("vector", "hybrid") and query_vector is None:
        raise ConfigError("Vector search needs the question's vector.")
    task = None
    if mode == "hybrid" and parallel:
        assert query_vector is not None
        task = corpus.vector_task(query_vector, depth, filters)
    if task is not None:  # dict order, keyword first, is the order fusion adds them in

        def keyword_first() -> None:
            lists["keyword"] = keyword_ranked(corpus, query, depth, filters)

        lists["vector"] = run_shared(task, first=keyword_first)
        return lists
    if mode in ("keyword", "hybrid"):
        lists["keyword"] = keyword_ranked(corpus, query, depth, filters)
    if mode in ("vector", "hybrid"):
        assert query_vector is not None
        lists["vector"] = corpus.vector(query_vector, depth, filters)
    return lists
