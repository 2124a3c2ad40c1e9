"""A scripted Generator (the providers protocol) for answering tests: no HTTP, counts calls.

End-to-end tests use the loopback Ollama/Mistral fakes instead; this one isolates the
answering logic (refusal without a call, overflow retries, streaming order, concurrency).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from desktop.core.text import count_tokens
from desktop.providers.base import (
    ChatMessage,
    GenerationEvent,
    GenerationSettings,
    ModelSpec,
    TextDelta,
    Usage,
)

Reply = str | BaseException


@dataclass
class FakeGenerator:
    """Streams scripted replies word by word, then a Usage with estimated counts.

    `replies` are used in order (an exception is raised instead of answering); when they run
    out, `default(messages)` answers. `max_prompt_tokens` makes prompts over that size fail
    like a server's context error (InputTooLongError).
    """

    spec: ModelSpec = field(default_factory=lambda: ModelSpec("ollama", "fake"))
    replies: list[Reply] = field(default_factory=list)
    default: Callable[[Sequence[ChatMessage]], str] = lambda _m: "It is in the passage [1]."
    context_tokens: int = 8192
    delay_s: float = 0.0
    max_prompt_tokens: int | None = None
    requests: list[list[ChatMessage]] = field(default_factory=list)
    settings_seen: list[GenerationSettings] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0

    async def stream(
        self, messages: Sequence[ChatMessage], settings: GenerationSettings
    ) -> AsyncIterator[GenerationEvent]:
        from desktop.core.errors import InputTooLongError

        self.requests.append(list(messages))
        self.settings_seen.append(settings)
        prompt_tokens = sum(count_tokens(m.content) for m in messages)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.max_prompt_tokens is not None and prompt_tokens > self.max_prompt_tokens:
                raise InputTooLongError("The input is longer than the model's context.")
            reply: Any = self.replies.pop(0) if self.replies else self.default(messages)
            if isinstance(reply, BaseException):
                raise reply
            words = reply.split(" ")
            for i, word in enumerate(words):
                yield TextDelta(word if i == 0 else " " + word)
                await asyncio.sleep(0)
            yield Usage(prompt_tokens, count_tokens(reply))
        finally:
            self.in_flight -= 1


def passage_numbers(messages: Sequence[ChatMessage]) -> int:
    """How many passages the prompt gave (counts `<passage n=` blocks)."""
    return messages[-1].content.count("<passage n=")
