"""API keys and publish tokens in the system keyring, never in the workspace or a log.

Where no trustworthy keyring backend exists (CI, headless Linux), say so plainly and
accept an environment variable instead. Fail, null and plaintext backends are refused:
keyrings.alt may otherwise pick a plaintext file silently. D-Bus calls have hung for
minutes, so every call runs on a worker thread with a timeout.

Without a keyring, a secret may also be kept for this session only: in this process's
memory, never on disk, gone when Botdesk quits (the user is told so before and after).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
from collections.abc import Callable
from typing import TypeVar

import keyring
import keyring.errors

from desktop.core.errors import SecretStoreError

SERVICE = "botdesk"
KEYRING_TIMEOUT_S = 5.0
_REFUSED_BACKENDS = ("fail", "null", "plaintext", "file", "uncrypted")

T = TypeVar("T")

# Secrets the user chose to keep for this session only: memory, never a file.
_session: dict[str, str] = {}


def _with_timeout(call: Callable[[], T]) -> T:
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(call).result(timeout=KEYRING_TIMEOUT_S)
    except concurrent.futures.TimeoutError as exc:
        raise SecretStoreError("The system keyring did not answer in time.") from exc
    finally:
        pool.shutdown(wait=False)


def keyring_usable() -> tuple[bool, str]:
    """Whether a trustworthy keyring backend exists, and its name or why not."""
    backend = keyring.get_keyring()
    # The chainer tries several backends in turn: every one of them must be trustworthy.
    backends = list(getattr(backend, "backends", None) or [backend])
    for candidate in backends:
        name = f"{type(candidate).__module__}.{type(candidate).__name__}".lower()
        if any(word in name for word in _REFUSED_BACKENDS):
            return False, f"no secure keyring backend (found {type(candidate).__name__})"
    return True, type(backend).__name__


def get_secret(account: str, *, env_var: str) -> str | None:
    """The secret for `account`: from the keyring, else this session's memory, else `env_var`;
    None if none has it."""
    return secret_source(account, env_var=env_var)[1]


def secret_source(account: str, *, env_var: str) -> tuple[str, str | None]:
    """Where the secret comes from ("keyring", "session", "environment" or "") and its value."""
    usable, _ = keyring_usable()
    if usable:
        try:
            value = _with_timeout(lambda: keyring.get_password(SERVICE, account))
        except Exception:
            value = None
        if value:
            return "keyring", value
    if _session.get(account):
        return "session", _session[account]
    value = os.environ.get(env_var) or None
    return ("environment", value) if value else ("", None)


def keep_for_session(account: str, value: str) -> None:
    """Keep a secret in memory until Botdesk quits (never on disk): for machines with no
    keyring, after the user agreed to it."""
    _session[account] = value


def set_secret(account: str, value: str, *, env_var: str) -> None:
    """Store a secret in the keyring; without one, explain how to use the environment variable."""
    usable, why = keyring_usable()
    if not usable:
        raise SecretStoreError(
            f"Cannot store the secret: {why}.",
            hint=f"Set the environment variable {env_var} instead.",
        )
    _with_timeout(lambda: keyring.set_password(SERVICE, account, value))


def delete_secret(account: str) -> None:
    """Forget the secret in the keyring and in this session's memory."""
    _session.pop(account, None)
    usable, _ = keyring_usable()
    if not usable:
        return
    with contextlib.suppress(keyring.errors.PasswordDeleteError):
        _with_timeout(lambda: keyring.delete_password(SERVICE, account))
