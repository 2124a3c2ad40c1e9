"""The test set on the Test bench: import, run, compare, cancel; add, edit and delete
questions (only the selection, asked once, undoable); the failure says which check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from desktop.core.answering.testbench import SOURCE_RULE
from desktop.services import answers
from desktop.services.answers import TestQuestion
from desktop.ui.testbench import TestBenchPage
from desktop.ui.testbench.dialogs import QuestionDialog
from desktop.ui.testbench.models import ResultsModel
from desktop.ui.widgets import escaped_tooltip
from tests.helpers.fake_generator import FakeGenerator
from tests.ui.testbench.support import confirmation, messages_of, press, use_fakes


def import_questions(page: TestBenchPage, tmp_path: Path, n: int, source: str = "page0") -> None:
    good = tmp_path / "set.jsonl"
    good.write_text(
        "\n".join(
            f'{{"question": "Question {i}?", "expected_source": "{source}", '
            '"must_include": "eight"}'
            for i in range(n)
        )
    )
    page.edits.import_file(good)


def test_test_set_import_run_compare_and_cancel(
    page: TestBenchPage, qtbot: Any, qloop: Any, tmp_path: Path
) -> None:
    generator = FakeGenerator(default=lambda m: "Eight [1].")
    use_fakes(page, generator)
    bad = tmp_path / "bad.csv"
    bad.write_text("question,should_decline\nWhen?,perhaps\n")
    messages = messages_of(page)
    page.edits.import_file(bad)
    assert messages[-1][0] == "error" and "row 1: should_decline" in messages[-1][1]
    panel, runs = page.questions, page.runs_panel
    assert panel.model.rowCount() == 0 and not panel.empty_label.isHidden()
    import_questions(page, tmp_path, 6)
    assert panel.model.rowCount() == 6 and panel.empty_label.isHidden()
    panel.with_b.setChecked(True)
    panel.concurrency_spin.setValue(2)
    panel.run_button.click()
    assert page.runner.run_job is not None and not panel.run_button.isEnabled()
    qloop.wait_until(lambda: page.runner.run_job is None)
    assert runs.model.rowCount() == 12
    assert runs.model.index(0, ResultsModel.RESULT).data() == "pass"
    assert "default: 6/6 passed" in runs.totals_label.text()
    assert "No previous run" in runs.comparison_label.text()
    # Second run: cancelled after the first answer; what was answered is kept.
    generator.delay_s = 0.02
    panel.with_b.setChecked(False)
    panel.concurrency_spin.setValue(1)
    panel.run_button.click()
    qloop.wait_until(lambda: len(generator.requests) >= 13)
    panel.cancel_button.click()
    qloop.wait_until(lambda: page.runner.run_job is None)
    assert "cancelled" in panel.progress_label.text()
    assert page.workspace is not None
    found = answers.list_runs(page.workspace)
    assert found[0].status == "cancelled" and found[1].status == "finished"
    assert 1 <= runs.model.rowCount() < 6
    assert "Compared with run 1" in runs.comparison_label.text()
    export = tmp_path / "out.csv"
    page.edits.export_file(export)
    assert export.read_text().count("\n") == 7


def test_run_against_a_missing_bundle_says_why(
    page: TestBenchPage, qloop: Any, tmp_path: Path
) -> None:
    use_fakes(page, FakeGenerator())
    page.ask_bar.question_edit.setPlainText("When?")
    page.ask_bar.add_question_button.click()
    messages = messages_of(page)
    page.questions.bundle_check.setChecked(True)
    assert page.run_tests(True, False, 1) is None
    assert "Choose the bundle file" in messages[-1][1]
    page.questions.bundle_edit.setText(str(tmp_path / "missing.bundle"))
    assert page.run_tests(True, False, 1) is not None
    qloop.wait_until(lambda: page.runner.run_job is None)
    assert messages[-1][0] == "error" and "No bundle file at" in messages[-1][1]
    assert "failed" in page.questions.progress_label.text()


def test_add_current_question_and_delete_it(page: TestBenchPage) -> None:
    page.ask_bar.question_edit.setPlainText("Do you ship abroad?")
    page.ask_bar.add_question_button.click()
    model = page.questions.model
    assert model.rowCount() == 1 and model.index(0, 0).data() == "Do you ship abroad?"
    page.questions.select_rows([0])
    page.questions.delete_button.click()
    press(confirmation(page), "Delete")
    assert model.rowCount() == 0 and page.workspace is not None
    assert answers.list_questions(page.workspace) == []


def test_adding_a_saved_question_again_keeps_its_expectations(page: TestBenchPage) -> None:
    ws = page.workspace
    assert ws is not None
    answers.add_question(ws, TestQuestion("Do you ship abroad?", "/shipping*", ("Europe",)))
    page.reload_questions()
    messages = messages_of(page)
    page.ask_bar.question_edit.setPlainText("do you ship ABROAD?")
    page.ask_bar.add_question_button.click()
    (saved,) = answers.list_questions(ws)
    assert saved.expected_source == "/shipping*" and saved.must_include == ("Europe",)
    assert "already in the test set; its expectations are kept" in messages[-1][1]
    assert page.context.undo_stack.count() == 0  # nothing changed, nothing to undo


def test_delete_selected_deletes_only_the_selection_asks_once_and_undoes(
    page: TestBenchPage, qtbot: Any
) -> None:
    ws = page.workspace
    assert ws is not None
    for text in ("First?", "Second?", "Third?"):
        answers.add_question(ws, TestQuestion(text, must_include=("x",)))
    page.reload_questions()
    panel = page.questions
    panel.select_rows([1])
    panel.delete_button.click()
    box = confirmation(page)
    assert "“Second?”" in box.text() and "Undo" in box.text()
    press(box, "Cancel")
    assert len(answers.list_questions(ws)) == 3  # cancelled: nothing deleted
    panel.select_rows([0, 2])
    panel.delete_button.click()
    press(confirmation(page), "Delete")
    assert [q.question for q in answers.list_questions(ws)] == ["Second?"]
    assert panel.model.rowCount() == 1
    window = page.window()
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # Ctrl+Z
    restored = answers.list_questions(ws)
    assert [q.question for q in restored] == ["First?", "Second?", "Third?"]
    assert restored[0].must_include == ("x",) and panel.model.rowCount() == 3


def test_edit_a_question_and_its_expectations_then_undo(page: TestBenchPage) -> None:
    ws = page.workspace
    assert ws is not None
    answers.add_question(ws, TestQuestion("Ship abroad?", "shipping", ("Europe",)))
    page.reload_questions()
    page.questions.select_rows([0])
    page.questions.edit_button.click()
    (dialog,) = [d for d in page.findChildren(QuestionDialog) if d.isVisible()]
    assert dialog.source_edit.toolTip() == escaped_tooltip(SOURCE_RULE)  # where it is typed
    dialog.question_edit.setPlainText("Do you ship abroad?")
    dialog.source_edit.setText("/shipping* | #12")
    dialog.include_edit.setText("Europe | Japan")
    dialog.exclude_edit.setText("never")
    dialog.decline_combo.setCurrentIndex(2)  # it should answer
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    (edited,) = answers.list_questions(ws)
    assert edited == TestQuestion(
        "Do you ship abroad?",
        "/shipping* | #12",
        ("Europe", "Japan"),
        ("never",),
        False,
        id=edited.id,
    )
    assert page.questions.model.index(0, 2).data() == "Europe | Japan"
    page.context.undo_stack.undo()
    (back,) = answers.list_questions(ws)
    assert back == TestQuestion("Ship abroad?", "shipping", ("Europe",), id=edited.id)
    page.context.undo_stack.redo()
    assert answers.list_questions(ws)[0].question == "Do you ship abroad?"


def test_the_failure_says_which_check_failed_and_the_checks_column_fits(
    page: TestBenchPage, qloop: Any, tmp_path: Path
) -> None:
    use_fakes(page, FakeGenerator(default=lambda m: "Nine [1]."), n_hits=2)
    import_questions(page, tmp_path, 1, source="/shipping*")
    page.window().resize(1024, 640)
    page.tabs.setCurrentIndex(1)
    assert page.run_tests(True, False, 1) is not None
    qloop.wait_until(lambda: page.runner.run_job is None)
    runs = page.runs_panel
    checks = runs.model.index(0, ResultsModel.CHECKS)
    assert checks.data() == "✗ source, includes"
    tooltip = checks.data(Qt.ItemDataRole.ToolTipRole)
    assert "expected source /shipping* — not retrieved (retrieved: /page0, /page1)" in tooltip
    assert tooltip.startswith("<p style=")  # escaped: the rule and answers are never HTML
    runs.table.selectRow(0)
    detail = runs.detail.toPlainText()
    assert "✗ expected source /shipping* — not retrieved (retrieved: /page0, /page1)" in detail
    assert "✗ must include “eight” — missing from the answer" in detail
    header = runs.table.horizontalHeader()
    column = ResultsModel.CHECKS
    assert header.sectionSize(column) >= runs.table.sizeHintForColumn(column)  # not cut off
    assert header.model().headerData(1, Qt.Orientation.Horizontal) == "Profile"
    # The rule is stated on the column that holds it, too.
    tip = page.questions.model.headerData(1, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert tip == SOURCE_RULE
