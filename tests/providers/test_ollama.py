"""The Ollama back-end through the real `ollama` client against the loopback stand-in.

Every bad day of issue 3 and 4: server down, model not pulled, 429 with and without
Retry-After, 500 and 503, a timeout, a wrong vector size, an empty list, an input over
the context, a stream that breaks or is cancelled.
"""

from __future__ import annotations

import asyncio

import pytest

from desktop.core.errors import (
    BadResponseError,
    InputTooLongError,
    ModelNotFoundError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
)
from desktop.providers.base import GenerationSettings, ModelSpec, TextDelta, Usage
from desktop.providers.factory import check_connection, make_embedder, make_generator
from desktop.providers.ollama import (
    DEFAULT_CHAT_CONTEXT,
    MAX_CHAT_CONTEXT,
    OllamaEmbedder,
    OllamaGenerator,
    context_length_of,
)
from desktop.providers.vectors import input_index
from tests.helpers.fake_embeddings import cosine, embed_text, token_count
from tests.helpers.fake_ollama import FakeModel, FakeOllama
from tests.helpers.model_script import Scripted
from tests.providers.conftest import IMPATIENT, MESSAGES, QUICK, collect

MINILM = ModelSpec("ollama", "all-minilm")
LLAMA = ModelSpec("ollama", "llama3.2")


def embedder(fake: FakeOllama, **kwargs: object) -> OllamaEmbedder:
    options: dict[str, object] = {"policy": QUICK, **kwargs}
    return OllamaEmbedder(MINILM, host=fake.url, **options)  # type: ignore[arg-type]


# -- embeddings ----------------------------------------------------------------------------
def test_embeds_in_batches_the_model_accepts(fake_ollama: FakeOllama) -> None:
    texts = [f"Sourdough loaf number {i} with rye flour" for i in range(5)]
    emb = embedder(fake_ollama, max_batch=2)
    vectors = asyncio.run(emb.embed_batch(texts))
    assert vectors == [pytest.approx(embed_text(t, 384)) for t in texts]
    assert emb.dimensions == 384
    assert [len(body["input"]) for body in fake_ollama.calls("/api/embed")] == [2, 2, 1]
    assert emb.requests == 3


def test_similar_texts_get_near_vectors(fake_ollama: FakeOllama) -> None:
    emb = make_embedder("ollama:nomic-embed-text")
    query, near, far = asyncio.run(
        emb.embed_batch(
            [
                "When do you deliver flour?",
                "Flour deliveries are made on Tuesdays.",
                "Our croissants use French butter.",
            ]
        )
    )
    assert len(query) == 768
    assert cosine(query, near) > 0.5 > cosine(query, far)


def test_limits_come_from_api_show(fake_ollama: FakeOllama) -> None:
    emb = make_embedder("ollama:all-minilm")
    assert emb.max_input_tokens == int(512 * 0.9)  # the model's 512, less a 10% margin
    assert make_generator("ollama:llama3.2").context_tokens == MAX_CHAT_CONTEXT
    fake_ollama.add_model(FakeModel("tiny-chat", context_length=2048))
    assert make_generator("ollama:tiny-chat").context_tokens == 2048
    assert context_length_of({"x.context_length": 4096}, "num_ctx 8192\nstop x") == 8192


def test_empty_list_makes_no_request(fake_ollama: FakeOllama) -> None:
    assert asyncio.run(embedder(fake_ollama).embed_batch([])) == []
    assert fake_ollama.calls("/api/embed") == []


def test_whitespace_only_input_is_refused_before_any_request(fake_ollama: FakeOllama) -> None:
    with pytest.raises(ProviderError, match="empty or whitespace-only") as caught:
        asyncio.run(embedder(fake_ollama).embed_batch(["fine", " \n\t "]))
    assert input_index(caught.value) == 1
    assert fake_ollama.calls("/api/embed") == []


def test_server_down_says_ollama_serve(nothing_listening: str) -> None:
    emb = OllamaEmbedder(MINILM, host=nothing_listening, policy=QUICK)
    with pytest.raises(ProviderUnavailableError) as caught:
        asyncio.run(emb.embed_batch(["hello"]))
    assert "`ollama serve`" in caught.value.hint
    assert emb.requests == 1  # a refused connection is not retried
    gen = OllamaGenerator(LLAMA, host=nothing_listening, policy=QUICK)
    assert gen.context_tokens == DEFAULT_CHAT_CONTEXT
    with pytest.raises(ProviderUnavailableError, match="not running"):
        asyncio.run(collect(gen))


