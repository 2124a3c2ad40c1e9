"""Answering one question: refusal without a model call, streaming, citations, bad days."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from desktop.core.answering.engine import answer_question
from desktop.core.answering.prices import PriceTable
from desktop.core.answering.profiles import default_profile
from desktop.core.answering.types import AnswerProfile, AnswerResult, RetrievedPassage
from desktop.core.errors import (
    BotdeskError,
    ConfigError,
    InputTooLongError,
    ModelNotFoundError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
)
from desktop.core.source_ref import SourceRef
from desktop.providers.base import ModelSpec
from desktop.services.answers import GeneratorModel
from tests.core.answering.support import hits
from tests.helpers.fake_generator import FakeGenerator, passage_numbers

PRICES = PriceTable.load(override=Path("/nonexistent.json"))


def run(
    generator: FakeGenerator,
    *,
    found: int = 3,
    profile: AnswerProfile | None = None,
    deltas: list[str] | None = None,
    search_error: BotdeskError | None = None,
) -> AnswerResult:
    profile = profile or default_profile()

    async def retrieve(
        q: str, k: int, mode: str, min_score: float | None
    ) -> list[RetrievedPassage]:
        if search_error is not None:
            raise search_error
        return [
            RetrievedPassage(h.chunk_id, h.text, h.heading, h.score, h.source)
            for h in hits(found)[:k]
        ]

    return asyncio.run(
        answer_question(
            "When do you open?",
            profile,
            retrieve=retrieve,
            make_model=lambda spec: GeneratorModel(generator),
            prices=PRICES,
            on_delta=None if deltas is None else deltas.append,
        )
    )


def test_answer_streams_in_order_and_resolves_citations() -> None:
    generator = FakeGenerator(replies=["We open at 8 [1] on weekdays [2][3]."])
    deltas: list[str] = []
    result = run(generator, deltas=deltas)
    assert "".join(deltas) == result.answer == "We open at 8 [1] on weekdays [2][3]."
    assert len(deltas) > 3  # streamed in pieces, not at once
    assert [c.chunk_id for c in result.citations] == [100, 101, 102]
    assert result.citations[0].source.url == "https://acme.test/page0"
    assert not result.invalid_citations and not result.declined and not result.error
    assert result.prompt_tokens and result.completion_tokens
    assert result.first_token_s is not None and result.total_s is not None
    assert result.first_token_s <= result.total_s
    assert result.cost == 0.0  # Ollama runs locally
    system, user = generator.requests[0]
    assert system.role == "system" and "[1]" in system.content
    assert passage_numbers(generator.requests[0]) == 3 and "When do you open?" in user.content
    assert generator.settings_seen[0].max_tokens == 512


def test_invalid_citation_is_flagged() -> None:
    result = run(FakeGenerator(replies=["Open at 8 [1], closed on Sunday [4]."]))
    assert [c.n for c in result.citations] == [1]
    assert result.invalid_citations == [4]
    assert any("[4]" in note for note in result.notes)


def test_no_passage_over_min_score_refuses_without_calling_the_model() -> None:
    generator = FakeGenerator()
    profile = replace(default_profile(), min_score=0.95, refusal="Ask our staff.")
    deltas: list[str] = []
    result = run(generator, profile=profile, deltas=deltas)
    assert generator.requests == []
    assert result.answer == "Ask our staff." and result.declined and not result.model_called
    assert deltas == ["Ask our staff."]
    assert "minimum score" in result.notes[0]


def test_nothing_found_refuses_without_calling_the_model() -> None:
    generator = FakeGenerator()
    result = run(generator, found=0)
    assert generator.requests == [] and result.declined


def test_model_saying_it_does_not_know_is_a_decline() -> None:
    result = run(FakeGenerator(replies=["I don't know, the passages do not say."]))
    assert result.declined and not result.citations


def test_context_estimate_drops_passages_and_says_so() -> None:
    generator = FakeGenerator(context_tokens=1200)
    profile = replace(default_profile(), k=8, max_tokens=200)
    result = run(generator, found=8, profile=profile)
    given = passage_numbers(generator.requests[0])
    assert 1 <= given < 8 and len(result.passages) == given
    assert f"used {given} of 8 passages: context limit" in result.notes


def test_context_overflow_from_the_server_retries_with_fewer_passages() -> None:
    generator = FakeGenerator(replies=[InputTooLongError("too long"), "Open at 8 [1]."])
    result = run(generator, found=4)
    assert [passage_numbers(r) for r in generator.requests] == [4, 2]
    assert result.answer == "Open at 8 [1]." and not result.error
    assert "used 2 of 4 passages: context limit" in result.notes


def test_context_overflow_with_one_passage_is_a_clear_error() -> None:
    generator = FakeGenerator(max_prompt_tokens=10)
    result = run(generator, found=2)
    assert len(generator.requests) == 2
    assert "does not fit the model's context" in result.error


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RateLimitedError("Mistral is rate-limiting.", hint="Wait a minute."), "rate-limiting"),
        (ProviderUnavailableError("Ollama is not running.", hint="Run `ollama serve`."), "serve"),
        (ModelNotFoundError("No model llama3.2.", hint="Run `ollama pull llama3.2`."), "pull"),
        (ProviderTimeoutError("No answer within 60 s."), "60 s"),
    ],
)
def test_bad_days_become_a_clear_result(error: BotdeskError, expected: str) -> None:
    result = run(FakeGenerator(replies=[error]))
    assert expected in result.error
    assert result.answer == "" and not result.citations


def test_search_failure_is_a_clear_result() -> None:
    generator = FakeGenerator()
    result = run(generator, search_error=ProviderUnavailableError("Embedder down."))
    assert result.error.startswith("Search failed: Embedder down")
    assert generator.requests == []


def test_model_that_cannot_be_made_is_a_clear_result() -> None:
    async def retrieve(*_a: object) -> list[RetrievedPassage]:
        return [RetrievedPassage(1, "x", "", 1.0, SourceRef())]

    def make_model(spec: str) -> GeneratorModel:
        raise ConfigError("No Mistral key.", hint="Add it in Settings.")

    result = asyncio.run(
        answer_question(
            "Q?", default_profile(), retrieve=retrieve, make_model=make_model, prices=PRICES
        )
    )
    assert result.error == "No Mistral key. Add it in Settings."


def test_cost_uses_the_price_table(tmp_path: Path) -> None:
    generator = FakeGenerator(spec=ModelSpec("mistral", "mistral-small-latest"))
    profile = replace(default_profile(), generator="mistral:mistral-small-latest")
    result = run(generator, profile=profile)
    assert result.prompt_tokens is not None and result.completion_tokens is not None
    expected = (result.prompt_tokens * 0.1 + result.completion_tokens * 0.3) / 1_000_000
    assert result.cost == pytest.approx(expected)
    unknown = run(FakeGenerator(), profile=replace(profile, generator="mistral:unknown-x"))
    assert unknown.cost is None
    assert "no price for mistral:unknown-x in the price table" in unknown.notes


def test_a_model_that_never_finishes_is_cut_off_with_a_message() -> None:
    async def retrieve(*_a: object) -> list[RetrievedPassage]:
        return [RetrievedPassage(1, "x", "", 1.0, SourceRef())]

    generator = FakeGenerator(delay_s=5.0)
    result = asyncio.run(
        answer_question(
            "Q?",
            default_profile(),
            retrieve=retrieve,
            make_model=lambda spec: GeneratorModel(generator),
            prices=PRICES,
            timeout_s=0.05,
        )
    )
    assert "gave no complete answer within 0.05 s" in result.error
