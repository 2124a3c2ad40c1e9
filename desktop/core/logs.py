"""The log file: where it is, how it rotates, and the filter that keeps secrets out of it.

Botdesk logs to `user_data_dir()/logs/botdesk.log` (a few rotated files of 1 MB). API keys
and publish tokens must never reach it: every record passes `SecretRedactor`, which blanks
Authorization headers, bearer tokens, `key=`/`token=` style values and the secret values
Botdesk has read from the keyring or the environment (`remember_secret`).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import threading
from pathlib import Path

from desktop.core.paths import user_data_dir

LOG_FILE_NAME = "botdesk.log"
LOG_MAX_BYTES = 1_000_000
LOG_BACKUPS = 3
REDACTED = "[redacted]"
# The environment variables that stand in for the keyring (their values are secrets).
SECRET_ENV_VARS = ("MISTRAL_API_KEY", "BOTDESK_PUBLISH_TOKEN")
MIN_SECRET_CHARS = 6  # shorter values would blank ordinary words

_PATTERNS = (
    # "Authorization: Bearer abc", "'authorization': 'Basic abc'", "Proxy-Authorization=..."
    re.compile(
        r"(authorization['\"]?\s*[:=]\s*['\"]?)(?:(?:bearer|basic|token)\s+)?[^\s'\",;]+", re.I
    ),
    re.compile(r"(\bbearer\s+)[A-Za-z0-9._~+/=-]+", re.I),
    # api_key=..., "x-api-key": "...", token: ..., password=..., secret=...
    re.compile(
        r"((?:api[_-]?key|x-api-key|access[_-]?token|token|secret|password)['\"]?\s*[:=]\s*['\"]?)"
        r"[^\s'\",;&]+",
        re.I,
    ),
)
_known_secrets: set[str] = set()
_known_lock = threading.Lock()


def log_dir() -> Path:
    return user_data_dir() / "logs"


def log_file() -> Path:
    return log_dir() / LOG_FILE_NAME


def remember_secret(value: str | None) -> None:
    """A secret Botdesk holds (read from the keyring or typed): blanked wherever it appears."""
    if value and len(value) >= MIN_SECRET_CHARS:
        with _known_lock:
            _known_secrets.add(value)


def redact(text: str) -> str:
    """`text` with every secret it holds replaced by "[redacted]"."""
    with _known_lock:
        values = set(_known_secrets)
    values.update(
        v for name in SECRET_ENV_VARS if len(v := os.environ.get(name, "")) >= MIN_SECRET_CHARS
    )
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class SecretRedactor(logging.Filter):
    """Rewrites each record's message (and its traceback text) with the secrets blanked."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_file_log(
    path: Path | None = None, *, level: int = logging.INFO, max_bytes: int = LOG_MAX_BYTES
) -> Path:
    """Log to a rotating file (the user data folder's by default); returns its path."""
    target = path or log_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        target, maxBytes=max_bytes, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(SecretRedactor())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(root.level or level, level))
    return target
