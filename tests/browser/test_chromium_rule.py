"""Without Chromium the browser tests skip, saying why, except under CI, where they fail."""

from __future__ import annotations

import pytest

from tests.browser import conftest


def test_missing_chromium_fails_in_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "chromium_missing_reason", lambda: "/usr/bin/chromium missing")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        conftest._require_chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="/usr/bin/chromium missing"):
        conftest._require_chromium()


def test_with_chromium_nothing_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "chromium_missing_reason", lambda: None)
    conftest._require_chromium()
