"""A release's life in the workspace: pending, uploaded, live; and the history beside it.

    (nothing) ──record──▶ pending ──upload bundle──▶ pending ──create release──▶ published
                            │  (same sha256 on a re-run: same Idempotency-Key)      (active)
                            └── cancelled / failed: stays pending; the live bot is unchanged
                                 unless the release call went out unanswered (may be live)

A pending row is written before anything is sent, so an interrupted publish is resumed with
the same bundle bytes and the same idempotency key, and the endpoint never creates a second
release for it. Releases seen on the endpoint (published elsewhere) are kept as 'seen' rows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from desktop.core.bundle.write import BuiltBundle, BundlePassage
from desktop.core.errors import CancelledError
from desktop.core.jobs import Job
from desktop.core.publish.client import (
    STEP_RELEASE,
    STEP_UPLOAD,
    PublishClient,
    ReleaseCancelled,
)
from desktop.core.publish.responses import CreatedRelease, RemoteRelease
from desktop.core.store.workspace import Workspace, utc_now

# (endpoint, bot id): where a release goes.
Target = tuple[str, str]


@dataclass(frozen=True)
class ReleaseInfo:
    """One release as the history shows it."""

    release_id: str
    version: int
    bundle_sha256: str
    created_at: str
    published_at: str
    notes: str
    active: bool
    mine: bool  # published from this workspace (else only seen on the endpoint)
    passage_count: int | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SentRelease:
    """What sending did: the live release, whether the bundle went up now, and whether a
    cancel came after the release call was already on its way (it is live all the same)."""

    created: CreatedRelease
    uploaded: bool
    cancel_too_late: bool


# -- what changed since the last release -------------------------------------------------
@dataclass
class Changes:
    """What differs between the workspace now and the last release published from it."""

    base_release_id: str | None
    base_version: int | None
    passages_added: list[int] = field(default_factory=list)
    passages_removed: list[int] = field(default_factory=list)
    passages_edited: list[int] = field(default_factory=list)
    sources_added: list[str] = field(default_factory=list)
    sources_removed: list[str] = field(default_factory=list)
    passage_count: int = 0

    @property
    def first_release(self) -> bool:
        return self.base_release_id is None

    @property
    def any(self) -> bool:
        return bool(
            self.passages_added
            or self.passages_removed
            or self.passages_edited
            or self.sources_added
            or self.sources_removed
        )

    def summary(self) -> str:
        if self.first_release:
            return f"First release: {self.passage_count} passages."
        if not self.any:
            return f"No change since release {self.base_version}."
        return (
            f"Since release {self.base_version}: {len(self.passages_added)} passages added, "
            f"{len(self.passages_removed)} removed, {len(self.passages_edited)} edited; "
            f"{len(self.sources_added)} sources added, {len(self.sources_removed)} removed."
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["first_release"] = self.first_release
        data["summary"] = self.summary()
        return data


def changes_since(ws: Workspace, target: Target, now: Sequence[BundlePassage]) -> Changes:
    """What differs between `now` and the last release published from here to the target."""
    base = ws.fetch_one(
        "select id, release_id, version from publish_releases"
        " where status = 'published' and endpoint = ? and bot_id = ?"
        " order by published_at desc, id desc limit 1",
        target,
    )
    if base is None:
        return Changes(
            None,
            None,
            passages_added=[p.passage_id for p in now],
            sources_added=sorted({p.source_key for p in now}),
            passage_count=len(now),
        )
    before = {
        int(r["passage_id"]): (str(r["text_hash"]), str(r["source_key"]))
        for r in ws.fetch_all(
            "select passage_id, text_hash, source_key from publish_release_passages"
            " where release_row_id = ?",
            (base["id"],),
        )
    }
    after = {p.passage_id: (p.text_hash, p.source_key) for p in now}
    sources_before = {v[1] for v in before.values()}
    sources_after = {v[1] for v in after.values()}
    return Changes(
        base_release_id=str(base["release_id"]),
        base_version=int(base["version"]),
        passages_added=sorted(set(after) - set(before)),
        passages_removed=sorted(set(before) - set(after)),
        passages_edited=sorted(
            pid for pid in set(after) & set(before) if after[pid][0] != before[pid][0]
        ),
        sources_added=sorted(sources_after - sources_before),
        sources_removed=sorted(sources_before - sources_after),
        passage_count=len(now),
    )


# -- the pending row -----------------------------------------------------------------------
def pending(ws: Workspace, target: Target) -> dict[str, Any] | None:
    """The interrupted publish to this target, if any."""
    return ws.fetch_one(
        "select * from publish_releases where status = 'pending' and endpoint = ? and bot_id = ?"
        " order by id desc limit 1",
        target,
    )


def start_pending(
    ws: Workspace,
    target: Target,
    built: BuiltBundle,
    *,
    widget: Mapping[str, Any],
    notes: str,
    interrupted: Mapping[str, Any] | None,
) -> str:
    """Record the publish before sending anything; reuse the interrupted one's key if same."""
    if interrupted is not None and interrupted["bundle_sha256"] == built.sha256:
        with ws.transaction():
            ws.execute(
                "update publish_releases set widget = ?, notes = ? where id = ?",
                (json.dumps(widget), notes, interrupted["id"]),
            )
        return str(interrupted["idempotency_key"])
    key = uuid.uuid4().hex
    endpoint, bot_id = target
    with ws.transaction():
        ws.execute(
            "delete from publish_releases where status = 'pending' and endpoint = ? and bot_id = ?",
            target,
        )
        ws.execute(
            "insert into publish_releases(endpoint, bot_id, status, bundle_sha256, bundle_size,"
            " content_hash, created_at, notes, idempotency_key, manifest, widget)"
            " values (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                endpoint,
                bot_id,
                built.sha256,
                built.size,
                built.content_hash,
                built.manifest["created_at"],
                notes,
                key,
                json.dumps(built.manifest),
                json.dumps(widget),
            ),
        )
        row_id = ws.last_insert_id()
        ws.conn.executemany(
            "insert into publish_release_passages(release_row_id, passage_id, text_hash,"
            " source_key) values (?, ?, ?, ?)",
            [(row_id, p.passage_id, p.text_hash, p.source_key) for p in built.passages],
        )
    return key


