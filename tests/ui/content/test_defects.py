"""The Content defects a new user hit (issue 10), each driven through the real window:
the exclude-pattern pre-fill, excluded documents' passages, the address column, what a sync
skipped and why, and one name for a passage."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from desktop.ui.content.dialogs import suggest_exclude_pattern
from desktop.ui.content.page import ContentPage
from desktop.ui.main_window import MainWindow
from tests.helpers.loopback import LoopbackServer
from tests.ui.content.support import (
    FOOTER_TEXT,
    SiteHandler,
    cells,
    header,
    long_text,
    wait_for_sync,
    write_pages,
)

SHOP = "https://shop.example"


def shop_uris() -> list[str]:
    """109 pages: the home page, 45 event pages, 63 product pages."""
    return (
        [f"{SHOP}/"]
        + [f"{SHOP}/events/day-{i}" for i in range(45)]
        + [f"{SHOP}/products/item-{i}" for i in range(63)]
    )


def test_pattern_suggestion_is_the_documents_folder_and_never_everything() -> None:
    uris = shop_uris()
    assert suggest_exclude_pattern(f"{SHOP}/events/day-3", uris) == "*/events/*"
    # The home page's folder is the whole site ("Matches 109 of 109" before): its own address.
    assert suggest_exclude_pattern(f"{SHOP}/", uris) == f"{SHOP}/"
    assert suggest_exclude_pattern(f"{SHOP}/about", [*uris, f"{SHOP}/about"]) == f"{SHOP}/about"
    # A pasted text has no folder: "*" would have matched everything.
    assert suggest_exclude_pattern("text:3", [*uris, "text:3"]) == "text:3"
    assert suggest_exclude_pattern(f"{SHOP}/", [f"{SHOP}/"]) == ""  # one document: no pattern


def test_exclude_pattern_dialog_never_offers_to_exclude_every_document(
    page: ContentPage, qloop: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "site"
    write_pages(folder, 3, "Thanks for reading.")
    page.content_actions.add_files([folder])
    wait_for_sync(page, qloop)
    page.select_document(page.documents.documents[0].id)  # a file at the source's top
    dialog = page.open_exclude_pattern()
    assert dialog is not None
    assert dialog.count_label.text() == "Matches 1 of 3 documents now."
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert ok.isEnabled()
    dialog.pattern_edit.setText("*")
    assert dialog.count_label.text().startswith("Matches 3 of 3 documents now. That is every")
    assert not ok.isEnabled()
    dialog.buttons.accepted.emit()  # refused: nothing excluded
    assert dialog.isVisible() and not [d for d in page.documents.documents if d.excluded]
    dialog.reject()


def test_passages_of_an_excluded_document_are_not_shown_as_included(
    page: ContentPage, window: MainWindow, qloop: Any, tmp_path: Path
) -> None:
    write_pages(tmp_path / "site", 4, FOOTER_TEXT)
    page.content_actions.add_files([tmp_path / "site"])
    wait_for_sync(page, qloop)
    assert any(s == "included, repeated" for s in cells(page.passages.table, 1))
    page.documents.exclude_button.click()
    states = cells(page.passages.table, 1)
    assert states and all(s.startswith("excluded (document)") for s in states)
    assert "excluded (document), repeated" in states
    page.select_passages([page.passages.passages[0].id])
    assert "(its whole document is)" in page.passages.label.text()
    # The repeated-passages dialog counts the excluded document's copy as excluded.
    dialog = page.open_boilerplate()
    assert dialog is not None
    footer = next(g for g in dialog.groups if "Hamburg" in g.text)
    assert footer.excluded == 1 and dialog.model.index(0, 2).data() == "1"
    assert dialog.exclude_all_button.isEnabled()  # three copies still reach the bot
    dialog.accept()


def test_documents_with_the_same_title_differ_by_their_address(
    page: ContentPage, qloop: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "events"
    folder.mkdir()
    for i in range(45):
        body = " ".join(f"Stand {i} opens at {j} o'clock." for j in range(30))
        (folder / f"2024-01-day-{i:02d}.md").write_text(
            f"# Events 2024-01\n\n{body}\n", encoding="utf-8"
        )
    page.content_actions.add_files([folder])
    wait_for_sync(page, qloop)
    assert header(page.documents.table, 1) == "Address"
    assert set(cells(page.documents.table, 0)) == {"Events 2024-01"}
    addresses = cells(page.documents.table, 1)
    assert len(set(addresses)) == 45 and "2024-01-day-07.md" in addresses
    assert page.documents.table.textElideMode() == Qt.TextElideMode.ElideMiddle


def test_what_a_sync_skipped_is_listed_with_the_reason(
    page: ContentPage, window: MainWindow, qloop: Any, tmp_path: Path
) -> None:
    assert not page.summary.skipped_button.isVisibleTo(page)
    with LoopbackServer(SiteHandler) as server:
        page.content_actions.add_site(server.url + "/", exclude=["*/blog/*"], max_pages=50)
        wait_for_sync(page, qloop)
    button = page.summary.skipped_button
    assert button.isVisibleTo(page) and button.text() == "What was skipped (2)…"
    assert "2 skipped" in page.summary.label.text()
    dialog = page.show_skipped()
    text = dialog.view.toPlainText()
    assert f"{server.url}/blog/first-post — excluded by */blog/*" in text
    assert f"{server.url}/blog/second-post — excluded by */blog/*" in text
    dialog.reject()
    # Reopened later, the workspace still says what its last sync left out.
    window.close_workspace()
    assert window.open_path(str(tmp_path / "acme.botdesk"))
    assert button.isVisibleTo(page) and button.text() == "What was skipped (2)…"
    again = page.show_skipped()
    assert f"{server.url}/blog/first-post — excluded by */blog/*" in again.view.toPlainText()
    again.reject()


def test_a_passage_has_one_name_its_stable_id(
    page: ContentPage, window: MainWindow, qloop: Any
) -> None:
    page.content_actions.add_text("Notes", long_text("rye", "spelt", "oats"))
    wait_for_sync(page, qloop)
    second = page.passages.passages[1]
    assert cells(page.passages.table, 0)[1] == f"#{second.id}"
    page.select_passages([second.id])
    assert page.passages.label.text().startswith(f"Passage #{second.id}: included")
    dialog = page.open_edit_passage()
    assert dialog is not None and f"Passage #{second.id}" in dialog.where_label.text()
    dialog.reject()
    # The same name in search results across documents.
    found = page.search("spelt3")
    assert found and cells(page.passages.table, 0)[0] == f"#{found[0].id}"


def test_the_content_dialogs_fit_their_widgets(
    page: ContentPage, qloop: Any, tmp_path: Path
) -> None:
    from tests.ui.test_layout import squeezed_widgets

    write_pages(tmp_path / "site", 4, FOOTER_TEXT)
    page.content_actions.add_files([tmp_path / "site"])
    wait_for_sync(page, qloop)
    page.select_passages([page.passages.passages[0].id])
    dialogs = [
        page.open_add_site(),
        page.open_exclude_pattern(),
        page.open_source_settings(),
        page.open_boilerplate(),
        page.open_edit_passage(),
        page.open_add_text(),
        page.show_sync_errors(),
        page.show_skipped(),
    ]
    for dialog in dialogs:
        assert dialog is not None
        dialog.show()
        qloop.run(asyncio.sleep(0.02))
        assert squeezed_widgets(dialog) == [], dialog.windowTitle()
        dialog.reject()


def test_a_passage_edit_reloads_only_the_passages(
    page: ContentPage, window: MainWindow, qloop: Any, tmp_path: Path
) -> None:
    write_pages(tmp_path / "site", 4, FOOTER_TEXT)
    page.content_actions.add_files([tmp_path / "site"])
    wait_for_sync(page, qloop)
    touched: list[str] = []
    for name, model in (("sources", page.sources.model), ("documents", page.documents.model)):
        model.modelReset.connect(lambda name=name: touched.append(name))
        model.dataChanged.connect(lambda *_, name=name: touched.append(name))
    first = page.passages.passages[0].id
    page.select_passages([first])
    page.passages.exclude_button.click()
    assert page.passages.passages[0].state == "excluded"
    assert "(1 excluded," in window.status_label.text()
    window.context.undo_stack.undo()
    assert page.passages.passages[0].state == "included"
    assert touched == []  # the sources and documents lists were left as they were
    page.documents.exclude_button.click()  # a document's state: its row is repainted
    assert touched == ["documents"]
