"""Bench: search latency (median, p95) at 10k and 100k passages, 384 and 1024 dimensions,
against exact NumPy brute force on the same float32 vectors; recall@10 of the vector mode
(a binary vec0 coarse pass, rescored exactly) against exact search; index build time and
workspace size per 1,000 passages.

Passages are written as the content stage writes them (FTS5 triggers included), then
indexed by the real embed_pending with an embedder that hands back prepared vectors, so
the build time is the index's own (cache, vec0), without any model. Vectors are clustered
(N/50 centres plus noise, unit length), closer to real embeddings than isotropic noise;
questions are noisy copies of passage vectors.

The words (keyword search) come from one of two sources (--text):
- wcxb (the default where ../shared/data/wcxb-dev is): 60-word windows at random offsets
  in the main content of the 444 WCXB dev pages (real English web text), questions are
  7-word windows of it; at 100k passages the median question word (after stop words) is
  in 1.8% of the passages, none in more than half.
- zipf: the earlier synthetic words (Zipf s=1.15 ranks clamped to 20,000): the clamp puts
  21% of all words on "w20000" and "w1" is in every passage, so 56% of question words
  are in more than half the passages and nearly every question matches the whole index.
  Kept to compare with earlier figures; it is the worst case for keyword search.

    python bench/search_latency.py                 # 10k and 100k x 384 and 1024
    python bench/search_latency.py --sizes 10000 --dims 384 --candidates 50,100,200,400
    python bench/search_latency.py --text zipf --dims 384
    git show b9f97bc:desktop/core/index/search.py > /tmp/old_search.py
    python bench/search_latency.py --sizes 100000 --dims 384 --compare-with /tmp/old_search.py

The NumPy floor holds the matrix in memory; so does vector search (loaded once, timed as
"first vector search"); keyword search reads FTS5 from the file each time. The floor is
the matrix product (BLAS, on every core), timed in runs of its own, each followed by a
pause before the searches on the same questions (OpenBLAS's threads spin on the cores for
~0.1 s after it); the row-by-row floor (one dot product per row, one thread) is
interleaved with the searches.
An --compare-with version that calls threaded BLAS leaves those threads spinning into the
searches after it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop.core import index  # noqa: E402
from desktop.core.index import search as search_code  # noqa: E402
from desktop.core.index import workspace_corpus as workspace_corpus_module  # noqa: E402
from desktop.core.jobs import Job  # noqa: E402
from desktop.core.store.workspace import utc_now  # noqa: E402
from desktop.core.text import sha256_hex  # noqa: E402
from desktop.providers.base import ModelSpec  # noqa: E402
from desktop.services.workspaces import create_workspace  # noqa: E402

VOCABULARY = 20_000
WORDS_PER_PASSAGE = 60
QUESTION_WORDS = 7
WCXB = ROOT.parent / "shared" / "data" / "wcxb-dev"


class PreparedEmbedder:
    """Hands back the vector prepared for each text (the build then times the index only)."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.spec = ModelSpec("ollama", "prepared")
        self.max_batch = 512
        self.max_input_tokens = 100_000
        self.vectors = vectors

    async def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.vectors[t].tolist() for t in texts]


def zipf_words(rng: np.random.Generator, n: int) -> list[str]:
    ranks = np.minimum(rng.zipf(1.15, size=n), VOCABULARY)
    return [f"w{r}" for r in ranks]


class Words:
    """Passage and question text: Zipfian synthetic words or windows of real web text."""

    def __init__(self, kind: str, rng: np.random.Generator) -> None:
        self.kind, self.rng = kind, rng
        self.real: list[str] = []
        if kind == "wcxb":
            for page in sorted((WCXB / "ground-truth").glob("*.json")):
                truth = json.loads(page.read_text(encoding="utf-8"))["ground_truth"]
                self.real += str(truth.get("main_content") or "").split()

    def text(self, n: int) -> str:
        if self.kind == "zipf":
            return " ".join(zipf_words(self.rng, n))
        start = int(self.rng.integers(0, len(self.real) - n))
        return " ".join(self.real[start : start + n])


