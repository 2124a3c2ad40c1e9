"""Politeness toward one host: requests in flight, their spacing, and Retry-After.

`HostLimiter` keeps to `concurrency` requests at once per host, started `interval`
seconds apart (the larger of the source's delay and robots.txt's Crawl-delay, which
therefore still wins over the source's concurrency), and pauses on a 429/503.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from desktop.core.http_retry import retry_after_s

MAX_RETRY_WAIT_S = 10.0  # the longest Retry-After honoured before one retry


class HostLimiter:
    """At most `concurrency` requests at once to one host, starts `interval` s apart."""

    def __init__(
        self,
        concurrency: int,
        interval: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = max(interval, 0.0)
        self._slots = asyncio.Semaphore(max(concurrency, 1))
        self._spacing = asyncio.Lock()
        self._next = 0.0
        self._clock, self._sleep = clock, sleep
        self.failures = 0  # consecutive timeouts / network errors

    async def acquire(self) -> None:
        await self._slots.acquire()
        try:
            async with self._spacing:
                wait = self._next - self._clock()
                if wait > 0:
                    await self._sleep(wait)
                self._next = max(self._clock(), self._next) + self.interval
        except BaseException:
            self._slots.release()
            raise

    def release(self) -> None:
        self._slots.release()

    def pause(self, seconds: float) -> None:
        """No new request to this host for `seconds` (a 429/503 with Retry-After)."""
        self._next = max(self._next, self._clock() + seconds)


def retry_after_seconds(value: str | None, default: float = 1.0) -> float:
    """Seconds from a Retry-After header (delta or HTTP date), capped; `default` if unreadable."""
    seconds = retry_after_s(value, cap_s=MAX_RETRY_WAIT_S)
    return default if seconds is None else seconds
