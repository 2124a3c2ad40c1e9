"""The Search page (retrieval preview) in the real window, against the loopback Ollama."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from desktop.core.jobs import Job
from desktop.providers.retry import RetryPolicy
from desktop.services import content, content_sources, index
from desktop.services.backends import Backends
from desktop.ui.main_window import MainWindow
from desktop.ui.search.models import CandidatesModel, HitsModel
from desktop.ui.search.page import SearchPage
from tests.helpers.backends import test_backends

PAGES = {
    "returns.md": "# Returns\n\n## Refunds\n\nRefunds are paid to your card within five days.\n",
    "shipping.md": "# Shipping\n\nShipping abroad costs twelve euros and takes a week.\n",
    "hours.md": "# Hours\n\nThe shop opens at nine and closes at six on weekdays.\n",
    "warranty.md": "# Warranty\n\nScreen repairs are covered by the two year warranty.\n",
}


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    for name, text in PAGES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def page(
    window: MainWindow, tmp_path: Path, qloop: Any, fake_ollama: Any, backends: Backends
) -> SearchPage:
    assert window.create_path(str(tmp_path / "shop.botdesk"), "Shop")
    ws = window.workspace
    assert ws is not None
    index.set_embedder(ws, "ollama:all-minilm")
    content_sources.add_files(ws, [_folder(tmp_path)])
    qloop.run(content.sync(ws, Job("Sync"), backends=backends))
    window.context.content_changed.emit()
    found = window.show_page("Search")
    assert isinstance(found, SearchPage)
    return found


def _search(page: SearchPage, qtbot: Any, qloop: Any, question: str) -> None:
    page.query.question_edit.clear()
    qtbot.keyClicks(page.query.question_edit, question)
    before = page.hits
    qtbot.keyClick(page.query.question_edit, Qt.Key.Key_Return)
    qloop.wait_until(lambda: page.hits is not before and not page._tasks)


def _cell(model: Any, row: int, column: int) -> str:
    return str(model.data(model.index(row, column)))


def _texts(page: SearchPage) -> list[str]:
    return [_cell(page.hits_model, r, 4) for r in range(page.hits_model.rowCount())]


def test_a_question_shows_ranked_passages_with_each_modes_part(
    page: SearchPage, qtbot: Any, qloop: Any
) -> None:
    assert "4/4 passages embedded by ollama:all-minilm" in page.status.status_label.text()
    assert not page.status.embed_button.isVisible()
    _search(page, qtbot, qloop, "how are refunds paid to my card")
    assert page.hits.mode == "hybrid"
    assert "Refunds are paid" in _texts(page)[0]
    table, model = page.results.table, page.hits_model
    assert _cell(model, 0, 0) == "1"
    assert _cell(model, 0, 2).startswith("#1 · ")  # keyword rank and score
    assert _cell(model, 0, 3).startswith("#")  # vector rank and score
    assert "returns.md" in _cell(model, 0, 6)
    assert model.headerData(4, Qt.Orientation.Horizontal) == "Passage"
    table.selectRow(0)
    shown = page.passage.passage_view.toPlainText()
    assert "Refunds are paid to your card" in shown and "hybrid rank 1" in shown

    page.query.mode_combo.setCurrentIndex(page.query.mode_combo.findData("keyword"))
    page.query.k_spin.setValue(1)
    _search(page, qtbot, qloop, "shop opens")
    keyword_hits = page.hits  # a new list: the first search's mode does not narrow it
    assert keyword_hits.mode == "keyword" and model.rowCount() == 1
    assert _cell(model, 0, 3) == "—"


def test_exclude_and_edit_from_the_results_with_undo(
    page: SearchPage, qtbot: Any, qloop: Any
) -> None:
    _search(page, qtbot, qloop, "refunds card")
    first = page.hits[0].chunk_id
    page.results.table.selectRow(0)
    qtbot.mouseClick(page.passage.exclude_button, Qt.MouseButton.LeftButton)
    qloop.wait_until(lambda: not page._tasks and first not in [h.chunk_id for h in page.hits])
    page.context.undo_stack.undo()
    qloop.wait_until(lambda: not page._tasks and first in [h.chunk_id for h in page.hits])

    page.select_hit(first)
    assert page.edit_passage(first, "Refunds reach your card in two days, by bank transfer.")
    status = page.status
    assert "waiting" in status.status_label.text() and status.embed_button.isVisibleTo(page)
    job = page.embed_now()
    assert job is not None
    qloop.run(page.context.jobs.wait_all())
    page.refresh_status()
    assert "4/4" in status.status_label.text() and not status.embed_button.isVisibleTo(page)
    _search(page, qtbot, qloop, "bank transfer")
    assert "bank transfer" in _texts(page)[0]


def test_why_not_for_a_picked_passage(page: SearchPage, qtbot: Any, qloop: Any) -> None:
    ws = page.workspace
    assert ws is not None
    hours = content.list_passages(ws, query="opens nine")[0].id
    content.exclude_passages(ws, [hours])
    _search(page, qtbot, qloop, "when does the shop open")
    assert hours not in [h.chunk_id for h in page.hits]
    qtbot.keyClicks(page.why.find_edit, "opens nine")
    qtbot.keyClick(page.why.find_edit, Qt.Key.Key_Return)
    assert page.candidates_model.rowCount() >= 1
    assert "[excluded]" in _cell(page.candidates_model, 0, 0)
    qtbot.mouseClick(page.why.why_button, Qt.MouseButton.LeftButton)
    qloop.wait_until(lambda: page.last_why is not None)
    text = page.why.why_view.toPlainText()
    assert "excluded" in text and "keyword: rank 1" in text and "vector:" in text


def test_open_in_document_goes_to_the_content_page(
    page: SearchPage, window: MainWindow, qtbot: Any, qloop: Any
) -> None:
    _search(page, qtbot, qloop, "warranty screen")
    page.results.table.selectRow(0)
    assert page.open_selected()
    content_page: Any = window.pages[window.nav.currentRow()]
    assert content_page.title == "Content"
    assert content_page.selected_passage_ids() == [page.hits[0].chunk_id]


def test_a_keyword_only_workspace(
    window: MainWindow, tmp_path: Path, qtbot: Any, qloop: Any, backends: Backends
) -> None:
    assert window.create_path(str(tmp_path / "plain.botdesk"), "Plain")
    ws = window.workspace
    assert ws is not None
    content_sources.add_files(ws, [_folder(tmp_path)])
    qloop.run(content.sync(ws, Job("Sync"), backends=backends))
    page = window.show_page("Search")
    assert isinstance(page, SearchPage)
    page.refresh_status()
    assert "keyword search only" in page.status.status_label.text()
    page.query.mode_combo.setCurrentIndex(page.query.mode_combo.findData("hybrid"))
    _search(page, qtbot, qloop, "refunds")
    assert page.hits.mode == "keyword"
    assert "keyword search was used" in page.results.summary_label.text()


def test_a_server_down_falls_back_to_keyword_search_and_says_so(
    page: SearchPage, window: MainWindow, qloop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    down = test_backends(ollama=f"http://127.0.0.1:{port}", retry=RetryPolicy(attempts=1))
    window.context.backends = down
    shown: list[tuple[str, str]] = []
    window.messages.message_shown.connect(lambda level, text: shown.append((level, text)))
    page.query.question_edit.setText("refunds")
    before = page.hits
    page.search()
    qloop.wait_until(lambda: page.hits is not before and not page._tasks)
    summary = page.results.summary_label.text()
    assert "keyword search" in summary and "ollama serve" in summary
    assert "Keyword search was used instead" in summary
    assert len(page.hits) >= 1 and not [m for m in shown if m[0] == "error"]
    assert page.query.search_button.isEnabled()


def test_the_table_models_pass_the_model_tester(
    page: SearchPage, qtbot: Any, qloop: Any, qtmodeltester: Any
) -> None:
    _search(page, qtbot, qloop, "refunds card")
    assert page.hits_model.rowCount() >= 1
    qtmodeltester.check(page.hits_model)
    page.find_candidates("refunds")
    assert page.candidates_model.rowCount() >= 1
    qtmodeltester.check(page.candidates_model)
    qtmodeltester.check(HitsModel())
    qtmodeltester.check(CandidatesModel())


def test_scraped_text_in_tooltips_is_not_read_as_html(
    window: MainWindow, tmp_path: Path, qtbot: Any, qloop: Any, backends: Backends
) -> None:
    assert window.create_path(str(tmp_path / "html.botdesk"), "Html")
    ws = window.workspace
    assert ws is not None
    content_sources.add_text(ws, "Tricky", "Refunds <b>bold</b> <img src=x onerror=alert(1)> here.")
    qloop.run(content.sync(ws, Job("Sync"), backends=backends))
    page = window.show_page("Search")
    assert isinstance(page, SearchPage)
    _search(page, qtbot, qloop, "refunds")
    tooltip = str(page.hits_model.data(page.hits_model.index(0, 4), Qt.ItemDataRole.ToolTipRole))
    assert "&lt;img" in tooltip and "<img" not in tooltip
