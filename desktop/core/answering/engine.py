"""Answering one question with one profile: retrieve, fit, stream, cite, measure.

The model and the search are passed in (a `ChatModel` and a `Retriever`): core knows
neither the providers nor the index. Every bad day of a model (rate limit after the
provider's retries, timeout, server down, model missing, context overflow) ends in an
`AnswerResult` with a clear `error` or note, never an exception.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from desktop.core.answering.citations import is_declined, resolve_citations
from desktop.core.answering.prices import PriceTable
from desktop.core.answering.prompt import build_user_message, fit_passages, number_passages
from desktop.core.answering.types import AnswerProfile, AnswerResult, GivenPassage, RetrievedPassage
from desktop.core.errors import BotdeskError, InputTooLongError


@dataclass(frozen=True)
class ModelDelta:
    text: str


@dataclass(frozen=True)
class ModelUsage:
    prompt_tokens: int
    completion_tokens: int


class ChatModel(Protocol):
    """A generator as answering needs it (services adapt the providers' Generator)."""

    name: str  # "ollama:llama3.2": the price table's key
    context_tokens: int

    def stream(
        self, system: str, user: str, *, temperature: float, max_tokens: int
    ) -> AsyncIterator[ModelDelta | ModelUsage]: ...


# (question, k, mode, min_score) -> hits, best first.
Retriever = Callable[[str, int, str, float | None], Awaitable[list[RetrievedPassage]]]
ModelFactory = Callable[[str], ChatModel]
DeltaCallback = Callable[[str], None]

MAX_OVERFLOW_RETRIES = 3
# A last guard for a back-end that never finishes; the providers' own timeouts come first.
ANSWER_TIMEOUT_S = 300.0


@dataclass
class _Answering:
    """One question's answer under way: what every step reads, and the result it fills in."""

    question: str
    profile: AnswerProfile
    result: AnswerResult
    clock: Callable[[], float]
    started: float
    on_delta: DeltaCallback | None
    timeout_s: float

    def elapsed(self) -> float:
        return self.clock() - self.started

    def finish(self) -> AnswerResult:
        self.result.total_s = self.elapsed()
        return self.result


async def answer_question(
    question: str,
    profile: AnswerProfile,
    *,
    retrieve: Retriever,
    make_model: ModelFactory,
    prices: PriceTable,
    on_delta: DeltaCallback | None = None,
    clock: Callable[[], float] = time.perf_counter,
    timeout_s: float = ANSWER_TIMEOUT_S,
) -> AnswerResult:
    """Answer `question` with `profile`; never raises for a model's or a search's failure."""
    started = clock()
    result = AnswerResult(question=question, profile=profile.name, generator=profile.generator)
    run = _Answering(question, profile, result, clock, started, on_delta, timeout_s)
    try:
        hits = await retrieve(question, profile.k, profile.mode, profile.min_score)
    except BotdeskError as exc:
        result.error = f"Search failed: {exc}"
        return run.finish()
    result.retrieval_s = run.elapsed()
    if profile.min_score is not None:
        hits = [h for h in hits if h.score >= profile.min_score]
    result.retrieved = list(hits)
    if not hits:
        _refuse_without_passages(run)
        return run.finish()
    try:
        model = make_model(profile.generator)
    except BotdeskError as exc:
        result.error = str(exc)
        return run.finish()
    given = number_passages(hits)
    await _generate(run, model, given)
    if len(result.passages) < len(given):
        result.notes.append(f"used {len(result.passages)} of {len(given)} passages: context limit")
    if not result.error:
        _check_answer(result, profile, prices)
    return run.finish()


def _refuse_without_passages(run: _Answering) -> None:
    """Nothing to ground an answer on: refuse without spending a model call."""
    profile, result = run.profile, run.result
    result.answer, result.declined = profile.refusal, True
    result.notes.append(
        "no passage passed the minimum score: refused without calling the model"
        if profile.min_score is not None
        else "no passage found: refused without calling the model"
    )
    if run.on_delta is not None:
        run.on_delta(profile.refusal)


async def _generate(run: _Answering, model: ChatModel, given: list[GivenPassage]) -> None:
    """Stream the answer with as many passages as fit the model's context, fewer when the
    model says the prompt is still too long; a failure is kept in the result's `error`."""
    profile, result = run.profile, run.result
    count = fit_passages(
        profile.system_prompt,
        run.question,
        given,
        context_tokens=model.context_tokens,
        max_tokens=profile.max_tokens,
    )
    for _attempt in range(MAX_OVERFLOW_RETRIES + 1):
        passages = given[:count]
        result.passages = passages
        pieces: list[str] = []
        try:
            await _stream(run, model, passages, pieces)
        except TimeoutError:
            result.answer = "".join(pieces)
            result.error = (
                f"{profile.generator} gave no complete answer within {run.timeout_s:g} s. "
                "The model may be overloaded; try again or use a smaller model."
            )
            return
        except InputTooLongError as exc:
            if pieces or count <= 1:
                result.error = f"The prompt does not fit the model's context: {exc}"
                result.answer = "".join(pieces)
                return
            count = max(1, count // 2)  # the estimate was off: halve and try again
            continue
        except BotdeskError as exc:
            result.answer = "".join(pieces)
            result.error = str(exc)
            return
        result.answer = "".join(pieces)
        return
    result.error = "The prompt still did not fit the model's context with fewer passages."


async def _stream(
    run: _Answering, model: ChatModel, passages: list[GivenPassage], pieces: list[str]
) -> None:
    """One model call; the text goes into `pieces` as it comes, kept if the call fails."""
    profile, result = run.profile, run.result
    result.model_called = True
    async with asyncio.timeout(run.timeout_s):
        async for event in model.stream(
            profile.system_prompt,
            build_user_message(run.question, passages),
            temperature=profile.temperature,
            max_tokens=profile.max_tokens,
        ):
            if isinstance(event, ModelDelta):
                if not event.text:
                    continue
                if result.first_token_s is None:
                    result.first_token_s = run.elapsed()
                pieces.append(event.text)
                if run.on_delta is not None:
                    run.on_delta(event.text)
            else:
                result.prompt_tokens = event.prompt_tokens
                result.completion_tokens = event.completion_tokens


def _check_answer(result: AnswerResult, profile: AnswerProfile, prices: PriceTable) -> None:
    """A complete answer's citations, whether it declined, and its cost."""
    citations, invalid = resolve_citations(result.answer, result.passages)
    result.citations, result.invalid_citations = citations, invalid
    if invalid:
        numbers = ", ".join(f"[{n}]" for n in invalid)
        result.notes.append(f"cites passages that were not given: {numbers}")
    result.declined = is_declined(
        result.answer, profile.refusal, has_valid_citations=bool(citations)
    )
    result.cost = prices.cost(profile.generator, result.prompt_tokens, result.completion_tokens)
    if result.cost is None and prices.price(profile.generator) is None:
        result.notes.append(f"no price for {profile.generator} in the price table")
    if result.prompt_tokens is None:
        result.notes.append("the back-end reported no token counts")