def clustered(rng: np.random.Generator, n: int, dims: int) -> np.ndarray:
    centres = rng.standard_normal((max(1, n // 50), dims)).astype(np.float32)
    which = rng.integers(0, len(centres), size=n)
    vectors = centres[which] + 0.8 * rng.standard_normal((n, dims)).astype(np.float32)
    return np.asarray(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), np.float32)


def build(
    folder: Path, n: int, dims: int, rng: np.random.Generator, words: Words
) -> tuple[Any, np.ndarray, dict[str, float]]:
    ws = create_workspace(
        folder / f"bench-{n}-{dims}.botdesk", name="bench", embedder="ollama:prepared"
    )
    vectors = clustered(rng, n, dims)
    texts = [words.text(WORDS_PER_PASSAGE) + f" p{i}" for i in range(n)]
    now = utc_now()
    started = time.perf_counter()
    with ws.transaction():
        ws.execute(
            "insert into sources(kind, location, title, created_at) values ('site', 'x', 'x', ?)",
            (now,),
        )
        ws.conn.executemany(
            "insert into documents(id, source_id, uri, title, status, updated_at)"
            " values (?, 1, ?, '', 'ok', ?)",
            [(d + 1, f"https://bench.example/{d}", now) for d in range((n + 9) // 10)],
        )
        ws.conn.executemany(
            "insert into passages(id, document_id, ordinal, source_text, source_hash, text,"
            " text_hash, tokens, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (i + 1, i // 10 + 1, i % 10, t, h, t, h, WORDS_PER_PASSAGE, now, now)
                for i, t in enumerate(texts)
                for h in (sha256_hex(t),)
            ],
        )
    content_s = time.perf_counter() - started
    embedder = PreparedEmbedder(dict(zip(texts, vectors, strict=True)))
    started = time.perf_counter()
    asyncio.run(index.embed_pending(ws, embedder, Job("embed"), concurrency=1))
    index_s = time.perf_counter() - started
    ws.execute("pragma wal_checkpoint(truncate)")
    size = os.path.getsize(ws.path)
    return ws, vectors, {"content_s": content_s, "index_s": index_s, "size": size}


def peak_rss_mb() -> float:
    """The process's peak resident set so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def p95_of(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[int(0.95 * (len(ordered) - 1))]


def query_runner(
    ws: Any,
    mode: str,
    module: Any,
    *,
    qtexts: list[str],
    qvecs: np.ndarray,
    options: dict[str, Any],
) -> Any:
    """Question i asked of `module`'s run_search in `mode`: its passage ids."""
    searched = module.WorkspaceCorpus(ws)

    def go(i: int) -> list[int]:
        hits = module.run_search(searched, qtexts[i], qvecs[i], k=10, mode=mode, **options)
        return [h.chunk_id for h in hits]

    return go


def top_ten(scores: np.ndarray) -> list[int]:
    top = np.argpartition(-scores, 10)[:10]
    return [int(x) + 1 for x in top[np.argsort(-scores[top])]]


# OpenBLAS's idle threads spin for ~0.1 s after a call before they sleep, each on a core:
# the floor's matrix product is timed in runs of its own, and the searches wait this long
# after each, so its spinning threads never take a core from them (search itself makes no
# threaded BLAS call: see workspace_corpus.similarities).
BLAS_IDLE_S = 0.5
# Questions per block: the floor's run over a block, the pause, then every search variant
# on the same questions, so that a load that comes and goes falls on both alike.
BLOCK = 10


def interleaved(
    runners: list[tuple[str, str, Any]], floor_at: Any, rows_floor_at: Any, queries: int
) -> tuple[dict[str, list[float]], dict[str, list[list[int]]]]:
    """Block by block, the floor alone, then each question asked of the row-by-row floor
    and of every search variant in turn: ({name: times in ms}, {name: passage ids found
    per question})."""
    times: dict[str, list[float]] = {name: [] for name, _, _ in runners}
    times["floor"], times["rows floor"] = [], []
    found: dict[str, list[list[int]]] = {name: [] for name, _, _ in runners}
    for block in range(0, queries, BLOCK):
        questions = range(block, min(queries, block + BLOCK))
        for i in questions:
            started = time.perf_counter()
            floor_at(i)
            times["floor"].append((time.perf_counter() - started) * 1000)
        time.sleep(BLAS_IDLE_S)
        for i in questions:
            started = time.perf_counter()
            rows_floor_at(i)
            times["rows floor"].append((time.perf_counter() - started) * 1000)
            for name, _, searched in runners:
                started = time.perf_counter()
                found[name].append(searched(i))
                times[name].append((time.perf_counter() - started) * 1000)
    return times, found


def timed(fn: Any, repeat: int) -> tuple[float, float, list[Any]]:
    times, results = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        results.append(fn())
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))], results


