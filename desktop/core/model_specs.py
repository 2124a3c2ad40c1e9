"""How a model is written in settings and on the command line: "ollama:all-minilm",
"mistral:mistral-embed", or "none". One parser for the index (embedders) and the model
back-ends (embedders and generators), so both accept and refuse the same text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from desktop.core.errors import ConfigError

Provider = Literal["ollama", "mistral"]
PROVIDERS: tuple[Provider, ...] = ("ollama", "mistral")
# Ollama names: "all-minilm", "llama3.2:3b", "hf.co/org/model:Q4_K_M"; Mistral ids alike.
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$")
_EXAMPLES = "ollama:MODEL (e.g. ollama:all-minilm), mistral:MODEL, or none"
# A new workspace's embedder: keyword search only, until the user picks a model.
DEFAULT_EMBEDDER = "none"


def parse_spec(text: str | None, *, what: str = "model") -> tuple[Provider, str] | None:
    """(provider, model) for "ollama:MODEL" or "mistral:MODEL"; None for "none" or blank.

    Anything else raises ConfigError naming `what` ("model", "embedder") and what is accepted.
    """
    cleaned = (text or "").strip()
    if cleaned.lower() in ("", "none"):
        return None
    provider, sep, model = cleaned.partition(":")
    provider = provider.strip().lower()
    model = model.strip()
    if not sep or provider not in PROVIDERS:
        raise ConfigError(f"Unknown {what} {cleaned!r}.", hint=f"Write {_EXAMPLES}.")
    if not model:
        raise ConfigError(f"No model name in {cleaned!r}.", hint=f"Write {_EXAMPLES}.")
    if not _MODEL_NAME.match(model):
        raise ConfigError(
            f"{model!r} is not a valid model name.",
            hint="Model names are letters, digits and . _ : / - (e.g. llama3.2:3b).",
        )
    return ("ollama" if provider == "ollama" else "mistral"), model


@dataclass(frozen=True)
class ModelSpec:
    """A back-end and model as written in settings and on the command line: "ollama:all-minilm".

    The one type for both an embedder the index keys its vectors by and a model a provider
    runs (it was two: the index's EmbedderId and the providers' ModelSpec)."""

    provider: Provider
    model: str

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"


def parse_model_spec(text: str | None, *, what: str = "model") -> ModelSpec | None:
    """`parse_spec` as a ModelSpec: None for "none" or blank, ConfigError for anything else."""
    parsed = parse_spec(text, what=what)
    return None if parsed is None else ModelSpec(*parsed)
