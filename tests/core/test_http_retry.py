"""Retry-After as delta-seconds or an HTTP date, with and without a cap."""

from __future__ import annotations

import email.utils

import pytest

from desktop.core.http_retry import retry_after_s

NOW = 1_000_000.0


def test_seconds() -> None:
    assert retry_after_s("3") == 3.0
    assert retry_after_s(" 1.5 ") == 1.5
    assert retry_after_s("-4") == 0.0


def test_http_date() -> None:
    in_a_minute = email.utils.formatdate(NOW + 60, usegmt=True)
    assert retry_after_s(in_a_minute, now=NOW) == pytest.approx(60.0)
    assert retry_after_s(in_a_minute, now=NOW + 600) == 0.0  # already past


def test_zone_less_date_is_utc() -> None:
    # formatdate without usegmt writes "-0000": no zone, which RFC 5322 reads as UTC.
    in_a_minute = email.utils.formatdate(NOW + 60)
    assert in_a_minute.endswith("-0000")
    assert retry_after_s(in_a_minute, now=NOW) == pytest.approx(60.0)


def test_cap_applies_to_both_forms() -> None:
    assert retry_after_s("100000", cap_s=10.0) == 10.0
    in_an_hour = email.utils.formatdate(NOW + 3600, usegmt=True)
    assert retry_after_s(in_an_hour, cap_s=10.0, now=NOW) == 10.0
    assert retry_after_s("4", cap_s=10.0) == 4.0


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "nan", "inf", "Wed, 99 Foo 2015"])
def test_unreadable_is_none(value: str | None) -> None:
    assert retry_after_s(value, cap_s=10.0) is None
