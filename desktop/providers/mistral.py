"""Mistral back-end: embeddings (mistral-embed) and streaming chat through the `mistralai` SDK.

mistralai 3.x speaks HTTP through httpx2 (pydantic's fork of httpx), so its errors are
httpx2's and its own (`MistralError` with status, body and headers; `NoResponseError`).
Its defaults do not suit a desktop app: no retries for embeddings unless configured, a
300 s timeout, and any Retry-After obeyed without bound. So the SDK's retries stay off,
we pass our own httpx2 client and timeouts, and retry through providers.retry.

The key comes from the keyring (account "mistral-api-key") or MISTRAL_API_KEY; the server
from BOTDESK_MISTRAL_URL (tests point it at a loopback stand-in).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx2
from mistralai.client import Mistral
from mistralai.client.errors import MistralError, NoResponseError, ResponseValidationError

from desktop.core import secrets
from desktop.core.errors import (
    AuthenticationError,
    BadResponseError,
    InputTooLongError,
    ModelNotFoundError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnavailableError,
    RateLimitedError,
)
from desktop.core.http_retry import retry_after_s
from desktop.core.tls import refuse_plain_http, shared_ssl_context
from desktop.providers.addresses import MISTRAL_KEY_ACCOUNT as KEY_ACCOUNT
from desktop.providers.addresses import MISTRAL_KEY_ENV as KEY_ENV
from desktop.providers.addresses import MISTRAL_URL_ENV as URL_ENV
from desktop.providers.addresses import mistral_url
from desktop.providers.base import (
    ChatMessage,
    GenerationEvent,
    GenerationSettings,
    ModelSpec,
    TextDelta,
    Usage,
)
from desktop.providers.retry import (
    Failure,
    RetryPolicy,
    call_with_retries,
    interactive_seconds,
    redact_url,
)
from desktop.providers.vectors import check_vectors, embed_in_batches

PROVIDER = "Mistral"
# Mistral caps the tokens of one embeddings request as well as of each input: a batch over
# the budget is answered 400 and then retried item by item (vectors.embed_in_batches).
EMBED_BATCH = 16
EMBED_INPUT_TOKENS = 8192
TOKEN_MARGIN = 0.9
DEFAULT_CHAT_CONTEXT = 32768
# Context windows of Mistral's chat models (tokens); the first matching prefix wins.
CHAT_CONTEXTS = (
    ("open-mistral-7b", 32768),
    ("open-mixtral-8x7b", 32768),
    ("mistral-small-2402", 32768),
    ("codestral", 262144),
    ("mistral-small", 131072),
    ("mistral-medium", 131072),
    ("mistral-large", 131072),
    ("ministral", 131072),
    ("open-mistral-nemo", 131072),
    ("magistral", 40960),
)
_TOO_LONG_WORDS = (
    "too long",
    "too large",
    "too many tokens",
    "maximum context",
    "max length",
    "exceed",
)
KEY_HINT = (
    "Set the Mistral API key in Settings (it is kept in the system keyring), "
    f"or set the environment variable {KEY_ENV}."
)


def set_api_key(value: str) -> None:
    """Store the key in the keyring; raises SecretStoreError (naming MISTRAL_API_KEY) if none.

    Blocking (a keyring may hang on D-Bus for its timeout): call it off the GUI thread.
    """
    secrets.set_secret(KEY_ACCOUNT, value.strip(), env_var=KEY_ENV)


async def api_key() -> str:
    """The key from the keyring or MISTRAL_API_KEY; AuthenticationError saying how to set it."""
    key = await asyncio.to_thread(secrets.get_secret, KEY_ACCOUNT, env_var=KEY_ENV)
    if not key:
        raise AuthenticationError("No Mistral API key is set.", hint=KEY_HINT)
    return key


def chat_context(model: str) -> int:
    for prefix, tokens in CHAT_CONTEXTS:
        if model.startswith(prefix):
            return tokens
    return DEFAULT_CHAT_CONTEXT


def _message(body: str) -> str:
    """Mistral's error text: {"message": ...} (sometimes a dict itself), {"detail": ...}."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, TypeError):
        return body.strip()[:300]
    if isinstance(data, dict):
        for key in ("message", "detail", "error"):
            value = data.get(key)
            if value:
                return value if isinstance(value, str) else json.dumps(value)[:300]
    return body.strip()[:300]


