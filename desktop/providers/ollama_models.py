"""The models on an Ollama server: list them, check one, download one (/api/pull).

The calls a settings dialog or the first-run setup makes, beside the embedder and the
generator (ollama.py), whose error translation and client they share.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import httpx
import ollama

from desktop.core.errors import ModelNotFoundError
from desktop.providers.addresses import ollama_host
from desktop.providers.base import ModelSpec
from desktop.providers.ollama import (
    PROVIDER,
    async_client,
    context_length_of,
    forget_model_limits,
    translate,
)
from desktop.providers.retry import RetryPolicy, call_with_retries, interactive_seconds, redact_url


# -- connection test -----------------------------------------------------------------------
async def check_connection(
    spec: ModelSpec, *, policy: RetryPolicy | None = None, host: str | None = None
) -> str:
    """A one-line summary of the server and the model, or the ProviderError that says why not.
    `host`: the server (None: OLLAMA_HOST or the local default)."""
    host = host or ollama_host()
    policy = policy or RetryPolicy.from_env()
    model = spec.model
    forget_model_limits()  # the user may just have started the server or pulled the model

    async def probe() -> tuple[list[str], ollama.ShowResponse]:
        async with async_client(host, policy) as client:
            listed = await client.list()
            names = [m.model or "" for m in listed.models]
            shown = await client.show(model)
        return names, shown

    one_try = RetryPolicy(
        attempts=1, timeout_s=min(policy.timeout_s, interactive_seconds()), connect_timeout_s=2.0
    )
    names, shown = await call_with_retries(
        probe, lambda exc: translate(exc, model, host), policy=one_try, provider=PROVIDER
    )
    if not _has_model(names, model):
        raise ModelNotFoundError(
            f"Ollama has no model {model!r}.", hint=f"Download it with `ollama pull {model}`."
        )
    info = shown.modelinfo or {}
    context = context_length_of(info, shown.parameters or "")
    facts = [", ".join(shown.capabilities or []) or "unknown capabilities"]
    dimensions = next(
        (v for k, v in info.items() if k.endswith(".embedding_length") and isinstance(v, int)),
        None,
    )
    if dimensions and "embedding" in facts[0]:
        facts.append(f"{dimensions} dimensions")
    facts.append(f"context {context} tokens" if context else "context length not reported")
    return f"Ollama at {redact_url(host)}: {model} is available ({'; '.join(facts)})."


async def list_models(*, policy: RetryPolicy | None = None, host: str | None = None) -> list[str]:
    """The models pulled on the server ("all-minilm", "llama3.2:3b"), sorted."""
    host = host or ollama_host()
    base = policy or RetryPolicy.from_env()
    one_try = RetryPolicy(
        attempts=1, timeout_s=min(base.timeout_s, interactive_seconds()), connect_timeout_s=2.0
    )

    async def probe() -> list[str]:
        async with async_client(host, one_try) as client:
            listed = await client.list()
        return [m.model or "" for m in listed.models]

    names = await call_with_retries(
        probe, lambda exc: translate(exc, "", host), policy=one_try, provider=PROVIDER
    )
    return sorted({n.removesuffix(":latest") for n in names if n})


def _has_model(names: Sequence[str], model: str) -> bool:
    wanted = model if ":" in model else f"{model}:latest"
    return any(name in (model, wanted) for name in names)


# -- downloading a model ----------------------------------------------------------------------
PullListener = Callable[[str, int | None, int | None], None]  # status, completed, total bytes


async def pull_model(
    model: str,
    on_progress: PullListener,
    *,
    policy: RetryPolicy | None = None,
    host: str | None = None,
) -> None:
    """Download `model` onto the server (Ollama's streaming /api/pull), reporting progress.

    A download takes minutes: the timeout applies per progress line, not to the whole pull.
    Raises the ProviderError that says why it failed (no server, no such model...)."""
    host = host or ollama_host()
    policy = policy or RetryPolicy.from_env()
    try:
        async with async_client(host, policy) as client:
            async for part in await client.pull(model, stream=True):
                on_progress(part.status or "", part.completed, part.total)
    except ollama.ResponseError as exc:
        if "file does not exist" in str(exc.error) or exc.status_code == 404:
            raise ModelNotFoundError(
                f"Ollama's library has no model {model!r}.",
                hint="Check the name at ollama.com/library (for example llama3.2).",
            ) from exc
        raise translate(exc, model, host).error from exc
    except (ConnectionError, httpx.HTTPError, TimeoutError, ValueError) as exc:
        raise translate(exc, model, host).error from exc
    forget_model_limits()  # a new model: learn its limits afresh
