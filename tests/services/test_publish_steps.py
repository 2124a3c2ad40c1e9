"""Publishing as a user meets it: cancel up to the release call, errors that name their step,
a server without HEAD, a token kept for this session only, progress in MB."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from desktop.core.errors import PublishError, SecretStoreError
from desktop.core.jobs import Job, JobEvent
from desktop.core.publish.client import STEP_RELEASE, STEP_UPLOAD, ReleaseCancelled
from desktop.core.store.workspace import Workspace
from desktop.services import publish
from desktop.services.backends import PublishOptions
from tests.core.publish.factory import sample_workspace
from tests.helpers.backends import with_changes
from tests.helpers.receiver import Receiver
from tests.services.test_publish import BACKENDS, TOKEN, run_publish

SAME_SECOND = with_changes(BACKENDS, clock=lambda: datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
# Patient enough to still be retrying (backoff 60 s) when the test cancels.
SLOW = with_changes(BACKENDS, publish=PublishOptions(timeout_s=2.0, attempts=3, backoff_s=60.0))


@pytest.fixture
def ready(workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("BOTDESK_PUBLISH_TOKEN", TOKEN)
    sample_workspace(workspace, str(tmp_path))
    publish.set_widget_value(workspace, "allowed_origins", '["https://example.com"]')
    return workspace


def _exclude_one(ws: Workspace) -> None:
    ws.execute("update passages set excluded = 1 where text like 'Charge the battery%'")


def _posts(receiver: Receiver) -> list[Any]:
    return [r for r in receiver.server.requests_seen if r[0] == "POST"]


def _publish_with(ws: Workspace, receiver: Receiver, job: Job, backends: Any = BACKENDS) -> Any:
    async def go() -> publish.PublishReport:
        # A deadline, so a cancel that is not honoured fails the test instead of hanging it.
        return await asyncio.wait_for(
            publish.publish(ws, job, endpoint=receiver.url, bot_id="acme", backends=backends),
            timeout=20,
        )

    return asyncio.run(go())


# -- cancel ------------------------------------------------------------------------------
def test_cancel_at_the_release_step_is_honoured_and_nothing_goes_live(ready: Workspace) -> None:
    with Receiver() as receiver:
        old = run_publish(ready, receiver)
        _exclude_one(ready)
        posts_before = len(_posts(receiver))
        job = Job("Publish")

        def cancel_at_release(event: JobEvent) -> None:
            if event.stage == STEP_RELEASE:
                job.cancel()

        job.listeners.append(cancel_at_release)
        with pytest.raises(ReleaseCancelled) as exc:
            _publish_with(ready, receiver, job)
        assert not exc.value.may_be_live
        assert "live bot is unchanged" in exc.value.message
        assert len(_posts(receiver)) == posts_before  # the release POST was never sent
        assert receiver.live().release_id == old.release_id
        # The interrupted publish is resumed: the bundle is not sent again, one new release.
        again = run_publish(ready, receiver)
        assert again.version == 2 and not again.uploaded


def test_cancel_during_backoff_after_a_refused_attempt_stops_there(ready: Workspace) -> None:
    with Receiver() as receiver:
        old = run_publish(ready, receiver)
        _exclude_one(ready)
        receiver.fault("POST", "500")
        job = Job("Publish")

        def cancel_soon(event: JobEvent) -> None:
            if event.stage == STEP_RELEASE:
                asyncio.get_running_loop().call_later(0.3, job.cancel)

        job.listeners.append(cancel_soon)
        with pytest.raises(ReleaseCancelled) as exc:
            _publish_with(ready, receiver, job, SLOW)
        # The endpoint answered 500: it did not take the release, so nothing went live.
        assert not exc.value.may_be_live
        assert receiver.live().release_id == old.release_id


def test_cancel_after_an_unanswered_release_call_says_it_may_be_live(ready: Workspace) -> None:
    with Receiver() as receiver:
        run_publish(ready, receiver)
        _exclude_one(ready)
        receiver.fault("POST", "commit-then-cut")  # it lands, but no answer comes back
        job = Job("Publish")

        def cancel_soon(event: JobEvent) -> None:
            if event.stage == STEP_RELEASE:
                asyncio.get_running_loop().call_later(0.3, job.cancel)

        job.listeners.append(cancel_soon)
        with pytest.raises(ReleaseCancelled) as exc:
            _publish_with(ready, receiver, job, SLOW)
        assert exc.value.may_be_live
        assert "may be live" in exc.value.message and "release history" in exc.value.hint
        assert receiver.live().version == 2  # it did land


class _CancelWhenReleaseIsSent(httpx.AsyncHTTPTransport):
    """The user presses Cancel while the release POST is on its way."""

    def __init__(self, job: Job) -> None:
        super().__init__()
        self.job = job

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/releases"):
            self.job.cancel()
        return await super().handle_async_request(request)


def test_cancel_while_the_release_call_is_in_flight_says_it_went_live(ready: Workspace) -> None:
    with Receiver() as receiver:
        job = Job("Publish")

        async def go() -> publish.PublishReport:
            async with httpx.AsyncClient(transport=_CancelWhenReleaseIsSent(job)) as client:
                return await publish.publish(
                    ready,
                    job,
                    endpoint=receiver.url,
                    bot_id="acme",
                    backends=with_changes(BACKENDS, publish_http=client),
                )

        report = asyncio.run(go())
        assert receiver.live().release_id == report.release_id
        assert report.cancel_too_late
        assert "Release 1 is live" in job.summary and "cancel came after" in job.summary
    rows = ready.fetch_all("select status, active from publish_releases")
    assert rows == [{"status": "published", "active": 1}]


# -- a server without HEAD ---------------------------------------------------------------
@pytest.mark.parametrize("status", [405, 501])
def test_a_server_without_head_gets_the_idempotent_put(ready: Workspace, status: int) -> None:
    with Receiver() as receiver:
        receiver.store.head_status = status
        first = run_publish(ready, receiver, SAME_SECOND)
        assert first.uploaded and receiver.store.upload_attempts == 1
        # A re-run of the same content: the server cannot say it has it, so PUT again (200).
        ready.execute("delete from publish_releases")
        # The same content at the same moment: the same bundle (a later second would date,
        # and so change, the file).
        again = run_publish(ready, receiver, SAME_SECOND)
        assert not again.uploaded
        assert receiver.store.upload_attempts == 2 and receiver.store.stored_uploads == 1
        assert receiver.live().release_id == again.release_id


# -- errors name their step --------------------------------------------------------------
class _Answer501(httpx.AsyncHTTPTransport):
    """A proxy in front of the endpoint that does not implement one method."""

    def __init__(self, method: str) -> None:
        super().__init__()
        self.method = method

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == self.method:
            return httpx.Response(501, json={"error": "not implemented"})
        return await super().handle_async_request(request)


@pytest.mark.parametrize(
    ("method", "step"), [("PUT", "Upload bundle failed"), ("POST", "Create release failed")]
)
def test_an_http_501_names_the_call(ready: Workspace, method: str, step: str) -> None:
    with Receiver() as receiver:

        async def go() -> None:
            async with httpx.AsyncClient(transport=_Answer501(method)) as client:
                await publish.publish(
                    ready,
                    endpoint=receiver.url,
                    bot_id="acme",
                    backends=with_changes(BACKENDS, publish_http=client),
                )

        with pytest.raises(PublishError) as exc:
            asyncio.run(go())
    assert exc.value.message.startswith(step) and "HTTP 501" in exc.value.message
    assert exc.value.step == step.removesuffix(" failed").lower()


def test_every_publish_call_names_its_step(ready: Workspace) -> None:
    with Receiver() as receiver:
        receiver.fault("PUT", "413")
        with pytest.raises(PublishError, match=r"^Upload bundle failed: the bundle is too large"):
            run_publish(ready, receiver)
        receiver.fault("HEAD", "401")
        with pytest.raises(PublishError, match=r"^Check bundle failed: the endpoint rejected"):
            run_publish(ready, receiver)
        receiver.fault("POST", "500")
        receiver.fault("POST", "500")
        with pytest.raises(PublishError, match=r"^Create release failed: .*HTTP 500, 2 attempts"):
            run_publish(ready, receiver)
        run_publish(ready, receiver)
        receiver.fault("GET", "401")
        listed = asyncio.run(publish.list_releases(ready, backends=BACKENDS))
        assert listed.remote_error.startswith("List releases failed")
        with pytest.raises(PublishError, match=r"^Rollback failed: the endpoint has no bot"):
            asyncio.run(publish.rollback(ready, "rel-99", backends=BACKENDS))


# -- progress ----------------------------------------------------------------------------
def test_upload_progress_counts_megabytes(ready: Workspace) -> None:
    events: list[JobEvent] = []
    with Receiver() as receiver:
        job = Job("Publish", listeners=[events.append])
        _publish_with(ready, receiver, job)
    uploads = [e for e in events if e.stage == STEP_UPLOAD]
    assert uploads and all(e.unit == "bytes" for e in uploads)
    last = uploads[-1]
    assert last.count_text() == f"{last.done / 2**20:.1f} of {last.total / 2**20:.1f} MB"  # type: ignore[operator]
    assert "/" not in last.count_text()


# -- a token for this session only -------------------------------------------------------
@pytest.fixture
def no_token_left(ready: Workspace) -> Iterator[list[str]]:
    endpoints: list[str] = []
    yield endpoints
    for endpoint in endpoints:
        publish.forget_token(endpoint)


def test_without_a_keyring_the_token_is_kept_for_this_session_only(
    ready: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, no_token_left: list[str]
) -> None:
    monkeypatch.delenv("BOTDESK_PUBLISH_TOKEN")
    with Receiver() as receiver:
        no_token_left.append(receiver.url)
        status = publish.token_status(receiver.url)
        assert not status.keyring_usable and status.source == ""
        assert "no keyring" in status.text()
        with pytest.raises(SecretStoreError):
            publish.set_token(receiver.url, TOKEN)  # the keyring refuses, as before
        publish.set_token(receiver.url, TOKEN, session_only=True)
        status = publish.token_status(receiver.url)
        assert status.source == "session" and "this session only" in status.text()
        assert run_publish(ready, receiver).version == 1
        publish.forget_token(receiver.url)
        assert publish.token_status(receiver.url).source == ""
    # Never on disk: not in the workspace, not in any file under the test's folders.
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
