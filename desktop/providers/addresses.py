"""Where the model back-ends are, and where the Mistral key is kept.

Read from the environment without loading the back-ends' SDKs: the settings dialog and the
first-run guide show these as the window starts, and importing mistralai and ollama takes
about half a second.
"""

from __future__ import annotations

import os

OLLAMA_HOST_ENV = "OLLAMA_HOST"
OLLAMA_DEFAULT_HOST = "http://127.0.0.1:11434"
MISTRAL_URL_ENV = "BOTDESK_MISTRAL_URL"
MISTRAL_DEFAULT_URL = "https://api.mistral.ai"
MISTRAL_KEY_ACCOUNT = "mistral-api-key"  # the key's entry in the system keyring
MISTRAL_KEY_ENV = "MISTRAL_API_KEY"  # stands in for the keyring where there is none


def ollama_host() -> str:
    """The Ollama server's address: OLLAMA_HOST if set, else the local default."""
    return os.environ.get(OLLAMA_HOST_ENV) or OLLAMA_DEFAULT_HOST


def mistral_url() -> str:
    """The Mistral API server: BOTDESK_MISTRAL_URL if set, else Mistral's."""
    return (os.environ.get(MISTRAL_URL_ENV) or MISTRAL_DEFAULT_URL).rstrip("/")
