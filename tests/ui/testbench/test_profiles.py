"""Profiles on the Test bench: save into the profile the column shows, new / rename /
delete in the app (default protected, undoable), and one made on the command line shows
up without reopening the workspace."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QInputDialog

from desktop.cli import main
from desktop.services import answers
from desktop.ui.testbench import TestBenchPage
from tests.helpers.fake_generator import FakeGenerator
from tests.ui.testbench.support import confirmation, press, use_fakes


def answer_dialog(page: TestBenchPage, text: str) -> None:
    (dialog,) = [d for d in page.findChildren(QInputDialog) if d.isVisible()]
    dialog.setTextValue(text)
    dialog.accept()


def test_save_edited_settings_to_the_profile(page: TestBenchPage) -> None:
    page.column_a.settings.temperature_spin.setValue(0.9)
    page.column_a.save_button.click()
    assert page.workspace is not None
    assert answers.get_profile(page.workspace, "default").temperature == 0.9
    assert page.column_a.edited_label.text() == ""


def test_save_goes_to_the_profile_that_column_shows(page: TestBenchPage) -> None:
    ws = page.workspace
    assert ws is not None
    answers.set_profile(ws, "fast", generator="ollama:small", k=2)
    page.reload_profiles()
    page.column_b.profile_combo.setCurrentText("fast")
    page.column_b.settings.k_spin.setValue(7)
    page.column_b.save_button.click()
    assert answers.get_profile(ws, "fast").k == 7
    assert answers.get_profile(ws, "default").k == 5  # default untouched
    # Both columns on default: B's save goes to default, and A shows what is saved now.
    page.column_b.profile_combo.setCurrentText("default")
    page.column_b.settings.k_spin.setValue(3)
    page.column_b.save_button.click()
    assert answers.get_profile(ws, "default").k == 3
    assert page.column_a.settings.k_spin.value() == 3 and not page.column_a.is_edited()
    page.context.undo_stack.undo()
    assert answers.get_profile(ws, "default").k == 5


def test_new_rename_delete_profiles_default_protected_and_undo(page: TestBenchPage) -> None:
    ws = page.workspace
    assert ws is not None
    column = page.column_a
    assert not column.rename_action.isEnabled() and not column.delete_action.isEnabled()
    column.settings.k_spin.setValue(9)
    column.new_action.trigger()
    answer_dialog(page, "wide")
    assert answers.get_profile(ws, "wide").k == 9
    assert answers.get_profile(ws, "default").k == 5
    assert column.name() == "wide" and not column.is_edited()
    assert column.rename_action.isEnabled() and column.delete_action.isEnabled()
    column.settings.temperature_spin.setValue(1.1)  # an unsaved edit survives a rename
    column.rename_action.trigger()
    answer_dialog(page, "broad")
    assert [p.name for p in answers.list_profiles(ws)] == ["default", "broad"]
    assert column.name() == "broad"
    assert column.settings.temperature_spin.value() == 1.1 and column.is_edited()
    column.delete_action.trigger()
    box = confirmation(page)
    assert "broad" in box.text()
    press(box, "Delete")
    assert [p.name for p in answers.list_profiles(ws)] == ["default"]
    assert column.name() == "default"
    page.context.undo_stack.undo()  # the deleted profile comes back
    assert answers.get_profile(ws, "broad").k == 9
    page.context.undo_stack.undo()  # and its old name
    assert [p.name for p in answers.list_profiles(ws)] == ["default", "wide"]


def test_a_profile_made_on_the_command_line_appears_without_reopening(
    page: TestBenchPage, qloop: Any
) -> None:
    ws = page.workspace
    assert ws is not None
    args = ["profile", "set", str(ws.path), "from-cli", "--generator", "ollama:tiny"]
    assert main(args) == 0  # another connection commits to the file
    qloop.wait_until(lambda: "from-cli" in page.column_a.profiles)  # the page's own poll
    combo = page.column_b.profile_combo
    assert combo.findText("from-cli") >= 0
    # The page's own writes do not count as outside changes (no reload loop).
    version = page._seen_version
    page.column_a.settings.k_spin.setValue(4)
    page.column_a.save_button.click()
    page.reload_if_changed_outside()
    assert page._seen_version == version


def test_an_outside_change_keeps_the_run_on_screen(page: TestBenchPage, qloop: Any) -> None:
    use_fakes(page, FakeGenerator(default=lambda m: "Eight [1]."))
    ws = page.workspace
    assert ws is not None
    answers.add_question(ws, answers.TestQuestion("When?", must_include=("eight",)))
    page.reload_questions()
    for _ in range(2):
        assert page.run_tests(True, False, 1) is not None
        qloop.wait_until(lambda: page.runner.run_job is None)
    combo = page.runs_panel.runs_combo
    assert combo.count() == 2 and combo.currentIndex() == 0  # a finished run shows itself
    combo.setCurrentIndex(1)  # the user reads the older run
    assert main(["profile", "set", str(ws.path), "other", "--generator", "ollama:x"]) == 0
    qloop.wait_until(lambda: "other" in page.column_a.profiles)
    assert combo.currentIndex() == 1 and combo.currentText().startswith("Run 1 ")


def test_content_written_by_another_connection_does_not_reload_the_bench(
    page: TestBenchPage, monkeypatch: Any
) -> None:
    """A sync commits every page on its own connection: the bench reloads only when its
    profiles, questions or runs changed, not for each passage stored."""
    ws = page.workspace
    assert ws is not None
    reloads: list[str] = []
    monkeypatch.setattr(page, "reload_all", lambda: reloads.append("all"))
    other = ws.open_again()
    try:
        with other.transaction():
            other.set_setting("last-sync", "now")  # stands in for a sync's commit
        page.reload_if_changed_outside()
        assert reloads == []
        answers.add_question(other, answers.TestQuestion("Do you ship abroad?"))
        page.reload_if_changed_outside()
        assert reloads == ["all"]
    finally:
        other.close()
