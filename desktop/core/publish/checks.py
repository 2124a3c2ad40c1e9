"""Checks before publishing: what would go live wrong, each with how to fix it.

Errors block a publish; warnings are shown and the user may go ahead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from desktop.core.content.curation import INCLUDED_WHERE
from desktop.core.publish import widget_config
from desktop.core.store.workspace import Workspace

Severity = Literal["error", "warning"]
STALE_AFTER_DAYS = 30


@dataclass(frozen=True)
class Check:
    """One finding: what is wrong, how many things, examples, and the fix."""

    code: str
    severity: Severity
    message: str
    fix: str
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_checks(
    ws: Workspace,
    widget: Mapping[str, Any],
    *,
    embedding: Mapping[str, Any] | None,
    stale_after_days: int = STALE_AFTER_DAYS,
    now: datetime | None = None,
) -> list[Check]:
    """Every check, errors first. `embedding` is the bundle's (None: keyword only)."""
    found: list[Check] = []
    found += _empty(ws)
    found += _widget(widget)
    found += _embedder(widget, embedding)
    found += _failed_sources(ws)
    found += _stale_sources(ws, stale_after_days, now or datetime.now(UTC))
    found += _citations(ws)
    found += _needs_review(ws)
    from desktop.core.publish.passage_checks import passage_checks  # it imports Check

    found += passage_checks(ws, embedding)
    return sorted(found, key=lambda c: c.severity != "error")


def blocking(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.severity == "error"]


def _empty(ws: Workspace) -> list[Check]:
    count = ws.scalar(
        "select count(*) from passages p join documents d on d.id = p.document_id"
        f" where {INCLUDED_WHERE}"
    )
    if count:
        return []
    return [
        Check(
            "no-passages",
            "error",
            "There is no included passage: the bot would know nothing.",
            "Add your website or files on the Content page and sync, or include passages.",
        )
    ]


def _widget(widget: Mapping[str, Any]) -> list[Check]:
    return [
        Check(
            "widget-config",
            "error",
            f"Widget setting {problem.label} ({problem.field}): {problem.message}",
            f"Fill in {_quoted(problem.label)} in the widget form (command line: "
            f"`botdesk widget WS --set {problem.field.split('[')[0]}=VALUE`).",
        )
        for problem in widget_config.publish_problems(widget)
    ]


def _quoted(label: str) -> str:
    return f"\u201c{label}\u201d"


def _embedder(widget: Mapping[str, Any], embedding: Mapping[str, Any] | None) -> list[Check]:
    answering = widget.get("answering") if isinstance(widget, Mapping) else None
    expected = ""
    if isinstance(answering, Mapping):
        expected = str(answering.get("embedding_model") or "")
    if embedding is None:
        return [
            Check(
                "keyword-only",
                "warning",
                "The bundle has no vectors: the hosted bot will search by keywords only.",
                f"Set the workspace embedder (e.g. {widget_config.HOSTED_EMBEDDER}) and sync "
                "to publish vectors, or accept keyword search.",
            )
        ]
    actual = f"{embedding.get('provider')}:{embedding.get('model')}"
    field = _quoted(widget_config.field_label("answering.embedding_model"))
    hosted = widget_config.HOSTED_EMBEDDER
    if expected and actual != expected:
        return [
            Check(
                "embedder-mismatch",
                "error",
                f"The passages were embedded with {actual}, but the hosted service embeds "
                f"questions with {expected}: vector search would compare unrelated vectors.",
                f"Switch the workspace embedder to {expected} (Settings) and sync, or set "
                f"{field} in the widget form to {actual} if the service runs that model.",
            )
        ]
    if actual == hosted:
        return []
    return [
        Check(
            "hosted-embedder",
            "warning",
            f"Your passages and the bot's questions use {actual}. The hosted service embeds "
            f"questions with {hosted} unless it runs {actual} for you.",
            f"Keep {actual} if your service runs it; otherwise switch the workspace embedder "
            f"to {hosted} (Settings), sync, and set {field} to {hosted}.",
        )
    ]


