"""Model specs as written on the command line, and the back-end each one makes."""

from __future__ import annotations

import pytest

from desktop.core.errors import ConfigError
from desktop.providers.base import ModelSpec
from desktop.providers.factory import make_embedder, make_generator, parse_model_spec
from desktop.providers.mistral import MistralEmbedder, MistralGenerator
from desktop.providers.ollama import OllamaEmbedder, OllamaGenerator


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ollama:all-minilm", ModelSpec("ollama", "all-minilm")),
        (" Ollama:llama3.2:3b ", ModelSpec("ollama", "llama3.2:3b")),
        ("ollama:hf.co/org/model:Q4_K_M", ModelSpec("ollama", "hf.co/org/model:Q4_K_M")),
        ("mistral:mistral-embed", ModelSpec("mistral", "mistral-embed")),
        ("none", None),
        ("NONE", None),
        ("", None),
    ],
)
def test_parse_model_spec(text: str, expected: ModelSpec | None) -> None:
    assert parse_model_spec(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("openai:gpt-4o", "Unknown model"),
        ("all-minilm", "Unknown model"),
        ("ollama:", "No model name"),
        ("ollama: bad name", "not a valid model name"),
        ("mistral:../../etc", "not a valid model name"),
    ],
)
def test_bad_specs_say_what_is_accepted(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        parse_model_spec(text)
    assert "ollama:" in caught.value.hint or "letters" in caught.value.hint


def test_specs_round_trip_through_str() -> None:
    spec = ModelSpec("ollama", "llama3.2:3b")
    assert parse_model_spec(str(spec)) == spec


def test_make_picks_the_back_end(monkeypatch: pytest.MonkeyPatch) -> None:
    # A closed port: making a back-end must not need a server (limits fall back to defaults).
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    embedder = make_embedder("ollama:all-minilm", dimensions=384)
    assert isinstance(embedder, OllamaEmbedder) and embedder.dimensions == 384
    assert embedder.max_input_tokens > 0 and embedder.max_batch > 0
    assert isinstance(make_embedder(ModelSpec("mistral", "mistral-embed")), MistralEmbedder)
    generator = make_generator("ollama:llama3.2")
    assert isinstance(generator, OllamaGenerator) and generator.context_tokens > 0
    assert isinstance(make_generator("mistral:mistral-small-latest"), MistralGenerator)
    with pytest.raises(ConfigError, match="No model is set"):
        make_embedder("none")


def test_list_models_for_a_settings_dialog(
    fake_ollama: object, fake_mistral: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from desktop.core.errors import AuthenticationError, ProviderUnavailableError
    from desktop.providers.factory import list_models
    from tests.providers.conftest import closed_port_url

    assert asyncio.run(list_models("ollama")) == ["all-minilm", "llama3.2", "nomic-embed-text"]
    assert "mistral-embed" in asyncio.run(list_models("mistral"))
    with pytest.raises(ConfigError):
        asyncio.run(list_models("openai"))
    monkeypatch.setenv("MISTRAL_API_KEY", "wrong")
    with pytest.raises(AuthenticationError):
        asyncio.run(list_models("mistral"))
    monkeypatch.setenv("OLLAMA_HOST", closed_port_url())
    with pytest.raises(ProviderUnavailableError, match="ollama serve"):
        asyncio.run(list_models("ollama"))
