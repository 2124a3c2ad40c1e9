"""Per-release rates, and the passages a live answer cited as they are in the workspace now.

A bundle's `passages.id` is the workspace's passage id, and each release published from
this workspace recorded the text hash of every passage it held: so a citation can say
whether the passage was edited, excluded or removed since the release that answered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from desktop.core.conversations.protocol import Citation
from desktop.core.store.workspace import Workspace

PassageChange = Literal["unchanged", "edited", "excluded", "removed", "unknown"]


@dataclass(frozen=True)
class ReleaseStats:
    release_id: str | None
    version: int | None  # known when this workspace published or saw the release
    conversations: int
    answers: int
    declined_pct: float
    down_pct: float
    cited_pct: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _pct(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def release_stats(ws: Workspace) -> list[ReleaseStats]:
    """For each release that answered: conversations, and the share of its answers that
    declined, got a thumbs down, or cited a passage. Newest release first."""
    rows = ws.fetch_all(
        "select c.release_id, count(*) as conversations, sum(c.answers) as answers,"
        " sum(c.declined) as declined, sum(c.down) as down, sum(c.cited) as cited,"
        " (select max(r.version) from publish_releases r where r.release_id = c.release_id)"
        " as version, max(c.updated_at) as last"
        " from conversations c group by c.release_id"
        " order by version is null, version desc, last desc"
    )
    return [
        ReleaseStats(
            release_id=r["release_id"],
            version=r["version"],
            conversations=int(r["conversations"]),
            answers=int(r["answers"] or 0),
            declined_pct=_pct(int(r["declined"] or 0), int(r["answers"] or 0)),
            down_pct=_pct(int(r["down"] or 0), int(r["answers"] or 0)),
            cited_pct=_pct(int(r["cited"] or 0), int(r["answers"] or 0)),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class CitedPassage:
    """A cited passage as it is now, and what changed since the release that cited it."""

    n: int
    passage_id: int | None
    url: str
    change: PassageChange
    note: str
    text: str  # the passage's text now ('' when it is gone)
    heading: str
    title: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _release_hashes(ws: Workspace, release_id: str | None) -> dict[int, str] | None:
    if not release_id:
        return None
    row = ws.fetch_one(
        "select id from publish_releases where release_id = ? and status = 'published'"
        " order by id desc limit 1",
        (release_id,),
    )
    if row is None:
        return None
    return {
        int(r["passage_id"]): str(r["text_hash"])
        for r in ws.fetch_all(
            "select passage_id, text_hash from publish_release_passages where release_row_id = ?",
            (row["id"],),
        )
    }


def cited_passages(
    ws: Workspace, release_id: str | None, citations: Sequence[Citation]
) -> list[CitedPassage]:
    """Each citation resolved against the workspace now."""
    held = _release_hashes(ws, release_id)
    found: list[CitedPassage] = []
    for citation in citations:
        row = None
        if citation.passage_id is not None:
            row = ws.fetch_one(
                "select p.text, p.text_hash, p.heading_path, p.excluded, p.removed,"
                " d.excluded as document_excluded, d.status, d.title"
                " from passages p join documents d on d.id = p.document_id where p.id = ?",
                (citation.passage_id,),
            )
        change: PassageChange
        if row is None:
            change, note = "removed", "no longer in the workspace"
            found.append(
                CitedPassage(
                    citation.n, citation.passage_id, citation.url, change, note, "", "", ""
                )
            )
            continue
        if row["removed"] or row["status"] == "removed":
            change, note = "removed", "removed since (its page or file is gone)"
        elif row["excluded"] or row["document_excluded"]:
            change, note = "excluded", "excluded since"
        elif held is None:
            change, note = "unknown", "that release was not published from this workspace"
        elif citation.passage_id not in held:
            change, note = "unknown", "not in that release as this workspace published it"
        elif held[int(citation.passage_id or 0)] != row["text_hash"]:
            change, note = "edited", "edited since that release"
        else:
            change, note = "unchanged", "as it was in that release"
        found.append(
            CitedPassage(
                citation.n,
                citation.passage_id,
                citation.url,
                change,
                note,
                str(row["text"]),
                str(row["heading_path"]),
                str(row["title"]),
            )
        )
    return found
