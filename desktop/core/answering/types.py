"""The plain data of answering: profiles, retrieved and given passages, citations, results."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from desktop.core.source_ref import SourceRef

RetrievalMode = Literal["hybrid", "vector", "keyword"]
MODES: tuple[RetrievalMode, ...] = ("hybrid", "vector", "keyword")

DEFAULT_PROFILE = "default"
# Test questions answered at once in a test run, unless told otherwise.
DEFAULT_TEST_CONCURRENCY = 4
DEFAULT_GENERATOR = "ollama:llama3.2"
DEFAULT_REFUSAL = (
    "Sorry, I don't know the answer to that from the information I have. "
    "Please contact us directly and we'll be glad to help."
)


@dataclass(frozen=True)
class AnswerProfile:
    """One answer set-up: model, prompt, retrieval settings and refusal message."""

    name: str
    generator: str
    system_prompt: str
    mode: RetrievalMode = "hybrid"
    k: int = 5
    min_score: float | None = None
    temperature: float = 0.2
    max_tokens: int = 512
    refusal: str = DEFAULT_REFUSAL

    def settings(self) -> dict[str, Any]:
        """Everything but the name, as JSON (the snapshot kept with a test run)."""
        data = asdict(self)
        data.pop("name")
        return data


@dataclass(frozen=True)
class RetrievedPassage:
    """A search hit as the answering code needs it (adapted from the index's SearchHit)."""

    chunk_id: int
    text: str
    heading: str
    score: float
    source: SourceRef

    @property
    def location(self) -> str:
        return self.source.location


@dataclass(frozen=True)
class GivenPassage:
    """A passage as numbered in the prompt."""

    n: int
    chunk_id: int
    text: str
    heading: str
    score: float
    source: SourceRef

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "chunk_id": self.chunk_id,
            "score": self.score,
            "heading": self.heading,
            "text": self.text,
            "source": self.source.to_json(),
        }


@dataclass(frozen=True)
class Citation:
    """One [n] in the answer, resolved to the passage it names."""

    n: int
    chunk_id: int
    source: SourceRef

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "chunk_id": self.chunk_id, "source": self.source.to_json()}


@dataclass
class AnswerResult:
    """What one profile answered to one question, and what it took."""

    question: str
    profile: str
    generator: str
    answer: str = ""
    declined: bool = False
    citations: list[Citation] = field(default_factory=list)
    invalid_citations: list[int] = field(default_factory=list)
    passages: list[GivenPassage] = field(default_factory=list)
    retrieved: list[RetrievedPassage] = field(default_factory=list)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    first_token_s: float | None = None
    total_s: float | None = None
    retrieval_s: float | None = None
    cost: float | None = None
    model_called: bool = False
    notes: list[str] = field(default_factory=list)
    error: str = ""  # a user-facing reason when the answer could not be produced

    @property
    def ok(self) -> bool:
        return not self.error

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "profile": self.profile,
            "generator": self.generator,
            "answer": self.answer,
            "declined": self.declined,
            "citations": [c.to_json() for c in self.citations],
            "invalid_citations": self.invalid_citations,
            "passages": [p.to_json() for p in self.passages],
            "tokens": {"prompt": self.prompt_tokens, "completion": self.completion_tokens},
            "latency": {
                "first_token_s": _round(self.first_token_s),
                "total_s": _round(self.total_s),
                "retrieval_s": _round(self.retrieval_s),
            },
            "cost": self.cost,
            "model_called": self.model_called,
            "notes": self.notes,
            "error": self.error or None,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
