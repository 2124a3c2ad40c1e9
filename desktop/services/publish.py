"""Publishing as the UI and the CLI use it: widget config, checks, bundle, publish, releases.

A publish either fully succeeds or changes nothing live: the bundle is uploaded first (by
its sha256, idempotently) and only the final release call makes it live on the endpoint.
An interrupted publish leaves a 'pending' row; a re-run rebuilds the very same bytes (same
`created_at` while the content is unchanged), sees the endpoint already has them, and
re-sends the release call with the same idempotency key (core/publish/release.py).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from desktop.core.bundle import write as bundle_core
from desktop.core.bundle.quantization import Quantization
from desktop.core.bundle.write import BuiltBundle, BundlePassage, VectorLoader
from desktop.core.content import queries as content_queries
from desktop.core.content import source_settings as source_rows
from desktop.core.errors import ConfigError, PublishError
from desktop.core.jobs import Job
from desktop.core.publish import checks as checks_core
from desktop.core.publish import client as client_core
from desktop.core.publish import release as release_core
from desktop.core.publish import widget_config
from desktop.core.publish.checks import Check
from desktop.core.publish.client import ReleaseCancelled
from desktop.core.publish.release import Changes, ReleaseInfo
from desktop.core.secrets import keyring_usable
from desktop.core.store.lock import WorkspaceLock
from desktop.core.store.scratch import scratch_folder
from desktop.core.store.workspace import Workspace
from desktop.services.backends import Backends

__all__ = [
    "BuiltBundle",
    "Changes",
    "Check",
    "PublishReport",
    "Quantization",
    "ReleaseCancelled",
    "ReleaseInfo",
    "ReleaseList",
    "TokenStatus",
    "build_bundle",
    "changes_since_last_release",
    "forget_token",
    "get_target",
    "get_widget",
    "list_releases",
    "publish",
    "rollback",
    "set_token",
    "set_widget",
    "set_widget_value",
    "token_status",
]


# -- widget config -----------------------------------------------------------------------
def get_widget(ws: Workspace, key: str | None = None) -> Any:
    """The whole widget config, or one dotted setting of it."""
    config = widget_config.load(ws)
    return config if not key else widget_config.get_value(config, key)


def set_widget_value(ws: Workspace, key: str, value: Any) -> dict[str, Any]:
    """Set one dotted setting (a string from the command line is read as JSON where it parses)."""
    if isinstance(value, str):
        value = widget_config.parse_value(value)
    return widget_config.save(ws, widget_config.set_value(widget_config.load(ws), key, value))


def set_value_unchecked(config: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A copy of `config` with one dotted setting changed; validated when saved."""
    if isinstance(value, str):
        value = widget_config.parse_value(value)
    return widget_config.set_value(config, key, value)


def set_widget(ws: Workspace, config: Mapping[str, Any]) -> dict[str, Any]:
    return widget_config.save(ws, config)