def test_model_not_pulled_says_ollama_pull(fake_ollama: FakeOllama) -> None:
    emb = OllamaEmbedder(ModelSpec("ollama", "mxbai-embed-large"), host=fake_ollama.url)
    with pytest.raises(ModelNotFoundError) as caught:
        asyncio.run(emb.embed_batch(["hello"]))
    assert caught.value.hint == "Download it with `ollama pull mxbai-embed-large`."
    assert len(fake_ollama.calls("/api/embed")) == 1  # not retried
    gen = OllamaGenerator(ModelSpec("ollama", "qwen2.5:7b"), host=fake_ollama.url)
    with pytest.raises(ModelNotFoundError, match=r"qwen2\.5:7b"):
        asyncio.run(collect(gen))


def test_429_with_retry_after_then_success(fake_ollama: FakeOllama) -> None:
    # Ollama behind a proxy or a hosted one: the header is honoured (capped by the policy).
    fake_ollama.script(
        "/api/embed",
        Scripted(status=429, body={"error": "too many requests"}, headers={"Retry-After": "0"}),
        Scripted(status=429, body={"error": "too many requests"}),
    )
    vectors = asyncio.run(embedder(fake_ollama).embed_batch(["hello world"]))
    assert len(vectors) == 1
    assert len(fake_ollama.calls("/api/embed")) == 3
    fake_ollama.script(
        "/api/embed",
        Scripted(status=429, body={"error": "slow down"}, headers={"Retry-After": "600"}),
    )
    with pytest.raises(RateLimitedError, match="asked to wait 600 s") as caught:
        asyncio.run(embedder(fake_ollama).embed_batch(["hello world"]))
    assert caught.value.retry_after == 600.0


def test_429_exhausted_is_rate_limited(fake_ollama: FakeOllama) -> None:
    fake_ollama.script("/api/embed", *[Scripted(status=429, body={"error": "busy"})] * 3)
    with pytest.raises(RateLimitedError, match="after 3 attempts"):
        asyncio.run(embedder(fake_ollama).embed_batch(["hello"]))


def test_500_and_503_are_retried(fake_ollama: FakeOllama) -> None:
    fake_ollama.script(
        "/api/embed",
        Scripted(status=500, body={"error": "llama runner process has terminated"}),
        Scripted(status=503, body={"error": "server busy, please try again"}),
    )
    assert len(asyncio.run(embedder(fake_ollama).embed_batch(["a b c"]))) == 1
    assert len(fake_ollama.calls("/api/embed")) == 3


def test_a_batch_failing_on_one_input_is_retried_item_by_item(fake_ollama: FakeOllama) -> None:
    # Ollama has answered a deterministic 500 for one bad input, failing the whole batch.
    boom = Scripted(status=500, body={"error": "failed to process inputs"})
    fake_ollama.script("/api/embed", boom, boom, boom, Scripted(), boom, boom, boom)
    emb = embedder(fake_ollama)
    with pytest.raises(BadResponseError, match="still failing after 3 attempts") as caught:
        asyncio.run(emb.embed_batch(["good one", "bad one", "never tried"]))
    assert input_index(caught.value) == 1
    assert "input 2 of the batch" in caught.value.message
    inputs = [body["input"] for body in fake_ollama.calls("/api/embed")]
    assert inputs[:3] == [["good one", "bad one", "never tried"]] * 3
    assert inputs[3:] == [["good one"]] + [["bad one"]] * 3


def test_timeout_is_retried_then_reported(fake_ollama: FakeOllama) -> None:
    emb = OllamaEmbedder(MINILM, host=fake_ollama.url, policy=IMPATIENT)
    fake_ollama.script("/api/embed", Scripted(delay_s=2.0), Scripted(delay_s=2.0))
    with pytest.raises(ProviderTimeoutError) as caught:
        asyncio.run(emb.embed_batch(["slow"]))
    assert "did not answer in time" in caught.value.message
    assert "after 2 attempts" in caught.value.message
    fake_ollama.script("/api/embed", Scripted(delay_s=2.0))
    assert len(asyncio.run(emb.embed_batch(["slow once"]))) == 1  # the retry answers


def test_wrong_vector_size_is_a_bad_response(fake_ollama: FakeOllama) -> None:
    emb = embedder(fake_ollama)
    asyncio.run(emb.embed_batch(["learn the size"]))
    fake_ollama.script("/api/embed", Scripted(dimensions=3))
    with pytest.raises(BadResponseError, match="3 dimensions, expected 384") as caught:
        asyncio.run(emb.embed_batch(["one", "two"]))
    assert "re-embed" in caught.value.hint
    assert len(fake_ollama.calls("/api/embed")) == 2  # not retried item by item
    recorded = embedder(fake_ollama, dimensions=768)  # the workspace recorded 768
    with pytest.raises(BadResponseError, match="384 dimensions, expected 768"):
        asyncio.run(recorded.embed_batch(["one"]))


