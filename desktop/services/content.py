"""Content services: sources, sync, documents, passages and their curation (UI and CLI call these).

Every function takes the open Workspace first. Values returned are the plain dataclasses
of desktop.core.content.models. A passage the bot may use is one of
`INCLUDED_PASSAGES_SQL` (not excluded, not removed, its document neither excluded nor
removed); its effective text is `passages.text`, and `passages.text_hash` keys the
embedding cache.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

from desktop.core.content import boilerplate, curation, queries
from desktop.core.content import sync as content_sync
from desktop.core.content.chunking import settings_from
from desktop.core.content.curation import INCLUDED_WHERE
from desktop.core.content.file_sync import readable_path
from desktop.core.content.models import (
    BoilerplateGroup,
    ChunkPreview,
    ChunkSettings,
    ContentStats,
    DocumentDetail,
    DocumentInfo,
    PassageInfo,
    PreviewNode,
    PreviewSelection,
    PreviewUrl,
    SitePreview,
    SourceInfo,
    SyncSummary,
)
from desktop.core.content.source_settings import (
    effective_chunk_settings,
    excluded_url_patterns,
    left_out_because,
    site_config,
    workspace_chunk_settings,
)
from desktop.core.content.source_sync import chunks_for, pages_from
from desktop.core.errors import ConfigError, SourceError
from desktop.core.index.query import ALL_WORDS, fts_query
from desktop.core.ingest.crawl_report import url_allowed
from desktop.core.ingest.discover import discover_site
from desktop.core.ingest.files import list_files
from desktop.core.ingest.traps import TrapReport
from desktop.core.ingest.types import SiteConfig
from desktop.core.jobs import Job
from desktop.core.publish import passage_checks
from desktop.core.publish.passage_checks import FlaggedPassage
from desktop.core.store.lock import WorkspaceLock
from desktop.core.store.workspace import Workspace, utc_now
from desktop.services import index
from desktop.services.backends import Backends

INCLUDED_PASSAGES_SQL = f"""
select p.* from passages p join documents d on d.id = p.document_id
where {INCLUDED_WHERE}
"""

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
    with ws.transaction():
        ws.execute(
            "insert into sources(kind, location, title, settings, created_at)"
            " values (?, ?, ?, ?, ?)",
            (kind, location, title, json.dumps(settings), utc_now()),
        )
        source_id = ws.last_insert_id()
    return get_source(ws, source_id)


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
    with ws.transaction():
        ws.execute("delete from sources where id = ?", (source_id,))


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
    with ws.transaction():
        ws.execute(
            "update sources set settings = ? where id = ?", (json.dumps(settings), source_id)
        )
    return get_source(ws, source_id)


def source_chunk_settings(ws: Workspace, source_id: int) -> ChunkSettings:
    """How a source's documents are cut: the workspace's defaults under its own settings."""
    row = ws.fetch_one("select * from sources where id = ?", (source_id,))
    if row is None:
        raise SourceError(f"No source with id {source_id}.")
    return effective_chunk_settings(ws, row)


def source_site_config(ws: Workspace, source_id: int) -> SiteConfig:
    """How a site source is crawled: SiteConfig's polite defaults under its own settings
    (the effective concurrency, timeout, family cap and noindex choice, rules, limits)."""
    row = ws.fetch_one("select * from sources where id = ?", (source_id,))
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


# -- sync ------------------------------------------------------------------------------
async def sync(
    ws: Workspace,
    job: Job,
    *,
    source_ids: Sequence[int] | None = None,
    backends: Backends,
) -> SyncSummary:
    """Fetch/read, extract, chunk and reconcile every source (or those given), incrementally,
    then embed the included passages that have no vector yet, with the workspace's embedder
    as `backends` make it.

    Each document commits alone: a cancel (CancelledError) keeps what was done, and the
    next sync resumes, skipping what is unchanged.
    """
    # Raises WorkspaceBusyError ("a sync of this workspace is already running (pid N, since
    # HH:MM)") while another process runs a long job on it; a refresh holding it goes on.
    ws.refuse_if_readonly()
    with WorkspaceLock.unless_held(ws.path, "sync"):
        summary = await content_sync.sync_workspace(
            ws, job, source_ids=source_ids, client=backends.site_http
        )
        # The embed stage: vectors for what changed (each batch commits; a cancel keeps them).
        embedded = await index.embed_pending(ws, job, backends=backends)
    job.finish(f"{summary.line()}; {embedded.line()}")
    return summary


# -- documents -------------------------------------------------------------------------
def list_documents(ws: Workspace, *, source_id: int | None = None) -> list[DocumentInfo]:
    return queries.documents(ws, source_id=source_id)


def get_document(ws: Workspace, document_id: int) -> DocumentDetail:
    found = queries.document(ws, document_id)
    if found is None:
        raise SourceError(f"No document with id {document_id}.")
    return found


def exclude_document(ws: Workspace, document_id: int, excluded: bool = True) -> None:
    """Keep a whole document out of (or back in) the bot's knowledge."""
    get_document(ws, document_id)
    with ws.transaction():
        ws.execute(
            "update documents set excluded = ?, updated_at = ? where id = ?",
            (int(excluded), utc_now(), document_id),
        )


