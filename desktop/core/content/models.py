"""The plain values the content services hand to the UI, the CLI and the other parts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

PassageState = Literal["included", "excluded", "edited", "needs_review"]
SKIPPED_URLS_KEPT = 1000  # skipped addresses a sync summary lists (the counts are all kept)
# What a crawl's skip reasons mean, for people (the codes stay in JSON and counts).
SKIP_REASON_TEXT = {
    "pattern": "left out by a URL rule",
    "type": "not a page (an image, archive or other file type)",
    "size": "too large",
    "robots": "the site's robots.txt forbids it",
    "offsite": "on another site",
    "duplicate": "the same page as another address",
    "private-address": "a private or local network address",
    "url-too-long": "address too long",
    "path-too-deep": "path too deep",
    "repeating-path": "path repeats itself (a crawler trap)",
    "depth": "more links away from the start page than the depth limit",
    "max-pages": "over the page limit",
    "trap": "one more page of an endless series (a crawl trap), over the cap",
    "retry-later": "failed lately: tried again after a few syncs",
    "noindex": "the page asks not to be indexed (noindex)",
}


def skip_reason_text(reason: str) -> str:
    """A skip reason code in words (unknown codes as they are)."""
    return SKIP_REASON_TEXT.get(reason, reason)


def passage_name(passage_id: int) -> str:
    """How every screen names a passage: by its stable id ("Passage #1234"), which survives
    re-syncs and is the same on Content, Search and the Test bench."""
    return f"Passage #{passage_id}"


@dataclass(frozen=True)
class ChunkSettings:
    """How a source's documents are cut into passages (tokens as count_tokens counts them)."""

    target_tokens: int = 350
    overlap_tokens: int = 40
    min_tokens: int = 50

    def to_json(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class SourceInfo:
    """One source: a site, a file or folder, a pasted text or a Q&A pair."""

    id: int
    kind: str
    location: str
    title: str
    settings: dict[str, Any]
    created_at: str
    last_synced_at: str | None
    documents: int = 0
    passages: int = 0
    last_sync_summary: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DocumentInfo:
    """One page, file or text of a source, with its sync status."""

    id: int
    source_id: int
    uri: str
    title: str
    content_type: str
    status: str
    status_reason: str
    excluded: bool
    passages: int
    fetched_at: str | None
    updated_at: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DocumentDetail(DocumentInfo):
    """A document with its extracted Markdown and PDF page spans [(page, start, end)]."""

    markdown: str = ""
    pages: list[tuple[int, int, int]] = field(default_factory=list)


@dataclass
class PassageInfo:
    """One passage as the user curates it; `text` is what the bot is given."""

    id: int
    document_id: int
    uri: str
    title: str
    ordinal: int
    heading_path: str
    page: int | None
    char_start: int | None
    char_end: int | None
    text: str
    source_text: str
    review_source_text: str | None
    state: PassageState
    excluded: bool
    edited: bool
    needs_review: bool
    removed: bool
    tokens: int
    boilerplate: bool
    origin: str
    text_hash: str
    # The whole document is excluded: the passage is out of the bot whatever its own flag.
    document_excluded: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ChunkPreview:
    """A passage as a chunker setting would cut it (not stored)."""

    document_id: int
    uri: str
    ordinal: int
    heading_path: str
    page: int | None
    char_start: int
    char_end: int
    tokens: int
    text: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BoilerplateGroup:
    """Passages with the same normalised text on many documents (footers, legal notes)."""

    key: str
    text: str
    documents: int
    passage_ids: list[int]
    excluded: int  # how many of them are already excluded

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ContentStats:
    """Counts for the status bar and the summaries."""

    sources: int = 0
    documents: int = 0
    passages: int = 0
    included: int = 0
    excluded: int = 0
    edited: int = 0
    needs_review: int = 0
    boilerplate: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PreviewUrl:
    """One URL of a crawl preview and whether the rules keep it."""

    url: str
    via: str
    included: bool
    reason: str | None  # why excluded: "pattern", "max-pages", ...
    detail: str = ""  # the reason in words, naming the rule ("excluded by */blog/*")


@dataclass
class PreviewNode:
    """A path segment of the preview tree with the URLs below it."""

    name: str
    path: str
    url: str | None = None
    included: bool | None = None
    reason: str | None = None
    detail: str = ""
    children: list[PreviewNode] = field(default_factory=list)
    total: int = 0
    included_count: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "url": self.url,
            "included": self.included,
            "reason": self.reason,
            "detail": self.detail,
            "total": self.total,
            "included_count": self.included_count,
            "children": [child.to_json() for child in self.children],
        }


@dataclass
class SitePreview:
    """What discovery found for a start URL, before any rule is applied."""

    start_url: str
    urls: list[tuple[str, str]]  # (url, via: "sitemap" | "link" | "start")
    # URL families that kept linking to more of themselves, in words, one line each
    traps: list[str] = field(default_factory=list)


@dataclass
class PreviewSelection:
    """A preview with the include/exclude rules and the page limit applied."""

    urls: list[PreviewUrl]
    tree: PreviewNode
    count: int  # pages the crawl would fetch (at most max_pages)

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "urls": [asdict(u) for u in self.urls],
            "tree": self.tree.to_json(),
        }


@dataclass
class SyncSummary:
    """What one sync did, per the counts users and scripts read."""

    fetched: int = 0
    unchanged: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    # address -> why it was skipped, in words (the first SKIPPED_URLS_KEPT of them)
    skipped_urls: dict[str, str] = field(default_factory=dict)
    removed: int = 0
    no_text: int = 0
    passages_added: int = 0
    passages_changed: int = 0
    passages_removed: int = 0
    needs_review: int = 0
    boilerplate: int = 0
    sources: int = 0
    # what the crawl noticed, one line each ("possible crawl trap: /calendar/{n}/{n}, ...")
    notes: list[str] = field(default_factory=list)

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n

    def skip_url(self, url: str, why: str) -> None:
        """Remember one skipped address with its reason in words (bounded list)."""
        if len(self.skipped_urls) < SKIPPED_URLS_KEPT or url in self.skipped_urls:
            self.skipped_urls[url] = why

    def merge(self, other: SyncSummary) -> None:
        for name in (
            "fetched",
            "unchanged",
            "removed",
            "no_text",
            "passages_added",
            "passages_changed",
            "passages_removed",
            "sources",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, n in other.skipped.items():
            self.skip(reason, n)
        self.failed.update(other.failed)
        self.notes.extend(other.notes)
        for url, why in other.skipped_urls.items():
            self.skip_url(url, why)

    def to_json(self) -> dict[str, Any]:
        return {
            "fetched": self.fetched,
            "unchanged": self.unchanged,
            "skipped": dict(self.skipped),
            "failed": dict(self.failed),
            "skipped_urls": dict(self.skipped_urls),
            "removed": self.removed,
            "no_text": self.no_text,
            "passages": {
                "added": self.passages_added,
                "changed": self.passages_changed,
                "removed": self.passages_removed,
                "needs_review": self.needs_review,
                "boilerplate": self.boilerplate,
            },
            "sources": self.sources,
            "notes": list(self.notes),
        }

    def line(self) -> str:
        """One human line for job summaries and the CLI."""
        skipped = sum(self.skipped.values())
        return (
            f"{self.fetched} fetched, {self.unchanged} unchanged, {skipped} skipped, "
            f"{len(self.failed)} failed, {self.removed} removed; passages "
            f"+{self.passages_added} ~{self.passages_changed} -{self.passages_removed}, "
            f"{self.needs_review} need review"
        ) + "".join(f"; {note}" for note in self.notes)
