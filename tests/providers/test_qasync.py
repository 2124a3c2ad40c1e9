"""The back-ends under the app's qasync loop, which installs no async-generator hooks.

A stream left half-read leaves httpx's generators suspended; asyncio's own loops close
them through those hooks, qasync's does not, so they fail at garbage collection (and
pytest, failing on unraisable exceptions, says so). Complete and cancelled answers and
embeddings must leave nothing behind.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from desktop.providers.base import GenerationSettings, TextDelta
from desktop.providers.factory import make_embedder, make_generator
from tests.helpers.fake_mistral import FakeMistral
from tests.helpers.fake_ollama import FakeOllama
from tests.helpers.model_script import Scripted
from tests.providers.conftest import MESSAGES

GENERATORS = ["ollama:llama3.2", "mistral:mistral-small-latest"]


def test_embeddings_and_answers(
    qloop: Any, fake_ollama: FakeOllama, fake_mistral: FakeMistral
) -> None:
    async def run() -> list[int]:
        sizes = [
            len((await make_embedder(spec).embed_batch(["flour"]))[0])
            for spec in ("ollama:all-minilm", "mistral:mistral-embed")
        ]
        for spec in GENERATORS:
            events = [e async for e in make_generator(spec).stream(MESSAGES, GenerationSettings())]
            sizes.append(len(events))
        return sizes

    assert qloop.run(run()) == [384, 1024, 8, 8]
    gc.collect()


@pytest.mark.parametrize("spec", GENERATORS)
def test_cancelled_answers(
    qloop: Any, fake_ollama: FakeOllama, fake_mistral: FakeMistral, spec: str
) -> None:
    fake_ollama.chat_answer = fake_mistral.chat_answer = " ".join(["word"] * 100)
    fake_ollama.script("/api/chat", Scripted(chunk_delay_s=0.02))
    fake_mistral.script("/v1/chat/completions", Scripted(chunk_delay_s=0.02))

    async def run() -> None:
        first = asyncio.Event()

        async def consume() -> None:
            async for event in make_generator(spec).stream(MESSAGES, GenerationSettings()):
                if isinstance(event, TextDelta):
                    first.set()

        task = asyncio.create_task(consume())
        await first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    qloop.run(run())
    gc.collect()