def _failed_sources(ws: Workspace) -> list[Check]:
    rows = ws.fetch_all(
        "select d.uri, d.status_reason, count(p.id) as n from documents d"
        " join passages p on p.document_id = d.id"
        f" where d.status = 'failed' and {INCLUDED_WHERE} group by d.id order by d.uri"
    )
    if not rows:
        return []
    total = sum(int(r["n"]) for r in rows)
    return [
        Check(
            "source-errors",
            "warning",
            f"{total} passage(s) come from {len(rows)} page(s) or file(s) that failed at the last "
            "sync: they may be out of date.",
            "Sync again; if the page is gone for good, exclude it on the Content page.",
            count=total,
            examples=[f"{_public(r['uri'])}: {r['status_reason'] or 'failed'}" for r in rows[:5]],
        )
    ]


def _stale_sources(ws: Workspace, days: int, now: datetime) -> list[Check]:
    cutoff = now - timedelta(days=days)
    stale: list[str] = []
    for row in ws.fetch_all("select id, kind, location, title, last_synced_at from sources"):
        if row["kind"] in ("text", "qa"):
            continue  # typed in by the user: nothing to re-fetch
        synced = _parse_time(row["last_synced_at"])
        if synced is None or synced < cutoff:
            when = "never synced" if synced is None else f"last synced {synced.date()}"
            stale.append(f"{row['title'] or _public(row['location'])} ({when})")
    if not stale:
        return []
    return [
        Check(
            "stale-sources",
            "warning",
            f"{len(stale)} source(s) were not synced in the last {days} days.",
            "Sync (F5, or `botdesk sync WS`) so the bot answers from current content.",
            count=len(stale),
            examples=stale[:5],
        )
    ]


def _citations(ws: Workspace) -> list[Check]:
    rows = ws.fetch_all(
        "select d.uri, s.id as source_id, s.kind, s.settings, count(p.id) as n from documents d"
        " join sources s on s.id = d.source_id join passages p on p.document_id = d.id"
        f" where {INCLUDED_WHERE} and d.uri not like 'http://%' and d.uri not like 'https://%'"
        " group by d.id order by d.uri"
    )
    files = [r for r in rows if r["kind"] not in ("text", "qa") and not _public_url(r["settings"])]
    if not files:
        return []
    total = sum(int(r["n"]) for r in files)
    return [
        Check(
            "citations-no-url",
            "warning",
            f"{total} passage(s) from {len(files)} file(s) have no public web address: their "
            "citations will show the file name only, with no link.",
            "Give the file source a public URL (where the same files are on your site: "
            "`botdesk public-url WS SOURCE_ID URL`), or accept citations without links.",
            count=total,
            examples=[f"{_public(r['uri'])} (source {r['source_id']})" for r in files[:5]],
        )
    ]


def _needs_review(ws: Workspace) -> list[Check]:
    count = int(
        ws.scalar(
            "select count(*) from passages p join documents d on d.id = p.document_id"
            f" where p.needs_review = 1 and {INCLUDED_WHERE}"
        )
        or 0
    )
    if not count:
        return []
    return [
        Check(
            "needs-review",
            "warning",
            f"{count} edited passage(s) changed at the source since you edited them; your edit "
            "will be published.",
            "Review them on the Content page (keep your edit or take the new text).",
            count=count,
        )
    ]


def _public_url(settings: str | None) -> str:
    try:
        data = json.loads(settings or "{}")
    except json.JSONDecodeError:
        return ""
    return str(data.get("public_url") or "") if isinstance(data, dict) else ""


def _public(uri: str) -> str:
    """A URL as is; a local path reduced to its file name (checks may be shared or printed)."""
    if uri.startswith(("http://", "https://")):
        return uri
    return uri.replace("\\", "/").rsplit("/", 1)[-1] or uri


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
