"""Everything Botdesk reaches beyond the workspace through, in one object.

`app.py` and the command line each build one `Backends` as they start
(`Backends.from_environment()`: OLLAMA_HOST, BOTDESK_MISTRAL_URL and the BOTDESK_PROVIDER_*
tuning knobs are read there and nowhere else on the way to a service) and hand it to every
service that talks to a model, a site or the hosted service, as its `backends` argument.
Tests build one that points at loopback stand-ins and pass it the same way: no environment
variable, no monkeypatch.

What it holds: where the model servers are and how patiently they are asked; the embedder
and generator factories; the HTTP clients (None: each job opens its own, with the settings
it needs); the publish client's timeouts and retries; the clock; and the seams a test or a
bench may replace (the answers' search, the model check, the price table, a bundle's
vectors).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from desktop.core.answering.prices import PriceTable
from desktop.core.bundle.write import VectorLoader
from desktop.core.errors import ConfigError
from desktop.core.model_specs import ModelSpec
from desktop.core.publish import client as publish_client
from desktop.core.publish.client import (
    DEFAULT_ATTEMPTS,
    DEFAULT_TIMEOUT_S,
    MAX_RETRY_AFTER_S,
    Checkpoint,
    PublishClient,
)
from desktop.providers import factory
from desktop.providers.addresses import (
    MISTRAL_DEFAULT_URL,
    OLLAMA_DEFAULT_HOST,
    mistral_url,
    ollama_host,
)
from desktop.providers.retry import DEFAULT_INTERACTIVE_S, RetryPolicy, interactive_seconds

if TYPE_CHECKING:
    import httpx

    from desktop.providers.base import Embedder, Generator

__all__ = [
    "OLLAMA_DEFAULT_HOST",  # the window shows it where no server is chosen
    "Backends",
    "PublishOptions",
    "server_address",
]

# (spec, dimensions the index recorded or None, retry policy, server address) -> embedder
EmbedderFactory = Callable[[ModelSpec, "int | None", RetryPolicy, str], "Embedder"]
# (spec, retry policy, server address) -> generator
GeneratorFactory = Callable[[ModelSpec, RetryPolicy, str], "Generator"]
ModelCheck = Callable[[str], Awaitable[str]]
# (ws-or-bundle, query, k, mode, min_score) -> hits with .chunk_id .text .heading .score .source
SearchFunction = Callable[[Any, str, int, str, "float | None"], Awaitable[Sequence[Any]]]
Clock = Callable[[], datetime]


def _providers_embedder(
    spec: ModelSpec, dimensions: int | None, policy: RetryPolicy, host: str
) -> Embedder:
    return factory.make_embedder(spec, dimensions=dimensions, policy=policy, host=host)


def _providers_generator(spec: ModelSpec, policy: RetryPolicy, host: str) -> Generator:
    return factory.make_generator(spec, policy=policy, host=host)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def server_address(text: str) -> str:
    """A model server's address as typed ("192.168.1.20:11434", "http://gpu-box:11434/")
    made into a base URL ("http://192.168.1.20:11434"); ConfigError says what is wrong."""
    typed = text.strip()
    if not typed:
        raise ConfigError("Type the server's address.", hint="For example http://127.0.0.1:11434.")
    candidate = typed if "://" in typed else f"http://{typed}"
    parts = urlsplit(candidate)
    try:
        port = parts.port  # raises on a port that is not a number or out of range
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise ConfigError(
            f"{typed!r} is not a server address.",
            hint="Write it like http://127.0.0.1:11434 (the computer's name or address, and "
            "the port Ollama listens on).",
        )
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise ConfigError(
            f"{typed!r} has a path; Botdesk needs the server's address only.",
            hint=f"Use {parts.scheme}://{parts.netloc}.",
        )
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class PublishOptions:
    """The publish client's patience: one call's timeout, attempts, and waits between them."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    attempts: int = DEFAULT_ATTEMPTS
    backoff_s: float = 1.0
    max_retry_after_s: float = MAX_RETRY_AFTER_S

    def as_kwargs(self) -> dict[str, Any]:
        """As PublishClient's keyword arguments."""
        return dataclasses.asdict(self)


