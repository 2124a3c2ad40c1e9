"""The Test bench page driven in the real window: side-by-side streaming, citations, test runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QUrl

from desktop.core.errors import ProviderUnavailableError
from desktop.services import answers
from desktop.ui.main_window import MainWindow
from desktop.ui.pages.testbench import TestBenchPage, render_answer
from tests.core.answering.support import FakeSearch, backends, hits
from tests.helpers.fake_generator import FakeGenerator


@pytest.fixture
def page(window: MainWindow, tmp_path: Path) -> TestBenchPage:
    assert window.create_path(str(tmp_path / "acme.botdesk"), "Acme")
    found = window.show_page("Test bench")
    assert isinstance(found, TestBenchPage)
    return found


def use_fakes(page: TestBenchPage, generator: FakeGenerator, n_hits: int = 4) -> FakeSearch:
    search = FakeSearch(hits(n_hits))
    page.backends_factory = lambda: backends(generator, search)
    return search


def test_ctrl_enter_streams_both_columns_at_once(
    page: TestBenchPage, qtbot: Any, qloop: Any
) -> None:
    generator = FakeGenerator(
        delay_s=0.05, default=lambda m: "We open at eight [1] and close at six [2]."
    )
    use_fakes(page, generator)
    page.column_b.k_spin.setValue(1)  # change a setting on one side only, unsaved
    assert page.column_b.edited_label.text() == "edited, not saved"
    deltas: list[tuple[str, str]] = []
    page.delta_received.connect(lambda side, text: deltas.append((side, text)))
    qtbot.keyClicks(page.question_edit, "When do you open?")
    qtbot.keyClick(page.question_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert page.question_edit.toPlainText() == "When do you open?"  # no newline typed
    qloop.wait_until(lambda: page.column_a.result is not None and page.column_b.result is not None)
    assert generator.max_in_flight == 2
    sides = [side for side, _ in deltas]
    assert set(sides) == {"a", "b"} and sides != sorted(sides)  # interleaved: both streaming
    for column in (page.column_a, page.column_b):
        assert column.answer_text() == "We open at eight [1] and close at six [2]."
    assert page.column_a.passages_list.count() == 4
    assert page.column_b.passages_list.count() == 1  # the unsaved k=1 was used
    assert page.column_b.citations_list.count() == 2
    assert "not among the passages given" in page.column_b.citations_list.item(1).text()
    assert "Tokens" in page.column_a.status_label.text()
    assert "cost $0.000000" in page.column_a.status_label.text()
    assert answers.get_profile(page.workspace, "default").k == 5  # nothing saved silently


def test_citation_links_show_passages_in_the_app(
    page: TestBenchPage, qtbot: Any, qloop: Any
) -> None:
    use_fakes(page, FakeGenerator(replies=["Eight [2], see also [9]."]))
    page.question_edit.setPlainText("When?")
    qtbot.mouseClick(page.ask_button, Qt.MouseButton.LeftButton)
    qloop.wait_until(lambda: page.column_a.result is not None)
    column = page.column_a
    html = column.answer_view.toHtml()
    assert "cite:2" in html and "cite:9" in html
    column.answer_view.anchorClicked.emit(QUrl("cite:2"))
    assert "Passage 1 says the shop opens at 9" in column.passage_view.toPlainText()
    assert "https://acme.test/page1" in column.passage_view.toPlainText()
    column.answer_view.anchorClicked.emit(QUrl("cite:9"))
    assert "was not among the passages" in column.passage_view.toPlainText()
    before = column.passage_view.toPlainText()
    column.answer_view.anchorClicked.emit(QUrl("file:///etc/passwd"))
    column.answer_view.anchorClicked.emit(QUrl("javascript:alert(1)"))
    assert column.passage_view.toPlainText() == before
    assert column.answer_view.source().isEmpty()  # never navigated anywhere


def test_answer_html_is_escaped() -> None:
    rendered = render_answer('<img src=x onerror="alert(1)"> [1]', given=1)
    assert "<img" not in rendered and "&lt;img" in rendered
    assert '<a href="cite:1"' in rendered


def test_model_down_on_one_side_is_a_message_in_that_column(
    page: TestBenchPage, qtbot: Any, qloop: Any
) -> None:
    generator = FakeGenerator()
    use_fakes(page, generator)
    page.column_b.generator_edit.setText("mistral:mistral-small-latest")
    generator.default = lambda m: "Fine [1]."
    generator.replies = [
        ProviderUnavailableError("Ollama is not running.", hint="Run `ollama serve`.")
    ]
    messages: list[tuple[str, str]] = []
    page.context.messages.message_shown.connect(lambda level, text: messages.append((level, text)))
    page.question_edit.setPlainText("When?")
    page.ask()
    qloop.wait_until(lambda: page.column_a.result is not None and page.column_b.result is not None)
    statuses = [page.column_a.status_label.text(), page.column_b.status_label.text()]
    assert (
        sum("Could not answer: Ollama is not running. Run `ollama serve`." in s for s in statuses)
        == 1
    )
    assert not [m for m in messages if m[0] == "bug"]
    assert page.ask_button.isEnabled()


def test_save_edited_settings_to_the_profile(page: TestBenchPage) -> None:
    page.column_a.temperature_spin.setValue(0.9)
    page.column_a.save_button.click()
    assert answers.get_profile(page.workspace, "default").temperature == 0.9
    assert page.column_a.edited_label.text() == ""


def test_test_set_import_run_compare_and_cancel(
    page: TestBenchPage, qtbot: Any, qloop: Any, tmp_path: Path
) -> None:
    generator = FakeGenerator(default=lambda m: "Eight [1].")
    use_fakes(page, generator)
    bad = tmp_path / "bad.csv"
    bad.write_text("question,should_decline\nWhen?,perhaps\n")
    messages: list[tuple[str, str]] = []
    page.context.messages.message_shown.connect(lambda level, text: messages.append((level, text)))
    page.import_file(bad)
    assert messages[-1][0] == "error" and "row 1: should_decline" in messages[-1][1]
    assert page.tests.questions_table.rowCount() == 0 and not page.tests.empty_label.isHidden()
    good = tmp_path / "set.jsonl"
    good.write_text(
        "\n".join(
            f'{{"question": "Question {i}?", "expected_source": "page0", "must_include": "eight"}}'
            for i in range(6)
        )
    )
    page.import_file(good)
    assert page.tests.questions_table.rowCount() == 6
    page.tests.with_b.setChecked(True)
    page.tests.concurrency_spin.setValue(2)
    page.tests.run_button.click()
    assert page.run_job is not None
    qloop.wait_until(lambda: page.run_job is None)
    assert page.tests.results_table.rowCount() == 12
    assert page.tests.results_table.item(0, 2).text() == "pass"
    assert "default: 6/6 passed" in page.tests.totals_label.text()
    assert "No previous run" in page.tests.comparison_label.text()
    # Second run: cancelled after the first answer; what was answered is kept.
    generator.delay_s = 0.02
    page.tests.with_b.setChecked(False)
    page.tests.concurrency_spin.setValue(1)
    page.tests.run_button.click()
    qloop.wait_until(lambda: page.tests.results_table.rowCount() > 0 and generator.requests)
    qloop.wait_until(lambda: len(generator.requests) >= 13)
    page.tests.cancel_button.click()
    qloop.wait_until(lambda: page.run_job is None)
    assert "cancelled" in page.tests.progress_label.text()
    runs = answers.list_runs(page.workspace)
    assert runs[0].status == "cancelled" and runs[1].status == "finished"
    assert 1 <= page.tests.results_table.rowCount() < 6
    assert "Compared with run 1" in page.tests.comparison_label.text()
    export = tmp_path / "out.csv"
    page.export_file(export)
    assert export.read_text().count("\n") == 7


def test_add_current_question_and_delete_it(page: TestBenchPage) -> None:
    page.question_edit.setPlainText("Do you ship abroad?")
    page.add_question_button.click()
    table = page.tests.questions_table
    assert table.rowCount() == 1 and table.item(0, 0).text() == "Do you ship abroad?"
    table.selectRow(0)
    page.tests.delete_button.click()
    assert table.rowCount() == 0 and answers.list_questions(page.workspace) == []


def test_without_a_workspace_the_page_says_what_to_do(window: MainWindow) -> None:
    found = window.show_page("Test bench")
    assert isinstance(found, TestBenchPage)
    assert not found.no_workspace_label.isHidden() and not found.tabs.isEnabled()


def test_run_against_a_missing_bundle_says_why(
    page: TestBenchPage, qloop: Any, tmp_path: Path
) -> None:
    use_fakes(page, FakeGenerator())
    page.question_edit.setPlainText("When?")
    page.add_question_button.click()
    messages: list[tuple[str, str]] = []
    page.context.messages.message_shown.connect(lambda level, text: messages.append((level, text)))
    page.tests.bundle_check.setChecked(True)
    assert page.run_tests(True, False, 1) is None
    assert "Choose the bundle file" in messages[-1][1]
    page.tests.bundle_edit.setText(str(tmp_path / "missing.bundle"))
    assert page.run_tests(True, False, 1) is not None
    qloop.wait_until(lambda: page.run_job is None)
    assert messages[-1][0] == "error" and "No bundle file at" in messages[-1][1]
    assert "failed" in page.tests.progress_label.text()
