"""The shared retry helper: backoff, Retry-After, bounded attempts, what is never retried."""

from __future__ import annotations

import asyncio

import pytest

from desktop.core.errors import (
    BadResponseError,
    ModelNotFoundError,
    ProviderTimeoutError,
    RateLimitedError,
)
from desktop.providers.retry import (
    Failure,
    RetryPolicy,
    call_with_retries,
    redact_url,
)


class Flaky:
    """Fails with the given exceptions in turn, then returns "ok"; records the sleeps."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0
        self.sleeps: list[float] = []

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


class Throttled(Exception):
    def __init__(self, retry_after: float | None = None) -> None:
        super().__init__("429")
        self.retry_after = retry_after


def translate(exc: BaseException) -> Failure:
    if isinstance(exc, Throttled):
        error = RateLimitedError("Slow down.", retry_after=exc.retry_after)
        return Failure(error, retryable=True, retry_after=exc.retry_after)
    if isinstance(exc, TimeoutError):
        return Failure(ProviderTimeoutError("No answer in time."), retryable=True)
    if isinstance(exc, LookupError):
        return Failure(ModelNotFoundError("No such model."))
    return Failure(BadResponseError(f"Failed: {exc}"), retryable=True)


POLICY = RetryPolicy(attempts=4, backoff_base_s=1.0, backoff_max_s=8.0, max_retry_after_s=30)


def run(flaky: Flaky, policy: RetryPolicy = POLICY) -> str:
    return asyncio.run(
        call_with_retries(flaky, translate, policy=policy, provider="Test", sleep=flaky.sleep)
    )


def test_transient_failures_are_retried_with_growing_jittered_backoff() -> None:
    flaky = Flaky(RuntimeError("500"), RuntimeError("500"), RuntimeError("500"))
    assert run(flaky) == "ok"
    assert flaky.calls == 4
    # Attempt n waits between half and all of base * 2**n.
    for n, slept in enumerate(flaky.sleeps):
        assert 2**n / 2 <= slept <= 2**n


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(backoff_base_s=1.0, backoff_max_s=5.0)
    assert policy.backoff(10, rng=lambda: 1.0) == 5.0
    assert policy.backoff(10, rng=lambda: 0.0) == 2.5


def test_retry_after_is_honoured_instead_of_backoff() -> None:
    flaky = Flaky(Throttled(retry_after=7.0), Throttled(retry_after=None))
    assert run(flaky) == "ok"
    assert flaky.sleeps[0] == 7.0
    assert flaky.sleeps[1] <= 2.0  # no header: our own backoff


def test_retry_after_longer_than_the_cap_gives_up_at_once() -> None:
    flaky = Flaky(Throttled(retry_after=3600.0))
    with pytest.raises(RateLimitedError) as caught:
        run(flaky)
    assert flaky.calls == 1 and flaky.sleeps == []
    assert caught.value.retry_after == 3600.0
    assert "asked to wait 3600 s" in caught.value.message
    assert "Try again in 3600 s" in caught.value.hint


def test_exhausted_rate_limit_says_how_often_it_tried() -> None:
    flaky = Flaky(*(Throttled() for _ in range(4)))
    with pytest.raises(RateLimitedError) as caught:
        run(flaky)
    assert flaky.calls == 4 and len(flaky.sleeps) == 3
    assert "after 4 attempts" in caught.value.message
    assert "Wait a minute" in caught.value.hint


def test_exhausted_server_errors_raise_the_translated_error() -> None:
    flaky = Flaky(*(RuntimeError("boom") for _ in range(4)))
    with pytest.raises(BadResponseError, match=r"Failed: boom \(still failing after 4 attempts"):
        run(flaky)


def test_errors_that_retrying_cannot_fix_are_raised_at_once() -> None:
    flaky = Flaky(LookupError("missing"))
    with pytest.raises(ModelNotFoundError) as caught:
        run(flaky)
    assert flaky.calls == 1 and flaky.sleeps == []
    assert isinstance(caught.value.__cause__, LookupError)


def test_each_attempt_has_a_deadline() -> None:
    class Hanging(Flaky):
        async def __call__(self) -> str:
            self.calls += 1
            if self.calls == 1:
                await asyncio.sleep(30)
            return "ok"

    flaky = Hanging()
    policy = RetryPolicy(attempts=2, backoff_base_s=0.0, timeout_s=0.05)
    assert run(flaky, policy) == "ok"
    assert flaky.calls == 2


def test_cancellation_is_never_retried_or_translated() -> None:
    async def main() -> None:
        started = asyncio.Event()

        async def slow() -> str:
            started.set()
            await asyncio.sleep(30)
            return "late"

        task = asyncio.create_task(
            call_with_retries(slow, translate, policy=POLICY, provider="Test")
        )
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_policy_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOTDESK_PROVIDER_ATTEMPTS", "2")
    monkeypatch.setenv("BOTDESK_PROVIDER_BACKOFF_S", "0.25")
    monkeypatch.setenv("BOTDESK_PROVIDER_TIMEOUT_S", "not-a-number")
    policy = RetryPolicy.from_env()
    assert (policy.attempts, policy.backoff_base_s) == (2, 0.25)
    assert policy.timeout_s == RetryPolicy().timeout_s  # a typo keeps the default


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:11434", "http://127.0.0.1:11434"),
        ("https://user:s3cret@ollama.example.com/base?key=abc", "https://ollama.example.com/base"),
        ("http://[::1]:11434", "http://[::1]:11434"),
        ("user:s3cret@gpu-box:11434", "gpu-box:11434"),
    ],
)
def test_addresses_in_messages_carry_no_credentials(url: str, shown: str) -> None:
    assert redact_url(url) == shown
