"""Ollama back-end: batched embeddings (/api/embed) and streaming chat via `ollama.AsyncClient`.

The client has no timeout by default, reports a server that is down as the built-in
`ConnectionError` (or a raw httpx.ConnectError once streaming), timeouts as raw httpx
errors, and HTTP failures as `ResponseError` with a status code (-1 for an error line in
the middle of a stream). All of that becomes desktop.core.errors here. Listing, checking
and downloading models: ollama_models.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import httpx
import ollama

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
from desktop.core.text import count_tokens
from desktop.core.tls import shared_ssl_context
from desktop.providers.addresses import ollama_host
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

PROVIDER = "Ollama"
T = TypeVar("T")
EMBED_BATCH = 32
# Unknown embedding models: a conservative context (all-minilm and mxbai-embed-large have 512).
DEFAULT_EMBED_CONTEXT = 512
# Chat: Ollama silently cuts a prompt longer than num_ctx from the front (losing the system
# prompt), so we always send num_ctx. Capped: a larger num_ctx makes Ollama reload the model
# with a bigger KV cache (memory, a slow first answer); 8k holds k=5 passages many times over.
DEFAULT_CHAT_CONTEXT = 4096
MAX_CHAT_CONTEXT = 8192
# Our token estimate is within about 10% of real tokenisers: keep that much in hand.
TOKEN_MARGIN = 0.9
SHOW_TIMEOUT_S = 2.0

_CONTEXT_WORDS = ("context length", "context window", "input length")


def translate(exc: BaseException, model: str, host: str) -> Failure:
    """An `ollama`/httpx exception as a Botdesk error, and whether retrying may help."""
    raw_host, host = host, redact_url(host)
    if isinstance(exc, ollama.ResponseError):
        failure = _translate_response(exc.status_code, str(exc.error), model, host)
        if failure.retryable:
            failure.retry_after = _retry_after(exc)
        return failure
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        _silent[raw_host] = time.monotonic()
        return Failure(
            ProviderTimeoutError(
                f"Ollama at {host} did not answer in time ({model}).",
                hint="The model may still be loading or the machine is busy; try again, "
                "or use a smaller model.",
            ),
            retryable=True,
        )
    if isinstance(exc, ConnectionError | httpx.ConnectError):
        return Failure(
            ProviderUnavailableError(
                f"Ollama is not running at {host}.",
                hint="Start it with `ollama serve` (or set OLLAMA_HOST to where it runs).",
            )
        )
    if isinstance(exc, httpx.TransportError):
        # The connection dropped mid-answer (a restart, a crash of the runner): try again.
        return Failure(
            ProviderUnavailableError(
                f"The connection to Ollama at {host} broke: {type(exc).__name__}.",
                hint="Check that `ollama serve` is still running, then try again.",
            ),
            retryable=True,
        )
    if isinstance(exc, ValueError | TypeError | KeyError):
        # Malformed JSON or a body that does not fit the client's models (pydantic errors
        # are ValueErrors).
        return Failure(
            BadResponseError(
                f"Ollama at {host} sent an answer Botdesk cannot read ({type(exc).__name__}).",
                hint="Check that OLLAMA_HOST points at an Ollama server, and update Ollama.",
            )
        )
    return Failure(ProviderError(f"Ollama failed: {type(exc).__name__}: {exc}"))


def _retry_after(exc: BaseException) -> float | None:
    """Retry-After of the response behind a ResponseError.

    The client raises ResponseError `from None` inside its handler for httpx's
    HTTPStatusError, dropping the headers from the error itself; the suppressed
    context still holds the response.
    """
    context = exc.__context__
    if isinstance(context, httpx.HTTPStatusError):
        return retry_after_s(context.response.headers.get("retry-after"))
    return None


def _translate_response(status: int, error: str, model: str, host: str) -> Failure:
    lowered = error.lower()
    if status == 404 or ("not found" in lowered and "model" in lowered):
        return Failure(
            ModelNotFoundError(
                f"Ollama has no model {model!r}.",
                hint=f"Download it with `ollama pull {model}`.",
            )
        )
    if any(word in lowered for word in _CONTEXT_WORDS):
        return Failure(
            InputTooLongError(
                f"The input is longer than {model}'s context ({error}).",
                hint="Split the passage into smaller ones, or use a model with a longer context.",
            )
        )
    if "does not support" in lowered:
        return Failure(
            ProviderError(
                f"Ollama cannot use {model} for this ({error}).",
                hint="Embeddings need an embedding model (e.g. all-minilm, nomic-embed-text); "
                "answers need a chat model (e.g. llama3.2).",
            )
        )
    if status in (401, 403):
        return Failure(
            AuthenticationError(
                f"Ollama at {host} refused the request ({status}).",
                hint="This server needs a key: set the environment variable OLLAMA_API_KEY.",
            )
        )
    if status == 429:
        return Failure(
            RateLimitedError(f"Ollama at {host} is rate-limiting requests."), retryable=True
        )
    if status == 503:
        return Failure(
            ProviderUnavailableError(
                f"Ollama at {host} is busy (its queue is full).",
                hint="Try again in a moment, or run fewer things at once.",
            ),
            retryable=True,
        )
    if status >= 500:
        return Failure(
            BadResponseError(
                f"Ollama failed on the request ({status}: {error}).",
                hint="Check the Ollama server log; restarting `ollama serve` often helps.",
            ),
            retryable=True,
        )
    return Failure(ProviderError(f"Ollama refused the request ({status}: {error})."))


# -- model details from /api/show ----------------------------------------------------------
_limits_cache: dict[tuple[str, str], int | None] = {}
_unreachable: dict[tuple[str, str], float] = {}  # (host, model) -> when /api/show last failed
_limits_lock = threading.Lock()
# After a failed /api/show, use the defaults for a while rather than ask (and possibly
# stall for SHOW_TIMEOUT_S) again for every question.
SHOW_RETRY_AFTER_S = 30.0
# A server that accepted a connection and then said nothing: for this long, calls someone
# waits on fail at once with the same message instead of waiting it out again (an `ask`
# would otherwise wait once for the question's vector and once more for the answer).
SILENT_FOR_S = 30.0
_silent: dict[str, float] = {}  # host -> when a call to it last timed out


def _heard_from(host: str) -> None:
    _silent.pop(host, None)


def _silent_error(host: str, policy: RetryPolicy, model: str) -> ProviderTimeoutError | None:
    """The error to fail fast with, if `host` timed out a moment ago and someone waits."""
    when = _silent.get(host)
    if when is None or time.monotonic() - when > SILENT_FOR_S:
        return None
    if policy.deadline_s > interactive_seconds():
        return None  # background work waits its own (bounded) time
    error = translate(TimeoutError(), model, host).error
    assert isinstance(error, ProviderTimeoutError)
    error.message += " It did not answer a moment ago either."
    return error


def model_context_length(host: str, model: str) -> int | None:
    """The model's trained context length from /api/show; None if unknown or unreachable.

    Synchronous on purpose (the protocols expose limits as plain attributes) with a short
    timeout, and cached per host and model: a local server answers in milliseconds.
    """
    key = (host, model)
    silent = _silent.get(host)
    if silent is not None and time.monotonic() - silent < SILENT_FOR_S:
        return None  # it just failed to answer: no 2 s wait for the defaults
    with _limits_lock:
        if key in _limits_cache:
            return _limits_cache[key]
        failed = _unreachable.get(key)
        if failed is not None and time.monotonic() - failed < SHOW_RETRY_AFTER_S:
            return None
    try:
        with ollama.Client(
            host=host, timeout=SHOW_TIMEOUT_S, verify=shared_ssl_context()
        ) as client:
            shown = client.show(model)
        found = context_length_of(shown.modelinfo or {}, shown.parameters or "")
    except Exception:
        # Down or not pulled: the real call will say so; defaults meanwhile.
        with _limits_lock:
            _unreachable[key] = time.monotonic()
        return None
    with _limits_lock:
        _limits_cache[key] = found
        _unreachable.pop(key, None)
    return found


def forget_model_limits() -> None:
    """Drop what /api/show said (or that it failed): after `ollama pull`, or between tests."""
    with _limits_lock:
        _limits_cache.clear()
        _unreachable.clear()
        _silent.clear()


def context_length_of(model_info: Mapping[str, Any], parameters: str = "") -> int | None:
    """`<arch>.context_length` from /api/show's model_info; a num_ctx parameter wins."""
    for line in parameters.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "num_ctx" and parts[1].isdigit():
            return int(parts[1])
    for key, value in model_info.items():
        if key.endswith(".context_length") and isinstance(value, int) and value > 0:
            return value
    return None