def load_widget_file(ws: Workspace, path: Path | str) -> dict[str, Any]:
    """Replace the config with a JSON file's; refused (saved config kept) if invalid."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object (the widget config).")
    return widget_config.save(ws, data)


def widget_problems(config: Mapping[str, Any]) -> list[str]:
    """What stops the config from being published, "key: why" (the command line's words)."""
    return [str(p) for p in widget_config.publish_problems(config)]


def widget_problems_by_label(config: Mapping[str, Any]) -> list[str]:
    """The same, naming each field as the widget form labels it ("Allowed websites: ...")."""
    return [
        f"{p.label}: {p.form_message or p.message}" for p in widget_config.publish_problems(config)
    ]


# -- endpoint, bot id, token -------------------------------------------------------------
def get_target(ws: Workspace) -> tuple[str | None, str | None]:
    return release_core.saved_target(ws)


def remember_target(ws: Workspace, endpoint: str, bot_id: str) -> None:
    release_core.save_target(ws, endpoint, bot_id)


def _resolve_target(ws: Workspace, endpoint: str | None, bot_id: str | None) -> tuple[str, str]:
    saved_endpoint, saved_bot = get_target(ws)
    chosen_endpoint = endpoint or saved_endpoint
    chosen_bot = bot_id or saved_bot
    if not chosen_endpoint:
        raise ConfigError(
            "No publish endpoint yet.", hint="Give it once with --endpoint https://… ."
        )
    if not chosen_bot:
        raise ConfigError("No bot id yet.", hint="Give it once with --bot-id ID.")
    chosen_endpoint = client_core.normalize_endpoint(chosen_endpoint)
    if (chosen_endpoint, chosen_bot) != (saved_endpoint, saved_bot):
        remember_target(ws, chosen_endpoint, chosen_bot)
    return chosen_endpoint, chosen_bot


def set_token(endpoint: str, token: str, *, session_only: bool = False) -> None:
    """Store the endpoint's token in the keyring (SecretStoreError says what to do without one),
    or with `session_only` in memory until Botdesk quits, never on disk."""
    client_core.set_token(endpoint, token, session_only=session_only)


def forget_token(endpoint: str) -> None:
    """Remove the endpoint's token from the keyring and this session."""
    client_core.forget_token(endpoint)


def token_available(endpoint: str) -> bool:
    try:
        client_core.get_token(endpoint)
    except PublishError:
        return False
    return True


@dataclass(frozen=True)
class TokenStatus:
    """Where an endpoint's token is, and whether a keyring exists to keep one."""

    source: str  # "keyring", "session", "environment" or "" (none)
    keyring_usable: bool
    keyring_why: str  # the backend's name, or why it cannot be used

    def text(self) -> str:
        if self.source == "keyring":
            return "Stored in the system keyring."
        if self.source == "session":
            return "Kept for this session only (in memory, not saved): enter it again next time."
        if self.source == "environment":
            return f"Taken from the environment variable {client_core.TOKEN_ENV}."
        if not self.keyring_usable:
            return "Not set. This computer has no keyring: Set token… keeps it for this session."
        return "Not set: use Set token…"


def token_status(endpoint: str) -> TokenStatus:
    """The token's whereabouts (may call the keyring: run it off the GUI thread)."""
    usable, why = keyring_usable()
    return TokenStatus(client_core.token_source(endpoint), usable, why)


def set_source_public_url(ws: Workspace, source_id: int, url: str) -> None:
    """Where a file source's files are on the web, so their citations can link there."""
    parsed = urlsplit(url)
    if url and (parsed.scheme not in ("http", "https") or not parsed.hostname):
        raise ConfigError(f"{url!r} is not a web address.", hint="Write https://… .")
    row = content_queries.source_row(ws, source_id)
    if row is None:
        raise ConfigError(f"No source {source_id}.")
    if row["kind"] != "files":
        raise ConfigError("Only file sources need a public URL; web pages have theirs.")
    settings = source_rows.source_settings(row)
    settings["public_url"] = url
    source_rows.save_source_settings(ws, source_id, settings)


# -- bundle and changes ------------------------------------------------------------------
def build_bundle(
    ws: Workspace,
    out: Path | str,
    *,
    quantization: Quantization = "none",
    job: Job | None = None,
    vector_loader: VectorLoader | None = None,
    created_at: str | None = None,
) -> BuiltBundle:
    _, bot_id = get_target(ws)
    return bundle_core.build_bundle(
        ws,
        out,
        bot_id=bot_id or "",
        quantization=quantization,
        job=job,
        vector_loader=vector_loader,
        created_at=created_at,
    )


def changes_since_last_release(
    ws: Workspace,
    *,
    endpoint: str | None = None,
    bot_id: str | None = None,
    current: Sequence[BundlePassage] | None = None,
) -> Changes:
    """What differs from the last release published to the target (the remembered one)."""
    saved_endpoint, saved_bot = get_target(ws)
    target = (endpoint or saved_endpoint or "", bot_id or saved_bot or "")
    now = list(current) if current is not None else bundle_core.passage_snapshot(ws)
    return release_core.changes_since(ws, target, now)


# -- publishing --------------------------------------------------------------------------
@dataclass
class PublishReport:
    """What a publish (or a dry run) found and did."""

    dry_run: bool
    endpoint: str
    bot_id: str
    checks: list[Check]
    changes: Changes
    bundle_size: int
    bundle_sha256: str
    content_hash: str
    passage_count: int
    embedding: dict[str, Any] | None
    token_found: bool
    uploaded: bool = False  # False on a re-run when the endpoint already had the bundle
    release_id: str | None = None
    version: int | None = None
    # The user cancelled after the release call was sent: it went live all the same.
    cancel_too_late: bool = False

    @property
    def blocked(self) -> bool:
        return bool(checks_core.blocking(self.checks))

    def live_summary(self) -> str:
        """What went live, said plainly (also when a cancel came too late to stop it)."""
        late = (
            " The cancel came after the release call was sent, so it went live; roll back "
            "in the release history if you did not want it."
            if self.cancel_too_late
            else ""
        )
        return f"Release {self.version} is live. {self.changes.summary()}{late}"

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "endpoint": self.endpoint,
            "bot_id": self.bot_id,
            "checks": [c.to_json() for c in self.checks],
            "blocked": self.blocked,
            "changes": self.changes.to_json(),
            "bundle": {
                "size": self.bundle_size,
                "sha256": self.bundle_sha256,
                "content_hash": self.content_hash,
                "passage_count": self.passage_count,
                "embedding": self.embedding,
            },
            "token_found": self.token_found,
            "uploaded": self.uploaded,
            "release_id": self.release_id,
            "version": self.version,
        }