def translate(exc: BaseException, model: str, url: str) -> Failure:
    """A mistralai/httpx2 exception as a Botdesk error, and whether retrying may help."""
    url = redact_url(url)
    if isinstance(exc, ResponseValidationError):
        return Failure(
            BadResponseError(
                f"Mistral at {url} sent an answer Botdesk cannot read.",
                hint=f"Check that {URL_ENV} points at Mistral's API, or update Botdesk.",
            )
        )
    if isinstance(exc, MistralError):
        retry_after = retry_after_s(exc.headers.get("retry-after"))
        return _translate_status(exc.status_code, _message(exc.body), model, url, retry_after)
    if isinstance(exc, httpx2.TimeoutException | TimeoutError):
        return Failure(
            ProviderTimeoutError(
                f"Mistral did not answer in time ({model}).",
                hint="The service may be overloaded; try again in a moment.",
            ),
            retryable=True,
        )
    if isinstance(exc, httpx2.ConnectError | NoResponseError):
        return Failure(
            ProviderUnavailableError(
                f"Cannot reach Mistral at {url}.",
                hint=f"Check the internet connection (and {URL_ENV} if you set it).",
            )
        )
    if isinstance(exc, httpx2.TransportError):
        return Failure(
            ProviderUnavailableError(
                f"The connection to Mistral broke: {type(exc).__name__}.",
                hint="Check the internet connection, then try again.",
            ),
            retryable=True,
        )
    if isinstance(exc, ValueError | TypeError | KeyError):
        return Failure(
            BadResponseError(
                f"Mistral sent an answer Botdesk cannot read ({type(exc).__name__}).",
                hint=f"Check that {URL_ENV} points at Mistral's API, or update Botdesk.",
            )
        )
    return Failure(ProviderError(f"Mistral failed: {type(exc).__name__}: {exc}"))


def _translate_status(
    status: int, message: str, model: str, url: str, retry_after: float | None
) -> Failure:
    lowered = message.lower()
    if status in (401, 403):
        return Failure(
            AuthenticationError(f"Mistral rejected the API key ({status}).", hint=KEY_HINT)
        )
    if status == 429:
        return Failure(
            RateLimitedError("Mistral is rate-limiting requests.", retry_after=retry_after),
            retryable=True,
            retry_after=retry_after,
        )
    if status == 404 or "invalid model" in lowered or "invalid_model" in lowered:
        return Failure(
            ModelNotFoundError(
                f"Mistral has no model {model!r} for this key.",
                hint="Check the model name (e.g. mistral-small-latest, mistral-embed) "
                "in Mistral's model list.",
            )
        )
    if status in (400, 413, 422) and any(word in lowered for word in _TOO_LONG_WORDS):
        return Failure(
            InputTooLongError(
                f"The input is longer than {model} accepts ({message}).",
                hint="Use fewer or shorter passages.",
            )
        )
    if status in (502, 503, 504):
        return Failure(
            ProviderUnavailableError(
                f"Mistral is unavailable ({status}).", hint="Try again in a few minutes."
            ),
            retryable=True,
        )
    if status >= 500:
        return Failure(
            BadResponseError(
                f"Mistral failed on the request ({status}: {message}).",
                hint="Try again in a few minutes.",
            ),
            retryable=True,
        )
    return Failure(ProviderError(f"Mistral refused the request ({status}: {message})."))


class _KeyCache:
    """The key, read once per embedder or generator (a keyring lookup can take a while)."""

    def __init__(self) -> None:
        self.value: str | None = None

    async def get(self) -> str:
        if self.value is None:
            self.value = await api_key()
        return self.value


