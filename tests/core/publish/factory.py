"""Workspace content for publish tests, written straight into the m0001 schema.

Publishing reads passages through the content contract (tables and the "included" rule), so
these tests do not depend on the content pipeline: they write rows the way sync would.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from desktop.core.store.workspace import Workspace, utc_now
from desktop.core.text import count_tokens, sha256_hex

PLANTED_KEY = "sk-PLANTED-fake-key-0123456789abcdef"


def add_source(ws: Workspace, kind: str, location: str, title: str = "") -> int:
    ws.execute(
        "insert into sources(kind, location, title, created_at, last_synced_at)"
        " values (?, ?, ?, ?, ?)",
        (kind, location, title, utc_now(), utc_now()),
    )
    return ws.last_insert_id()


def add_document(
    ws: Workspace, source_id: int, uri: str, title: str = "", *, status: str = "ok"
) -> int:
    ws.execute(
        "insert into documents(source_id, uri, title, status, updated_at) values (?, ?, ?, ?, ?)",
        (source_id, uri, title, status, utc_now()),
    )
    return ws.last_insert_id()


def add_passage(
    ws: Workspace,
    document_id: int,
    text: str,
    *,
    heading: str = "",
    page: int | None = None,
    excluded: bool = False,
    removed: bool = False,
) -> int:
    ordinal = int(
        ws.scalar("select count(*) from passages where document_id = ?", (document_id,)) or 0
    )
    ws.execute(
        "insert into passages(document_id, ordinal, heading_path, page, source_text, source_hash,"
        " excluded, removed, text, text_hash, tokens, created_at, updated_at)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            document_id,
            ordinal,
            heading,
            page,
            text,
            sha256_hex(text),
            int(excluded),
            int(removed),
            text,
            sha256_hex(text),
            count_tokens(text),
            utc_now(),
            utc_now(),
        ),
    )
    return ws.last_insert_id()


def edit_passage(ws: Workspace, passage_id: int, text: str) -> None:
    ws.execute(
        "update passages set edited_text = ?, text = ?, text_hash = ? where id = ?",
        (text, text, sha256_hex(text), passage_id),
    )


def hashed_vector(text: str, dimensions: int = 64) -> np.ndarray:
    """A deterministic bag-of-words vector: shared words make texts close."""
    vector = np.zeros(dimensions, dtype=np.float32)
    for word in text.lower().split():
        digest = hashlib.sha256(word.strip(".,?!").encode()).digest()
        vector[int.from_bytes(digest[:4], "little") % dimensions] += 1.0
        vector[int.from_bytes(digest[4:8], "little") % dimensions] += 0.5
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


@dataclass
class SampleContent:
    ids: dict[str, int] = field(default_factory=dict)
    tmp_path_marker: str = ""


def sample_workspace(ws: Workspace, local_dir: str) -> SampleContent:
    """A site, a folder of files under `local_dir`, a text and a Q&A; some curation done."""
    content = SampleContent(tmp_path_marker=local_dir)
    site = add_source(ws, "site", "https://example.com/", "Example")
    files = add_source(ws, "files", f"{local_dir}/docs", "Docs")
    qa = add_source(ws, "qa", "", "Q&A")
    ws.set_setting("mistral_api_key_note", PLANTED_KEY)  # a secret that must never travel
    page = add_document(ws, site, "https://example.com/shipping", "Shipping")
    gone = add_document(ws, site, "https://example.com/old", "Old page", status="removed")
    hidden = add_document(ws, site, "https://example.com/internal", "Internal")
    ws.execute("update documents set excluded = 1 where id = ?", (hidden,))
    manual = add_document(ws, files, f"{local_dir}/docs/manual.pdf", f"{local_dir}/docs/manual.pdf")
    answer = add_document(ws, qa, f"text:{qa}", "Opening hours")
    ids = content.ids
    ids["shipping"] = add_passage(
        ws,
        page,
        "Shipping is free for orders over 50 euros and takes three days.",
        heading="Shipping > Costs",
    )
    ids["refund"] = add_passage(
        ws,
        page,
        "A refund is paid to your card within five days of the return.",
        heading="Returns",
    )
    ids["excluded"] = add_passage(
        ws, page, "SECRET-EXCLUDED internal discount code staff only.", excluded=True
    )
    ids["removed"] = add_passage(ws, page, "REMOVED-PASSAGE old price list.", removed=True)
    ids["gone"] = add_passage(ws, gone, "GONE-DOCUMENT text of a removed page.")
    ids["hidden"] = add_passage(ws, hidden, "HIDDEN-DOCUMENT staff handbook text.")
    ids["battery"] = add_passage(
        ws, manual, "Charge the battery fully before the first use of the charger.", page=3
    )
    ids["warranty"] = add_passage(
        ws, manual, "The warranty covers screen repair for two years.", page=4
    )
    ids["hours"] = add_passage(ws, answer, "Our store is open from nine to six, phone support too.")
    edit_passage(ws, ids["warranty"], "The warranty covers screen repair for three years.")
    return content


def fake_vectors(ws: Workspace, dimensions: int = 64) -> Mapping[int, Sequence[float] | np.ndarray]:
    rows = ws.fetch_all("select id, text from passages")
    return {int(r["id"]): hashed_vector(r["text"], dimensions) for r in rows}
