"""Botdesk's overhead around the model call, per question: retrieval + prompt + citation check.

Builds a workspace of synthetic passages, then answers questions with an instant stand-in
model (it streams a fixed cited answer with no delay), so what is timed is Botdesk's own
work. Uses the index part's search (desktop.services.index.search) when it is present;
otherwise an FTS5 BM25 query over the same passages stands in, and the output says so.

    python bench/answer_overhead.py [--passages 5000] [--questions 200]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop.core.answering.citations import resolve_citations
from desktop.core.answering.prices import PriceTable
from desktop.core.answering.prompt import build_user_message, number_passages
from desktop.core.answering.types import RetrievedPassage
from desktop.core.source_ref import SourceRef
from desktop.core.store.workspace import Workspace, utc_now
from desktop.core.text import count_tokens, sha256_hex
from desktop.services import answers
from desktop.services.workspaces import create_workspace
from tests.helpers.backends import test_backends
from tests.helpers.fake_generator import FakeGenerator

WORDS = re.findall(
    r"\w+",
    "price plan delivery return refund order account password shipping invoice support "
    "opening hours store warranty repair battery screen subscription cancel upgrade team "
    "contact email phone address parking holiday gift card discount student business api",
)


def populate(ws: Workspace, n: int, rng: random.Random) -> None:
    now = utc_now()
    with ws.transaction():
        ws.execute(
            "insert into sources(kind, location, title, created_at) values ('site', ?, ?, ?)",
            ("https://acme.test/", "Acme", now),
        )
        source_id = ws.last_insert_id()
        for d in range(n // 10):
            ws.execute(
                "insert into documents(source_id, uri, title, status, updated_at)"
                " values (?, ?, ?, 'ok', ?)",
                (source_id, f"https://acme.test/page{d}", f"Page {d}", now),
            )
            doc_id = ws.last_insert_id()
            for o in range(10):
                text = " ".join(rng.choice(WORDS) for _ in range(120))
                ws.execute(
                    "insert into passages(document_id, ordinal, heading_path, source_text,"
                    " source_hash, text, text_hash, tokens, created_at, updated_at)"
                    " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        doc_id,
                        o,
                        f"Section {o}",
                        text,
                        sha256_hex(text),
                        text,
                        sha256_hex(text),
                        count_tokens(text),
                        now,
                        now,
                    ),
                )


async def fts_search(ws: Any, query: str, k: int, mode: str, min_score: float | None) -> list[Any]:
    terms = " OR ".join(w for w in query.lower().split() if w.isalpha())
    rows = ws.fetch_all(
        "select p.id, p.text, p.heading_path, d.uri, d.title, bm25(passages_fts) as rank"
        " from passages_fts join passages p on p.id = passages_fts.rowid"
        " join documents d on d.id = p.document_id where passages_fts match ?"
        " order by rank limit ?",
        (terms, k),
    )
    return [
        RetrievedPassage(
            r["id"],
            r["text"],
            r["heading_path"],
            -r["rank"],
            {"url": r["uri"], "title": r["title"], "page": None},
        )
        for r in rows
    ]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passages", type=int, default=5000)
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    rng = random.Random(7)
    try:
        index: Any = importlib.import_module("desktop.services.index")
        search: Any = None
        label = "desktop.services.index.search (keyword mode: no embedder here)"
        mode = "keyword"
        del index
    except ImportError:
        search = fts_search
        label = "STAND-IN: plain FTS5 BM25 query (the index part is not in this build)"
        mode = "keyword"
    with tempfile.TemporaryDirectory() as tmp:
        ws = create_workspace(Path(tmp) / "bench.botdesk", name="bench")
        populate(ws, args.passages, rng)
        answers.set_profile(ws, "default", mode=mode, k=5)
        generator = FakeGenerator(default=lambda m: "It is in [1] and [2], not [9].")
        backends = test_backends(generator=generator, search=search, prices=PriceTable.load())
        questions = [
            " ".join(rng.choice(WORDS) for _ in range(6)) + "?" for _ in range(args.questions)
        ]

        async def run() -> tuple[list[float], list[float]]:
            totals, retrievals = [], []
            await answers.ask(ws, questions[0], backends=backends)  # warm-up
            for q in questions:
                t0 = time.perf_counter()
                result = await answers.ask(ws, q, backends=backends)
                totals.append(time.perf_counter() - t0)
                retrievals.append(result.retrieval_s or 0.0)
                assert result.citations and not result.error, result.error
            return totals, retrievals

        totals, retrievals = asyncio.run(run())
        # Prompt building + citation check alone, on the same kind of passages.
        source = SourceRef(url="https://shop.example/page")
        hits = [RetrievedPassage(i, " ".join(WORDS) * 4, "H", 1.0, source) for i in range(5)]
        t0 = time.perf_counter()
        for q in questions:
            given = number_passages(hits)
            build_user_message(q, given)
            resolve_citations("It is in [1] and [2], not [9].", given)
        prompt_ms = (time.perf_counter() - t0) / len(questions) * 1000
        ws.close()
    ms = [t * 1000 for t in totals]
    rs = [t * 1000 for t in retrievals]
    print(f"retrieval: {label}")
    print(f"{args.passages} passages, {args.questions} questions, k=5, instant stand-in model")
    print(
        "overhead per question (ask() total, model instant): "
        f"median {statistics.median(ms):.2f} ms, p95 {pct(ms, 0.95):.2f} ms"
    )
    print(
        f"  of which retrieval: median {statistics.median(rs):.2f} ms, p95 {pct(rs, 0.95):.2f} ms"
    )
    print(f"  prompt building + citation check alone: {prompt_ms:.3f} ms per question")


if __name__ == "__main__":
    main()
