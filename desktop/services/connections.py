"""Where the model back-ends are and whether they answer: for the settings dialog and
`botdesk key` / `botdesk check`. The Mistral key lives in the keyring, never in a workspace."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from desktop.core import secrets
from desktop.core.errors import AuthenticationError
from desktop.providers.addresses import MISTRAL_KEY_ACCOUNT, MISTRAL_KEY_ENV
from desktop.services.backends import Backends

# The back-ends' modules load their SDKs (mistralai, ollama: about 0.5 s together): they
# are imported by the functions that talk to a back-end, not when the window starts.


@dataclass(frozen=True)
class Endpoints:
    ollama_host: str
    mistral_url: str
    keyring_usable: bool
    keyring_backend: str  # its name, or why none can be used
    mistral_key_env: str  # the environment variable that stands in for the keyring


def endpoints(backends: Backends) -> Endpoints:
    usable, backend = secrets.keyring_usable()
    return Endpoints(backends.ollama_host, backends.mistral_url, usable, backend, MISTRAL_KEY_ENV)


async def check_connection(spec: str, backends: Backends) -> str:
    """One line saying the back-end and model answer, or the ProviderError saying why not."""
    return await backends.check_model(spec)


async def set_mistral_key(key: str) -> None:
    """Keep the key in the keyring (off the event loop: a keyring can hang on D-Bus)."""
    from desktop.providers import mistral

    await asyncio.to_thread(mistral.set_api_key, key)


async def remove_mistral_key() -> None:
    await asyncio.to_thread(secrets.delete_secret, MISTRAL_KEY_ACCOUNT)


async def mistral_key_found() -> bool:
    from desktop.providers import mistral

    try:
        await mistral.api_key()
    except AuthenticationError:  # no key in the keyring nor in MISTRAL_API_KEY
        return False
    return True
