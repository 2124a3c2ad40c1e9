"""A source's row and settings: the one place that writes `sources`, and how the sync reads
a source's settings (chunking, URL exclusions, the crawl's config).

A source row keeps its settings as JSON (`sources.settings`); the workspace keeps the
defaults (`chunking`) and the user's excluded URL patterns.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence
from typing import Any

from desktop.core.content.chunking import settings_from
from desktop.core.content.models import ChunkSettings, skip_reason_text
from desktop.core.ingest.types import SiteConfig
from desktop.core.ingest.urls import pattern_rule
from desktop.core.store.workspace import Workspace, utc_now
from desktop.core.text import sha256_hex

CRAWL_MEMORY_KEY = "crawl_memory"  # in a site source's settings: what the next sync needs


def source_settings(row: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(row.get("settings") or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def insert_source(
    ws: Workspace, kind: str, location: str, title: str, settings: dict[str, Any]
) -> int:
    """A new source row; returns its id."""
    with ws.transaction():
        ws.execute(
            "insert into sources(kind, location, title, settings, created_at)"
            " values (?, ?, ?, ?, ?)",
            (kind, location, title, json.dumps(settings), utc_now()),
        )
        return ws.last_insert_id()


def save_source_settings(ws: Workspace, source_id: int, settings: dict[str, Any]) -> None:
    with ws.transaction():
        ws.execute(
            "update sources set settings = ? where id = ?", (json.dumps(settings), source_id)
        )


def delete_source(ws: Workspace, source_id: int) -> None:
    """The source, its documents and their passages (curation included: foreign keys)."""
    with ws.transaction():
        ws.execute("delete from sources where id = ?", (source_id,))


def workspace_chunk_settings(ws: Workspace) -> ChunkSettings:
    return settings_from(ws.setting("chunking", None) or {})


def effective_chunk_settings(ws: Workspace, source_row: dict[str, Any]) -> ChunkSettings:
    """Workspace defaults overridden by the source's own `chunking` settings."""
    return settings_from(
        source_settings(source_row).get("chunking") or {}, workspace_chunk_settings(ws)
    )


def chunk_settings_key(settings: ChunkSettings) -> str:
    """A short fingerprint of chunk settings: a change re-cuts the source's documents."""
    return sha256_hex(json.dumps(settings.to_json(), sort_keys=True))[:16]


def excluded_url_patterns(ws: Workspace) -> list[str]:
    return [str(p) for p in ws.setting("excluded_url_patterns", [])]


def matches_excluded_pattern(uri: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(uri, pattern) for pattern in patterns)


def site_config(row: dict[str, Any]) -> SiteConfig:
    settings = source_settings(row)
    kwargs: dict[str, Any] = {
        "include": tuple(settings.get("include") or ()),
        "exclude": tuple(settings.get("exclude") or ()),
    }
    if settings.get("max_pages"):
        kwargs["max_pages"] = int(settings["max_pages"])
    if settings.get("max_depth") is not None:
        kwargs["max_depth"] = int(settings["max_depth"])
    # politeness and traps: absent means the polite defaults of SiteConfig
    if settings.get("concurrency"):
        kwargs["concurrency"] = int(settings["concurrency"])
    if settings.get("timeout_s"):
        kwargs["timeout_s"] = float(settings["timeout_s"])
    if settings.get("family_cap"):
        kwargs["family_cap"] = int(settings["family_cap"])
    if settings.get("honour_noindex") is not None:
        kwargs["honour_noindex"] = bool(settings["honour_noindex"])
    return SiteConfig(start_url=row["location"], **kwargs)


def left_out_because(url: str, reason: str, config: SiteConfig) -> str:
    """Why a site's rules or the crawl left `url` out, in words; a URL rule is named."""
    rule = pattern_rule(url, config.include, config.exclude) if reason == "pattern" else None
    return rule or skip_reason_text(reason)
