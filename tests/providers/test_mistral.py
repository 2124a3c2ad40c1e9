"""The Mistral back-end through the real `mistralai` SDK (httpx2) against the loopback stand-in.

mistralai 3.x does not use httpx, so nothing is mocked: the SDK talks HTTP to FakeMistral.
"""

from __future__ import annotations

import asyncio

import pytest

from desktop.core.errors import (
    AuthenticationError,
    BadResponseError,
    InputTooLongError,
    ModelNotFoundError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
    SecretStoreError,
)
from desktop.providers.base import GenerationSettings, ModelSpec, TextDelta, Usage
from desktop.providers.factory import check_connection, make_embedder, make_generator
from desktop.providers.mistral import MistralEmbedder, MistralGenerator, set_api_key
from desktop.providers.vectors import input_index
from tests.helpers.fake_embeddings import cosine, embed_text, token_count
from tests.helpers.fake_mistral import FakeMistral
from tests.helpers.model_script import Scripted
from tests.providers.conftest import IMPATIENT, MESSAGES, collect

EMBED = ModelSpec("mistral", "mistral-embed")
SMALL = ModelSpec("mistral", "mistral-small-latest")


def test_embeds_in_order_with_mistral_embed(fake_mistral: FakeMistral) -> None:
    texts = [f"Rye flour sack {i} delivered to the bakery" for i in range(20)]
    emb = make_embedder("mistral:mistral-embed")
    assert emb.max_batch == 16 and emb.max_input_tokens == int(8192 * 0.9)
    vectors = asyncio.run(emb.embed_batch(texts))
    assert vectors == [pytest.approx(embed_text(t, 1024)) for t in texts]
    calls = fake_mistral.calls("/v1/embeddings")
    assert [len(c["input"]) for c in calls] == [16, 4]
    assert calls[0]["model"] == "mistral-embed"
    assert cosine(vectors[0], vectors[1]) > 0.5


def test_empty_list_makes_no_request(fake_mistral: FakeMistral) -> None:
    assert asyncio.run(make_embedder("mistral:mistral-embed").embed_batch([])) == []
    assert fake_mistral.calls("/v1/embeddings") == []


