"""The Content page in the real window: sources, sync as a job, documents, passages, curation
with undo, review of changed sources, hostile text shown as text, the crawl preview."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop.services import content
from desktop.services.demo import SAMPLE_DIR
from desktop.ui.main_window import MainWindow
from desktop.ui.pages.content import EMPTY_TEXT, ContentPage


@pytest.fixture
def page(window: MainWindow, tmp_path: Path) -> ContentPage:
    assert window.create_path(str(tmp_path / "acme.botdesk"), "Acme")
    found = window.show_page("Content")
    assert isinstance(found, ContentPage)
    return found


def messages(window: MainWindow) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    window.messages.message_shown.connect(lambda level, text: seen.append((level, text)))
    return seen


def sync_and_wait(page: ContentPage, qloop: Any, source_ids: list[int] | None = None) -> None:
    job = page.start_sync(source_ids)
    assert job is not None
    qloop.wait_until(lambda: page.sync_job is None, timeout=60)


def wait_for_sync(page: ContentPage, qloop: Any) -> None:
    qloop.wait_until(lambda: page.sync_job is None, timeout=60)


def cells(view: Any, column: int) -> list[str]:
    return [view.item(row, column).text() for row in range(view.rowCount())]


def test_empty_state_says_what_to_do(page: ContentPage, window: MainWindow) -> None:
    assert page.stack.currentIndex() == 0
    assert page.empty_label.text() == EMPTY_TEXT
    assert page.empty_label.textFormat() == Qt.TextFormat.PlainText
    assert window.status_label.text() == "0 passages (0 excluded, 0 edited, 0 need review)"
    assert window.sync_action.isEnabled()


def test_add_files_syncs_and_shows_documents_and_passages(
    page: ContentPage, window: MainWindow, qloop: Any
) -> None:
    seen = messages(window)
    added = page.add_files([SAMPLE_DIR])
    assert len(added) == 1 and page.sync_job is not None  # adding starts the sync
    wait_for_sync(page, qloop)
    assert page.stack.currentIndex() == 1
    assert cells(page.sources_table, 0) == ["Files"]
    assert page.sources_table.item(0, 1).text() == str(SAMPLE_DIR)
    names = cells(page.documents_table, 0)
    assert len(names) == 7 and any("Lumen" in n for n in names)
    assert set(cells(page.documents_table, 1)) == {"ok"}
    # A document: its Markdown as plain text, its passages with tokens and state.
    page.select_document(page.documents[0].id)
    detail = content.get_document(window.workspace, page.documents[0].id)
    assert page.markdown_view.toPlainText() == detail.markdown
    assert page.passages and cells(page.passages_table, 1)[0] == "included"
    assert int(cells(page.passages_table, 2)[0]) == page.passages[0].tokens
    # Boundaries: every passage with a span is highlighted in the Markdown.
    spans = [p for p in page.passages if p.char_end]
    assert len(page.markdown_view.extraSelections()) == len(spans)
    stats = content.content_stats(window.workspace)
    assert window.status_label.text().startswith(f"{stats.passages:,} passages (0 excluded")
    assert "fetched" in page.summary_label.text()
    assert not [t for level, t in seen if level in ("error", "bug")]
    # F5 syncs again: everything unchanged.
    window.sync_action.trigger()
    assert page.sync_job is not None
    wait_for_sync(page, qloop)
    assert set(cells(page.documents_table, 1)) == {"unchanged"}


def long_text(*topics: str, words: int = 220) -> str:
    sections = []
    for topic in topics:
        body = " ".join(f"{topic}{i % 17}" for i in range(words))
        sections.append(f"## About {topic}\n\n{body}.\n")
    return "\n".join(sections)


def states(page: ContentPage) -> list[str]:
    return [p.state for p in page.passages]


def test_exclude_include_edit_add_with_undo(
    page: ContentPage, window: MainWindow, qloop: Any
) -> None:
    source = page.add_text("Delivery notes", long_text("delivery", "pricing", "returns"))
    assert source is not None
    wait_for_sync(page, qloop)
    assert len(page.passages) >= 3 and set(states(page)) == {"included"}
    first, second = page.passages[0].id, page.passages[1].id
    undo = window.context.undo_stack

    page.select_passages([first, second])
    assert page.exclude_button.isEnabled() and not page.include_button.isEnabled()
    page.exclude_button.click()
    assert states(page)[:2] == ["excluded", "excluded"]
    assert "(2 excluded," in window.status_label.text()
    assert page.selected_passage_ids() == [first, second]  # selection kept over refresh
    undo.undo()
    assert states(page)[:2] == ["included", "included"]
    undo.redo()
    assert states(page)[:2] == ["excluded", "excluded"]
    page.select_passages([first])
    page.include_button.click()
    assert states(page)[:2] == ["included", "excluded"]

    original = page.passages[0].text
    page.select_passages([first])
    dialog = page.open_edit_passage()
    assert dialog is not None and dialog.editor.toPlainText() == original
    dialog.editor.setPlainText("We deliver Monday to Saturday.")
    dialog.save_button.click()
    assert page.passages[0].state == "edited"
    assert page.passages[0].text == "We deliver Monday to Saturday."
    assert page.passage_view.toPlainText() == "We deliver Monday to Saturday."
    assert "1 edited" in window.status_label.text()
    undo.undo()
    assert page.passages[0].state == "included" and page.passages[0].text == original

    document_id = page.current_document_id()
    assert document_id is not None
    add = page.open_add_passage()
    assert add is not None
    add.line_edit.setText("Opening hours")
    add.body_edit.setPlainText("The shop opens at 7 on weekdays.")
    add.buttons.accepted.emit()
    manual = [p for p in page.passages if p.origin == "manual"]
    assert len(manual) == 1 and manual[0].heading_path == "Opening hours"
    assert "added" in cells(page.passages_table, 1)[-1]
    undo.undo()
    assert not [p for p in page.passages if p.origin == "manual"]
    undo.redo()
    assert [p.text for p in page.passages if p.origin == "manual"] == [
        "The shop opens at 7 on weekdays."
    ]

    page.exclude_document_button.click()
    assert page.documents_table.item(0, 1).text().endswith("(excluded)")
    assert page.exclude_document_button.text() == "Include document"
    undo.undo()
    assert not page.documents_table.item(0, 1).text().endswith("(excluded)")
    assert undo.count() == 4 and undo.undoText() == "Add passage"


def test_review_flagged_on_changed_source_shows_both_texts(
    page: ContentPage, window: MainWindow, qloop: Any, tmp_path: Path
) -> None:
    doc = tmp_path / "policy.md"
    doc.write_text("# Delivery\n\n" + long_text("shipping", words=120), encoding="utf-8")
    page.add_files([doc])
    wait_for_sync(page, qloop)
    target = page.passages[0]
    page.edit_passage(target.id, "Shipping is free above 50 EUR.")
    # The source text under the edited passage changes.
    doc.write_text(
        "# Delivery\n\n" + long_text("shipping", words=120).replace("shipping3 ", "parcel3 "),
        encoding="utf-8",
    )
    sync_and_wait(page, qloop)
    flagged = next(p for p in page.passages if p.id == target.id)
    assert flagged.state == "needs_review"
    row = [p.id for p in page.passages].index(target.id)
    assert page.passages_table.item(row, 1).text() == "needs review"
    assert "1 need review" in window.status_label.text()
    page.select_passages([target.id])
    assert page.edit_button.text() == "Review…"
    assert "The source now says" in page.passage_view.toPlainText()
    dialog = page.open_edit_passage()
    assert dialog is not None
    assert dialog.editor.toPlainText() == "Shipping is free above 50 EUR."
    assert "parcel3" in dialog.new_source_view.toPlainText()
    dialog.keep_button.click()
    kept = next(p for p in page.passages if p.id == target.id)
    assert kept.state == "edited" and kept.text == "Shipping is free above 50 EUR."
    assert "0 need review" in window.status_label.text()
    window.context.undo_stack.undo()
    assert next(p for p in page.passages if p.id == target.id).state == "needs_review"
    page.select_passages([target.id])
    dialog = page.open_edit_passage()
    assert dialog is not None
    dialog.take_button.click()
    taken = next(p for p in page.passages if p.id == target.id)
    assert taken.state == "included" and "parcel3" in taken.text


HOSTILE = (
    "# Offers <b>bold</b>\n\n"
    "Click <a href=\"javascript:alert(1)\">here</a> <script>alert('x')</script> "
    "<img src=x onerror=alert(1)> and [file](file:///etc/passwd) for details."
)


def test_hostile_html_is_shown_as_text(page: ContentPage, window: MainWindow, qloop: Any) -> None:
    page.add_text("<b>Promo</b>", HOSTILE)
    wait_for_sync(page, qloop)
    assert "<script>alert('x')</script>" in page.markdown_view.toPlainText()
    assert page.documents_table.item(0, 0).text() == "<b>Promo</b>"
    assert "<b>Promo</b>" in page.document_label.text()
    page.select_passages([page.passages[0].id])
    text = page.passage_view.toPlainText()
    assert 'href="javascript:alert(1)"' in text and "<img src=x onerror=alert(1)>" in text
    assert "<b>bold</b>" in page.passage_label.text() or "<b>bold</b>" in text
    # Every label of the page and of the edit dialog is plain text, never rich text.
    dialog = page.open_edit_passage()
    assert dialog is not None
    for widget in (page, dialog):
        for label in widget.findChildren(type(page.empty_label)):
            assert label.textFormat() == Qt.TextFormat.PlainText, label.text()
    assert "<script>" in dialog.editor.toPlainText()
    # Tooltips of scraped text are escaped, so they too show the text literally.
    tip = page.documents_table.item(0, 0).toolTip()
    assert "<b>" not in tip.replace("<p style='white-space:pre-wrap'>", "")
    dialog.reject()