@dataclass
class Backends:
    """How Botdesk reaches models, sites and the hosted service; see the module docstring.

    Build it once and share it: it holds addresses, policies and factories, never a
    connection bound to one event loop (the HTTP clients, when given, are the caller's).
    """

    ollama_host: str = OLLAMA_DEFAULT_HOST
    mistral_url: str = MISTRAL_DEFAULT_URL
    retry: RetryPolicy = field(default_factory=RetryPolicy)  # batch work: embedding a sync
    interactive_s: float = DEFAULT_INTERACTIVE_S  # someone waits: a search, an answer
    make_embedder: EmbedderFactory = _providers_embedder
    make_generator: GeneratorFactory = _providers_generator
    site_http: httpx.AsyncClient | None = None  # None: the crawler opens its own per sync
    publish_http: httpx.AsyncClient | None = None  # None: each publish call opens its own
    publish: PublishOptions = field(default_factory=PublishOptions)
    clock: Clock = _utc_now
    model_check: ModelCheck | None = None  # None: ask the provider once (check_model)
    search: SearchFunction | None = None  # None: services.index.search with these backends
    prices: PriceTable | None = None  # None: PriceTable.load() on first use
    bundle_vectors: VectorLoader | None = None  # None: the index's vectors

    @classmethod
    def from_environment(cls) -> Backends:
        """The addresses and tuning knobs the user's environment sets, else the defaults."""
        return cls(
            ollama_host=ollama_host(),
            mistral_url=mistral_url(),
            retry=RetryPolicy.from_env(),
            interactive_s=interactive_seconds(),
        )

    # -- models ----------------------------------------------------------------------------
    def server_for(self, provider: str) -> str:
        """The address of the provider's server ("ollama" or "mistral")."""
        return self.ollama_host if provider == "ollama" else self.mistral_url

    def interactive_retry(self) -> RetryPolicy:
        """The retry policy bounded so that someone waiting is answered within interactive_s."""
        return self.retry.bounded(self.interactive_s)

    def embedder(
        self, spec: ModelSpec, *, dimensions: int | None = None, interactive: bool = False
    ) -> Embedder:
        """The embedder for `spec` (`dimensions`: what the index recorded, so a model that
        answers another size is refused). `interactive`: someone waits (a search)."""
        policy = self.interactive_retry() if interactive else self.retry
        return self.make_embedder(spec, dimensions, policy, self.server_for(spec.provider))

    def generator(self, spec: ModelSpec) -> Generator:
        """The chat generator for `spec`; someone waits on every answer."""
        return self.make_generator(spec, self.interactive_retry(), self.server_for(spec.provider))

    async def check_model(self, spec: str) -> str:
        """One line saying the model answers, or the BotdeskError saying why not (one try,
        short timeouts: cheap enough to run when the Test bench opens)."""
        if self.model_check is not None:
            return await self.model_check(spec)
        parsed = factory.parse_model_spec(spec)
        host = self.server_for(parsed.provider) if parsed else None
        return await factory.check_connection(spec, policy=self.retry, host=host)

    async def list_models(self, provider: str) -> list[str]:
        """The model names the provider's server offers (raises the ProviderError why not)."""
        return await factory.list_models(
            provider, policy=self.retry, host=self.server_for(provider)
        )

    # -- the hosted service -----------------------------------------------------------------
    def publish_client(
        self, endpoint: str, bot_id: str, *, checkpoint: Checkpoint | None = None
    ) -> PublishClient:
        """A client for the hosted service with the endpoint's stored token (a PublishError
        says how to set one), patient as `publish` says."""
        return publish_client.connect(
            endpoint,
            bot_id,
            client=self.publish_http,
            checkpoint=checkpoint,
            options=self.publish.as_kwargs(),
        )

    # -- the rest --------------------------------------------------------------------------
    def price_table(self) -> PriceTable:
        if self.prices is None:
            self.prices = PriceTable.load()
        return self.prices

    def now(self) -> datetime:
        return self.clock()
