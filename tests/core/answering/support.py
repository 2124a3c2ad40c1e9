"""Small builders shared by the answering tests: hits, a recording search, back-ends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.core.answering.prices import PriceTable
from desktop.core.source_ref import SourceRef
from desktop.services.backends import Backends
from tests.helpers.backends import test_backends
from tests.helpers.fake_generator import FakeGenerator


@dataclass(frozen=True)
class Hit:
    """Shaped like the index's SearchHit."""

    chunk_id: int
    text: str
    score: float
    heading: str = ""
    source: dict[str, Any] = field(default_factory=dict)
    rank: int = 0


def hits(n: int, *, score: float = 0.9, step: float = 0.1) -> list[Hit]:
    return [
        Hit(
            chunk_id=100 + i,
            text=f"Passage {i} says the shop opens at {8 + i} o'clock. " * 3,
            score=round(score - i * step, 4),
            heading=f"Hours > Day {i}",
            source=SourceRef(url=f"https://acme.test/page{i}", title=f"Page {i}"),
            rank=i + 1,
        )
        for i in range(n)
    ]


@dataclass
class FakeSearch:
    """Returns fixed hits (cut to k) and records every query."""

    results: Sequence[Hit]
    calls: list[tuple[str, int, str, float | None]] = field(default_factory=list)

    async def __call__(
        self, target: Any, query: str, k: int, mode: str, min_score: float | None
    ) -> Sequence[Hit]:
        self.calls.append((query, k, mode, min_score))
        return list(self.results)[:k]


def backends(
    generator: FakeGenerator, search: FakeSearch, tmp_path: Path | None = None
) -> Backends:
    """Answers from `generator` (for every spec), passages from `search`, no prices."""
    override = (tmp_path / "no-prices.json") if tmp_path else Path("/nonexistent/prices.json")
    return test_backends(
        generator=generator,  # type: ignore[arg-type]  # the fake speaks the Generator protocol
        search=search,
        prices=PriceTable.load(override=override),
    )