def finish_release(
    ws: Workspace, target: Target, built: BuiltBundle, created: CreatedRelease
) -> None:
    """The pending row became the live release."""
    endpoint, bot_id = target
    with ws.transaction():
        # A release the list showed earlier as 'seen' is this one: keep one row.
        ws.execute(
            "delete from publish_releases where status = 'seen' and endpoint = ? and bot_id = ?"
            " and release_id = ?",
            (endpoint, bot_id, created.release_id),
        )
        ws.execute(
            "update publish_releases set active = 0 where endpoint = ? and bot_id = ?", target
        )
        ws.execute(
            "update publish_releases set status = 'published', release_id = ?, version = ?,"
            " active = 1, published_at = ? where status = 'pending' and endpoint = ?"
            " and bot_id = ? and bundle_sha256 = ?",
            (created.release_id, created.version, utc_now(), endpoint, bot_id, built.sha256),
        )


# -- sending -------------------------------------------------------------------------------
async def send(
    api: PublishClient,
    job: Job,
    bundle: Path,
    built: BuiltBundle,
    *,
    widget: Mapping[str, Any],
    notes: str,
    idempotency_key: str,
) -> SentRelease:
    """Upload the bundle unless the endpoint has it, then make it live in one call.

    A cancel before the release call raises ReleaseCancelled (nothing live changed); the
    client honours one up to the moment the release POST goes out."""
    try:
        job.check()
        job.stage(STEP_UPLOAD, total=built.size, unit="bytes")
        uploaded = False
        # None: the endpoint cannot say (no HEAD); the PUT is idempotent, so send it.
        if await api.bundle_exists(built.sha256) is True:
            job.advance(built.size, "already on the endpoint")
        else:

            def progress(sent: int, total: int) -> None:
                job.done = sent
                job.advance(0)

            uploaded = await api.upload_bundle(bundle, built.sha256, progress=progress)
        job.check()
    except ReleaseCancelled:
        raise
    except CancelledError as exc:
        raise ReleaseCancelled(may_be_live=False) from exc
    job.stage(STEP_RELEASE)
    created = await api.create_release(
        bundle_sha256=built.sha256,
        widget=widget,
        manifest=built.manifest,
        notes=notes,
        idempotency_key=idempotency_key,
    )
    return SentRelease(created, uploaded, cancel_too_late=job.cancel_requested)


