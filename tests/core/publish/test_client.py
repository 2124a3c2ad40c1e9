"""The protocol client against the independent receiver: calls, refusals, retries, secrecy."""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import time
from pathlib import Path

import pytest

from desktop.core.errors import ConfigError, PublishError
from desktop.core.publish.client import PublishClient, get_token, normalize_endpoint
from tests.helpers.receiver import Receiver

TOKEN = "test-token-123"


class Sleeps:
    """Records the backoff instead of waiting it out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def _bundle(tmp_path: Path, data: bytes = b"bundle bytes " * 1000) -> tuple[Path, str]:
    path = tmp_path / "b.bundle"
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def _client(
    receiver: Receiver, sleeps: Sleeps, token: str = TOKEN, bot: str = "acme"
) -> PublishClient:
    return PublishClient(
        receiver.url, bot, token, timeout_s=0.3, attempts=3, backoff_s=0.01, sleep=sleeps
    )


def test_upload_release_list_activate(tmp_path: Path) -> None:
    path, sha = _bundle(tmp_path)
    with Receiver() as receiver:
        client = _client(receiver, Sleeps())

        async def flow() -> None:
            assert not await client.bundle_exists(sha)
            sent: list[int] = []
            assert await client.upload_bundle(path, sha, progress=lambda n, t: sent.append(n))
            assert sent[-1] == path.stat().st_size
            assert await client.bundle_exists(sha)
            assert not await client.upload_bundle(path, sha)  # 200: already there
            first = await client.create_release(
                bundle_sha256=sha, widget={"bot_name": "A"}, manifest={"format_version": 1}
            )
            second = await client.create_release(
                bundle_sha256=sha, widget={"bot_name": "B"}, manifest={}, notes="n"
            )
            assert (first.version, second.version) == (1, 2)
            releases = await client.list_releases()
            assert [r.active for r in releases] == [False, True]
            await client.activate(first.release_id)
            assert receiver.live().widget == {"bot_name": "A"}

        asyncio.run(flow())


@pytest.mark.parametrize(
    ("kind", "method"), [("429", "PUT"), ("500", "POST"), ("cut", "PUT"), ("timeout", "GET")]
)
def test_transient_faults_are_retried(tmp_path: Path, kind: str, method: str) -> None:
    path, sha = _bundle(tmp_path)
    with Receiver() as receiver:
        receiver.store.timeout_sleep = 0.6
        receiver.fault(method, kind)
        sleeps = Sleeps()
        client = _client(receiver, sleeps)

        async def flow() -> None:
            await client.upload_bundle(path, sha)
            await client.create_release(bundle_sha256=sha, widget={}, manifest={})
            await client.list_releases()

        asyncio.run(flow())
        assert len(sleeps.delays) == 1
        assert receiver.store.stored_uploads == 1


def test_retry_after_is_honoured_and_capped(tmp_path: Path) -> None:
    path, sha = _bundle(tmp_path)
    with Receiver() as receiver:
        receiver.fault("PUT", "429", retry_after="7")
        receiver.fault("PUT", "429", retry_after="3600")
        sleeps = Sleeps()
        client = PublishClient(
            receiver.url,
            "acme",
            TOKEN,
            attempts=3,
            backoff_s=0.01,
            max_retry_after_s=30,
            sleep=sleeps,
        )
        asyncio.run(client.upload_bundle(path, sha))
        assert sleeps.delays == [7.0, 30.0]


def test_retry_after_as_an_http_date_is_honoured_and_capped(tmp_path: Path) -> None:
    path, sha = _bundle(tmp_path)
    with Receiver() as receiver:
        receiver.fault("PUT", "429", retry_after="Wed, 21 Oct 2015 07:28:00 GMT")  # past
        receiver.fault("PUT", "429", retry_after=email.utils.formatdate(time.time() + 3600))
        sleeps = Sleeps()
        client = PublishClient(
            receiver.url,
            "acme",
            TOKEN,
            attempts=3,
            backoff_s=5.0,
            max_retry_after_s=30,
            sleep=sleeps,
        )
        asyncio.run(client.upload_bundle(path, sha))
        # A date is read, not replaced by our own backoff (which would be 5 s and 10 s here).
        assert sleeps.delays == [0.0, 30.0]


def test_still_failing_after_retries_says_so(tmp_path: Path) -> None:
    path, sha = _bundle(tmp_path)
    with Receiver() as receiver:
        for _ in range(3):
            receiver.fault("PUT", "500")
        with pytest.raises(PublishError) as exc:
            asyncio.run(_client(receiver, Sleeps()).upload_bundle(path, sha))
        assert "HTTP 500, 3 attempts" in exc.value.message
        assert "Nothing changed" in exc.value.hint


def test_refusals_say_what_to_do(tmp_path: Path) -> None:
    path, sha = _bundle(tmp_path)
    with Receiver() as receiver:
        with pytest.raises(PublishError) as exc:
            asyncio.run(_client(receiver, Sleeps(), token="wrong-secret-token").list_releases())
        assert exc.value.status == 401 and "rejected the publish token" in exc.value.message
        assert "botdesk token" in exc.value.hint
        assert "wrong-secret-token" not in str(exc.value)
        with pytest.raises(PublishError) as exc:
            asyncio.run(_client(receiver, Sleeps(), bot="nobody").list_releases())
        assert exc.value.status == 404 and "no bot 'nobody'" in exc.value.message
        receiver.store.limit_bytes = 1000
        with pytest.raises(PublishError) as exc:
            asyncio.run(_client(receiver, Sleeps()).upload_bundle(path, sha))
        assert exc.value.status == 413
        assert "12.7 KB, the limit is 1.0 KB" in exc.value.message
        receiver.store.limit_bytes = 10**9
        with pytest.raises(PublishError) as exc:  # body differs from the hash in the URL
            asyncio.run(_client(receiver, Sleeps()).upload_bundle(path, "0" * 64))
        assert exc.value.status == 400 and "does not match" in exc.value.message
        with pytest.raises(PublishError) as exc:  # release of a bundle never uploaded
            asyncio.run(
                _client(receiver, Sleeps()).create_release(
                    bundle_sha256="1" * 64, widget={}, manifest={}
                )
            )
        assert exc.value.status == 409


def test_endpoint_and_token_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    assert normalize_endpoint("https://chat.example.com/") == "https://chat.example.com"
    with pytest.raises(ConfigError, match="plain http"):
        normalize_endpoint("http://chat.example.com")
    with pytest.raises(ConfigError, match="not an endpoint"):
        normalize_endpoint("chat.example.com")
    assert normalize_endpoint("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    with pytest.raises(PublishError, match="No publish token") as exc:
        get_token("https://chat.example.com")
    assert "BOTDESK_PUBLISH_TOKEN" in exc.value.hint
    monkeypatch.setenv("BOTDESK_PUBLISH_TOKEN", "from-env")
    assert get_token("https://chat.example.com") == "from-env"
    assert "from-env" not in repr(PublishClient("https://chat.example.com", "acme", "from-env"))
