"""Publishing end to end against the independent receiver: all or nothing, resumable, checked."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from desktop.core.errors import ConfigError, PublishError
from desktop.core.index import BundleVectors
from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace
from desktop.services import publish
from desktop.services.backends import Backends, PublishOptions
from tests.core.publish.factory import add_passage, edit_passage, fake_vectors, sample_workspace
from tests.helpers.backends import test_backends, with_changes
from tests.helpers.receiver import Receiver

TOKEN = "test-token-123"


def mistral_vectors(ws: Workspace, passages: object) -> BundleVectors:
    return BundleVectors("mistral", "mistral-embed", 64, fake_vectors(ws))


# The bundle's vectors as the hosted service's embedder made them; short publish waits.
BACKENDS = test_backends(
    bundle_vectors=mistral_vectors, publish=PublishOptions(timeout_s=0.3, attempts=2, backoff_s=0.0)
)


@pytest.fixture
def ready(workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("BOTDESK_PUBLISH_TOKEN", TOKEN)
    sample_workspace(workspace, str(tmp_path))
    publish.set_widget_value(workspace, "allowed_origins", '["https://example.com"]')
    return workspace


def run_publish(
    ws: Workspace, receiver: Receiver, backends: Backends = BACKENDS, **options: Any
) -> publish.PublishReport:
    return asyncio.run(
        publish.publish(
            ws, Job("Publish"), endpoint=receiver.url, bot_id="acme", backends=backends, **options
        )
    )


def test_publish_makes_bundle_and_widget_live_and_remembers_target(
    ready: Workspace, tmp_path: Path
) -> None:
    with Receiver() as receiver:
        report = run_publish(ready, receiver, notes="first")
        live = receiver.live()
        assert live is not None and report.release_id == live.release_id
        assert report.version == 1 and report.uploaded
        assert live.bundle_sha256 == report.bundle_sha256
        assert live.widget["allowed_origins"] == ["https://example.com"]
        assert live.manifest["content_hash"] == report.content_hash
        assert report.changes.first_release and report.changes.passage_count == 5
    assert publish.get_target(ready) == (receiver.url, "acme")
    # The token is nowhere in the workspace file.
    assert TOKEN.encode() not in ready.path.read_bytes()
    rows = ready.fetch_all("select status, active, version from publish_releases")
    assert rows == [{"status": "published", "active": 1, "version": 1}]


def test_changes_since_last_release(ready: Workspace) -> None:
    with Receiver() as receiver:
        run_publish(ready, receiver)
        first = ready.fetch_all("select id from passages where excluded = 0 order by id")[0]["id"]
        edit_passage(ready, first, "Shipping is free above 40 euros.")
        ready.execute("update passages set excluded = 1 where text like 'Charge the battery%'")
        document = ready.scalar("select id from documents where uri like '%shipping'")
        added = add_passage(ready, document, "Express delivery costs 9 euros.")
        changes = publish.changes_since_last_release(ready)
        assert changes.base_version == 1
        assert changes.passages_added == [added]
        assert changes.passages_edited == [first]
        assert len(changes.passages_removed) == 1
        assert changes.sources_added == [] and changes.sources_removed == []
        report = run_publish(ready, receiver)
        assert report.version == 2
        assert not publish.changes_since_last_release(ready).any


def test_dry_run_sends_nothing(ready: Workspace) -> None:
    with Receiver() as receiver:
        report = run_publish(ready, receiver, dry_run=True)
        assert receiver.server.requests_seen == []
    assert report.dry_run and report.bundle_size > 0 and report.token_found
    codes = {c.code for c in report.checks}
    assert "citations-no-url" in codes  # the PDF has no public URL
    assert not report.blocked
    assert json.loads(json.dumps(report.to_json()))["bundle"]["passage_count"] == 5
    assert ready.scalar("select count(*) from publish_releases") == 0


def test_the_bundle_is_built_on_a_connection_of_its_own(
    ready: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An apsw connection serves one call at a time: a build on the window's connection
    (seconds on a large workspace) would hold up every read of the window meanwhile."""
    used: list[Any] = []
    original = publish.bundle_core.build_bundle

    def recording(ws: Workspace, *args: Any, **kwargs: Any) -> Any:
        used.append(ws.conn)
        return original(ws, *args, **kwargs)

    monkeypatch.setattr(publish.bundle_core, "build_bundle", recording)
    with Receiver() as receiver:
        report = run_publish(ready, receiver, dry_run=True)
    assert report.bundle_size > 0 and used and all(conn is not ready.conn for conn in used)