def exclude_url_pattern(ws: Workspace, pattern: str) -> int:
    """Exclude every document whose URL or path matches a glob, now and in future syncs."""
    pattern = pattern.strip()
    if not pattern:
        raise SourceError("The URL pattern is empty.")
    patterns = excluded_url_patterns(ws)
    if pattern not in patterns:
        patterns.append(pattern)
        ws.set_setting("excluded_url_patterns", patterns)
    return content_sync.apply_url_patterns(ws)


# -- passages --------------------------------------------------------------------------
def list_passages(
    ws: Workspace,
    *,
    document_id: int | None = None,
    state: str | None = None,
    query: str | None = None,
    include_removed: bool = False,
) -> list[PassageInfo]:
    """Passages in document order; state filters by included/excluded/edited/needs_review
    (or "boilerplate"); query is a full-text search (FTS5, best match first)."""
    match = None
    if query and query.strip():
        match = fts_query(query, ALL_WORDS)
        if not match:
            return []
    passages = queries.passages(
        ws, document_id=document_id, match=match, include_removed=include_removed
    )
    if state:
        if state == "boilerplate":
            return [p for p in passages if p.boilerplate]
        if state not in ("included", "excluded", "edited", "needs_review"):
            raise SourceError(
                f"Unknown state {state!r}.",
                hint="Use included, excluded, edited, needs_review or boilerplate.",
            )
        passages = [p for p in passages if p.state == state]
    return passages


def get_passage(ws: Workspace, passage_id: int) -> PassageInfo:
    found = queries.passage(ws, passage_id)
    if found is None:
        raise SourceError(f"No passage with id {passage_id}.")
    return found


def edit_passage(ws: Workspace, passage_id: int, text: str) -> PassageInfo:
    """Replace a passage's text with the user's (kept across re-syncs)."""
    with ws.transaction():
        curation.edit_passage(ws, passage_id, text)
    return get_passage(ws, passage_id)


def exclude_passages(ws: Workspace, ids: Sequence[int]) -> int:
    return curation.set_excluded(ws, ids, True)


def include_passages(ws: Workspace, ids: Sequence[int]) -> int:
    return curation.set_excluded(ws, ids, False)


def add_passage(
    ws: Workspace, document_id: int, text: str, *, heading_path: str = ""
) -> PassageInfo:
    """A passage written by hand under a document; never touched by a re-sync."""
    with ws.transaction():
        passage_id = curation.add_manual(ws, document_id, text, heading_path)
    return get_passage(ws, passage_id)


def resolve_review(
    ws: Workspace, passage_id: int, *, keep: Literal["edit", "source"]
) -> PassageInfo:
    """Settle a passage whose source changed under the user's curation."""
    with ws.transaction():
        curation.resolve_review(ws, passage_id, keep)
    return get_passage(ws, passage_id)