async def publish(
    ws: Workspace,
    job: Job | None = None,
    *,
    endpoint: str | None = None,
    bot_id: str | None = None,
    notes: str = "",
    dry_run: bool = False,
    quantization: Quantization = "none",
    backends: Backends,
) -> PublishReport:
    """Check, build, upload and release; with `dry_run`, check and measure, send nothing.

    Refused (ConfigError, nothing sent) when a check is an error: an invalid widget config,
    no allowed origins, an embedder the hosted service does not use, nothing to publish.
    A cancel before the release call raises ReleaseCancelled and leaves the live bot alone
    (core/publish/release.py holds the pending -> live steps).
    """
    job = job or Job("Publish")
    ws.refuse_if_readonly()
    # One publish at a time (WorkspaceBusyError names the other job); a refresh holds it.
    with WorkspaceLock.unless_held(ws.path, "publish"):
        return await _publish_locked(
            ws,
            job,
            endpoint=endpoint,
            bot_id=bot_id,
            notes=notes,
            dry_run=dry_run,
            quantization=quantization,
            backends=backends,
        )


async def _publish_locked(
    ws: Workspace,
    job: Job,
    *,
    endpoint: str | None,
    bot_id: str | None,
    notes: str,
    dry_run: bool,
    quantization: Quantization,
    backends: Backends,
) -> PublishReport:
    target = _resolve_target(ws, endpoint, bot_id)
    widget = widget_config.load(ws)
    interrupted = release_core.pending(ws, target)
    # Beside the workspace, not in /tmp: the bundle holds every passage's text, and a
    # killed publish's copy is removed by the next publish.
    with scratch_folder(ws.path, "publish") as folder:
        out = folder / "bundle.sqlite"
        job.stage("build bundle")
        built = await _build(
            ws,
            out,
            target,
            quantization=quantization,
            backends=backends,
            interrupted=interrupted,
        )
        job.check()
        report = _report(ws, target, widget, built, dry_run=dry_run, now=backends.now())
        if dry_run:
            job.finish(f"Dry run: nothing sent. {report.changes.summary()}")
            return report
        _refuse_if_blocked(report.checks)
        api = backends.publish_client(*target, checkpoint=job.check)
        key = release_core.start_pending(
            ws, target, built, widget=widget, notes=notes, interrupted=interrupted
        )
        sent = await release_core.send(
            api, job, out, built, widget=widget, notes=notes, idempotency_key=key
        )
    release_core.finish_release(ws, target, built, sent.created)
    report.uploaded, report.cancel_too_late = sent.uploaded, sent.cancel_too_late
    report.release_id, report.version = sent.created.release_id, sent.created.version
    job.finish(report.live_summary())
    return report


