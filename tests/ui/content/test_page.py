"""The Content page in the real window: sources, sync as a job, documents, passages, curation
with undo, review of changed sources, hostile text shown as text, the crawl preview."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import Qt

from desktop.core.content.models import SitePreview
from desktop.core.jobs import JobState
from desktop.services import content, content_sources
from desktop.services.demo import SAMPLE_DIR
from desktop.ui.content.models import EMPTY_TEXT
from desktop.ui.content.page import ContentPage
from desktop.ui.main_window import MainWindow
from tests.helpers.loopback import LoopbackServer
from tests.helpers.pdfs import blank_pdf, garbage_pdf
from tests.ui.content.support import (
    FOOTER_TEXT,
    SiteHandler,
    cells,
    header,
    long_text,
    messages,
    open_workspace,
    states,
    sync_and_wait,
    wait_for_sync,
    write_pages,
)


def test_empty_state_says_what_to_do(page: ContentPage, window: MainWindow) -> None:
    assert page.stack.currentIndex() == 0
    assert (
        page.toolbar.add_qa_button.text() == "Add Q&&A…"
        and not page.toolbar.sync_button.isEnabled()
    )
    assert page.empty.label.text() == EMPTY_TEXT
    assert page.empty.label.textFormat() == Qt.TextFormat.PlainText
    assert window.status_label.text() == "0 passages (0 excluded, 0 edited, 0 need review)"
    assert window.sync_action.isEnabled()


def test_add_files_syncs_and_shows_documents_and_passages(
    page: ContentPage, window: MainWindow, qloop: Any, qtmodeltester: Any
) -> None:
    seen = messages(window)
    added = page.content_actions.add_files([SAMPLE_DIR])
    assert len(added) == 1 and page.sync_job is not None  # adding starts the sync
    wait_for_sync(page, qloop)
    assert page.stack.currentIndex() == 1
    assert cells(page.sources.table, 0) == ["Files: sample"]
    assert str(SAMPLE_DIR) in page.sources.label.text()
    names = cells(page.documents.table, 0)
    assert len(names) == 7 and any("Lumen" in n for n in names)
    assert set(cells(page.documents.table, 2)) == {"ok"}
    qtmodeltester.check(page.documents.model)
    # A document: its Markdown as plain text, its passages with tokens and state.
    page.select_document(page.documents.documents[0].id)
    detail = content.get_document(open_workspace(window), page.documents.documents[0].id)
    assert page.reader.view.toPlainText() == detail.markdown
    assert page.passages.passages and cells(page.passages.table, 1)[0] == "included"
    assert int(cells(page.passages.table, 2)[0]) == page.passages.passages[0].tokens
    # Boundaries: every passage with a span is highlighted in the Markdown.
    spans = [p for p in page.passages.passages if p.char_end]
    assert len(page.reader.view.extraSelections()) == len(spans)
    stats = content.content_stats(open_workspace(window))
    assert window.status_label.text().startswith(f"{stats.passages:,} passages (0 excluded")
    assert "fetched" in page.summary.label.text()
    assert not [t for level, t in seen if level in ("error", "bug")]
    # F5 syncs again: everything unchanged.
    window.sync_action.trigger()
    assert page.sync_job is not None
    wait_for_sync(page, qloop)
    assert set(cells(page.documents.table, 2)) == {"unchanged"}


def test_exclude_include_edit_add_with_undo(
    page: ContentPage, window: MainWindow, qloop: Any
) -> None:
    source = page.content_actions.add_text(
        "Delivery notes", long_text("delivery", "pricing", "returns")
    )
    assert source is not None
    wait_for_sync(page, qloop)
    assert len(page.passages.passages) >= 3 and set(states(page)) == {"included"}
    first, second = page.passages.passages[0].id, page.passages.passages[1].id
    undo = window.context.undo_stack

    page.select_passages([first, second])
    assert page.passages.exclude_button.isEnabled() and not page.passages.include_button.isEnabled()
    page.passages.exclude_button.click()
    assert states(page)[:2] == ["excluded", "excluded"]
    assert "(2 excluded," in window.status_label.text()
    assert page.passages.selected_ids() == [first, second]  # selection kept over refresh
    undo.undo()
    assert states(page)[:2] == ["included", "included"]
    undo.redo()
    assert states(page)[:2] == ["excluded", "excluded"]
    page.select_passages([first])
    page.passages.include_button.click()
    assert states(page)[:2] == ["included", "excluded"]

    original = page.passages.passages[0].text
    page.select_passages([first])
    dialog = page.open_edit_passage()
    assert dialog is not None and dialog.editor.toPlainText() == original
    dialog.editor.setPlainText("We deliver Monday to Saturday.")
    dialog.save_button.click()
    assert page.passages.passages[0].state == "edited"
    assert page.passages.passages[0].text == "We deliver Monday to Saturday."
    assert page.passages.view.toPlainText() == "We deliver Monday to Saturday."
    assert "1 edited" in window.status_label.text()
    undo.undo()
    assert states(page)[0] == "included" and page.passages.passages[0].text == original

    document_id = page.documents.current_id()
    assert document_id is not None
    add = page.open_add_passage()
    assert add is not None
    add.line_edit.setText("Opening hours")
    add.body_edit.setPlainText("The shop opens at 7 on weekdays.")
    add.buttons.accepted.emit()
    manual = [p for p in page.passages.passages if p.origin == "manual"]
    assert len(manual) == 1 and manual[0].heading_path == "Opening hours"
    assert "added" in cells(page.passages.table, 1)[-1]
    undo.undo()
    assert not [p for p in page.passages.passages if p.origin == "manual"]
    undo.redo()
    assert [p.text for p in page.passages.passages if p.origin == "manual"] == [
        "The shop opens at 7 on weekdays."
    ]

    page.documents.exclude_button.click()
    assert page.documents.model.text(0, 2).endswith("(excluded)")
    assert page.documents.exclude_button.text() == "Include document"
    undo.undo()
    assert not page.documents.model.text(0, 2).endswith("(excluded)")
    assert undo.count() == 5 and undo.undoText() == "Add passage"  # after "Add text"


def test_review_flagged_on_changed_source_shows_both_texts(
    page: ContentPage, window: MainWindow, qloop: Any, tmp_path: Path
) -> None:
    doc = tmp_path / "policy.md"
    doc.write_text("# Delivery\n\n" + long_text("shipping", words=120), encoding="utf-8")
    page.content_actions.add_files([doc])
    wait_for_sync(page, qloop)
    target = page.passages.passages[0]
    page.content_actions.edit_passage(target.id, "Shipping is free above 50 EUR.")
    # The source text under the edited passage changes.
    doc.write_text(
        "# Delivery\n\n" + long_text("shipping", words=120).replace("shipping3 ", "parcel3 "),
        encoding="utf-8",
    )
    sync_and_wait(page, qloop)
    flagged = next(p for p in page.passages.passages if p.id == target.id)
    assert flagged.state == "needs_review"
    row = [p.id for p in page.passages.passages].index(target.id)
    assert cells(page.passages.table, 1)[row] == "needs review"
    assert "1 need review" in window.status_label.text()
    page.select_passages([target.id])
    assert page.passages.edit_button.text() == "Review…"
    assert "The source now says" in page.passages.view.toPlainText()
    dialog = page.open_edit_passage()
    assert dialog is not None
    assert dialog.editor.toPlainText() == "Shipping is free above 50 EUR."
    assert "parcel3" in dialog.new_source_view.toPlainText()
    dialog.keep_button.click()
    kept = next(p for p in page.passages.passages if p.id == target.id)
    assert kept.state == "edited" and kept.text == "Shipping is free above 50 EUR."
    assert "0 need review" in window.status_label.text()
    window.context.undo_stack.undo()
    assert next(p for p in page.passages.passages if p.id == target.id).state == "needs_review"
    page.select_passages([target.id])
    dialog = page.open_edit_passage()
    assert dialog is not None
    dialog.take_button.click()
    taken = next(p for p in page.passages.passages if p.id == target.id)
    assert taken.state == "included" and "parcel3" in taken.text


HOSTILE = (
    "# Offers <b>bold</b>\n\n"
    "Click <a href=\"javascript:alert(1)\">here</a> <script>alert('x')</script> "
    "<img src=x onerror=alert(1)> and [file](file:///etc/passwd) for details."
)


def test_hostile_html_is_shown_as_text(page: ContentPage, window: MainWindow, qloop: Any) -> None:
    page.content_actions.add_text("<b>Promo</b>", HOSTILE)
    wait_for_sync(page, qloop)
    assert "<script>alert('x')</script>" in page.reader.view.toPlainText()
    assert page.documents.model.text(0, 0) == "<b>Promo</b>"
    assert "<b>Promo</b>" in page.reader.label.text()
    page.select_passages([page.passages.passages[0].id])
    text = page.passages.view.toPlainText()
    assert 'href="javascript:alert(1)"' in text and "<img src=x onerror=alert(1)>" in text
    assert "<b>bold</b>" in page.passages.label.text() or "<b>bold</b>" in text
    # Every label of the page and of the edit dialog is plain text, never rich text.
    dialog = page.open_edit_passage()
    assert dialog is not None
    for widget in (page, dialog):
        for label in widget.findChildren(type(page.empty.label)):
            assert label.textFormat() == Qt.TextFormat.PlainText, label.text()
    assert "<script>" in dialog.editor.toPlainText()
    # Tooltips of scraped text are escaped, so they too show the text literally.
    model = page.documents.model
    tip = model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert "<b>" not in tip.replace("<p style='white-space:pre-wrap'>", "")
    dialog.reject()


def test_crawl_preview_tree_with_live_rules_then_add_and_sync(
    page: ContentPage, window: MainWindow, qloop: Any
) -> None:
    seen = messages(window)
    with LoopbackServer(SiteHandler) as server:
        dialog = page.open_add_site()
        assert not dialog.preview_button.isEnabled()
        dialog.url_edit.setText(server.url + "/")
        dialog.preview_button.click()
        assert dialog.preview_job is not None  # discovery runs as a job
        qloop.wait_until(lambda: dialog.selection is not None, timeout=30)
        assert dialog.selection is not None and dialog.selection.count == 5
        tree = dialog.tree_rows()
        assert tree[0][:2] == ("/", "5/5")  # one top row: the whole site
        assert [path for path, _k, _w in tree].count("/blog") == 1
        rows = {path: kept for path, kept, _why in tree}
        assert rows["/blog"] == "2/2" and rows["/about"] == "yes"
        assert "5 of 5 pages" in dialog.count_label.text()
        # Rules apply live as they are typed (no network), with the count to be fetched.
        requests_before = len(server.requests_seen)
        dialog.exclude_edit.setPlainText("*/blog/*")
        qloop.wait_until(lambda: "3 of 5 pages" in dialog.count_label.text())
        rows3 = {path: (kept, why) for path, kept, why in dialog.tree_rows()}
        assert rows3["/blog"] == ("0/2", "")
        # The reason names the rule that keeps the page out (it said only "pattern").
        assert rows3["/blog/first-post"] == ("no", "excluded by */blog/*")
        dialog.max_pages_spin.setValue(2)
        qloop.wait_until(lambda: "2 of 5 pages" in dialog.count_label.text())
        assert "over the page limit" in [why for _p, _k, why in dialog.tree_rows()]
        assert len(server.requests_seen) == requests_before
        dialog.max_pages_spin.setValue(50)
        dialog.add_button.click()
        # Adding the site starts its sync with the rules from the dialog.
        assert page.sync_job is not None
        wait_for_sync(page, qloop)
        source = page.sources.current()
        assert source is not None and source.kind == "site"
        assert source.settings["exclude"] == ["*/blog/*"]
        uris = [d.uri for d in page.documents.documents]
        assert len(uris) == 3 and not any("/blog/" in u for u in uris)
    assert not [t for level, t in seen if level in ("error", "bug")]


def test_crawl_preview_failure_is_said_in_the_dialog(
    page: ContentPage, window: MainWindow, qloop: Any
) -> None:
    seen = messages(window)
    with LoopbackServer(SiteHandler) as server:
        dead = server.url  # nothing listens here once the server is stopped
    dialog = page.open_add_site()
    dialog.url_edit.setText(dead + "/")
    dialog.preview_button.click()
    qloop.wait_until(lambda: dialog.preview_job is None, timeout=30)
    assert dialog.count_label.text().startswith("No preview: ")
    assert dialog.selection is None and dialog.preview_button.isEnabled()
    assert not [t for level, t in seen if level in ("error", "bug")]
    dialog.reject()


def test_crawl_preview_of_a_given_site_preview(page: ContentPage) -> None:
    dialog = page.open_add_site()
    dialog.url_edit.setText("https://shop.example/")
    dialog.include_edit.setPlainText("*/products/*")
    dialog.set_preview(
        SitePreview(
            start_url="https://shop.example/",
            urls=[
                ("https://shop.example/", "start"),
                ("https://shop.example/products/a", "sitemap"),
                ("https://shop.example/products/b", "sitemap"),
                ("https://shop.example/about", "link"),
            ],
        )
    )
    assert dialog.selection is not None and dialog.selection.count == 2
    assert "2 of 4 pages" in dialog.count_label.text()
    dialog.reject()


def test_cancel_a_sync_from_the_jobs_dock_then_resume(
    page: ContentPage, window: MainWindow, qloop: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(300):
        body = " ".join(f"topic{i} word{j}" for j in range(60))
        (folder / f"page{i:03}.md").write_text(f"# Page {i}\n\n{body}\n", encoding="utf-8")
    page.content_actions.auto_sync = False
    page.content_actions.add_files([folder])
    assert page.sync_job is None
    job = page.start_sync()
    assert job is not None
    row = window.jobs_dock.rows[job.job_id]

    # One run of the loop from start to end: stopping a qasync loop mid-job can drop the
    # wake-up of a worker thread's result (the job would fail with "no running loop").
    async def cancel_after_five() -> None:
        while job.done < 5:
            await asyncio.sleep(0.005)
        row.cancel_button.click()
        while page.sync_job is not None or page.refresh_pending:
            await asyncio.sleep(0.01)

    qloop.run(cancel_after_five(), timeout=60)
    assert job.state is JobState.CANCELLED
    assert row.cancel_button.text() == "Cancelled"
    assert "Cancelled" in page.summary.label.text()
    kept = len(page.documents.documents)
    assert 5 <= kept < 300  # what was done is kept
    sync_and_wait(page, qloop)
    assert len(page.documents.documents) == 300
    assert "unchanged" in cells(page.documents.table, 2)


def test_reopening_a_workspace_keeps_everything(
    page: ContentPage, window: MainWindow, qloop: Any, tmp_path: Path
) -> None:
    page.content_actions.add_text("Notes", long_text("ovens", "flour"))
    wait_for_sync(page, qloop)
    first = page.passages.passages[0].id
    page.content_actions.edit_passage(first, "Our ovens are serviced yearly.")
    page.select_passages([page.passages.passages[1].id])
    page.set_chosen_excluded(True)
    before = [(p.id, p.state, p.text) for p in page.passages.passages]
    status = window.status_label.text()
    window.close_workspace()
    assert window.status_label.text() == ""
    assert window.open_path(str(tmp_path / "acme.botdesk"))
    assert [(p.id, p.state, p.text) for p in page.passages.passages] == before
    assert window.status_label.text() == status
    assert cells(page.sources.table, 0) == ["Text: Notes"]
    assert window.context.undo_stack.count() == 0  # undo lasts until the workspace closes


def test_adding_a_source_is_undoable(page: ContentPage, window: MainWindow) -> None:
    page.content_actions.auto_sync = False
    assert page.content_actions.add_qa("Do you bake on Sundays?", "Yes, from 6 am.") is not None
    assert page.stack.currentIndex() == 1
    assert window.context.undo_stack.undoText() == "Add Q&A"
    window.context.undo_stack.undo()
    assert page.stack.currentIndex() == 0 and not page.sources.model.rows
    window.context.undo_stack.redo()
    assert cells(page.sources.table, 0) == ["Q&A: Do you bake on Sundays?"]
    seen = messages(window)
    assert page.content_actions.add_files(["/no/such/folder"]) == []
    assert seen[-1][0] == "error" and "Add files: No such file or folder" in seen[-1][1]
    assert window.context.undo_stack.count() == 1


def test_remove_source_asks_once(page: ContentPage, window: MainWindow, qloop: Any) -> None:
    page.content_actions.add_qa("Do you deliver on Sundays?", "No, Monday to Saturday.")
    wait_for_sync(page, qloop)
    asked: list[str] = []
    answers = iter([False, True])

    def ask(question: str, detail: str = "") -> bool:
        asked.append(question + " " + detail)
        return next(answers)

    page.content_actions.ask = ask
    assert not page.remove_chosen_source()
    assert page.sources.model.rowCount() == 1
    assert page.sources.remove_button.isEnabled()
    page.sources.remove_button.click()
    assert len(asked) == 2 and "cannot be undone" in asked[1]
    assert page.stack.currentIndex() == 0  # back to the empty state
    assert window.status_label.text().startswith("0 passages")


def test_repeated_passages_excluded_all_at_once_with_undo(
    page: ContentPage, window: MainWindow, qloop: Any, tmp_path: Path
) -> None:
    write_pages(tmp_path / "site", 4, FOOTER_TEXT)
    page.content_actions.add_files([tmp_path / "site"])
    wait_for_sync(page, qloop)
    dialog = page.open_boilerplate()
    assert dialog is not None and dialog.model.rowCount() >= 1
    assert dialog.exclude_all_button.isEnabled()
    group = dialog.groups[0]
    assert group.documents == 4 and "Hamburg" in group.text
    dialog.exclude_all_button.click()
    assert dialog.groups[0].excluded == len(group.passage_ids)
    assert not dialog.exclude_all_button.isEnabled()
    assert f"({len(group.passage_ids)} excluded" in window.status_label.text()
    assert any("repeated" in s for s in cells(page.passages.table, 1))
    window.context.undo_stack.undo()
    assert window.status_label.text().endswith("(0 excluded, 0 edited, 0 need review)")
    dialog.accept()


def test_exclude_url_pattern_with_undo(
    page: ContentPage, window: MainWindow, qloop: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    write_pages(folder, 3, "Thanks for reading.")
    (folder / "drafts").mkdir()
    (folder / "drafts" / "draft.md").write_text("# Draft\n\nNot ready yet at all.\n")
    page.content_actions.add_files([folder])
    wait_for_sync(page, qloop)
    draft = next(d for d in page.documents.documents if d.uri.endswith("draft.md"))
    page.select_document(draft.id)
    dialog = page.open_exclude_pattern()
    assert dialog is not None
    assert dialog.pattern() == str(folder / "drafts" / "*")
    assert dialog.count_label.text() == "Matches 1 of 4 documents now."
    dialog.buttons.accepted.emit()
    excluded = [d.uri for d in page.documents.documents if d.excluded]
    assert excluded == [draft.uri]
    window.context.undo_stack.undo()
    assert not [d for d in page.documents.documents if d.excluded]
    assert content.content_stats(open_workspace(window)).excluded == 0


def test_source_settings_preview_the_new_cut_then_apply(
    page: ContentPage, window: MainWindow, qloop: Any
) -> None:
    paragraphs = [
        " ".join(f"Sentence {i} about ovens and {topic}." for i in range(12))
        for topic in ("mixers", "proofing", "flour", "rye", "spelt", "salt", "water", "time")
    ]
    page.content_actions.add_text("Guide", "# Guide\n\n" + "\n\n".join(paragraphs))
    wait_for_sync(page, qloop)
    before = len(page.passages.passages)
    dialog = page.open_source_settings()
    assert dialog is not None and dialog.target_spin.value() == 350
    dialog.target_spin.setValue(120)
    dialog.overlap_spin.setValue(10)
    dialog.preview_button.click()
    qloop.wait_until(dialog.preview_button.isEnabled)
    rows = dialog.preview_model.rowCount()
    assert rows > before
    assert f"Now: {before} passages. With these settings: {rows} passages" in (
        dialog.summary_label.text()
    )
    assert len(page.passages.passages) == before  # nothing applied yet
    dialog.apply_button.click()
    wait_for_sync(page, qloop)
    assert len(page.passages.passages) == rows
    assert max(p.tokens for p in page.passages.passages) <= 200


def test_full_text_search_over_passages(
    page: ContentPage, window: MainWindow, qloop: Any, qtbot: Any
) -> None:
    page.content_actions.add_files([SAMPLE_DIR])
    wait_for_sync(page, qloop)
    window.activateWindow()
    page.reader.view.setFocus()
    qtbot.keyClick(page.reader.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert page.passages.search_edit.hasFocus()
    found = page.search("Saturday")
    assert found and page.passages.search_results
    assert header(page.passages.table, 3) == "Document"
    assert all("saturday" in p.text.lower() for p in found)
    target = found[0]
    page.select_passages([target.id])
    assert page.reader.document is not None and page.reader.document.id == target.document_id
    assert len(page.reader.view.extraSelections()) >= 1
    page.search("")
    assert not page.passages.search_results
    assert header(page.passages.table, 3) == "Heading"
    assert page.search("zzzznotthere") == []


def test_failed_items_are_one_click_away(
    page: ContentPage, window: MainWindow, qloop: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.md").write_text("# Good\n\nThis one reads fine.\n", encoding="utf-8")
    (folder / "broken.pdf").write_bytes(garbage_pdf())
    (folder / "scan.pdf").write_bytes(blank_pdf())
    page.content_actions.add_files([folder])
    wait_for_sync(page, qloop)
    statuses = cells(page.documents.table, 2)
    assert "ok" in statuses
    assert any(s.startswith("failed: ") for s in statuses)
    assert any("no text, scanned?" in s for s in statuses)
    assert page.summary.errors_button.isVisible()
    assert "failed" in page.sources.label.text()
    dialog = page.show_sync_errors()
    assert "broken.pdf — " in dialog.view.toPlainText()
    dialog.reject()


def test_closing_the_workspace_during_a_sync_cancels_it_cleanly(
    page: ContentPage, window: MainWindow, qloop: Any, tmp_path: Path
) -> None:
    seen = messages(window)
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(200):
        words = " ".join(f"w{j}" for j in range(80))
        (folder / f"p{i}.md").write_text(f"# P {i}\n\n{words}\n", encoding="utf-8")
    page.content_actions.auto_sync = False
    page.content_actions.add_files([folder])
    job = page.start_sync()
    assert job is not None

    async def close_midway() -> None:
        while job.done < 5:
            await asyncio.sleep(0.005)
        window.close_workspace()
        while window.workspace is not None:
            await asyncio.sleep(0.01)

    qloop.run(close_midway(), timeout=60)
    assert job.state is JobState.CANCELLED
    assert window.central.currentWidget() is window.start_screen
    assert not [t for level, t in seen if level in ("error", "bug")]
    assert window.open_path(str(tmp_path / "acme.botdesk"))
    assert 5 <= len(page.documents.documents) < 200  # what was synced before the close is kept


def test_site_rules_changed_in_settings(page: ContentPage, window: MainWindow, qloop: Any) -> None:
    page.content_actions.auto_sync = False
    with LoopbackServer(SiteHandler) as server:
        source = page.content_actions.add_site(server.url + "/", exclude=["*/docs/*"], max_pages=50)
        assert source is not None
        dialog = page.open_source_settings()
        assert dialog is not None
        assert dialog.exclude_edit.toPlainText() == "*/docs/*"
        assert dialog.max_pages_spin.value() == 50
        dialog.exclude_edit.setPlainText("*/blog/*\n*/docs/*")
        dialog.apply_button.click()  # saves, then syncs the source with the new rules
        wait_for_sync(page, qloop)
    updated = content_sources.get_source(open_workspace(window), source.id)
    assert updated.settings["exclude"] == ["*/blog/*", "*/docs/*"]
    assert sorted(urlsplit(d.uri).path for d in page.documents.documents) == ["/", "/about"]


def test_delete_key_excludes_the_chosen_passages(
    page: ContentPage, window: MainWindow, qloop: Any, qtbot: Any
) -> None:
    page.content_actions.add_text("Notes", long_text("rye", "spelt"))
    wait_for_sync(page, qloop)
    page.select_passages([page.passages.passages[0].id])
    page.passages.table.setFocus()
    qtbot.keyClick(page.passages.table, Qt.Key.Key_Delete)
    assert states(page)[0] == "excluded"
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert states(page)[0] == "included"