# -- chunking preview ------------------------------------------------------------------
def preview_chunking(ws: Workspace, source_id: int, settings: dict[str, Any]) -> list[ChunkPreview]:
    """How the source's stored documents would be cut with these settings (nothing saved)."""
    source_row = ws.fetch_one("select * from sources where id = ?", (source_id,))
    if source_row is None:
        raise SourceError(f"No source with id {source_id}.")
    chunk_settings = settings_from(settings, effective_chunk_settings(ws, source_row))
    out: list[ChunkPreview] = []
    for doc in ws.fetch_all(
        "select id, uri, title, markdown, pages from documents where source_id = ?"
        " and status != 'removed' and markdown is not null order by uri",
        (source_id,),
    ):
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


# -- boilerplate and stats -------------------------------------------------------------
def boilerplate_groups(ws: Workspace) -> list[BoilerplateGroup]:
    return boilerplate.groups(ws)


def exclude_boilerplate(ws: Workspace, group_key: str) -> int:
    """Exclude a whole group of repeated passages (and its future members)."""
    return boilerplate.exclude_group(ws, group_key)


def content_stats(ws: Workspace) -> ContentStats:
    row = ws.fetch_one(
        "select count(*) as passages,"
        " coalesce(sum(p.excluded = 0 and d.excluded = 0 and d.status != 'removed'), 0)"
        " as included,"
        " coalesce(sum(p.excluded = 1 or d.excluded = 1), 0) as excluded,"
        " coalesce(sum(p.edited_text is not null), 0) as edited,"
        " coalesce(sum(p.needs_review), 0) as needs_review,"
        " coalesce(sum(p.boilerplate), 0) as boilerplate"
        " from passages p join documents d on d.id = p.document_id where p.removed = 0"
    )
    assert row is not None
    return ContentStats(
        sources=int(ws.scalar("select count(*) from sources")),
        documents=int(ws.scalar("select count(*) from documents where status != 'removed'")),
        passages=int(row["passages"]),
        included=int(row["included"]),
        excluded=int(row["excluded"]),
        edited=int(row["edited"]),
        needs_review=int(row["needs_review"]),
        boilerplate=int(row["boilerplate"]),
    )


# -- undo (the inverses the window's undo stack needs) ----------------------------------
# Passage columns that curation changes; a snapshot of them restores a passage exactly.
_CURATION_COLUMNS = (
    "edited_text",
    "text",
    "text_hash",
    "tokens",
    "source_text",
    "source_hash",
    "review_source_text",
    "needs_review",
    "excluded",
)


def curation_snapshot(ws: Workspace, passage_id: int) -> dict[str, Any]:
    """What curation may change on a passage, to put back exactly (undo)."""
    row = ws.fetch_one(
        f"select {', '.join(_CURATION_COLUMNS)} from passages where id = ?", (passage_id,)
    )
    if row is None:
        raise SourceError(f"No passage with id {passage_id}.")
    return {key: row[key] for key in _CURATION_COLUMNS}


def restore_curation(ws: Workspace, passage_id: int, snapshot: dict[str, Any]) -> None:
    """Undo any curation since `snapshot` was taken (an edit, a settled review...)."""
    sets = ", ".join(f"{key} = ?" for key in _CURATION_COLUMNS)
    with ws.transaction():
        ws.execute(
            f"update passages set {sets}, updated_at = ? where id = ?",
            (*(snapshot[key] for key in _CURATION_COLUMNS), utc_now(), passage_id),
        )


def delete_added_passage(ws: Workspace, passage_id: int) -> None:
    """Take back a hand-written passage (never one the chunker made)."""
    with ws.transaction():
        ws.execute("delete from passages where id = ? and origin = 'manual'", (passage_id,))


def forget_setting_items(ws: Workspace, key: str, items: Sequence[str]) -> None:
    """Drop items from a remembered list (excluded URL patterns, boilerplate groups)."""
    kept = [value for value in ws.setting(key, []) if value not in items]
    with ws.transaction():
        ws.set_setting(key, kept)


# -- passages that address the model ---------------------------------------------------
def flagged_passages(ws: Workspace) -> list[FlaggedPassage]:
    """Included passages whose text addresses the model (prompt injection), with the words
    matched; the publish check 'model-address' warns about those not accepted."""
    return passage_checks.flagged_passages(ws)


def accept_flagged(ws: Workspace, passage_ids: Sequence[int]) -> int:
    """Accept these passages as harmless until their text changes; returns how many."""
    with ws.transaction():
        return passage_checks.accept_flagged(ws, list(passage_ids))
