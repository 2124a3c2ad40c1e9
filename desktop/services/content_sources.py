"""Sources and their settings: add a site, files, text or a Q&A pair; list, remove, change
a source's rules, politeness and chunking; and the previews that save nothing: which URLs a
site's rules keep (discovery, then the rules applied live) and how its documents would be
cut (UI and CLI call these).

Every function takes the open Workspace first; values returned are the plain dataclasses
of desktop.core.content.models. Syncing sources, documents and passages: content.py.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from desktop.core.content import queries
from desktop.core.content import source_settings as source_rows
from desktop.core.content.chunking import settings_from
from desktop.core.content.file_sync import readable_path
from desktop.core.content.models import (
    ChunkPreview,
    ChunkSettings,
    PreviewNode,
    PreviewSelection,
    PreviewUrl,
    SitePreview,
    SourceInfo,
)
from desktop.core.content.source_settings import (
    effective_chunk_settings,
    left_out_because,
    site_config,
    workspace_chunk_settings,
)
from desktop.core.content.source_sync import chunks_for, pages_from
from desktop.core.errors import ConfigError, SourceError
from desktop.core.ingest.crawl_report import url_allowed
from desktop.core.ingest.discover import discover_site
from desktop.core.ingest.files import list_files
from desktop.core.ingest.traps import TrapReport
from desktop.core.ingest.types import SiteConfig
from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace
from desktop.services.backends import Backends

_SITE_SETTINGS = ("include", "exclude", "max_pages", "max_depth")
# politeness and crawl traps, per site source (absent: SiteConfig's polite defaults)
_CRAWL_SETTINGS = ("concurrency", "timeout_s", "family_cap", "honour_noindex")
MAX_CONCURRENCY = 16  # requests in flight per host a user may ask for
MAX_TIMEOUT_S = 300.0
_CHUNK_SETTINGS = ("target_tokens", "overlap_tokens", "min_tokens")


# -- sources ---------------------------------------------------------------------------
def _insert_source(
    ws: Workspace, kind: str, location: str, title: str, settings: dict[str, Any]
) -> SourceInfo:
    return get_source(ws, source_rows.insert_source(ws, kind, location, title, settings))


def _check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(
            f"Not a website address: {url!r}.", hint="Give a full URL such as https://example.com/."
        )
    return url.strip()


def _check_limit(name: str, value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ConfigError(f"{name} must be a whole number of 0 or more, not {value!r}.")
    return value


def _check_crawl_setting(name: str, value: Any) -> Any:
    """A politeness/trap setting checked: ConfigError with the allowed range if not."""
    if name == "honour_noindex":
        if not isinstance(value, bool):
            raise ConfigError(f"honour_noindex must be true or false, not {value!r}.")
        return value
    if name == "timeout_s":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value <= MAX_TIMEOUT_S
        ):
            raise ConfigError(
                f"timeout_s must be a number of seconds above 0 and at most {MAX_TIMEOUT_S:g},"
                f" not {value!r}."
            )
        return float(value)
    top = MAX_CONCURRENCY if name == "concurrency" else None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < 1
        or (top is not None and value > top)
    ):
        allowed = f"from 1 to {top}" if top else "of 1 or more"
        raise ConfigError(f"{name} must be a whole number {allowed}, not {value!r}.")
    return value


def add_site(
    ws: Workspace,
    url: str,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    max_pages: int | None = None,
    max_depth: int | None = None,
    concurrency: int | None = None,
    timeout_s: float | None = None,
    family_cap: int | None = None,
    honour_noindex: bool | None = None,
) -> SourceInfo:
    """A website source (not fetched until sync).

    Politeness: `concurrency` requests in flight per host (default 4; a robots.txt
    Crawl-delay still spaces them), `timeout_s` per response (default 20), and
    `honour_noindex` (default on) for `<meta name=robots content=noindex>` and
    X-Robots-Tag. `family_cap` (default 50): pages of one endless URL family followed.
    """
    url = _check_url(url)
    settings: dict[str, Any] = {"include": list(include), "exclude": list(exclude)}
    if _check_limit("max_pages", max_pages) is not None:
        settings["max_pages"] = max_pages
    if _check_limit("max_depth", max_depth) is not None:
        settings["max_depth"] = max_depth
    crawl = {
        "concurrency": concurrency,
        "timeout_s": timeout_s,
        "family_cap": family_cap,
        "honour_noindex": honour_noindex,
    }
    for name, value in crawl.items():
        if value is not None:
            settings[name] = _check_crawl_setting(name, value)
    host = urlsplit(url).hostname or url
    return _insert_source(ws, "site", url, host, settings)


def add_files(ws: Workspace, paths: Sequence[Path | str]) -> list[SourceInfo]:
    """One source per file or folder; SourceError (nothing added) if any path is missing."""
    resolved: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            raise SourceError(f"No such file or folder: {path}", hint="Check the path.")
        if path.is_file():
            list_files([path])  # SourceError now, not at sync, for an unsupported type
        shown = readable_path(path.resolve())
        if shown != str(path.resolve()):
            raise SourceError(
                f"The name {shown} is not valid UTF-8 (as names from Windows or zip archives "
                "can be).",
                hint="Rename it using ordinary characters, then add it again.",
            )
        resolved.append(path.resolve())
    if not resolved:
        raise SourceError("No files or folders given.")
    return [_insert_source(ws, "files", str(p), p.name, {}) for p in resolved]


def add_text(ws: Workspace, title: str, text: str) -> SourceInfo:
    """Pasted text as its own source (one document)."""
    if not text.strip():
        raise SourceError("The text is empty.")
    title = title.strip() or "Text"
    return _insert_source(ws, "text", "", title, {"text": text})


def add_qa(ws: Workspace, question: str, answer: str) -> SourceInfo:
    """A question and its answer: one passage "Q: ...\\nA: ..." headed by the question."""
    if not question.strip() or not answer.strip():
        raise SourceError("A Q&A pair needs both a question and an answer.")
    return _insert_source(
        ws, "qa", "", question.strip(), {"question": question.strip(), "answer": answer.strip()}
    )


def list_sources(ws: Workspace) -> list[SourceInfo]:
    return queries.sources(ws)


def get_source(ws: Workspace, source_id: int) -> SourceInfo:
    found = queries.source(ws, source_id)
    if found is None:
        raise SourceError(f"No source with id {source_id}.")
    return found


def remove_source(ws: Workspace, source_id: int) -> None:
    """Delete a source with its documents and passages (curation included)."""
    get_source(ws, source_id)
    source_rows.delete_source(ws, source_id)


def set_source_settings(ws: Workspace, source_id: int, **changes: Any) -> SourceInfo:
    """Change a source's rules/limits (include, exclude, max_pages, max_depth), a site's
    politeness (concurrency, timeout_s, honour_noindex, family_cap; None: the default) or
    its chunking (target_tokens, overlap_tokens, min_tokens, or chunking={...}).

    Chunking changes take effect at the next sync, which re-chunks that source from the
    stored Markdown without fetching again.
    """
    source = get_source(ws, source_id)
    settings = dict(source.settings)
    chunking = dict(settings.get("chunking") or {})
    for key, value in changes.items():
        if key == "chunking":
            if not isinstance(value, dict):
                raise ConfigError("chunking must be a mapping of settings.")
            chunking.update(value)
        elif key in _CHUNK_SETTINGS:
            chunking[key] = value
        elif key in _SITE_SETTINGS and source.kind == "site":
            if key in ("include", "exclude"):
                settings[key] = [str(v) for v in value]
            else:
                settings[key] = _check_limit(key, value)
        elif key in _CRAWL_SETTINGS and source.kind == "site":
            if value is None:
                settings.pop(key, None)
            else:
                settings[key] = _check_crawl_setting(key, value)
        else:
            raise ConfigError(f"Unknown setting {key!r} for a {source.kind} source.")
    if chunking:
        settings_from(chunking, workspace_chunk_settings(ws))  # validates
        settings["chunking"] = chunking
    source_rows.save_source_settings(ws, source_id, settings)
    return get_source(ws, source_id)


def source_chunk_settings(ws: Workspace, source_id: int) -> ChunkSettings:
    """How a source's documents are cut: the workspace's defaults under its own settings."""
    row = queries.source_row(ws, source_id)
    if row is None:
        raise SourceError(f"No source with id {source_id}.")
    return effective_chunk_settings(ws, row)


def source_site_config(ws: Workspace, source_id: int) -> SiteConfig:
    """How a site source is crawled: SiteConfig's polite defaults under its own settings
    (the effective concurrency, timeout, family cap and noindex choice, rules, limits)."""
    row = queries.source_row(ws, source_id)
    if row is None or row["kind"] != "site":
        raise SourceError(f"No website source with id {source_id}.")
    return site_config(row)


# -- site preview ----------------------------------------------------------------------
async def preview_site(
    url: str,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    max_pages: int | None = None,
    max_depth: int | None = None,
    job: Job | None = None,
    backends: Backends,
) -> SitePreview:
    """The URLs discovery finds (sitemaps and links of the first pages), without a crawl."""
    url = _check_url(url)
    config = site_config(
        {
            "location": url,
            "settings": json.dumps(
                {
                    "include": list(include),
                    "exclude": list(exclude),
                    "max_pages": max_pages,
                    "max_depth": max_depth,
                }
            ),
        }
    )
    traps: list[TrapReport] = []
    found = await discover_site(config, job=job, client=backends.site_http, traps=traps)
    return SitePreview(
        start_url=url,
        urls=[(d.url, d.via) for d in found],
        traps=[
            f"possible crawl trap: {t.family}, an endless series: a sync follows at most "
            f"{config.family_cap} of its pages"
            for t in traps
        ],
    )


def apply_site_rules(
    preview: SitePreview,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    max_pages: int | None = None,
) -> PreviewSelection:
    """Instant (no network): which preview URLs the rules keep, as a tree by path."""
    config = site_config(
        {
            "location": preview.start_url,
            "settings": json.dumps(
                {"include": list(include), "exclude": list(exclude), "max_pages": max_pages}
            ),
        }
    )
    limit = config.max_pages
    urls: list[PreviewUrl] = []
    count = 0
    for url, via in preview.urls:
        reason = url_allowed(url, config)
        if reason is None and count >= limit:
            reason = "max-pages"
        if reason is None:
            count += 1
        detail = "" if reason is None else left_out_because(url, reason, config)
        urls.append(
            PreviewUrl(url=url, via=via, included=reason is None, reason=reason, detail=detail)
        )
    return PreviewSelection(urls=urls, tree=_tree(urls), count=count)


def _tree(urls: Sequence[PreviewUrl]) -> PreviewNode:
    root = PreviewNode(name="/", path="/")
    for item in urls:
        parts = urlsplit(item.url)
        segments = [s for s in PurePosixPath(parts.path or "/").parts if s != "/"]
        node = root
        path = ""
        for segment in segments:
            path += "/" + segment
            child = next((c for c in node.children if c.name == segment), None)
            if child is None:
                child = PreviewNode(name=segment, path=path)
                node.children.append(child)
            node = child
        if node.url is not None:  # same path twice (query strings): a leaf of its own
            leaf = PreviewNode(name=parts.query or item.url, path=node.path)
            node.children.append(leaf)
            node = leaf
        node.url, node.included, node.reason = item.url, item.included, item.reason
        node.detail = item.detail
    _count(root)
    return root


def _count(node: PreviewNode) -> None:
    node.total = 1 if node.url else 0
    node.included_count = 1 if node.included else 0
    for child in node.children:
        _count(child)
        node.total += child.total
        node.included_count += child.included_count


# -- chunking preview ------------------------------------------------------------------
def preview_chunking(ws: Workspace, source_id: int, settings: dict[str, Any]) -> list[ChunkPreview]:
    """How the source's stored documents would be cut with these settings (nothing saved)."""
    source_row = queries.source_row(ws, source_id)
    if source_row is None:
        raise SourceError(f"No source with id {source_id}.")
    chunk_settings = settings_from(settings, effective_chunk_settings(ws, source_row))
    out: list[ChunkPreview] = []
    for doc in queries.stored_markdown(ws, source_id):
        pages = pages_from(doc["pages"])
        chunks = chunks_for(
            source_row["kind"], doc["markdown"], pages, chunk_settings, title=doc["title"]
        )
        out.extend(
            ChunkPreview(
                document_id=doc["id"],
                uri=doc["uri"],
                ordinal=i,
                heading_path=c.heading_path,
                page=c.page,
                char_start=c.char_start,
                char_end=c.char_end,
                tokens=c.tokens,
                text=c.text,
            )
            for i, c in enumerate(chunks)
        )
    return out