# -- the history ---------------------------------------------------------------------------
def local_releases(ws: Workspace, target: Target) -> list[ReleaseInfo]:
    """Every release this workspace knows for the target, newest first."""
    rows = ws.fetch_all(
        "select * from publish_releases where status != 'pending' and endpoint = ? and bot_id = ?"
        " order by version desc, id desc",
        target,
    )
    infos: list[ReleaseInfo] = []
    for row in rows:
        manifest = json.loads(row["manifest"] or "{}")
        infos.append(
            ReleaseInfo(
                release_id=str(row["release_id"]),
                version=int(row["version"] or 0),
                bundle_sha256=str(row["bundle_sha256"]),
                created_at=str(row["created_at"]),
                published_at=str(row["published_at"] or ""),
                notes=str(row["notes"]),
                active=bool(row["active"]),
                mine=row["status"] == "published",
                passage_count=manifest.get("passage_count"),
            )
        )
    return infos


def published_widget(ws: Workspace, target: Target) -> dict[str, Any] | None:
    """The widget config of the newest release this workspace published to the target."""
    raw = ws.scalar(
        "select widget from publish_releases where status = 'published' and endpoint = ?"
        " and bot_id = ? order by published_at desc, id desc limit 1",
        target,
    )
    return None if raw is None else dict(json.loads(raw))


def merge_remote(ws: Workspace, target: Target, remote: Sequence[RemoteRelease]) -> None:
    """Take the endpoint's list as the truth about what is live; keep unknown ones as 'seen'."""
    endpoint, bot_id = target
    with ws.transaction():
        ws.execute(
            "update publish_releases set active = 0 where endpoint = ? and bot_id = ?", target
        )
        for release in remote:
            known = ws.scalar(
                "select id from publish_releases where endpoint = ? and bot_id = ?"
                " and release_id = ?",
                (endpoint, bot_id, release.release_id),
            )
            if known is None:
                ws.execute(
                    "insert into publish_releases(endpoint, bot_id, release_id, version, status,"
                    " active, bundle_sha256, created_at, notes, manifest)"
                    " values (?, ?, ?, ?, 'seen', ?, ?, ?, ?, ?)",
                    (
                        endpoint,
                        bot_id,
                        release.release_id,
                        release.version,
                        int(release.active),
                        release.bundle_sha256,
                        release.created_at,
                        release.notes,
                        json.dumps(dict(release.manifest)),
                    ),
                )
            else:
                ws.execute(
                    "update publish_releases set active = ? where id = ?",
                    (int(release.active), known),
                )


# -- the endpoint and bot id the workspace publishes to -----------------------------------
def saved_target(ws: Workspace) -> tuple[str | None, str | None]:
    """(endpoint, bot id) last published to, or (None, None)."""
    row = ws.fetch_one("select endpoint, bot_id from publish_settings where id = 1")
    return (row["endpoint"], row["bot_id"]) if row else (None, None)


def save_target(ws: Workspace, endpoint: str, bot_id: str) -> None:
    with ws.transaction():
        ws.execute(
            "insert into publish_settings(id, widget, updated_at) values (1, '{}', ?)"
            " on conflict(id) do nothing",
            (utc_now(),),
        )
        ws.execute(
            "update publish_settings set endpoint = ?, bot_id = ?, updated_at = ? where id = 1",
            (endpoint, bot_id, utc_now()),
        )
