"""Model specs as written in settings ("ollama:all-minilm", "mistral:mistral-embed", "none")
and the embedder or generator each one names.

Ollama's host comes from OLLAMA_HOST (default http://127.0.0.1:11434); Mistral's key from
the keyring (MISTRAL_API_KEY where there is none) and its server from BOTDESK_MISTRAL_URL.
Retries and timeouts follow `RetryPolicy.from_env()` unless a policy is passed in.
"""

from __future__ import annotations

from desktop.core.errors import ConfigError
from desktop.core.model_specs import parse_spec
from desktop.providers.base import Embedder, Generator, ModelSpec
from desktop.providers.retry import RetryPolicy

_EXAMPLES = "ollama:MODEL (e.g. ollama:all-minilm), mistral:MODEL, or none"


def parse_model_spec(text: str) -> ModelSpec | None:
    """ "ollama:MODEL" or "mistral:MODEL" as a ModelSpec; "none" (or blank) as None.

    Anything else raises ConfigError saying what is accepted.
    """
    parsed = parse_spec(text)
    return None if parsed is None else ModelSpec(*parsed)


def _spec(spec: ModelSpec | str) -> ModelSpec:
    if isinstance(spec, ModelSpec):
        return spec
    parsed = parse_model_spec(spec)
    if parsed is None:
        raise ConfigError("No model is set.", hint=f"Choose one: {_EXAMPLES}.")
    return parsed


def make_embedder(
    spec: ModelSpec | str,
    *,
    dimensions: int | None = None,
    policy: RetryPolicy | None = None,
    host: str | None = None,
) -> Embedder:
    """The embedder for `spec`. `dimensions`: what the workspace recorded, if anything;
    a back-end answering another size then raises BadResponseError. `host`: the server
    (Ollama host or Mistral URL) instead of the one the environment names."""
    chosen = _spec(spec)
    if chosen.provider == "ollama":
        from desktop.providers.ollama import OllamaEmbedder

        return OllamaEmbedder(chosen, host=host, policy=policy, dimensions=dimensions)
    from desktop.providers.mistral import MistralEmbedder

    return MistralEmbedder(chosen, url=host, policy=policy, dimensions=dimensions)


def make_generator(
    spec: ModelSpec | str, *, policy: RetryPolicy | None = None, host: str | None = None
) -> Generator:
    """The chat generator for `spec`; reuse it across questions. `host` as for make_embedder.

    Someone waits on every answer: unless a policy is given, a server that never answers
    fails within BOTDESK_INTERACTIVE_TIMEOUT_S (RetryPolicy.interactive).
    """
    chosen = _spec(spec)
    policy = policy or RetryPolicy.interactive()
    if chosen.provider == "ollama":
        from desktop.providers.ollama import OllamaGenerator

        return OllamaGenerator(chosen, host=host, policy=policy)
    from desktop.providers.mistral import MistralGenerator

    return MistralGenerator(chosen, url=host, policy=policy)


async def check_connection(
    spec: ModelSpec | str, *, policy: RetryPolicy | None = None, host: str | None = None
) -> str:
    """Try the back-end once: a one-line human summary, or the ProviderError saying why not.

    For the settings dialog's "Test connection" button. `host` as for make_embedder.
    """
    chosen = _spec(spec)
    if chosen.provider == "ollama":
        from desktop.providers import ollama_models

        return await ollama_models.check_connection(chosen, policy=policy, host=host)
    from desktop.providers import mistral

    return await mistral.check_connection(chosen, policy=policy, url=host)


async def list_models(
    provider: str, *, policy: RetryPolicy | None = None, host: str | None = None
) -> list[str]:
    """The model names a back-end offers ("ollama": pulled models; "mistral": the key's),
    for a settings dialog's choices. Raises the ProviderError that says why not."""
    if provider == "ollama":
        from desktop.providers import ollama_models

        return await ollama_models.list_models(policy=policy, host=host)
    if provider == "mistral":
        from desktop.providers import mistral

        return await mistral.list_models(policy=policy, url=host)
    raise ConfigError(f"Unknown model back-end {provider!r}.", hint="Use ollama or mistral.")
