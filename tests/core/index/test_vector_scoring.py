"""Scoring the in-memory vectors: row by row, in parts shared by threads, ties by id."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from desktop.core.index import workspace_corpus as workspace_corpus_module
from desktop.core.index.corpus import rank_sorted, run_shared, search_workers
from desktop.core.index.workspace_corpus import SharedTop, similarities


def _unit_rows(rows: int, dims: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    matrix = rng.standard_normal((rows, dims)).astype(np.float32)
    return np.asarray(matrix / np.linalg.norm(matrix, axis=1, keepdims=True), np.float32)


def _exact_top(
    ids: np.ndarray, unit: np.ndarray, query: np.ndarray, depth: int
) -> list[tuple[int, float]]:
    scores = similarities(unit, query).astype(np.float64)
    return rank_sorted(zip(ids.tolist(), scores.tolist(), strict=True))[:depth]


def test_row_by_row_scores_are_cosines_and_do_not_depend_on_the_other_rows() -> None:
    unit = _unit_rows(300, 37)
    query = np.linspace(-1.0, 1.0, 37, dtype=np.float32)  # not of unit length
    scores = similarities(unit, query)
    assert scores.dtype == np.float32
    expected = unit.astype(np.float64) @ (query / np.linalg.norm(query))
    assert np.allclose(scores, expected, atol=1e-6)
    out = np.empty(300, dtype=np.float32)
    for start, stop in ((0, 1), (1, 8), (8, 299), (299, 300)):
        similarities(unit[start:stop], query, out=out[start:stop])
    assert np.array_equal(out, scores)


def test_ties_at_the_cut_are_broken_by_id() -> None:
    unit = np.repeat(_unit_rows(1, 8), 50, axis=0)  # 50 passages with the same vector
    unit[7] = -unit[7]
    ids = np.arange(1000, 950, -1, dtype=np.int64)  # ids falling as rows go on
    task = SharedTop(ids, unit, unit[0], depth=20)
    found = task()
    assert found == _exact_top(ids, unit, unit[0], 20)
    assert [pid for pid, _ in found] == sorted(int(i) for i in ids if i != ids[7])[:20]


@pytest.mark.parametrize("part_rows", [1, 7, 64, 8192])
def test_threads_sharing_a_search_find_the_exact_top(
    monkeypatch: pytest.MonkeyPatch, part_rows: int
) -> None:
    monkeypatch.setattr(workspace_corpus_module, "PART_ROWS", part_rows)
    unit = _unit_rows(500, 24, seed=part_rows)
    ids = np.arange(1, 501, dtype=np.int64)
    query = unit[3] + 0.1 * unit[4]
    expected = _exact_top(ids, unit, query, 20)
    task = SharedTop(ids, unit, query, depth=20)
    results: list[list[tuple[int, float]] | None] = []
    start = threading.Barrier(4)

    def share() -> None:
        start.wait()
        results.append(task())

    threads = [threading.Thread(target=share) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ranked = [found for found in results if found is not None]
    assert len(results) == 4 and ranked == [expected]  # one call ranks, after every part
    assert run_shared(SharedTop(ids, unit, query, depth=20)) == expected


def test_a_search_never_waits_for_workers_busy_with_other_searches() -> None:
    unit = _unit_rows(100, 16)
    ids = np.arange(1, 101, dtype=np.int64)
    release = threading.Event()
    busy = [search_workers().submit(release.wait, 10) for _ in range(2)]
    try:
        started = time.perf_counter()
        found = run_shared(SharedTop(ids, unit, unit[0], depth=5))
        assert time.perf_counter() - started < 5  # done alone, the queued call cancelled
    finally:
        release.set()
    assert all(blocked.result() for blocked in busy)
    assert found == _exact_top(ids, unit, unit[0], 5)