def test_wrong_key_is_an_authentication_error(
    fake_mistral: FakeMistral, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", "not-the-key")
    with pytest.raises(AuthenticationError, match=r"rejected the API key \(401\)") as caught:
        asyncio.run(make_embedder("mistral:mistral-embed").embed_batch(["hello"]))
    assert "MISTRAL_API_KEY" in caught.value.hint
    assert "not-the-key" not in str(caught.value)  # never a secret in a message
    assert len(fake_mistral.calls("/v1/embeddings")) == 1  # not retried


def test_missing_key_says_how_to_set_it(
    fake_mistral: FakeMistral, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY")
    with pytest.raises(AuthenticationError, match="No Mistral API key") as caught:
        asyncio.run(collect(make_generator("mistral:mistral-small-latest")))
    assert "MISTRAL_API_KEY" in caught.value.hint
    assert fake_mistral.calls("/v1/chat/completions") == []
    # Tests run with a keyring that refuses everything: storing says to use the variable.
    with pytest.raises(SecretStoreError, match="MISTRAL_API_KEY"):
        set_api_key("new-key")


def test_429_with_and_without_retry_after_then_success(fake_mistral: FakeMistral) -> None:
    fake_mistral.script(
        "/v1/embeddings",
        Scripted(
            status=429,
            body={"message": "Requests rate limit exceeded"},
            headers={"Retry-After": "0.05"},
        ),
        Scripted(status=429, body={"message": "Requests rate limit exceeded"}),
    )
    vectors = asyncio.run(make_embedder("mistral:mistral-embed").embed_batch(["hello"]))
    assert len(vectors) == 1
    assert len(fake_mistral.calls("/v1/embeddings")) == 3


def test_the_key_is_read_once_per_embedder(
    fake_mistral: FakeMistral, monkeypatch: pytest.MonkeyPatch
) -> None:
    emb = make_embedder("mistral:mistral-embed")
    asyncio.run(emb.embed_batch(["one"]))
    monkeypatch.setenv("MISTRAL_API_KEY", "changed")  # a new key reaches the next embedder
    asyncio.run(emb.embed_batch(["two"]))
    with pytest.raises(AuthenticationError):
        asyncio.run(make_embedder("mistral:mistral-embed").embed_batch(["three"]))


def test_429_exhausted_is_rate_limited(fake_mistral: FakeMistral) -> None:
    limited = Scripted(status=429, body={"message": "Requests rate limit exceeded"})
    fake_mistral.script("/v1/embeddings", limited, limited, limited)
    with pytest.raises(RateLimitedError, match="after 3 attempts") as caught:
        asyncio.run(make_embedder("mistral:mistral-embed").embed_batch(["hello"]))
    assert "Wait a minute" in caught.value.hint


def test_a_retry_after_beyond_the_cap_is_not_waited_for(fake_mistral: FakeMistral) -> None:
    # The SDK would sleep for an hour; we give up at once and say when to come back.
    fake_mistral.script(
        "/v1/chat/completions",
        Scripted(status=429, body={"message": "quota"}, headers={"Retry-After": "3600"}),
    )
    with pytest.raises(RateLimitedError, match="asked to wait 3600 s") as caught:
        asyncio.run(collect(make_generator("mistral:mistral-small-latest")))
    assert caught.value.retry_after == 3600.0
    assert len(fake_mistral.calls("/v1/chat/completions")) == 1


def test_500_is_retried_then_reported(fake_mistral: FakeMistral) -> None:
    fake_mistral.script("/v1/embeddings", Scripted(status=500), Scripted(status=502))
    assert len(asyncio.run(make_embedder("mistral:mistral-embed").embed_batch(["a"]))) == 1
    fake_mistral.script("/v1/embeddings", *[Scripted(status=500)] * 3)
    with pytest.raises(BadResponseError, match=r"failed on the request \(500"):
        asyncio.run(make_embedder("mistral:mistral-embed").embed_batch(["a"]))


def test_timeout_is_retried_then_reported(fake_mistral: FakeMistral) -> None:
    emb = MistralEmbedder(EMBED, policy=IMPATIENT)
    fake_mistral.script("/v1/embeddings", Scripted(delay_s=2.0), Scripted(delay_s=2.0))
    with pytest.raises(ProviderTimeoutError, match="did not answer in time"):
        asyncio.run(emb.embed_batch(["slow"]))
    fake_mistral.script("/v1/embeddings", Scripted(delay_s=2.0))
    assert len(asyncio.run(emb.embed_batch(["slow once"]))) == 1


def test_server_down_is_unavailable(
    fake_mistral: FakeMistral, nothing_listening: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOTDESK_MISTRAL_URL", nothing_listening)
    with pytest.raises(ProviderUnavailableError, match="Cannot reach Mistral") as caught:
        asyncio.run(make_embedder("mistral:mistral-embed").embed_batch(["a"]))
    assert "BOTDESK_MISTRAL_URL" in caught.value.hint


def test_unknown_model(fake_mistral: FakeMistral) -> None:
    with pytest.raises(ModelNotFoundError, match="no model 'mistral-tiny-9'"):
        asyncio.run(collect(make_generator("mistral:mistral-tiny-9")))
    with pytest.raises(ModelNotFoundError):
        asyncio.run(make_embedder("mistral:codestral-embed-x").embed_batch(["a"]))


def test_wrong_vector_size_and_count(fake_mistral: FakeMistral) -> None:
    emb = MistralEmbedder(EMBED, dimensions=1024)
    fake_mistral.script("/v1/embeddings", Scripted(dimensions=512))
    with pytest.raises(BadResponseError, match="512 dimensions, expected 1024"):
        asyncio.run(emb.embed_batch(["a", "b"]))
    fake_mistral.script("/v1/embeddings", Scripted(count=1), Scripted(count=0))
    with pytest.raises(BadResponseError, match="0 vectors for 1 inputs"):
        asyncio.run(emb.embed_batch(["a", "b"]))


def test_oversized_input_is_translated_and_named(fake_mistral: FakeMistral) -> None:
    fake_mistral.embed_max_tokens = 50
    with pytest.raises(InputTooLongError, match="Input is too long") as caught:
        asyncio.run(
            make_embedder("mistral:mistral-embed").embed_batch(["short", "long " * 80, "ok"])
        )
    assert input_index(caught.value) == 1


def test_a_batch_over_the_token_budget_is_embedded_item_by_item(fake_mistral: FakeMistral) -> None:
    fake_mistral.batch_max_tokens = 60
    texts = ["flour " * 40, "sugar " * 40, "yeast " * 40]
    vectors = asyncio.run(make_embedder("mistral:mistral-embed").embed_batch(texts))
    assert vectors == [pytest.approx(embed_text(t, 1024)) for t in texts]
    assert [len(c["input"]) for c in fake_mistral.calls("/v1/embeddings")] == [3, 1, 1, 1]


def test_chat_streams_then_reports_usage(fake_mistral: FakeMistral) -> None:
    fake_mistral.chat_answer = "Deliveries are on Tuesdays [2]."
    gen = make_generator("mistral:mistral-small-latest")
    assert gen.context_tokens == 131072
    text, usages, events = asyncio.run(
        collect(gen, settings=GenerationSettings(temperature=0.1, max_tokens=100))
    )
    assert text == "Deliveries are on Tuesdays [2]."
    assert sum(isinstance(e, TextDelta) for e in events) == 5
    prompt = sum(token_count(m.content) for m in MESSAGES)
    assert events[-1] == Usage(prompt_tokens=prompt, completion_tokens=5) and len(usages) == 1
    body = fake_mistral.calls("/v1/chat/completions")[0]
    assert body["stream"] is True and body["max_tokens"] == 100 and body["temperature"] == 0.1


def test_chat_without_usage_reports_none(fake_mistral: FakeMistral) -> None:
    fake_mistral.omit_usage = True
    text, usages, _ = asyncio.run(collect(MistralGenerator(SMALL)))
    assert text and usages == []  # no made-up counts: the answer notes their absence


def test_chat_prompt_over_the_context(fake_mistral: FakeMistral) -> None:
    fake_mistral.chat_context = 10
    with pytest.raises(InputTooLongError, match="too large for model"):
        asyncio.run(collect(MistralGenerator(SMALL)))


def test_chat_500_before_the_first_token_is_retried(fake_mistral: FakeMistral) -> None:
    fake_mistral.script("/v1/chat/completions", Scripted(status=503))
    text, usages, _ = asyncio.run(collect(MistralGenerator(SMALL)))
    assert text and usages
    assert len(fake_mistral.calls("/v1/chat/completions")) == 2


def test_an_error_event_mid_stream_is_a_provider_error(fake_mistral: FakeMistral) -> None:
    fake_mistral.script("/v1/chat/completions", Scripted(stream_error_after=2))
    with pytest.raises(ProviderError):
        asyncio.run(collect(MistralGenerator(SMALL)))
    assert len(fake_mistral.calls("/v1/chat/completions")) == 1


def test_cancel_mid_stream_closes_the_request(fake_mistral: FakeMistral) -> None:
    fake_mistral.chat_answer = " ".join(["token"] * 200)
    fake_mistral.script("/v1/chat/completions", Scripted(chunk_delay_s=0.02))

    async def run() -> int:
        received = 0
        first = asyncio.Event()

        async def consume() -> None:
            nonlocal received
            async for event in MistralGenerator(SMALL).stream(MESSAGES, GenerationSettings()):
                if isinstance(event, TextDelta):
                    received += 1
                    first.set()

        task = asyncio.create_task(consume())
        await first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return received

    assert 1 <= asyncio.run(run()) < 200

    async def server_noticed() -> None:
        while fake_mistral.disconnects == 0:
            await asyncio.sleep(0.02)

    asyncio.run(asyncio.wait_for(server_noticed(), 10))


def test_check_connection(fake_mistral: FakeMistral, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = asyncio.run(check_connection("mistral:mistral-small-latest"))
    assert summary == (
        f"Mistral at {fake_mistral.url}: the key works and mistral-small-latest is available "
        "(context 32768 tokens)."
    )
    with pytest.raises(ModelNotFoundError):
        asyncio.run(check_connection("mistral:nonexistent-model"))
    monkeypatch.setenv("MISTRAL_API_KEY", "wrong")
    with pytest.raises(AuthenticationError):
        asyncio.run(check_connection("mistral:mistral-embed"))
