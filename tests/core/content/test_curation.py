"""Reconciling a new cut with the user's curation: ids kept, edits kept or flagged, never lost."""

from __future__ import annotations

import pytest

from desktop.core.content import boilerplate, curation
from desktop.core.content.chunking import Chunk
from desktop.core.errors import SourceError
from desktop.core.store.workspace import Workspace, utc_now
from desktop.core.text import count_tokens


def _doc(ws: Workspace, uri: str = "https://example.test/a", source_id: int | None = None) -> int:
    if source_id is None:
        ws.execute(
            "insert into sources(kind, location, created_at) values ('site', 'https://x', ?)",
            (utc_now(),),
        )
        source_id = ws.last_insert_id()
    ws.execute(
        "insert into documents(source_id, uri, status, updated_at) values (?, ?, 'ok', ?)",
        (source_id, uri, utc_now()),
    )
    return ws.last_insert_id()


def _chunks(*texts: str) -> list[Chunk]:
    return [
        Chunk(t, "H", None, i * 100, i * 100 + len(t), count_tokens(t)) for i, t in enumerate(texts)
    ]


def _rows(ws: Workspace, doc: int) -> list[dict[str, object]]:
    return ws.fetch_all("select * from passages where document_id = ? order by ordinal, id", (doc,))


A = "Deliveries within 40 km of Brightwater are free on all plans."
B = "Premium customers get emergency repairs within 24 hours, seven days a week."
C = "Courses cost 180 EUR per person, lunch included."
B2 = "Premium customers get emergency repairs within 12 hours, seven days a week."


def test_unchanged_text_keeps_ids(workspace: Workspace) -> None:
    doc = _doc(workspace)
    curation.reconcile(workspace, doc, _chunks(A, B))
    ids = [r["id"] for r in _rows(workspace, doc)]
    result = curation.reconcile(workspace, doc, _chunks(A, B))
    assert [r["id"] for r in _rows(workspace, doc)] == ids
    assert (result.added, result.changed, result.removed) == (0, 0, 0)


def test_edit_survives_when_source_unchanged(workspace: Workspace) -> None:
    doc = _doc(workspace)
    curation.reconcile(workspace, doc, _chunks(A, B))
    pid = _rows(workspace, doc)[1]["id"]
    curation.edit_passage(workspace, int(str(pid)), "Emergency repairs: 24 h (Premium).")
    curation.reconcile(workspace, doc, _chunks(C, A, B))  # a new passage before it
    row = workspace.fetch_one("select * from passages where id = ?", (pid,))
    assert row is not None
    assert row["text"] == "Emergency repairs: 24 h (Premium)."
    assert row["needs_review"] == 0 and row["ordinal"] == 2


def test_edit_with_changed_source_needs_review_with_both_texts(workspace: Workspace) -> None:
    doc = _doc(workspace)
    curation.reconcile(workspace, doc, _chunks(A, B))
    pid = int(str(_rows(workspace, doc)[1]["id"]))
    curation.edit_passage(workspace, pid, "Emergency repairs: 24 h (Premium).")
    result = curation.reconcile(workspace, doc, _chunks(A, B2))
    row = workspace.fetch_one("select * from passages where id = ?", (pid,))
    assert row is not None
    assert result.needs_review == 1
    assert row["needs_review"] == 1 and row["removed"] == 0
    assert row["text"] == "Emergency repairs: 24 h (Premium)."  # the edit is not overwritten
    assert row["source_text"] == B and row["review_source_text"] == B2
    # No duplicate passage for the new text.
    assert [r["id"] for r in _rows(workspace, doc)].count(pid) == 1
    assert len(_rows(workspace, doc)) == 2
    # A further sync with the same text keeps the flag and the id.
    curation.reconcile(workspace, doc, _chunks(A, B2))
    assert workspace.scalar("select needs_review from passages where id = ?", (pid,)) == 1
    curation.resolve_review(workspace, pid, "source")
    row = workspace.fetch_one("select * from passages where id = ?", (pid,))
    assert row is not None
    assert row["text"] == B2 and row["edited_text"] is None and row["needs_review"] == 0


