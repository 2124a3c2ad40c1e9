"""Publish checks on the passages themselves: garbage, over the embedder's input limit,
and text that addresses the model (prompt injection), which the user may review and accept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from desktop.core.content.curation import INCLUDED_WHERE
from desktop.core.content.quality import garbage_reason, model_addresses
from desktop.core.index.store import cache_model
from desktop.core.model_specs import parse_model_spec
from desktop.core.publish.checks import Check
from desktop.core.store.workspace import Workspace

# Past this a passage is over every embedder we support (mistral-embed reads 8,192 tokens)
# and crowds the answer's prompt, whatever the workspace's embedder.
MAX_PASSAGE_TOKENS = 8000
ACCEPTED_SETTING = "accepted_model_address"  # text hashes the user accepted as harmless
EXAMPLES = 5


@dataclass(frozen=True)
class FlaggedPassage:
    """An included passage that addresses the model: where, and the words matched."""

    passage_id: int
    document: str
    matches: list[str]
    accepted: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "passage_id": self.passage_id,
            "document": self.document,
            "matches": self.matches,
            "accepted": self.accepted,
        }


def passage_checks(ws: Workspace, embedding: Mapping[str, Any] | None) -> list[Check]:
    return _too_long(ws, embedding) + _garbage(ws) + _model_address(ws)


def _included(ws: Workspace, columns: str, where: str = "1") -> list[dict[str, Any]]:
    return ws.fetch_all(
        f"select {columns} from passages p join documents d on d.id = p.document_id"
        f" where {INCLUDED_WHERE} and ({where}) order by d.uri, p.ordinal"
    )


def _name(uri: str) -> str:
    if uri.startswith(("http://", "https://")):
        return uri
    return uri.replace("\\", "/").rsplit("/", 1)[-1] or uri


def _too_long(ws: Workspace, embedding: Mapping[str, Any] | None) -> list[Check]:
    where = f"p.tokens > {MAX_PASSAGE_TOKENS:d}"
    params: tuple[Any, ...] = ()
    limit = f"{MAX_PASSAGE_TOKENS:,} tokens"
    if embedding is not None:
        # The embed run marks a text it had to cut to the model's input limit.
        where += (
            " or exists (select 1 from embeddings e where e.text_hash = p.text_hash"
            " and e.provider = ? and e.model = ? and e.truncated = 1)"
        )
        # The cache keys a prefixed model's vectors as "model|prefix" (store.cache_model).
        provider, model = str(embedding.get("provider")), str(embedding.get("model"))
        spec = parse_model_spec(f"{provider}:{model}")
        params = (provider, cache_model(spec) if spec is not None else model)
        limit = f"the input limit of {embedding.get('provider')}:{embedding.get('model')}"
    rows = ws.fetch_all(
        "select p.id, p.tokens, d.uri from passages p join documents d on d.id = p.document_id"
        f" where {INCLUDED_WHERE} and ({where}) order by d.uri, p.ordinal",
        params,
    )
    if not rows:
        return []
    return [
        Check(
            "passage-too-long",
            "error",
            f"{len(rows)} passage(s) are over {limit}: their vectors miss most of their text, "
            "and an answer that retrieves one has no room left.",
            "Sync again (long text is now cut to the chunk size), or edit or exclude them on "
            "the Content page.",
            count=len(rows),
            examples=[
                f"{_name(r['uri'])} (passage {r['id']}, {r['tokens']:,} tokens)"
                for r in rows[:EXAMPLES]
            ],
        )
    ]


def _garbage(ws: Workspace) -> list[Check]:
    found: list[str] = []
    count = 0
    for row in _included(ws, "p.id, p.text, d.uri"):
        reason = garbage_reason(row["text"], strict=False)
        if reason:
            count += 1
            if len(found) < EXAMPLES:
                found.append(f"{_name(row['uri'])} (passage {row['id']}): {reason}")
    if not count:
        return []
    return [
        Check(
            "garbage-passages",
            "warning",
            f"{count} passage(s) look like garbage (binary data or garbled characters): the bot "
            "would quote them.",
            "Look at them on the Content page and exclude them (or fix the source's encoding).",
            count=count,
            examples=found,
        )
    ]


def flagged_passages(ws: Workspace, *, include_accepted: bool = True) -> list[FlaggedPassage]:
    """Included passages that address the model, with the matched words."""
    accepted = set(ws.setting(ACCEPTED_SETTING, []) or [])
    flagged: list[FlaggedPassage] = []
    for row in _included(ws, "p.id, p.text, p.text_hash, p.heading_path, d.uri, d.title"):
        # A title or heading reaches the prompt too.
        text = f"{row['title']}\n{row['heading_path']}\n{row['text']}"
        matches = [m.matched for m in model_addresses(text)]
        if not matches:
            continue
        is_accepted = row["text_hash"] in accepted
        if is_accepted and not include_accepted:
            continue
        flagged.append(FlaggedPassage(int(row["id"]), _name(row["uri"]), matches, is_accepted))
    return flagged


def accept_flagged(ws: Workspace, passage_ids: list[int]) -> int:
    """Accept these passages' model-addressing text (by text: an edit asks again)."""
    if not passage_ids:
        return 0
    marks = ",".join("?" * len(passage_ids))
    hashes = [
        str(r["text_hash"])
        for r in ws.fetch_all(f"select text_hash from passages where id in ({marks})", passage_ids)
    ]
    accepted = set(ws.setting(ACCEPTED_SETTING, []) or [])
    ws.set_setting(ACCEPTED_SETTING, sorted(accepted | set(hashes)))
    return len(hashes)


def _model_address(ws: Workspace) -> list[Check]:
    flagged = flagged_passages(ws, include_accepted=False)
    if not flagged:
        return []
    return [
        Check(
            "model-address",
            "warning",
            f"{len(flagged)} passage(s) speak to the bot itself (\u201cignore previous "
            "instructions\u201d and the like): a page may be trying to steer your bot.",
            "Review them on the Content page (Flagged passages…): exclude them, or accept "
            "them if they are harmless (`botdesk flagged WS --accept ID...`).",
            count=len(flagged),
            examples=[
                f"{f.document} (passage {f.passage_id}): "
                + ", ".join(f"\u201c{m[:60]}\u201d" for m in f.matches[:3])
                for f in flagged[:EXAMPLES]
            ],
        )
    ]
