"""Passages that repeat across many documents of a source: footers, legal notes, menus.

A normalised text seen on at least MIN_DOCUMENTS documents, or on at least SHARE of a
source's documents (and two or more), is boilerplate. Groups are keyed by the hash of the
normalised text so "exclude this group" is one action that also holds after a re-sync.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import defaultdict

from desktop.core.content.models import BoilerplateGroup
from desktop.core.store.workspace import Workspace, utc_now
from desktop.core.text import sha256_hex

MIN_DOCUMENTS = 3
SHARE = 0.3
INPUTS_SETTING = "boilerplate_inputs"  # the fingerprint of what the last detect() read
_SPACE = re.compile(r"\s+")
_NOISE = re.compile(r"[^\w\s]", re.UNICODE)


def normalise(text: str) -> str:
    return _SPACE.sub(" ", _NOISE.sub(" ", text.lower())).strip()


def group_key(text: str) -> str:
    return sha256_hex(normalise(text))[:16]


_CANDIDATES_SQL = (
    "select p.id, p.source_text, p.excluded, p.document_id, d.source_id from passages p"
    " join documents d on d.id = p.document_id"
    " where p.origin = 'chunker' and p.removed = 0 and d.status != 'removed'"
)
Groups = dict[str, list[dict[str, object]]]


def _group(rows: list[dict[str, object]]) -> Groups:
    """Candidate rows by group key (no database: may run in a worker thread)."""
    groups: Groups = defaultdict(list)
    for row in rows:
        groups[group_key(str(row["source_text"]))].append(row)
    return groups


def _candidates(ws: Workspace) -> Groups:
    return _group(ws.fetch_all(_CANDIDATES_SQL))


def _flag(ws: Workspace, groups: Groups) -> int:
    docs_per_source = {
        int(row["source_id"]): int(row["n"])
        for row in ws.fetch_all(
            "select source_id, count(*) as n from documents where status != 'removed'"
            " group by source_id"
        )
    }
    flagged: list[int] = []
    for rows in groups.values():
        documents = {row["document_id"] for row in rows}
        sources = {int(str(row["source_id"])) for row in rows}
        n_docs = len(documents)
        largest = max(docs_per_source.get(s, 0) for s in sources)
        if n_docs >= MIN_DOCUMENTS or (n_docs >= 2 and largest and n_docs / largest >= SHARE):
            flagged.extend(int(str(row["id"])) for row in rows)
    with ws.transaction():
        ws.execute("update passages set boilerplate = 0 where boilerplate = 1")
        ws.conn.executemany(
            "update passages set boilerplate = 1 where id = ?", [(i,) for i in flagged]
        )
    return len(flagged)


def detect(ws: Workspace) -> int:
    """Recompute the boilerplate flag of every passage; returns how many are flagged."""
    return _flag(ws, _candidates(ws))


def _inputs_fingerprint(ws: Workspace) -> str:
    """A hash of everything detect() reads: the candidate passages (id, document, source,
    source_hash, which is the hash of their source_text) and the documents per source."""
    digest = hashlib.sha256()
    for row in ws.conn.execute(
        "select p.id, p.document_id, d.source_id, p.source_hash from passages p"
        " join documents d on d.id = p.document_id"
        " where p.origin = 'chunker' and p.removed = 0 and d.status != 'removed'"
        " order by p.id"
    ):
        digest.update(repr(row).encode())
    for row in ws.conn.execute(
        "select source_id, count(*) from documents where status != 'removed'"
        " group by source_id order by source_id"
    ):
        digest.update(repr(row).encode())
    return digest.hexdigest()


async def refresh(ws: Workspace) -> int:
    """detect(), unless nothing it reads changed since it last ran: then the flags it set
    are still right and only counted (an unchanged re-sync skips normalising and hashing
    the text of every passage). The normalising and hashing runs in a worker thread, so
    the event loop (the window's) keeps turning. Returns how many passages are flagged."""
    fingerprint = _inputs_fingerprint(ws)
    if ws.setting(INPUTS_SETTING) == fingerprint:
        return int(ws.scalar("select count(*) from passages where boilerplate = 1"))
    rows = ws.fetch_all(_CANDIDATES_SQL)  # read with the fingerprint: no await between
    await asyncio.sleep(0)  # let the window turn between the reads and the flagging
    flagged = _flag(ws, await asyncio.to_thread(_group, rows))
    with ws.transaction():
        ws.set_setting(INPUTS_SETTING, fingerprint)
    return flagged


def groups(ws: Workspace) -> list[BoilerplateGroup]:
    """The flagged passages grouped by normalised text: groups with passages still given
    to the bot first, most widespread first. A passage counts as excluded when it or its
    whole document is (the bot gets neither)."""
    rows = ws.fetch_all(
        "select p.id, p.source_text, (p.excluded = 1 or d.excluded = 1) as excluded,"
        " p.document_id from passages p join documents d on d.id = p.document_id"
        " where p.boilerplate = 1 and p.removed = 0 and d.status != 'removed' order by p.id"
    )
    by_key: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        by_key[group_key(str(row["source_text"]))].append(row)
    out = [
        BoilerplateGroup(
            key=key,
            text=str(members[0]["source_text"]),
            documents=len({m["document_id"] for m in members}),
            passage_ids=[int(str(m["id"])) for m in members],
            excluded=sum(1 for m in members if m["excluded"]),
        )
        for key, members in by_key.items()
    ]
    out.sort(key=lambda g: (g.excluded >= len(g.passage_ids), -g.documents, g.key))
    return out


def exclude_group(ws: Workspace, key: str) -> int:
    """Exclude every passage of a group; remembered so later syncs exclude it too."""
    members = [g for g in groups(ws) if g.key == key]
    if not members:
        from desktop.core.errors import SourceError

        raise SourceError(
            f"No boilerplate group {key!r}.", hint="List them with `botdesk boilerplate`."
        )
    excluded_keys = set(ws.setting("boilerplate_excluded", []))
    with ws.transaction():
        excluded_keys.add(key)
        ws.set_setting("boilerplate_excluded", sorted(excluded_keys))
        for passage_id in members[0].passage_ids:
            ws.execute(
                "update passages set excluded = 1, updated_at = ? where id = ?",
                (utc_now(), passage_id),
            )
    return len(members[0].passage_ids)


def apply_remembered(ws: Workspace) -> int:
    """Exclude new passages of groups the user excluded before."""
    keys = set(ws.setting("boilerplate_excluded", []))
    if not keys:
        return 0
    n = 0
    with ws.transaction():
        for row in ws.fetch_all(
            "select id, source_text from passages where boilerplate = 1 and excluded = 0"
        ):
            if group_key(str(row["source_text"])) in keys:
                ws.execute("update passages set excluded = 1 where id = ?", (row["id"],))
                n += 1
    return n