def async_client(host: str, policy: RetryPolicy) -> ollama.AsyncClient:
    """A client with the policy's timeouts (the SDK has none by default)."""
    timeout = httpx.Timeout(policy.timeout_s, connect=policy.connect_timeout_s)
    return ollama.AsyncClient(host=host, timeout=timeout, verify=shared_ssl_context())


# -- embeddings ----------------------------------------------------------------------------
class OllamaEmbedder:
    """Embeds with an Ollama model through /api/embed, `max_batch` texts per request."""

    def __init__(
        self,
        spec: ModelSpec,
        *,
        host: str | None = None,
        policy: RetryPolicy | None = None,
        dimensions: int | None = None,
        max_batch: int = EMBED_BATCH,
        max_input_tokens: int | None = None,
    ) -> None:
        self.spec = spec
        self.host = host or ollama_host()
        self.policy = policy or RetryPolicy.from_env()
        self.max_batch = max_batch
        if max_input_tokens is None:
            context = model_context_length(self.host, spec.model) or DEFAULT_EMBED_CONTEXT
            max_input_tokens = max(1, int(context * TOKEN_MARGIN))
        self.max_input_tokens = max_input_tokens
        # Learnt from the first vector unless the workspace already recorded it.
        self.dimensions = dimensions
        self.requests = 0  # HTTP embedding calls made, for "how many calls did a sync cost"

    async def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order; see vectors.embed_in_batches for failures."""
        return await embed_in_batches(texts, self.max_batch, self._request)

    async def _request(self, chunk: list[str]) -> list[list[float]]:
        async def attempt() -> list[list[float]]:
            self.requests += 1
            async with async_client(self.host, self.policy) as client:
                response = await client.embed(model=self.spec.model, input=chunk)
            return [list(map(float, v)) for v in response.embeddings]

        silent = _silent_error(self.host, self.policy, self.spec.model)
        if silent is not None:
            raise silent
        vectors = await call_with_retries(
            attempt,
            lambda exc: translate(exc, self.spec.model, self.host),
            policy=self.policy,
            provider=PROVIDER,
        )
        _heard_from(self.host)
        self.dimensions = check_vectors(vectors, len(chunk), self.dimensions, PROVIDER)
        return vectors


# -- chat ----------------------------------------------------------------------------------
# An answer's first line comes after the model is loaded and the prompt is read: on a laptop
# CPU that alone can take longer than the interactive bound (a cold 3B model plus a prompt
# of a few passages: 20-60 s). So the first line may take this long, as long as the server
# shows every interactive bound that it is alive; a server that accepts connections and
# then says nothing still fails within the bound plus LIVENESS_TIMEOUT_S.
ENV_ANSWER_START_S = "BOTDESK_ANSWER_START_TIMEOUT_S"
DEFAULT_ANSWER_START_S = 180.0
LIVENESS_TIMEOUT_S = 2.0


def answer_start_seconds() -> float:
    """How long a live Ollama may take to start an answer (BOTDESK_ANSWER_START_TIMEOUT_S)."""
    try:
        value = float(os.environ.get(ENV_ANSWER_START_S) or 0)
    except ValueError:
        value = 0.0  # a typo in a tuning knob must not stop the app
    return value if value > 0 else DEFAULT_ANSWER_START_S


class ServerSilentError(Exception):
    """The server stopped answering even GET /api/version while an answer was awaited."""


async def server_answers(host: str) -> bool:
    """Whether the Ollama server at `host` answers GET /api/version (it does while busy
    generating: the version route does not wait for the model queue)."""
    try:
        async with httpx.AsyncClient(
            timeout=LIVENESS_TIMEOUT_S, verify=shared_ssl_context()
        ) as client:
            response = await client.get(f"{host.rstrip('/')}/api/version")
    except httpx.HTTPError:
        return False
    return response.status_code < 500


async def first_line_while_alive(
    start: Callable[[], Awaitable[T]], host: str, *, check_every_s: float
) -> T:
    """`await start()`, asking the server every `check_every_s` whether it is alive and
    giving up (TimeoutError) as soon as it is not."""
    task = asyncio.ensure_future(start())
    try:
        while True:
            done, _pending = await asyncio.wait({task}, timeout=check_every_s)
            if done:
                return task.result()
            if not await server_answers(host):
                raise ServerSilentError(host)
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


class OllamaGenerator:
    """Streams a chat answer from an Ollama model through /api/chat (NDJSON)."""

    def __init__(
        self,
        spec: ModelSpec,
        *,
        host: str | None = None,
        policy: RetryPolicy | None = None,
        context_tokens: int | None = None,
    ) -> None:
        self.spec = spec
        self.host = host or ollama_host()
        self.policy = policy or RetryPolicy.from_env()
        if context_tokens is None:
            trained = model_context_length(self.host, spec.model)
            context_tokens = min(trained, MAX_CHAT_CONTEXT) if trained else DEFAULT_CHAT_CONTEXT
        self.context_tokens = context_tokens

    async def stream(
        self, messages: Sequence[ChatMessage], settings: GenerationSettings
    ) -> AsyncIterator[GenerationEvent]:
        """TextDelta pieces, then one Usage from the final `done` line's counts."""
        self._check_fits(messages, settings)
        payload = [{"role": m.role, "content": m.content} for m in messages]
        options = {
            "temperature": settings.temperature,
            "num_predict": settings.max_tokens,
            "num_ctx": self.context_tokens,
        }
        # Patient for the first line (see first_line_while_alive), bounded as before after.
        patience = max(self.policy.timeout_s, answer_start_seconds())
        patient = dataclasses.replace(
            self.policy, timeout_s=patience, deadline_s=max(self.policy.deadline_s, patience)
        )
        async with async_client(self.host, patient) as client:
            parts, part = await self._first_line(client, payload, options, patient)
            usage: Usage | None = None
            try:
                while part is not None:
                    text = part.message.content if part.message is not None else None
                    if text:
                        yield TextDelta(text)
                    if part.done:
                        usage = Usage(int(part.prompt_eval_count or 0), int(part.eval_count or 0))
                    # Read on to the end of the body even after `done`: a stream left
                    # half-read leaves httpx's generators suspended for the loop's async-
                    # generator hooks to finalise, and qasync installs none.
                    try:
                        part = await anext(parts, None)
                    except Exception as exc:
                        raise self._translate(exc).error from exc
            finally:
                # Cancelled or abandoned mid-answer: close the HTTP stream now, not at GC.
                close = getattr(parts, "aclose", None)
                if close is not None:
                    with contextlib.suppress(Exception):
                        await close()
            if usage is None:
                raise BadResponseError(
                    f"Ollama's answer from {self.spec.model} ended without its final message.",
                    hint="The server may have restarted; try again.",
                )
            yield usage

    def _check_fits(self, messages: Sequence[ChatMessage], settings: GenerationSettings) -> None:
        prompt = sum(count_tokens(m.content) for m in messages)
        if prompt + settings.max_tokens > self.context_tokens:
            # Ollama would not refuse: it would drop the start of the prompt without a word.
            raise InputTooLongError(
                f"The prompt (about {prompt} tokens) and answer ({settings.max_tokens}) "
                f"exceed {self.spec.model}'s context of {self.context_tokens} tokens.",
                hint="Use fewer or shorter passages, or a model with a longer context.",
            )

    async def _first_line(
        self,
        client: ollama.AsyncClient,
        payload: list[dict[str, str]],
        options: Mapping[str, Any],
        patient: RetryPolicy,
    ) -> tuple[AsyncIterator[ollama.ChatResponse], Any]:
        """Send the chat request and wait for its first line, retried up to that line."""

        async def request() -> tuple[AsyncIterator[ollama.ChatResponse], Any]:
            # The request goes out on the first iteration: retry up to the first line.
            opened = await client.chat(
                model=self.spec.model, messages=payload, stream=True, options=options
            )
            return opened, await anext(opened, None)

        async def start() -> tuple[AsyncIterator[ollama.ChatResponse], Any]:
            check_every = min(self.policy.timeout_s, interactive_seconds())
            try:
                return await first_line_while_alive(request, self.host, check_every_s=check_every)
            except ServerSilentError as exc:
                # Not retried: asking a server that stopped answering again only doubles
                # the wait (ProviderErrors pass through call_with_retries as they are).
                raise self._translate(TimeoutError()).error from exc

        silent = _silent_error(self.host, self.policy, self.spec.model)
        if silent is not None:
            raise silent
        opened = await call_with_retries(start, self._translate, policy=patient, provider=PROVIDER)
        _heard_from(self.host)
        return opened

    def _translate(self, exc: BaseException) -> Failure:
        return translate(exc, self.spec.model, self.host)