def test_resolve_keep_edit(workspace: Workspace) -> None:
    doc = _doc(workspace)
    curation.reconcile(workspace, doc, _chunks(B))
    pid = int(str(_rows(workspace, doc)[0]["id"]))
    curation.edit_passage(workspace, pid, "Mine.")
    curation.reconcile(workspace, doc, _chunks(B2))
    curation.resolve_review(workspace, pid, "edit")
    row = workspace.fetch_one("select * from passages where id = ?", (pid,))
    assert row is not None
    assert (row["text"], row["source_text"], row["needs_review"]) == ("Mine.", B2, 0)
    with pytest.raises(SourceError, match="does not need review"):
        curation.resolve_review(workspace, pid, "edit")


def test_excluded_survives_and_manual_is_untouched(workspace: Workspace) -> None:
    doc = _doc(workspace)
    curation.reconcile(workspace, doc, _chunks(A, B))
    pid = int(str(_rows(workspace, doc)[0]["id"]))
    curation.set_excluded(workspace, [pid], True)
    manual = curation.add_manual(workspace, doc, "Hand-written: we close in August.")
    curation.reconcile(workspace, doc, _chunks(A, B, C))
    assert workspace.scalar("select excluded from passages where id = ?", (pid,)) == 1
    row = workspace.fetch_one("select * from passages where id = ?", (manual,))
    assert row is not None and row["origin"] == "manual" and row["removed"] == 0
    # Even an empty cut leaves the manual passage alone.
    curation.reconcile(workspace, doc, [])
    assert workspace.scalar("select removed from passages where id = ?", (manual,)) == 0


def test_removed_chunks_deleted_unless_curated(workspace: Workspace) -> None:
    doc = _doc(workspace)
    curation.reconcile(workspace, doc, _chunks(A, B, C))
    rows = _rows(workspace, doc)
    curation.set_excluded(workspace, [int(str(rows[2]["id"]))], True)
    result = curation.reconcile(workspace, doc, _chunks(A))
    assert result.removed == 2
    left = {r["source_text"]: r["removed"] for r in _rows(workspace, doc)}
    assert left == {A: 0, C: 1}  # B deleted (never curated), C kept out of the index
    # C comes back: same id, excluded still.
    curation.reconcile(workspace, doc, _chunks(A, C))
    row = workspace.fetch_one("select * from passages where id = ?", (rows[2]["id"],))
    assert row is not None and row["removed"] == 0 and row["excluded"] == 1


def test_document_removed_leaves_index(workspace: Workspace) -> None:
    doc = _doc(workspace)
    curation.reconcile(workspace, doc, _chunks(A, B))
    assert curation.mark_document_removed(workspace, doc) == 2
    assert workspace.scalar("select count(*) from passages where removed = 0") == 0


def test_bad_curation_inputs(workspace: Workspace) -> None:
    doc = _doc(workspace)
    with pytest.raises(SourceError, match="No passage"):
        curation.edit_passage(workspace, 999, "x")
    with pytest.raises(SourceError, match="empty"):
        curation.add_manual(workspace, doc, "   ")
    with pytest.raises(SourceError, match="No document"):
        curation.add_manual(workspace, 999, "text")


def test_boilerplate_detected_grouped_and_excluded(workspace: Workspace) -> None:
    footer = "Copyright 2026 Lumen. All rights reserved."
    first = _doc(workspace, "https://x/1")
    source_id = int(workspace.scalar("select source_id from documents where id = ?", (first,)))
    docs = [first] + [_doc(workspace, f"https://x/{i}", source_id) for i in range(2, 5)]
    for i, doc in enumerate(docs):
        curation.reconcile(workspace, doc, _chunks(f"Unique page text number {i}.", footer))
    assert boilerplate.detect(workspace) == 4
    groups = boilerplate.groups(workspace)
    assert len(groups) == 1 and groups[0].documents == 4 and groups[0].text == footer
    assert boilerplate.exclude_group(workspace, groups[0].key) == 4
    assert workspace.scalar("select count(*) from passages where excluded = 1") == 4
    # A new page with the same footer is excluded by the remembered group.
    new = _doc(workspace, "https://x/9", source_id)
    curation.reconcile(
        workspace, new, _chunks("Fresh page.", "copyright 2026 lumen: all rights reserved")
    )
    boilerplate.detect(workspace)
    assert boilerplate.apply_remembered(workspace) == 1
    with pytest.raises(SourceError, match="No boilerplate group"):
        boilerplate.exclude_group(workspace, "nope")