def test_wrong_vector_count_is_a_bad_response(fake_ollama: FakeOllama) -> None:
    fake_ollama.script("/api/embed", Scripted(count=1), Scripted(count=0))
    with pytest.raises(BadResponseError, match="returned 0 vectors for 1 inputs"):
        asyncio.run(embedder(fake_ollama).embed_batch(["one", "two"]))


def test_malformed_body_is_a_bad_response(fake_ollama: FakeOllama) -> None:
    fake_ollama.script("/api/embed", Scripted(status=200, body="<html>proxy login</html>"))
    with pytest.raises(BadResponseError, match="cannot read"):
        asyncio.run(embedder(fake_ollama).embed_batch(["one"]))


def test_input_over_the_context_is_translated_and_named(fake_ollama: FakeOllama) -> None:
    fake_ollama.honours_truncate = False  # versions that ignored `truncate` answered 400
    emb = embedder(fake_ollama)
    long_text = "word " * 600  # over all-minilm's 512
    with pytest.raises(InputTooLongError) as caught:
        asyncio.run(emb.embed_batch(["short", long_text, "also short"]))
    assert input_index(caught.value) == 1
    assert "context" in caught.value.message and "Split" in caught.value.hint
    # A server that truncates as documented embeds it.
    fake_ollama.honours_truncate = True
    assert len(asyncio.run(emb.embed_batch([long_text]))) == 1


