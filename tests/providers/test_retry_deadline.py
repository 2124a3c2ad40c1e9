"""Retries end within a total bound (a server that never answers cost 8 minutes), and calls
someone waits on use the interactive bound."""

from __future__ import annotations

import asyncio

import pytest

from desktop.core.errors import ProviderTimeoutError
from desktop.providers.retry import Failure, RetryPolicy, call_with_retries


def _timeout(exc: BaseException) -> Failure:
    return Failure(ProviderTimeoutError("The server did not answer in time."), retryable=True)


def test_the_total_bound_stops_retries_before_the_attempts_run_out() -> None:
    calls = 0

    async def never() -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(60)

    policy = RetryPolicy(attempts=50, timeout_s=0.05, backoff_base_s=0.001, deadline_s=0.3)
    with pytest.raises(ProviderTimeoutError) as caught:
        asyncio.run(call_with_retries(never, _timeout, policy=policy, provider="X"))
    assert 1 < calls < 50
    assert f"still failing after {calls} attempts in 0 s" in caught.value.message


def test_interactive_policy_follows_its_environment_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOTDESK_PROVIDER_ATTEMPTS", "6")
    monkeypatch.setenv("BOTDESK_INTERACTIVE_TIMEOUT_S", "7")
    policy = RetryPolicy.interactive()
    assert policy.deadline_s == 7 and policy.timeout_s == 7 and policy.attempts == 2
    monkeypatch.delenv("BOTDESK_INTERACTIVE_TIMEOUT_S")
    assert RetryPolicy.interactive().deadline_s == 25.0  # under the 30 s users were promised
    monkeypatch.setenv("BOTDESK_PROVIDER_DEADLINE_S", "42")
    assert RetryPolicy.from_env().deadline_s == 42