@functools.cache
def _idle_sync_client() -> httpx2.Client:
    """The SDK builds a sync client unless given one (~50 ms for its TLS set-up, per
    request); we only ever call async methods, so every SDK instance shares this one."""
    return httpx2.Client(follow_redirects=False, verify=shared_ssl_context())


@contextlib.asynccontextmanager
async def _session(policy: RetryPolicy, url: str, keys: _KeyCache) -> AsyncIterator[Mistral]:
    """An SDK client on our own httpx2 client (timeouts we choose, no redirects)."""
    # Before the key is even read: it goes out as a bearer header on every request.
    refuse_plain_http(url, what="the Mistral API key", setting=URL_ENV)
    key = await keys.get()
    timeout = httpx2.Timeout(policy.timeout_s, connect=policy.connect_timeout_s)
    async with httpx2.AsyncClient(
        timeout=timeout, follow_redirects=False, verify=shared_ssl_context()
    ) as http:
        yield Mistral(
            api_key=key,
            server_url=url,
            client=_idle_sync_client(),
            async_client=http,
            timeout_ms=int(policy.timeout_s * 1000),
        )


# -- embeddings ----------------------------------------------------------------------------
class MistralEmbedder:
    """Embeds with a Mistral model (mistral-embed) through /v1/embeddings."""

    def __init__(
        self,
        spec: ModelSpec,
        *,
        url: str | None = None,
        policy: RetryPolicy | None = None,
        dimensions: int | None = None,
        max_batch: int = EMBED_BATCH,
    ) -> None:
        self.spec = spec
        self.url = url or mistral_url()
        self.policy = policy or RetryPolicy.from_env()
        self.max_batch = max_batch
        self.max_input_tokens = int(EMBED_INPUT_TOKENS * TOKEN_MARGIN)
        self.dimensions = dimensions
        self.requests = 0
        self._keys = _KeyCache()

    async def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order; see vectors.embed_in_batches for failures."""
        return await embed_in_batches(texts, self.max_batch, self._request)

    async def _request(self, chunk: list[str]) -> list[list[float]]:
        async with _session(self.policy, self.url, self._keys) as sdk:

            async def attempt() -> list[list[float]]:
                self.requests += 1
                response = await sdk.embeddings.create_async(model=self.spec.model, inputs=chunk)
                ordered = sorted(response.data, key=lambda d: d.index or 0)
                return [list(map(float, d.embedding or [])) for d in ordered]

            vectors = await call_with_retries(
                attempt,
                lambda exc: translate(exc, self.spec.model, self.url),
                policy=self.policy,
                provider=PROVIDER,
            )
        self.dimensions = check_vectors(vectors, len(chunk), self.dimensions, PROVIDER)
        return vectors


# -- chat ----------------------------------------------------------------------------------
class MistralGenerator:
    """Streams a chat answer from a Mistral model through /v1/chat/completions (SSE)."""

    def __init__(
        self,
        spec: ModelSpec,
        *,
        url: str | None = None,
        policy: RetryPolicy | None = None,
        context_tokens: int | None = None,
    ) -> None:
        self.spec = spec
        self.url = url or mistral_url()
        self.policy = policy or RetryPolicy.from_env()
        self.context_tokens = context_tokens or chat_context(spec.model)
        self._keys = _KeyCache()

    async def stream(
        self, messages: Sequence[ChatMessage], settings: GenerationSettings
    ) -> AsyncIterator[GenerationEvent]:
        """TextDelta pieces, then one Usage from the final chunk's `usage`."""
        payload: Any = [{"role": m.role, "content": m.content} for m in messages]
        async with _session(self.policy, self.url, self._keys) as sdk:

            async def start() -> tuple[Any, AsyncIterator[str], str | None]:
                opened = await sdk.chat.stream_async(
                    model=self.spec.model,
                    messages=payload,
                    temperature=settings.temperature,
                    max_tokens=settings.max_tokens,
                )
                # The SDK's event parser returns at [DONE] from inside its read loop and
                # leaves httpx2's byte generators suspended, for the event loop's async-
                # generator hooks to finalise; qasync installs none, so they fail at garbage
                # collection. Reading the SSE lines to the end ourselves leaves none behind.
                lines = opened.response.aiter_lines()
                return opened, lines, await _next_data(lines)

            opened, lines, data = await call_with_retries(
                start, self._translate, policy=self.policy, provider=PROVIDER
            )
            usage: Usage | None = None
            try:
                while data is not None:
                    if data != "[DONE]":
                        pieces, found = self._chunk(data)
                        for piece in pieces:
                            yield TextDelta(piece)
                        usage = found or usage
                    try:
                        data = await _next_data(lines)
                    except Exception as exc:
                        raise self._translate(exc).error from exc
            finally:
                with contextlib.suppress(Exception):
                    await opened.close()  # cancelled mid-answer: close the stream now
            if usage is not None:
                yield usage

    def _chunk(self, data: str) -> tuple[list[str], Usage | None]:
        """The text pieces and usage of one `data:` event (a chat.completion.chunk)."""
        try:
            chunk = json.loads(data)
        except json.JSONDecodeError as exc:
            raise BadResponseError(
                f"Mistral sent a streamed piece Botdesk cannot read ({self.spec.model}).",
                hint="Try again; if it persists, update Botdesk.",
            ) from exc
        if not isinstance(chunk, dict):
            raise BadResponseError(f"Mistral sent an unexpected streamed piece: {data[:100]}")
        if "choices" not in chunk:
            # An error reported mid-stream: {"object": "error", "message": ..., "type": ...}
            message = _message(data)
            raise ProviderError(
                f"Mistral failed in the middle of the answer: {message}",
                hint="Try again in a moment.",
            )
        pieces = []
        for choice in chunk.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if isinstance(content, str) and content:
                pieces.append(content)
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            return pieces, Usage(
                int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
            )
        return pieces, None

    def _translate(self, exc: BaseException) -> Failure:
        return translate(exc, self.spec.model, self.url)


