"""What the model back-ends cost around the model itself, against the loopback stand-ins.

Embedding: 1,000 passages through the real `ollama` and `mistralai` clients at a few batch
sizes and concurrencies (the stand-ins hash words, so the time is HTTP, JSON and client
overhead). Chat: time to first token and total for a streamed answer with a fixed model
latency, against that latency.

    python bench/provider_overhead.py [--passages 1000] [--chat-latency 0.2] [--chats 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

from desktop.providers.base import ChatMessage, GenerationSettings, TextDelta
from desktop.providers.factory import make_embedder, make_generator
from tests.helpers.fake_mistral import FakeMistral
from tests.helpers.fake_ollama import FakeOllama

PASSAGE = (
    "Our bakery supplies ship {i} kinds of flour, yeast and sugar to professional kitchens; "
    "orders placed before noon leave the warehouse the same day, and deliveries in the city "
    "are made on Tuesdays and Fridays. Returns are accepted within 30 days."
)


async def embed_all(spec: str, host: str, texts: list[str], batch: int, concurrency: int) -> float:
    embedder = make_embedder(spec, host=host)
    embedder.max_batch = batch  # type: ignore[misc]
    groups = [texts[i : i + batch] for i in range(0, len(texts), batch)]
    gate = asyncio.Semaphore(concurrency)

    async def one(group: list[str]) -> None:
        async with gate:
            await embedder.embed_batch(group)

    started = time.perf_counter()
    await asyncio.gather(*(one(g) for g in groups))
    return time.perf_counter() - started


async def chat_times(spec: str, host: str, count: int) -> tuple[list[float], list[float]]:
    generator = make_generator(spec, host=host)
    messages = [ChatMessage("system", "Answer briefly."), ChatMessage("user", "When?")]
    firsts, totals = [], []
    for _ in range(count):
        started = time.perf_counter()
        first = None
        async for event in generator.stream(messages, GenerationSettings()):
            if isinstance(event, TextDelta) and first is None:
                first = time.perf_counter() - started
        totals.append(time.perf_counter() - started)
        firsts.append(first or 0.0)
    return firsts, totals


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passages", type=int, default=1000)
    parser.add_argument("--chat-latency", type=float, default=0.2)
    parser.add_argument("--chats", type=int, default=20)
    args = parser.parse_args()
    texts = [PASSAGE.format(i=i) for i in range(args.passages)]
    ollama = FakeOllama(chat_delay_s=args.chat_latency).start()
    mistral = FakeMistral(chat_delay_s=args.chat_latency).start()
    os.environ["MISTRAL_API_KEY"] = mistral.key
    try:
        print(f"embedding {args.passages} passages (~45 words each) on loopback stand-ins")
        print(f"{'back-end':<22} {'batch':>5} {'conc':>4} {'seconds':>8} {'passages/s':>10}")
        for spec, host, batches in (
            ("ollama:all-minilm", ollama.url, (1, 32)),
            ("mistral:mistral-embed", mistral.url, (16,)),
        ):
            for batch in batches:
                for concurrency in (1, 4):
                    seconds = asyncio.run(embed_all(spec, host, texts, batch, concurrency))
                    print(
                        f"{spec:<22} {batch:>5} {concurrency:>4} {seconds:8.2f} "
                        f"{args.passages / seconds:10.0f}"
                    )
        print(
            f"\nstreamed chat, stand-in latency {args.chat_latency * 1000:.0f} ms, "
            f"{args.chats} answers"
        )
        print(f"{'back-end':<30} {'first token ms (median)':>24} {'overhead ms (median, p95)':>26}")
        for spec, host in (
            ("ollama:llama3.2", ollama.url),
            ("mistral:mistral-small-latest", mistral.url),
        ):
            firsts, totals = asyncio.run(chat_times(spec, host, args.chats))
            over = sorted((t - args.chat_latency) * 1000 for t in totals)
            p95 = over[min(len(over) - 1, int(len(over) * 0.95))]
            print(
                f"{spec:<30} {statistics.median(firsts) * 1000:24.1f} "
                f"{statistics.median(over):17.1f}, {p95:6.1f}"
            )
    finally:
        ollama.stop()
        mistral.stop()


if __name__ == "__main__":
    main()