async def _build(
    ws: Workspace,
    out: Path,
    target: release_core.Target,
    *,
    quantization: Quantization,
    backends: Backends,
    interrupted: Mapping[str, Any] | None,
) -> BuiltBundle:
    """The bundle; the interrupted publish's bytes again while the content is unchanged.
    A new bundle is dated by the backends' clock."""
    now = backends.now().isoformat(timespec="seconds")

    def build_on_own_connection(created_at: str) -> BuiltBundle:
        own = ws.open_again()  # the window keeps reading through `ws` meanwhile
        try:
            return bundle_core.build_bundle(
                own,
                out,
                bot_id=target[1],
                quantization=quantization,
                vector_loader=backends.bundle_vectors,
                created_at=created_at,
            )
        finally:
            own.close()

    async def build(created_at: str) -> BuiltBundle:
        # Reading every passage and writing the file: off the event loop, window stays live.
        return await asyncio.to_thread(build_on_own_connection, created_at)

    built = await build(str(interrupted["created_at"]) if interrupted else now)
    if interrupted and built.content_hash != interrupted["content_hash"]:
        # The content changed since the interrupted publish: a new bundle, built now.
        built = await build(now)
    return built


def _report(
    ws: Workspace,
    target: release_core.Target,
    widget: Mapping[str, Any],
    built: BuiltBundle,
    *,
    dry_run: bool,
    now: datetime,
) -> PublishReport:
    endpoint, bot_id = target
    return PublishReport(
        dry_run=dry_run,
        endpoint=endpoint,
        bot_id=bot_id,
        checks=checks_core.run_checks(ws, widget, embedding=built.manifest["embedding"], now=now),
        changes=changes_since_last_release(
            ws, endpoint=endpoint, bot_id=bot_id, current=built.passages
        ),
        bundle_size=built.size,
        bundle_sha256=built.sha256,
        content_hash=built.content_hash,
        passage_count=int(built.manifest["passage_count"]),
        embedding=built.manifest["embedding"],
        token_found=token_available(endpoint),
    )


def _refuse_if_blocked(found: list[Check]) -> None:
    errors = checks_core.blocking(found)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"Publishing refused: {errors[0].message}{more}", hint=errors[0].fix)


# -- releases ----------------------------------------------------------------------------
@dataclass
class ReleaseList:
    endpoint: str | None
    bot_id: str | None
    releases: list[ReleaseInfo]
    remote_error: str = ""  # set when the endpoint could not be asked: the list is local


def local_releases(ws: Workspace, endpoint: str, bot_id: str) -> list[ReleaseInfo]:
    return release_core.local_releases(ws, (endpoint, bot_id))


async def list_releases(
    ws: Workspace,
    *,
    refresh: bool = True,
    backends: Backends,
) -> ReleaseList:
    """The releases of the remembered endpoint and bot, asking the endpoint when possible."""
    endpoint, bot_id = get_target(ws)
    if not endpoint or not bot_id:
        return ReleaseList(endpoint, bot_id, [], "No endpoint yet: nothing was published.")
    error = ""
    if refresh:
        try:
            api = backends.publish_client(endpoint, bot_id)
            release_core.merge_remote(ws, (endpoint, bot_id), await api.list_releases())
        except PublishError as exc:
            error = str(exc)
    return ReleaseList(endpoint, bot_id, local_releases(ws, endpoint, bot_id), error)


async def rollback(
    ws: Workspace,
    release_id: str,
    *,
    backends: Backends,
) -> ReleaseInfo:
    """Make an earlier (or later) release live again, on the endpoint, in one call."""
    endpoint, bot_id = get_target(ws)
    if not endpoint or not bot_id:
        raise ConfigError("No endpoint yet: nothing was published from this workspace.")
    api = backends.publish_client(endpoint, bot_id)
    await api.activate(release_id)
    release_core.merge_remote(ws, (endpoint, bot_id), await api.list_releases())
    for info in local_releases(ws, endpoint, bot_id):
        if info.release_id == release_id:
            return info
    raise PublishError(
        f"Rollback: the endpoint activated {release_id} but does not list it.",
        step=client_core.STEP_ROLLBACK,
    )
