"""The log file: rotating in the user data folder, and never a secret in it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core import logs


@pytest.fixture
def file_log(tmp_path: Path) -> Iterator[Path]:
    path = logs.install_file_log(tmp_path / "logs" / "botdesk.log")
    yield path
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "baseFilename", None) == str(path):
            root.removeHandler(handler)
            handler.close()


def _read(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_the_log_lives_in_the_user_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setattr("sys.platform", "linux")
    assert logs.log_file() == tmp_path / "data" / "Botdesk" / "logs" / "botdesk.log"


def test_headers_keys_and_tokens_are_redacted(
    file_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", "env-mistral-key-123456")
    logs.remember_secret("kept-in-keyring-token-987")
    log = logging.getLogger("botdesk.test")
    log.warning("request headers {'Authorization': 'Bearer sk-live-abcdef'}")
    log.warning("Authorization: Basic dXNlcjpwYXNz and x-api-key=ABCDEF123")
    log.warning(
        "calling %s with key %s", "https://api.example/v1?token=tok-777", "env-mistral-key-123456"
    )
    log.warning('publish token is kept-in-keyring-token-987, api_key: "q1w2e3r4"')
    try:
        raise RuntimeError("refused Bearer eyJhbGciOi.payload.sig")
    except RuntimeError:
        log.exception("upload failed")
    text = _read(file_log)
    for secret in (
        "sk-live-abcdef",
        "dXNlcjpwYXNz",
        "ABCDEF123",
        "tok-777",
        "env-mistral-key-123456",
        "kept-in-keyring-token-987",
        "q1w2e3r4",
        "eyJhbGciOi",
    ):
        assert secret not in text, secret
    assert text.count("[redacted]") >= 8
    # What is not a secret stays readable.
    assert "upload failed" in text and "RuntimeError: refused Bearer [redacted]" in text
    assert "https://api.example/v1?token=[redacted]" in text


def test_ordinary_messages_are_untouched() -> None:
    line = "Synced 12 pages (3 skipped: robots.txt) in the token-free way; key points kept"
    assert logs.redact(line) == line
    logs.remember_secret("abc")  # too short to be a secret: never blanks words
    assert logs.redact("abc def") == "abc def"


def test_the_file_rotates(tmp_path: Path) -> None:
    path = logs.install_file_log(tmp_path / "rot" / "botdesk.log", max_bytes=2_000)
    try:
        for i in range(200):
            logging.getLogger("botdesk.test").warning("line %d %s", i, "x" * 40)
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            if getattr(handler, "baseFilename", None) == str(path):
                root.removeHandler(handler)
                handler.close()
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == ["botdesk.log", "botdesk.log.1", "botdesk.log.2", "botdesk.log.3"]
    assert all(p.stat().st_size <= 2_100 for p in path.parent.iterdir())
