"""The Mistral key never travels over plain http, except to this computer (a probe's logger
at a plain-http BOTDESK_MISTRAL_URL received `Authorization: Bearer ...`)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest

from desktop.core.errors import ConfigError
from desktop.core.tls import refuse_plain_http
from desktop.providers.base import ModelSpec
from desktop.providers.factory import check_connection, make_embedder
from tests.helpers.fake_mistral import FakeMistral

EMBED = ModelSpec("mistral", "mistral-embed")


def test_plain_http_to_another_host_is_refused_before_anything_is_sent(
    fake_mistral: FakeMistral, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 0.0.0.0 reaches this computer's listeners on Linux but is not a loopback name: the
    # stand-in below plays the eavesdropping logger, and must see no request at all.
    port = urlsplit(fake_mistral.url).port
    monkeypatch.setenv("BOTDESK_MISTRAL_URL", f"http://0.0.0.0:{port}")
    embedder = make_embedder(EMBED)
    with pytest.raises(ConfigError) as caught:
        asyncio.run(embedder.embed_batch(["hello"]))
    assert "the Mistral API key would travel unencrypted" in str(caught.value)
    assert "BOTDESK_MISTRAL_URL" in str(caught.value)
    assert fake_mistral.key not in str(caught.value)
    with pytest.raises(ConfigError, match="would travel unencrypted"):
        asyncio.run(check_connection("mistral:mistral-small-latest"))
    assert fake_mistral.server.requests_seen == []


def test_plain_http_to_loopback_still_works(fake_mistral: FakeMistral) -> None:
    assert fake_mistral.url.startswith("http://127.0.0.1:")
    vectors = asyncio.run(make_embedder(EMBED).embed_batch(["hello"]))
    assert len(vectors) == 1 and fake_mistral.server.requests_seen


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.mistral.ai", True),
        ("http://localhost:8080", True),
        ("http://127.0.0.5", True),
        ("http://[::1]:9", True),
        ("http://api.mistral.ai", False),
        ("http://10.0.0.8:11434", False),
        ("ftp://api.mistral.ai", False),
    ],
)
def test_which_addresses_may_carry_a_key(url: str, allowed: bool) -> None:
    if allowed:
        refuse_plain_http(url, what="the key", setting="X")
    else:
        with pytest.raises(ConfigError, match="would travel unencrypted"):
            refuse_plain_http(url, what="the key", setting="X")
