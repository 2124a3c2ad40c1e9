"""A deterministic in-test embedder (hashed bag of words) that counts what it is sent."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence

import numpy as np

from desktop.core.store.workspace import Workspace
from desktop.providers.base import ModelSpec
from desktop.services.workspaces import create_workspace


def hashed_vector(text: str, dimensions: int = 64) -> list[float]:
    """Shared words make texts close; normalised."""
    vector = np.zeros(dimensions, dtype=np.float32)
    for raw in text.lower().split():
        word = raw.strip(".,?!:;()\"'")
        if not word:
            continue
        digest = hashlib.sha256(word.encode()).digest()
        vector[int.from_bytes(digest[:4], "little") % dimensions] += 1.0
        vector[int.from_bytes(digest[4:8], "little") % dimensions] += 0.5
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm else vector).tolist()


class CountingEmbedder:
    """Implements desktop.providers.base.Embedder; records every batch it is given."""

    def __init__(
        self,
        model: str = "hashed",
        *,
        dimensions: int = 64,
        max_batch: int = 8,
        max_input_tokens: int = 512,
        delay: float = 0.0,
    ) -> None:
        self.spec = ModelSpec("ollama", model)
        self.dimensions = dimensions
        self.max_batch = max_batch
        self.max_input_tokens = max_input_tokens
        self.delay = delay
        self.batches: list[list[str]] = []
        self.on_batch: object = None  # optional callable(batch_index) run before answering

    @property
    def texts(self) -> list[str]:
        return [t for batch in self.batches for t in batch]

    async def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        assert 0 < len(texts) <= self.max_batch
        self.batches.append(list(texts))
        if callable(self.on_batch):
            self.on_batch(len(self.batches))
        if self.delay:
            await asyncio.sleep(self.delay)
        return [hashed_vector(t, self.dimensions) for t in texts]


def new_workspace(path: object, embedder: str = "ollama:hashed") -> Workspace:
    return create_workspace(path, name="Index test", embedder=embedder)  # type: ignore[arg-type]