# This version's search, shaped like an earlier single-file search.py (--compare-with):
# run_search and WorkspaceCorpus, now in two modules.
search_module = SimpleNamespace(
    run_search=search_code.run_search, WorkspaceCorpus=workspace_corpus_module.WorkspaceCorpus
)


def load_search_module(path: Path) -> Any:
    """An earlier desktop/core/index/search.py (e.g. from `git show`), to measure beside."""
    spec = importlib.util.spec_from_file_location("earlier_search", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run(
    n: int,
    dims: int,
    queries: int,
    candidates: list[int],
    folder: Path,
    *,
    text: str,
    compare_with: Path | None = None,
) -> None:
    rng = np.random.default_rng(n + dims)
    words = Words(text, rng)
    ws, vectors, built = build(folder, n, dims, rng, words)
    per_k = 1000 / n
    print(
        f"\n{n:,} passages x {dims} dims: build {built['content_s'] * per_k * 1000:.0f} ms/1k "
        f"passages (rows + FTS5) + {built['index_s'] * per_k * 1000:.0f} ms/1k (cache + vec0); "
        f"workspace {built['size'] / n * 1000 / 1e6:.2f} MB/1k passages "
        f"({built['size'] / 1e6:.0f} MB)"
    )
    picks = rng.integers(0, n, size=queries)
    qvecs = (
        vectors[picks]
        + 0.5 * rng.standard_normal((queries, dims)).astype(np.float32) / np.sqrt(dims) * 8
    )
    qvecs = (qvecs / np.linalg.norm(qvecs, axis=1, keepdims=True)).astype(np.float32)
    qtexts = [words.text(5 if text == "zipf" else QUESTION_WORDS) for _ in range(queries)]
    state = {"i": 0}

    def next_query() -> int:
        state["i"] = (state["i"] + 1) % queries
        return state["i"]

    def floor_at(i: int) -> list[int]:
        return top_ten(vectors @ qvecs[i])

    def rows_floor_at(i: int) -> list[int]:
        return top_ten(np.matmul(vectors[:, None, :], qvecs[i][:, None])[:, 0, 0])

    exact = [(np.argsort(-(vectors @ q))[:10] + 1).tolist() for q in qvecs]

    def mode_runner(mode: str, module: Any = search_module, **options: Any) -> Any:
        searched = module.WorkspaceCorpus(ws)

        def go() -> list[int]:
            i = next_query()
            hits = module.run_search(searched, qtexts[i], qvecs[i], k=10, mode=mode, **options)
            return [h.chunk_id for h in hits]

        return go

    matrix_mb = n * dims * 4 / 1e6
    versions: list[tuple[str, Any]] = [("this", search_module)]
    if compare_with is not None:
        versions.insert(0, ("earlier", load_search_module(compare_with)))
    for label, module in versions:
        rss_before = peak_rss_mb()
        tracemalloc.start()
        started = time.perf_counter()
        module.run_search(module.WorkspaceCorpus(ws), qtexts[0], qvecs[0], k=10, mode="vector")
        elapsed = time.perf_counter() - started
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"  {label} code: first vector search (loads the vectors): {elapsed * 1000:.0f} ms;"
            f" peak allocated {traced_peak / 1e6:.0f} MB (tracemalloc) for a {matrix_mb:.0f} MB"
            f" matrix ({traced_peak / 1e6 / matrix_mb:.1f}x); process peak RSS"
            f" {rss_before:.0f} -> {peak_rss_mb():.0f} MB"
        )
    rows: list[tuple[str, str, Any, dict[str, Any]]] = []
    for label, module in versions:
        rows += [(label, mode, module, {}) for mode in ("keyword", "vector", "hybrid")]
    rows.append(("this", "hybrid", search_module, {"parallel": False}))
    # Interleaved: each question is asked of every variant in turn (and of the row-by-row
    # floor), so the load of a shared machine falls on all of them alike.
    runners = [
        (f"{label} {mode}" + (" serial" if options else ""), mode, searched)
        for label, mode, module, options in rows
        for searched in (
            query_runner(ws, mode, module, qtexts=qtexts, qvecs=qvecs, options=options),
        )
    ]
    times, found = interleaved(runners, floor_at, rows_floor_at, queries)
    floor_median = statistics.median(times["floor"])
    rows_median = statistics.median(times["rows floor"])
    print(
        f"  {'numpy exact (floor)':26} median {floor_median:7.2f} ms   p95 "
        f"{p95_of(times['floor']):7.2f} ms   (the matrix product, BLAS; in runs of its own)"
    )
    print(
        f"  {'numpy exact, row by row':26} median {rows_median:7.2f} ms   p95 "
        f"{p95_of(times['rows floor']):7.2f} ms   (one thread, interleaved with the searches)"
    )
    for name, mode, _ in runners:
        med = statistics.median(times[name])
        extra = ""
        if mode == "vector":
            recall = np.mean([len(set(r) & set(exact[j])) / 10 for j, r in enumerate(found[name])])
            extra = f"   recall@10 {recall:.3f}"
        ratio = ""
        if mode != "keyword":
            ratio = f" ({med / floor_median:.2f}x floor, {med / rows_median:.2f}x row by row)"
        print(f"  {name:26} median {med:7.2f} ms   p95 {p95_of(times[name]):7.2f} ms{ratio}{extra}")

    default = (
        workspace_corpus_module.OVERSAMPLE,
        workspace_corpus_module.MIN_CANDIDATES,
        workspace_corpus_module.EXACT_MAX_BYTES,
    )
    workspace_corpus_module.EXACT_MAX_BYTES = 0  # the vec0 sign-bit coarse pass, rescored exactly
    for count in candidates:
        workspace_corpus_module.OVERSAMPLE, workspace_corpus_module.MIN_CANDIDATES = 1, count
        state["i"] = 0
        med, p95, results = timed(mode_runner("vector"), queries)
        recall = np.mean(
            [len(set(r) & set(exact[(j + 1) % queries])) / 10 for j, r in enumerate(results)]
        )
        print(
            f"  vec0 coarse pass, {count:>4} candidates: median {med:7.2f} ms   p95 {p95:7.2f} ms"
            f"   recall@10 {recall:.3f}"
        )
    (
        workspace_corpus_module.OVERSAMPLE,
        workspace_corpus_module.MIN_CANDIDATES,
        workspace_corpus_module.EXACT_MAX_BYTES,
    ) = default
    ws.close()
    os.remove(ws.path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--dims", default="384,1024")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument(
        "--candidates", default="100,200,400", help="coarse-pass candidate counts to measure"
    )
    parser.add_argument(
        "--text",
        choices=("wcxb", "zipf"),
        default="wcxb" if (WCXB / "ground-truth").is_dir() else "zipf",
        help="passage words: windows of real web text, or synthetic Zipfian words",
    )
    parser.add_argument(
        "--compare-with",
        type=Path,
        help="an earlier search.py (git show REV:desktop/core/index/search.py > FILE) to"
        " measure in the same run",
    )
    args = parser.parse_args()
    candidates = [int(c) for c in args.candidates.split(",") if c]
    exact_mib = workspace_corpus_module.EXACT_MAX_BYTES >> 20
    print(
        f"vector search: exact in memory up to {exact_mib} MiB of "
        f"vectors; the vec0 coarse pass (sign bits, rescored) is measured alongside; "
        f"words: {args.text}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            for dims in (int(d) for d in args.dims.split(",")):
                run(
                    n,
                    dims,
                    args.queries,
                    candidates,
                    Path(tmp),
                    text=args.text,
                    compare_with=args.compare_with,
                )


if __name__ == "__main__":
    main()
