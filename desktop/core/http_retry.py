"""Retry-After, read once for every HTTP client: model providers, the publish client, the crawler.

RFC 9110 allows delta-seconds or an HTTP date. Each caller once read it its own way (the
publish client ignored dates, the providers read a zone-less date as local time); this is
the one reading. The cap is the caller's: each has its own patience.
"""

from __future__ import annotations

import email.utils
import math
import time
from datetime import UTC


def retry_after_s(
    value: str | None, *, cap_s: float | None = None, now: float | None = None
) -> float | None:
    """Seconds a Retry-After header asks to wait, at most `cap_s`; None if absent or unreadable.

    A negative delay or a date already past is 0. `now` (epoch seconds) is for tests.
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000" in the header: UTC by RFC 5322, not local time
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):  # "nan" and "inf" parse as floats
        return None
    seconds = max(seconds, 0.0)
    return seconds if cap_s is None else min(seconds, cap_s)
