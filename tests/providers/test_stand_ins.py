"""The stand-ins speak what the real clients read: endpoints Botdesk does not use yet are
checked through the clients too, so other tests can rely on them."""

from __future__ import annotations

import httpx
import ollama
import pytest
from mistralai.client import Mistral

from tests.helpers.fake_embeddings import cosine, embed_text, stem, words
from tests.helpers.fake_mistral import FakeMistral
from tests.helpers.fake_ollama import FakeOllama


def test_fake_embeddings_are_deterministic_unit_vectors() -> None:
    first = embed_text("Fresh sourdough, delivered daily", 64)
    assert first == embed_text("fresh SOURDOUGH delivered daily!", 64)
    assert sum(v * v for v in first) == pytest.approx(1.0)
    assert words("The deliveries are delivered") == ["deliver", "deliver"]
    assert stem("baking") == "bak" and stem("bakes") == "bak"
    empty = embed_text("the and of", 16)  # stop words only: still a unit vector
    assert sum(v * v for v in empty) == pytest.approx(1.0)
    assert cosine(embed_text("rye flour", 384), embed_text("flour of rye", 384)) == pytest.approx(
        1.0
    )


def test_ollama_stand_in_through_the_sync_client(fake_ollama: FakeOllama) -> None:
    assert httpx.get(fake_ollama.url + "/api/version").json()["version"]
    fake_ollama.chat_answer = "Tuesdays [1]."
    question = [{"role": "user", "content": "When?"}]
    with ollama.Client(host=fake_ollama.url) as client:
        names = {m.model for m in client.list().models}
        shown = client.show("nomic-embed-text")
        old = client.embeddings(model="all-minilm", prompt="rye flour")
        single = client.embed(model="all-minilm", input="rye flour")
        whole = client.chat(model="llama3.2", messages=question)
        parts = list(client.chat(model="llama3.2", messages=question, stream=True))
        with pytest.raises(ollama.ResponseError) as caught:
            client.embed(model="gemma3", input="x")
    assert names >= {"all-minilm:latest", "llama3.2:latest"}
    assert shown.capabilities == ["embedding"]
    assert (shown.modelinfo or {})["nomic-bert.embedding_length"] == 768
    assert list(old.embedding) == pytest.approx(embed_text("rye flour", 384))
    assert single.prompt_eval_count == 2 and len(single.embeddings) == 1
    assert whole.message.content == "Tuesdays [1]." and whole.done
    assert "".join(p.message.content or "" for p in parts) == "Tuesdays [1]."
    assert parts[-1].done and parts[-1].eval_count == 2 and parts[-1].prompt_eval_count == 2
    assert caught.value.status_code == 404
    assert caught.value.error == 'model "gemma3" not found, try pulling it first'


def test_mistral_stand_in_through_the_sync_sdk(fake_mistral: FakeMistral) -> None:
    with Mistral(api_key=fake_mistral.key, server_url=fake_mistral.url) as sdk:
        fake_mistral.chat_answer = "Tuesdays [1]."
        reply = sdk.chat.complete(
            model="mistral-small-latest", messages=[{"role": "user", "content": "When?"}]
        )
        assert reply.choices[0].message.content == "Tuesdays [1]."
        assert reply.usage.prompt_tokens == 2 and reply.usage.completion_tokens == 2
        embedded = sdk.embeddings.create(model="mistral-embed", inputs=["rye flour", "oats"])
        assert [d.index for d in embedded.data] == [0, 1]
        assert embedded.data[1].embedding == pytest.approx(embed_text("oats", 1024))
        listed = sdk.models.list()
        assert "mistral-embed" in [getattr(m, "id", None) for m in listed.data or []]