# -- chat ----------------------------------------------------------------------------------
def test_chat_streams_then_reports_usage(fake_ollama: FakeOllama) -> None:
    fake_ollama.chat_answer = "The bakery opens at eight [1]."
    gen = make_generator("ollama:llama3.2")
    text, usages, events = asyncio.run(
        collect(gen, settings=GenerationSettings(temperature=0.0, max_tokens=64))
    )
    assert text == "The bakery opens at eight [1]."
    assert sum(isinstance(e, TextDelta) for e in events) == 6
    assert events[-1] == usages[0] and len(usages) == 1
    prompt = sum(token_count(m.content) for m in MESSAGES)
    assert usages[0] == Usage(prompt_tokens=prompt, completion_tokens=6)
    body = fake_ollama.calls("/api/chat")[0]
    assert body["stream"] is True
    assert body["options"] == {"temperature": 0.0, "num_predict": 64, "num_ctx": MAX_CHAT_CONTEXT}
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_a_live_server_may_take_longer_than_the_interactive_bound_to_start_an_answer(
    fake_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cold model on a laptop CPU: the first line comes after the bound, but /api/version
    # keeps answering meanwhile, so the answer is waited for (a silent server is not:
    # tests/cli/test_silent_backend.py).
    monkeypatch.setenv("BOTDESK_INTERACTIVE_TIMEOUT_S", "0.3")
    fake_ollama.script_state.chat_delay_s = 1.2
    fake_ollama.chat_answer = "We open at eight [1]."
    text, usages, _ = asyncio.run(collect(make_generator("ollama:llama3.2")))
    assert text == "We open at eight [1]." and usages
    assert len(fake_ollama.calls("/api/chat")) == 1  # waited for, not asked again
    assert len(fake_ollama.calls("/api/version")) >= 2  # asked whether it lives meanwhile


def test_a_live_server_is_waited_for_only_up_to_the_answer_start_bound(
    fake_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOTDESK_INTERACTIVE_TIMEOUT_S", "0.2")
    monkeypatch.setenv("BOTDESK_ANSWER_START_TIMEOUT_S", "0.6")
    monkeypatch.setenv("BOTDESK_PROVIDER_ATTEMPTS", "1")
    fake_ollama.script_state.chat_delay_s = 3.0
    with pytest.raises(ProviderTimeoutError):
        asyncio.run(collect(make_generator("ollama:llama3.2")))


def test_chat_429_before_the_first_token_is_retried(fake_ollama: FakeOllama) -> None:
    fake_ollama.script("/api/chat", Scripted(status=429, body={"error": "busy"}))
    text, usages, _ = asyncio.run(collect(OllamaGenerator(LLAMA, host=fake_ollama.url)))
    assert text and usages
    assert len(fake_ollama.calls("/api/chat")) == 2


def test_chat_prompt_over_the_context_is_refused_before_sending(fake_ollama: FakeOllama) -> None:
    gen = OllamaGenerator(LLAMA, host=fake_ollama.url, context_tokens=50)
    with pytest.raises(InputTooLongError, match="context of 50 tokens"):
        asyncio.run(collect(gen, settings=GenerationSettings(max_tokens=45)))
    assert fake_ollama.calls("/api/chat") == []


def test_an_error_line_mid_stream_is_a_provider_error(fake_ollama: FakeOllama) -> None:
    fake_ollama.script("/api/chat", Scripted(stream_error_after=2))
    received: list[str] = []

    async def run() -> None:
        async for event in OllamaGenerator(LLAMA, host=fake_ollama.url).stream(
            MESSAGES, GenerationSettings()
        ):
            if isinstance(event, TextDelta):
                received.append(event.text)

    with pytest.raises(ProviderError, match="error was encountered while running the model"):
        asyncio.run(run())
    assert received == ["The", " answer"]
    assert len(fake_ollama.calls("/api/chat")) == 1  # never retried after text went out


def test_a_dropped_connection_mid_stream_is_reported(fake_ollama: FakeOllama) -> None:
    fake_ollama.script("/api/chat", Scripted(close_after=3))
    with pytest.raises(ProviderUnavailableError, match="broke"):
        asyncio.run(collect(OllamaGenerator(LLAMA, host=fake_ollama.url)))


def test_cancel_mid_stream_closes_the_request(fake_ollama: FakeOllama) -> None:
    fake_ollama.chat_answer = " ".join(["word"] * 200)
    fake_ollama.script("/api/chat", Scripted(chunk_delay_s=0.02))

    async def run() -> list[str]:
        received: list[str] = []
        first = asyncio.Event()

        async def consume() -> None:
            async for event in OllamaGenerator(LLAMA, host=fake_ollama.url).stream(
                MESSAGES, GenerationSettings()
            ):
                if isinstance(event, TextDelta):
                    received.append(event.text)
                    first.set()

        task = asyncio.create_task(consume())
        await first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return received

    received = asyncio.run(run())
    assert 1 <= len(received) < 200

    async def server_noticed() -> None:
        while fake_ollama.disconnects == 0:
            await asyncio.sleep(0.02)

    asyncio.run(asyncio.wait_for(server_noticed(), 10))


# -- connection test -----------------------------------------------------------------------
def test_check_connection_summarises_or_says_what_to_run(
    fake_ollama: FakeOllama, nothing_listening: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = asyncio.run(check_connection("ollama:all-minilm"))
    assert summary == (
        f"Ollama at {fake_ollama.url}: all-minilm is available "
        "(embedding; 384 dimensions; context 512 tokens)."
    )
    assert "completion" in asyncio.run(check_connection("ollama:llama3.2"))
    with pytest.raises(ModelNotFoundError, match="ollama pull phi4"):
        asyncio.run(check_connection("ollama:phi4"))
    monkeypatch.setenv("OLLAMA_HOST", nothing_listening)
    with pytest.raises(ProviderUnavailableError, match="ollama serve"):
        asyncio.run(check_connection("ollama:all-minilm"))


def test_a_chat_model_used_for_embeddings_says_which_kind_is_needed(
    fake_ollama: FakeOllama,
) -> None:
    with pytest.raises(ProviderError, match=r"cannot use llama3\.2") as caught:
        asyncio.run(make_embedder("ollama:llama3.2").embed_batch(["hello"]))
    assert "all-minilm" in caught.value.hint


def test_cancel_while_embedding_is_not_translated(fake_ollama: FakeOllama) -> None:
    fake_ollama.script("/api/embed", Scripted(delay_s=3.0))
    emb = embedder(fake_ollama)

    async def run() -> None:
        task = asyncio.create_task(emb.embed_batch(["slow batch"]))
        while not fake_ollama.calls("/api/embed"):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # What the caller already has stays; the next batch goes through.
        assert len(await emb.embed_batch(["next batch"])) == 1

    asyncio.run(run())
    assert emb.requests == 2


def test_credentials_in_ollama_host_never_reach_a_message(
    nothing_listening: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_host = nothing_listening.replace("http://", "http://admin:hunter2@")
    monkeypatch.setenv("OLLAMA_HOST", secret_host)
    with pytest.raises(ProviderUnavailableError) as caught:
        asyncio.run(make_embedder("ollama:all-minilm").embed_batch(["a"]))
    assert "hunter2" not in str(caught.value) and nothing_listening in str(caught.value)
