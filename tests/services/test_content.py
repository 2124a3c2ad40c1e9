"""Content service: files, text and Q&A sources synced, re-synced, curated, cancelled, resumed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from desktop.core.errors import CancelledError, ConfigError, SourceError
from desktop.core.jobs import Job, JobEvent
from desktop.core.store.workspace import Workspace
from desktop.services import content, content_sources
from tests.helpers.backends import OFFLINE
from tests.helpers.pdfs import blank_pdf, garbage_pdf, text_pdf


def _sync(ws: Workspace, job: Job | None = None) -> content.SyncSummary:
    return asyncio.run(content.sync(ws, job or Job("sync"), backends=OFFLINE))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "pricing.md").write_text(
        "# Pricing\n\nThe basic plan costs 10 euros a month.\n\n## Enterprise\n\n"
        "Enterprise plans are quoted per customer with a dedicated manager.\n",
        encoding="utf-8",
    )
    (root / "about.html").write_bytes(
        b"<html><head><title>About</title></head><body><main><h1>About us</h1>"
        b"<p>We bake bread since 2009 in the old harbour.</p></main></body></html>"
    )
    (root / "sheet.pdf").write_bytes(text_pdf(["Ovens\nDeck ovens in stock.", "Flour\nRye."]))
    return root


def test_files_text_qa_sync_then_resync_unchanged(workspace: Workspace, folder: Path) -> None:
    content_sources.add_files(workspace, [folder])
    content_sources.add_text(workspace, "Opening hours", "We open at 7 and close at 17.")
    content_sources.add_qa(workspace, "Do you deliver on Sundays?", "No.")
    summary = _sync(workspace)
    assert summary.fetched == 5 and summary.failed == {}
    docs = {Path(d.uri).name: d for d in content.list_documents(workspace)}
    assert docs["pricing.md"].title == "Pricing" and docs["pricing.md"].status == "ok"
    qa = [p for p in content.list_passages(workspace) if p.uri.startswith("qa:")]
    assert [(p.heading_path, p.text) for p in qa] == [
        ("Do you deliver on Sundays?", "Q: Do you deliver on Sundays?\nA: No.")
    ]
    pdf = [p for p in content.list_passages(workspace) if p.uri.endswith("sheet.pdf")]
    assert [p.page for p in pdf] == [1, 2]
    ids = [p.id for p in content.list_passages(workspace)]

    again = _sync(workspace)
    assert (again.fetched, again.unchanged, again.passages_added) == (0, 5, 0)
    assert [p.id for p in content.list_passages(workspace)] == ids
    assert {d.status for d in content.list_documents(workspace)} == {"unchanged"}
    sources = content_sources.list_sources(workspace)
    assert sources[0].documents == 3 and sources[0].last_synced_at


def test_broken_pdf_missing_folder_and_scan_do_not_end_the_sync(
    workspace: Workspace, folder: Path, tmp_path: Path
) -> None:
    (folder / "broken.pdf").write_bytes(garbage_pdf())
    (folder / "scan.pdf").write_bytes(blank_pdf())
    content_sources.add_files(workspace, [folder])
    gone = tmp_path / "gone"
    gone.mkdir()
    content_sources.add_files(workspace, [gone])
    gone.rmdir()
    summary = _sync(workspace)
    assert summary.fetched == 3
    broken = str((folder / "broken.pdf").resolve())
    assert summary.failed.get(broken)
    assert summary.failed[str((folder / "scan.pdf").resolve())] == "no text, scanned?"
    assert "No such file or folder" in summary.failed[str(gone)]
    statuses = {
        Path(d.uri).name: (d.status, d.status_reason) for d in content.list_documents(workspace)
    }
    assert statuses["broken.pdf"][0] == "failed"
    assert statuses["scan.pdf"] == ("no_text", "no text, scanned?")


def test_edited_file_keeps_curation_and_flags_review(workspace: Workspace, folder: Path) -> None:
    (source,) = content_sources.add_files(workspace, [folder / "pricing.md"])
    # min_tokens 0: one passage per section
    content_sources.set_source_settings(workspace, source.id, min_tokens=0)
    _sync(workspace)
    enterprise = next(p for p in content.list_passages(workspace) if "Enterprise" in p.heading_path)
    basic = next(p for p in content.list_passages(workspace) if p.heading_path == "Pricing")
    content.edit_passage(workspace, enterprise.id, "Enterprise: ask sales for a quote.")
    content.exclude_passages(workspace, [basic.id])
    manual = content.add_passage(workspace, basic.document_id, "We also sell gift cards.")
    (folder / "pricing.md").write_text(
        "# Pricing\n\nThe basic plan costs 10 euros a month.\n\n## Enterprise\n\n"
        "Enterprise plans are quoted per customer with a dedicated account manager.\n",
        encoding="utf-8",
    )
    summary = _sync(workspace)
    assert summary.needs_review == 1
    after = {p.id: p for p in content.list_passages(workspace)}
    review = after[enterprise.id]
    assert review.state == "needs_review"
    assert review.text == "Enterprise: ask sales for a quote."
    assert "dedicated account manager" in (review.review_source_text or "")
    assert "dedicated manager" in review.source_text
    assert after[basic.id].state == "excluded"
    assert after[manual.id].origin == "manual"
    assert [p.id for p in content.list_passages(workspace, state="needs_review")] == [enterprise.id]
    content.resolve_review(workspace, enterprise.id, keep="edit")
    assert content.get_passage(workspace, enterprise.id).state == "edited"
    stats = content.content_stats(workspace)
    assert (stats.excluded, stats.edited, stats.needs_review) == (1, 1, 0)


def test_deleted_file_is_removed_and_leaves_the_index(workspace: Workspace, folder: Path) -> None:
    content_sources.add_files(workspace, [folder])
    _sync(workspace)
    (folder / "about.html").unlink()
    summary = _sync(workspace)
    assert summary.removed == 1 and summary.passages_removed >= 1
    about = next(d for d in content.list_documents(workspace) if d.uri.endswith("about.html"))
    assert about.status == "removed"
    assert not [p for p in content.list_passages(workspace) if p.document_id == about.id]


def test_cancel_mid_sync_then_resume(workspace: Workspace, tmp_path: Path) -> None:
    root = tmp_path / "many"
    root.mkdir()
    for i in range(8):
        (root / f"page{i}.md").write_text(f"# Page {i}\n\nText of page number {i}.\n")
    content_sources.add_files(workspace, [root])
    job = Job("sync")

    def cancel_after_three(event: JobEvent) -> None:
        if event.stage == "read" and event.done == 3:
            job.cancel()

    job.listeners.append(cancel_after_three)
    with pytest.raises(CancelledError):
        _sync(workspace, job)
    stored = workspace.scalar("select count(*) from documents where status = 'ok'")
    assert stored == 3  # committed per item: nothing done is lost
    summary = _sync(workspace)
    assert (summary.unchanged, summary.fetched) == (3, 5)
    assert workspace.scalar("select count(*) from passages") == 8


def test_chunk_settings_preview_then_rechunk_without_refetch(
    workspace: Workspace, tmp_path: Path
) -> None:
    doc = tmp_path / "long.md"
    doc.write_text("# Long\n\n" + "\n\n".join(f"Paragraph {i} " + "word " * 40 for i in range(10)))
    (source,) = content_sources.add_files(workspace, [doc])
    _sync(workspace)
    before = len(content.list_passages(workspace))
    preview = content_sources.preview_chunking(workspace, source.id, {"target_tokens": 60})
    assert len(preview) > before
    assert len(content.list_passages(workspace)) == before  # not applied
    content_sources.set_source_settings(workspace, source.id, target_tokens=60, overlap_tokens=0)
    summary = _sync(workspace)
    assert summary.unchanged == 1 and summary.fetched == 0
    assert len(content.list_passages(workspace)) == len(
        content_sources.preview_chunking(workspace, source.id, {"overlap_tokens": 0})
    )
    with pytest.raises(ConfigError):
        content_sources.set_source_settings(workspace, source.id, target_tokens=1)
    with pytest.raises(ConfigError, match="Unknown setting"):
        content_sources.set_source_settings(workspace, source.id, colour="red")


def test_exclude_document_and_url_pattern(workspace: Workspace, folder: Path) -> None:
    content_sources.add_files(workspace, [folder])
    _sync(workspace)
    docs = content.list_documents(workspace)
    content.exclude_document(workspace, docs[0].id)
    assert content.get_document(workspace, docs[0].id).excluded
    assert content.exclude_url_pattern(workspace, "*.pdf") == 1
    (folder / "more.pdf").write_bytes(text_pdf(["More\nText."]))
    _sync(workspace)
    more = next(d for d in content.list_documents(workspace) if d.uri.endswith("more.pdf"))
    assert more.excluded  # the pattern holds for future syncs
    included = workspace.fetch_all(content.INCLUDED_PASSAGES_SQL)
    assert all(row["document_id"] not in (docs[0].id, more.id) for row in included)


def test_full_text_search_and_bad_inputs(workspace: Workspace, folder: Path) -> None:
    content_sources.add_files(workspace, [folder])
    _sync(workspace)
    hits = content.list_passages(workspace, query="harbour")
    assert [h.title for h in hits] == ["About"]
    assert content.list_passages(workspace, query='"unbalanced (quote') == []
    with pytest.raises(SourceError, match="No such file"):
        content_sources.add_files(workspace, [folder / "nope.md"])
    (folder / "image.png").write_bytes(b"png")
    with pytest.raises(SourceError, match="Unsupported file type"):
        content_sources.add_files(workspace, [folder / "image.png"])
    with pytest.raises(SourceError, match="Not a website"):
        content_sources.add_site(workspace, "ftp://example.com")
    with pytest.raises(SourceError):
        content_sources.add_text(workspace, "t", "  ")
    with pytest.raises(SourceError):
        content_sources.add_qa(workspace, "q", "")
    with pytest.raises(SourceError, match="Unknown state"):
        content.list_passages(workspace, state="weird")
    with pytest.raises(SourceError):
        content_sources.remove_source(workspace, 999)
    content_sources.remove_source(workspace, content_sources.list_sources(workspace)[0].id)
    assert content.list_documents(workspace) == []


def test_undo_inverses_restore_curation_and_take_back_only_added_passages(
    workspace: Workspace,
) -> None:
    content_sources.add_text(workspace, "Hours", "We open at seven every morning.")
    _sync(workspace)
    chunked = content.list_passages(workspace)[0]
    before = content.curation_snapshot(workspace, chunked.id)
    content.edit_passage(workspace, chunked.id, "We open at six.")
    content.exclude_passages(workspace, [chunked.id])
    content.restore_curation(workspace, chunked.id, before)
    restored = content.get_passage(workspace, chunked.id)
    assert restored.text == chunked.text and restored.state == chunked.state

    added = content.add_passage(workspace, chunked.document_id, "Closed on Sundays.")
    content.delete_added_passage(workspace, chunked.id)  # a chunker passage: refused silently
    content.delete_added_passage(workspace, added.id)
    ids = {p.id for p in content.list_passages(workspace)}
    assert chunked.id in ids and added.id not in ids

    workspace.set_setting("excluded_url_patterns", ["*/blog/*", "*/tag/*"])
    content.forget_setting_items(workspace, "excluded_url_patterns", ["*/blog/*"])
    assert workspace.setting("excluded_url_patterns") == ["*/tag/*"]
