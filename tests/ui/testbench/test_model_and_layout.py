"""Without a reachable model the Test bench says so and offers the set-up; its tables are
checked models; headers and inputs fit at 1024x640 and 1920x1080."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTableView,
    QWidget,
)

from desktop.services import answers
from desktop.services.answers import TestQuestion
from desktop.ui.testbench import TestBenchPage
from desktop.ui.testbench.models import QuestionsModel, ResultsModel
from tests.helpers.backends import test_backends
from tests.helpers.fake_generator import FakeGenerator
from tests.ui.testbench.support import use_fakes


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_no_model_server_shows_the_set_up_panel_instead_of_failing(
    page: TestBenchPage, qloop: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    page.context.backends = test_backends(ollama=f"http://127.0.0.1:{closed_port()}")
    page.check_models()
    qloop.wait_until(page.model_panel.isVisible)
    panel = page.model_panel
    assert panel.title_label.text() == "Answers need a model: set one up."
    assert "ollama:llama3.2" in panel.reason_label.text()
    with qtbot.waitSignal(page.model_setup_requested, timeout=1000):
        panel.setup_button.click()


def test_with_the_model_served_the_panel_goes_away(
    page: TestBenchPage, qloop: Any, fake_ollama: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    page.model_panel.show_reason("ollama:llama3.2: Ollama is not running.")
    page.model_panel.recheck_button.click()  # "Check again", now that it runs
    qloop.wait_until(page.model_panel.isHidden)
    # A generator the server does not have brings the panel back, saying which.
    fake_ollama.remove_model("llama3.2")
    page.model_panel.recheck_button.click()
    qloop.wait_until(page.model_panel.isVisible)
    assert "llama3.2" in page.model_panel.reason_label.text()


def test_table_models_pass_the_model_tester(page: TestBenchPage, qtmodeltester: Any) -> None:
    questions = QuestionsModel()
    questions.set_rows([TestQuestion("Q?", "/a*", ("x", "y"), (), True, id=1), TestQuestion("R?")])
    qtmodeltester.check(questions)
    assert questions.index(0, 2).data() == "x | y" and questions.index(0, 4).data() == "yes"
    qtmodeltester.check(ResultsModel())


def test_results_model_with_rows_passes_the_model_tester(
    page: TestBenchPage, qloop: Any, qtmodeltester: Any
) -> None:
    use_fakes(page, FakeGenerator(default=lambda m: "Eight [1]."))
    assert page.workspace is not None
    answers.add_question(page.workspace, TestQuestion("When?", "page0", ("eight",)))
    page.reload_questions()
    assert page.run_tests(True, True, 2) is not None
    qloop.wait_until(lambda: page.runner.run_job is None)
    qtmodeltester.check(page.runs_panel.model)
    assert page.runs_panel.model.rowCount() == 2


def fill(page: TestBenchPage, qloop: Any) -> None:
    """A state a new user reaches: questions with expectations and a run."""
    use_fakes(page, FakeGenerator(default=lambda m: "We open at eight [1]."))
    ws = page.workspace
    assert ws is not None
    for i in range(4):
        answers.add_question(
            ws, TestQuestion(f"When do you open on day {i}?", "/hours*", ("eight",), ("closed",))
        )
    page.reload_questions()
    assert page.run_tests(True, True, 2) is not None
    qloop.wait_until(lambda: page.runner.run_job is None)
    page.ask_question("When do you open?")
    qloop.wait_until(lambda: page.column_b.result is not None)


@pytest.mark.parametrize("size", [(1024, 640), (1920, 1080)])
def test_headers_are_not_clipped_and_inputs_fit(
    page: TestBenchPage, qloop: Any, qtbot: Any, size: tuple[int, int]
) -> None:
    fill(page, qloop)
    window = page.window()
    window.resize(*size)
    # The second pass with the profiles' settings unfolded (they start folded).
    for tab, unfolded in ((0, False), (0, True), (1, True)):
        page.column_a.show_settings(unfolded)
        page.tabs.setCurrentIndex(tab)
        qtbot.wait(20)
        window.grab().save(f"/tmp/testbench-{tab}-{unfolded}-{size[0]}x{size[1]}.png")
        for view in page.findChildren(QTableView):
            if not view.isVisible():
                continue
            header = view.horizontalHeader()
            for section in range(header.count()):
                wanted = header.sectionSizeFromContents(section).width()
                assert header.sectionSize(section) >= wanted, (
                    f"{view.model().headerData(section, Qt.Orientation.Horizontal)!r} clipped"
                )
        kinds: list[type[QWidget]] = [
            QLineEdit,
            QAbstractButton,
            QAbstractSpinBox,
            QComboBox,
            QPlainTextEdit,
        ]
        widgets: list[QWidget] = [w for kind in kinds for w in page.findChildren(kind)]
        for widget in widgets:
            # Qt's own parts (a spin box's line edit) are sized by their owner.
            if widget.isVisible() and not widget.objectName().startswith("qt_"):
                hint = widget.minimumSizeHint()
                assert widget.width() >= hint.width(), widget
                assert widget.height() >= hint.height(), widget


def test_profile_settings_fold_to_one_line_that_names_the_set_up(page: TestBenchPage) -> None:
    """Folded (the default), each column says its set-up in one line and the answer gets
    the room; unfolding one column unfolds both, and the choice is kept."""
    a, b = page.column_a, page.column_b
    assert a.settings_scroll.isHidden() and b.settings_scroll.isHidden()
    a.settings.k_spin.setValue(3)
    assert "3 passages" in a.settings_summary.text()
    assert a.settings.generator_edit.text() in a.settings_summary.text()
    a.settings_toggle.click()
    assert not a.settings_scroll.isHidden() and not b.settings_scroll.isHidden()
    assert a.settings_summary.text() == ""  # the form itself shows the settings
    settings = page.context.settings
    assert settings is not None and settings.value("testbench/settings_shown", type=bool)
    b.settings_toggle.click()
    assert a.settings_scroll.isHidden() and b.settings_scroll.isHidden()
    assert not settings.value("testbench/settings_shown", type=bool)
