"""Retrying a model call: backoff with jitter on 429 (honouring Retry-After), 5xx and timeouts.

Each back-end translates its SDK's exceptions into a `Failure`: the Botdesk error a user
would see, and whether trying again may help. `call_with_retries` retries the retryable
ones a bounded number of times, then raises the translated error. Nothing here knows an
SDK, so Ollama and Mistral share one policy and one set of tests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from desktop.core.errors import ProviderError, RateLimitedError

T = TypeVar("T")

# Defaults; the environment overrides them (tests use short ones, see tests/helpers).
DEFAULT_ATTEMPTS = 4
DEFAULT_BACKOFF_BASE_S = 0.5
DEFAULT_BACKOFF_MAX_S = 20.0
# Mistral's SDK obeys any Retry-After with no upper bound: we cap it, and give up at once
# when the server asks for longer than this.
DEFAULT_MAX_RETRY_AFTER_S = 60.0
DEFAULT_TIMEOUT_S = 120.0
DEFAULT_CONNECT_TIMEOUT_S = 5.0
# All attempts and waits together: a server that accepts connections but never answers
# costs a background job this long, not attempts x timeout (8 minutes at the defaults).
DEFAULT_DEADLINE_S = 300.0
# Someone is waiting (search, ask, a connection check): the whole call, retries included.
DEFAULT_INTERACTIVE_S = 25.0

ENV_ATTEMPTS = "BOTDESK_PROVIDER_ATTEMPTS"
ENV_BACKOFF_BASE_S = "BOTDESK_PROVIDER_BACKOFF_S"
ENV_MAX_RETRY_AFTER_S = "BOTDESK_PROVIDER_MAX_RETRY_AFTER_S"
ENV_TIMEOUT_S = "BOTDESK_PROVIDER_TIMEOUT_S"
ENV_DEADLINE_S = "BOTDESK_PROVIDER_DEADLINE_S"
ENV_INTERACTIVE_S = "BOTDESK_INTERACTIVE_TIMEOUT_S"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a back-end is asked again.

    `timeout_s` bounds one attempt as a whole (httpx read timeouts are per chunk, so a slow
    drip would otherwise never time out); `connect_timeout_s` bounds opening a connection;
    `deadline_s` bounds every attempt and wait together.
    """

    attempts: int = DEFAULT_ATTEMPTS
    backoff_base_s: float = DEFAULT_BACKOFF_BASE_S
    backoff_max_s: float = DEFAULT_BACKOFF_MAX_S
    max_retry_after_s: float = DEFAULT_MAX_RETRY_AFTER_S
    timeout_s: float = DEFAULT_TIMEOUT_S
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S
    deadline_s: float = DEFAULT_DEADLINE_S

    @classmethod
    def interactive(cls) -> RetryPolicy:
        """For calls someone waits on (search, ask, check): the whole call, retries
        included, ends within BOTDESK_INTERACTIVE_TIMEOUT_S (25 s by default)."""
        return cls.from_env().bounded(interactive_seconds())

    def bounded(self, seconds: float) -> RetryPolicy:
        """This policy for someone waiting: two attempts at most, everything within `seconds`."""
        return dataclasses.replace(
            self,
            attempts=min(self.attempts, 2),
            timeout_s=min(self.timeout_s, seconds),
            connect_timeout_s=min(self.connect_timeout_s, seconds),
            deadline_s=seconds,
        )

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """The defaults, with BOTDESK_PROVIDER_* environment variables applied."""
        changes: dict[str, Any] = {}
        for var, name, kind in (
            (ENV_ATTEMPTS, "attempts", int),
            (ENV_BACKOFF_BASE_S, "backoff_base_s", float),
            (ENV_MAX_RETRY_AFTER_S, "max_retry_after_s", float),
            (ENV_TIMEOUT_S, "timeout_s", float),
            (ENV_DEADLINE_S, "deadline_s", float),
        ):
            raw = os.environ.get(var)
            if not raw:
                continue
            try:
                value = kind(raw)
            except ValueError:
                continue  # a typo in a tuning knob must not stop the app
            if value > 0:
                changes[name] = value
        return cls(**changes)

    def backoff(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Delay before retry number `attempt` (0-based): exponential, half of it jittered."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * (2.0**attempt))
        return ceiling / 2 + rng() * ceiling / 2


def interactive_seconds() -> float:
    """How long a call someone waits on may take, retries included."""
    return _env_float(ENV_INTERACTIVE_S) or DEFAULT_INTERACTIVE_S


def _env_float(name: str) -> float | None:
    try:
        value = float(os.environ.get(name) or 0)
    except ValueError:
        return None  # a typo in a tuning knob must not stop the app
    return value if value > 0 else None


@dataclass
class Failure:
    """A foreign exception translated: the error to raise, and whether to try again."""

    error: ProviderError
    retryable: bool = False
    retry_after: float | None = None  # seconds the server asked us to wait


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    translate: Callable[[BaseException], Failure],
    *,
    policy: RetryPolicy,
    provider: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run `call` (one attempt per invocation, bounded by policy.timeout_s), retrying.

    Cancellation is never retried or translated. Any other exception goes through
    `translate`; retryable failures are tried again up to `policy.attempts` times in all.
    """
    attempts = max(1, policy.attempts)
    started = time.monotonic()
    for attempt in range(attempts):
        remaining = policy.deadline_s - (time.monotonic() - started)
        try:
            async with asyncio.timeout(max(0.0, min(policy.timeout_s, remaining))):
                return await call()
        except asyncio.CancelledError:
            raise
        except ProviderError:
            raise  # already ours (raised by our own checks inside `call`)
        except BaseException as exc:
            if not isinstance(exc, Exception):
                raise
            failure = translate(exc)
            last = attempt == attempts - 1
            if not failure.retryable:
                raise failure.error from exc
            if failure.retry_after is not None and failure.retry_after > policy.max_retry_after_s:
                raise _rate_limited(provider, failure, asked=True) from exc
            delay = (
                failure.retry_after if failure.retry_after is not None else policy.backoff(attempt)
            )
            elapsed = time.monotonic() - started
            out_of_time = elapsed + delay >= policy.deadline_s
            if last or out_of_time:
                if isinstance(failure.error, RateLimitedError):
                    raise _rate_limited(provider, failure, asked=False, tries=attempt + 1) from exc
                tries = f"{attempt + 1} attempt{'s' if attempt else ''}"
                failure.error.message = (
                    f"{failure.error.message} (still failing after {tries} in {elapsed:.0f} s)"
                )
                raise failure.error from exc
            await sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _rate_limited(
    provider: str, failure: Failure, *, asked: bool, tries: int = 0
) -> RateLimitedError:
    wait = failure.retry_after
    if asked and wait is not None:
        message = f"{provider} is rate-limiting requests and asked to wait {wait:.0f} s."
    else:
        message = f"{provider} is still rate-limiting requests after {tries} attempts."
    hint = (
        f"Try again in {wait:.0f} s" if wait else "Wait a minute and try again"
    ) + ", or run fewer things at once (a smaller test set concurrency, one sync at a time)."
    return RateLimitedError(message, hint=hint, retry_after=wait)


def redact_url(url: str) -> str:
    """A server address fit for a message: no user:password@ and no query (keys hide there)."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "(an invalid address)"
    if not parts.scheme or not parts.netloc:
        return url.rsplit("@", maxsplit=1)[-1].split("?", maxsplit=1)[0]
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