@pytest.mark.parametrize(
    ("faults", "method"),
    [
        (["cut", "cut"], "PUT"),
        (["429", "429"], "PUT"),
        (["500", "500"], "PUT"),
        (["413"], "PUT"),
        (["timeout", "timeout"], "POST"),
        (["500", "500"], "POST"),
        (["401"], "POST"),
        (["timeout", "timeout"], "HEAD"),
        (["commit-then-cut", "500"], "POST"),
    ],
)
def test_after_a_fault_the_old_release_stays_live_and_a_retry_finishes(
    ready: Workspace, faults: list[str], method: str
) -> None:
    with Receiver() as receiver:
        receiver.store.timeout_sleep = 0.5
        old = run_publish(ready, receiver)
        ready.execute("update passages set excluded = 1 where text like 'Charge the battery%'")
        for kind in faults:
            receiver.fault(method, kind, retry_after="0")
        with pytest.raises(PublishError) as exc:
            run_publish(ready, receiver)
        assert TOKEN not in str(exc.value)
        live = receiver.live()
        assert live is not None
        if faults[0] == "commit-then-cut":
            assert live.version == 2  # the endpoint did commit; we did not hear back
        else:
            assert live.release_id == old.release_id  # the old one, whole
        assert receiver.store.bundles[live.bundle_sha256]  # never a release without its bundle
        pending = ready.fetch_all("select status from publish_releases where status = 'pending'")
        assert len(pending) == 1
        uploads_before = receiver.store.stored_uploads
        attempts_before = receiver.store.upload_attempts
        new = run_publish(ready, receiver)
        assert receiver.live().release_id == new.release_id
        assert receiver.live().bundle_sha256 == new.bundle_sha256
        assert len(receiver.store.releases) == 2  # no duplicate release from the re-run
        assert receiver.store.stored_uploads == 2  # each bundle stored once
        if uploads_before == 2:  # the bundle got through before the fault: not sent again
            assert not new.uploaded
            assert receiver.store.upload_attempts == attempts_before  # not even one PUT
    statuses = [r["status"] for r in ready.fetch_all("select status from publish_releases")]
    assert statuses == ["published", "published"]


def test_invalid_widget_and_empty_origins_refuse_without_sending(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOTDESK_PUBLISH_TOKEN", TOKEN)
    sample_workspace(workspace, str(tmp_path))
    with Receiver() as receiver:
        with pytest.raises(ConfigError, match="allowed_origins"):
            run_publish(workspace, receiver)
        with pytest.raises(ConfigError, match=r"theme\.primary_color"):
            publish.set_widget_value(workspace, "theme.primary_color", "blue")
        publish.set_widget_value(workspace, "allowed_origins", '["*"]')
        with pytest.raises(ConfigError, match="allow_any_origin"):
            run_publish(workspace, receiver)
        publish.set_widget_value(workspace, "allow_any_origin", "true")
        with pytest.raises(ConfigError, match="embedded with ollama:other"):
            other = lambda ws, p: BundleVectors("ollama", "other", 64, fake_vectors(ws))  # noqa: E731
            run_publish(workspace, receiver, with_changes(BACKENDS, bundle_vectors=other))
        assert receiver.server.requests_seen == []
        assert run_publish(workspace, receiver).version == 1


def test_missing_token_and_target_say_what_to_do(workspace: Workspace, tmp_path: Path) -> None:
    sample_workspace(workspace, str(tmp_path))
    publish.set_widget_value(workspace, "allowed_origins", '["https://example.com"]')
    with pytest.raises(ConfigError, match="No publish endpoint"):
        asyncio.run(publish.publish(workspace, backends=BACKENDS))
    with Receiver() as receiver:
        with pytest.raises(PublishError, match="No publish token") as exc:
            run_publish(workspace, receiver)
        assert "botdesk token" in exc.value.hint
        assert receiver.server.requests_seen == []


def test_releases_and_rollback(ready: Workspace) -> None:
    with Receiver() as receiver:
        first = run_publish(ready, receiver)
        ready.execute("update passages set excluded = 1 where text like 'Charge the battery%'")
        run_publish(ready, receiver)
        listed = asyncio.run(publish.list_releases(ready, backends=BACKENDS))
        assert [(r.version, r.active) for r in listed.releases] == [(2, True), (1, False)]
        assert listed.remote_error == ""
        info = asyncio.run(publish.rollback(ready, first.release_id, backends=BACKENDS))
        assert info.active and info.version == 1
        assert receiver.live().release_id == first.release_id
        with pytest.raises(PublishError, match=r"no bot|no such"):
            asyncio.run(publish.rollback(ready, "rel-99", backends=BACKENDS))
    # Endpoint gone: the local history is still shown, with the reason.
    offline = asyncio.run(publish.list_releases(ready, backends=BACKENDS))
    assert [r.version for r in offline.releases] == [2, 1] and offline.remote_error


def test_widget_file_and_values(workspace: Workspace, tmp_path: Path) -> None:
    config = publish.get_widget(workspace)
    config["bot_name"] = "Acme helper"
    path = tmp_path / "widget.json"
    path.write_text(json.dumps(config))
    assert publish.load_widget_file(workspace, path)["bot_name"] == "Acme helper"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        publish.load_widget_file(workspace, path)
    assert publish.get_widget(workspace, "bot_name") == "Acme helper"


def test_cancel_during_upload_leaves_the_live_bot_alone(ready: Workspace) -> None:
    from desktop.core.errors import CancelledError
    from desktop.core.jobs import JobEvent

    with Receiver() as receiver:
        old = run_publish(ready, receiver)
        ready.execute("update passages set excluded = 1 where text like 'Charge the battery%'")
        job = Job("Publish")
        stages: list[str] = []

        def listener(event: JobEvent) -> None:
            stages.append(event.stage)
            if event.stage == "upload bundle":
                job.cancel()

        job.listeners.append(listener)
        with pytest.raises(CancelledError):
            asyncio.run(publish.publish(ready, job, backends=BACKENDS))
        assert "build bundle" in stages and "release" not in stages
        assert receiver.live().release_id == old.release_id
        assert run_publish(ready, receiver).version == 2
