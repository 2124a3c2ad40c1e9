"""Backends for tests: every service reaches models, sites and the hosted service only
through the `Backends` a test passes, so pointing a service at a stand-in is one argument.

Nothing here reads the environment. Servers not named point at a closed port on this
computer, so a test never reaches a real Ollama or Mistral by accident.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from desktop.core.model_specs import ModelSpec
from desktop.providers.base import Embedder, Generator
from desktop.providers.retry import RetryPolicy
from desktop.services.backends import Backends, PublishOptions

# Short waits, enough attempts for the stand-ins' scripted failures, on a loaded CI machine.
FAST_RETRY = RetryPolicy(attempts=3, backoff_base_s=0.01, max_retry_after_s=2.0, timeout_s=5.0)
FAST_PUBLISH = PublishOptions(timeout_s=5.0, attempts=2, backoff_s=0.0)
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens, connections are refused


def test_backends(
    *,
    ollama: Any = None,
    mistral: Any = None,
    embedder: Embedder | None = None,
    generator: Generator | None = None,
    **changes: Any,
) -> Backends:
    """Backends with fast retries; `ollama`/`mistral`: a stand-in server (its `.url`) or an
    address; `embedder`/`generator`: one object handed out for every spec (fakes)."""
    fields: dict[str, Any] = {
        "ollama_host": _address(ollama),
        "mistral_url": _address(mistral),
        "retry": FAST_RETRY,
        "publish": FAST_PUBLISH,
    }
    if embedder is not None:
        fields["make_embedder"] = _always(embedder)
    if generator is not None:
        fields["make_generator"] = _always(generator)
    fields.update(changes)
    return Backends(**fields)


test_backends.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def with_changes(backends: Backends, **changes: Any) -> Backends:
    """A copy of `backends` with some fields replaced (another publish patience, say)."""
    return dataclasses.replace(backends, **changes)


def _address(server: Any) -> str:
    if server is None:
        return NOWHERE
    return str(getattr(server, "url", server))


def _always(made: Any) -> Any:
    def factory(spec: ModelSpec, *_: Any) -> Any:
        return made

    return factory


# For tests whose workspace has no embedder and whose sources are local: nothing to reach.
OFFLINE = test_backends()
