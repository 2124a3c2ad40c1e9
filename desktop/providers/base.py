"""The two small protocols every model back-end implements: embed texts, stream a chat answer.

Everything else (batching, caching, retries, fallbacks) is built on top of these, the way
`llm` derives everything from one `embed_batch`. Implementations translate their SDK's
errors into desktop.core.errors.ProviderError subclasses with a message a user can act on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

# The one model-spec type lives in core (the index keys vectors by it); providers take it.
from desktop.core.model_specs import ModelSpec as ModelSpec  # noqa: PLC0414


class Embedder(Protocol):
    """Turns texts into vectors."""

    spec: ModelSpec
    max_batch: int  # inputs per request the back-end accepts
    max_input_tokens: int  # longer inputs must be split or truncated before embed_batch

    async def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order. Raises ProviderError subclasses."""
        ...


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class GenerationSettings:
    temperature: float = 0.2
    max_tokens: int = 512


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer as it is generated."""

    text: str


@dataclass(frozen=True)
class Usage:
    """The back-end's own token counts, sent once at the end of a stream."""

    prompt_tokens: int
    completion_tokens: int


GenerationEvent = TextDelta | Usage


class Generator(Protocol):
    """Streams a chat answer."""

    spec: ModelSpec
    context_tokens: int  # the model's context window, for fitting passages into the prompt

    def stream(
        self, messages: Sequence[ChatMessage], settings: GenerationSettings
    ) -> AsyncIterator[GenerationEvent]:
        """Yield TextDelta pieces, then one Usage. Raises ProviderError subclasses."""
        ...