async def _next_data(lines: AsyncIterator[str]) -> str | None:
    """The payload of the next SSE `data:` line; None at the end of the stream."""
    async for line in lines:
        if line.startswith("data:"):
            return line[5:].strip()
    return None


# -- connection test -----------------------------------------------------------------------
async def _model_cards(
    policy: RetryPolicy | None, url: str | None
) -> tuple[str, dict[str, int | None]]:
    """(server, {model id: context length}) from GET /v1/models, tried once."""
    url = url or mistral_url()
    base = policy or RetryPolicy.from_env()
    one_try = RetryPolicy(
        attempts=1, timeout_s=min(base.timeout_s, interactive_seconds()), connect_timeout_s=5.0
    )
    async with _session(one_try, url, _KeyCache()) as sdk:

        async def probe() -> dict[str, int | None]:
            listed = await sdk.models.list_async()
            return {
                str(getattr(m, "id", "")): getattr(m, "max_context_length", None)
                for m in (listed.data or [])
            }

        cards = await call_with_retries(
            probe, lambda exc: translate(exc, "", url), policy=one_try, provider=PROVIDER
        )
    return url, cards


async def list_models(*, policy: RetryPolicy | None = None, url: str | None = None) -> list[str]:
    """The model ids this key may use, sorted. `url`: the server (None: BOTDESK_MISTRAL_URL
    or Mistral's)."""
    _, cards = await _model_cards(policy, url)
    return sorted(name for name in cards if name)


async def check_connection(
    spec: ModelSpec, *, policy: RetryPolicy | None = None, url: str | None = None
) -> str:
    """One summary line (key accepted, model listed), or the ProviderError saying why not."""
    url, names = await _model_cards(policy, url)
    if spec.model not in names:
        raise ModelNotFoundError(
            f"Mistral has no model {spec.model!r} for this key.",
            hint="Check the model name (e.g. mistral-small-latest, mistral-embed).",
        )
    context = names[spec.model]
    details = f" (context {context} tokens)" if context else ""
    return f"Mistral at {redact_url(url)}: the key works and {spec.model} is available{details}."
