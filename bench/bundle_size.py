"""Bundle size per 1,000 passages (float32, int8, binary), recall@10 against exact search,
and the time to build the bundle of a 10,000-passage workspace.

Run: python bench/bundle_size.py [--passages 10000] [--queries 200]

Data (synthetic, said plainly): passage texts of ~120 words drawn from a 5,000-word
vocabulary; vectors are *clustered random* vectors (200 topic centroids + Gaussian noise,
unit length), a rough stand-in for real embeddings, which are far from uniform. Queries are
noisy copies of random passages' vectors. Exact search is NumPy cosine over float32.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop.core.bundle.format import quantize_query
from desktop.core.bundle.read import open_bundle
from desktop.core.bundle.write import build_bundle
from desktop.core.index import BundleVectors
from desktop.core.store.workspace import Workspace, utc_now
from desktop.core.text import sha256_hex
from desktop.services.workspaces import create_workspace


def fill_workspace(ws: Workspace, n: int, rng: np.random.Generator) -> list[int]:
    vocabulary = [f"w{i}" for i in range(5000)]
    now = utc_now()
    with ws.transaction():
        ws.execute(
            "insert into sources(kind, location, title, created_at) values"
            " ('site', 'https://example.com/', 'Example', ?)",
            (now,),
        )
        source = ws.last_insert_id()
        passages = []
        for d in range(n // 10):
            ws.execute(
                "insert into documents(source_id, uri, title, status, updated_at)"
                " values (?, ?, ?, 'ok', ?)",
                (source, f"https://example.com/page/{d}", f"Page {d}", now),
            )
            document = ws.last_insert_id()
            for o in range(10):
                words = rng.choice(vocabulary, size=120)
                text = " ".join(words)
                passages.append((document, o, text, sha256_hex(text), now))
        ws.conn.executemany(
            "insert into passages(document_id, ordinal, source_text, source_hash, text,"
            " text_hash, tokens, created_at, updated_at) values (?, ?, ?, ?, ?, ?, 120, ?, ?)",
            [(d, o, t, h, t, h, now, now) for d, o, t, h, now in passages],
        )
    return [int(r["id"]) for r in ws.fetch_all("select id from passages order by id")]


def clustered(n: int, dims: int, rng: np.random.Generator) -> np.ndarray:
    centroids = rng.standard_normal((200, dims)).astype(np.float32)
    labels = rng.integers(0, 200, size=n)
    vectors = centroids[labels] + 0.9 * rng.standard_normal((n, dims)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def recall_at_10(
    path: Path, quantization: str, ids: np.ndarray, exact: np.ndarray, queries: np.ndarray
) -> float:
    conn = open_bundle(path)
    wrap = {"none": "?", "int8": "vec_int8(?)", "binary": "vec_bit(?)"}[quantization]
    hits = 0
    for q, truth in zip(queries, exact, strict=True):
        rows = conn.execute(
            f"select passage_id from passages_vec where embedding match {wrap} and k = 10",
            (quantize_query(q, quantization),),
        ).fetchall()
        hits += len({r[0] for r in rows} & set(ids[truth].tolist()))
    conn.close()
    return hits / (10 * len(queries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as folder:
        ws = create_workspace(Path(folder) / "bench.botdesk", name="Bench")
        started = time.perf_counter()
        ids = np.array(fill_workspace(ws, args.passages, rng))
        print(f"workspace with {len(ids)} passages filled in {time.perf_counter() - started:.1f} s")
        keyword = build_bundle(ws, Path(folder) / "kw.bundle", vector_loader=lambda w, p: None)
        per_k = 1000 / len(ids)
        print(
            f"keyword-only bundle (text + FTS5): {keyword.size * per_k / 1024:.0f} KB "
            "per 1,000 passages"
        )
        print()
        print("dims  quantization  KB/1k passages  vectors KB/1k  recall@10  build s")
        for dims in (384, 1024):
            vectors = clustered(len(ids), dims, rng)
            picks = rng.integers(0, len(ids), size=args.queries)
            queries = vectors[picks] + 0.05 * rng.standard_normal((args.queries, dims))
            queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
            exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
            mapping = {int(pid): vectors[i] for i, pid in enumerate(ids)}

            def loader(
                w: Workspace, p: object, mapping: dict = mapping, dims: int = dims
            ) -> BundleVectors:
                return BundleVectors("bench", "clustered", dims, mapping)

            for quantization in ("none", "int8", "binary"):
                out = Path(folder) / f"{dims}-{quantization}.bundle"
                started = time.perf_counter()
                built = build_bundle(ws, out, quantization=quantization, vector_loader=loader)
                seconds = time.perf_counter() - started
                recall = recall_at_10(out, quantization, ids, exact, queries)
                size_k = built.size * per_k / 1024
                vec_k = (built.size - keyword.size) * per_k / 1024
                name = "float32" if quantization == "none" else quantization
                print(
                    f"{dims:<5} {name:<13} {size_k:>14.0f}  {vec_k:>13.0f}  {recall:>9.3f}  "
                    f"{seconds:>7.2f}"
                )
        ws.close()


if __name__ == "__main__":
    main()
