"""The Publish page in the real window: widget form + preview, dry run, publish, rollback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop.ui.main_window import MainWindow
from desktop.ui.publish.page import PublishPage
from tests.helpers.receiver import Receiver
from tests.ui.publish.conftest import (
    DialogAnswers,
    click_button,
    messages,
    settle_token_lookup,
)


def test_form_drives_the_live_preview_and_names_bad_fields(
    page: PublishPage, window: MainWindow, qtbot: Any
) -> None:
    form, preview = page.widget_panel.form, page.widget_panel.preview
    assert form.bot_name.text() == "Acme"
    form.primary_color.clear()
    qtbot.keyClicks(form.primary_color, "#ff0000")
    assert preview.colour().name() == "#ff0000"
    form.questions.setPlainText("Where is my order?\nDo you ship abroad?")
    assert preview.config["suggested_questions"] == ["Where is my order?", "Do you ship abroad?"]
    form.position.setCurrentText("bottom-left")
    assert preview.on_left()
    image = preview.grab().toImage()
    # The launcher is painted in the theme colour in the bottom-left corner.
    assert image.pixelColor(20, image.height() - 34).name() == "#ff0000"
    # Named as the form labels it (it said "allowed_origins", the config key, before).
    problems = page.widget_panel.problems_label.text()
    assert "Allowed websites: is empty" in problems and "allowed_origins" not in problems
    seen = messages(window)
    form.primary_color.setText("red")
    assert not page.publisher.save_widget(form.config())
    assert any("theme.primary_color" in text for level, text in seen if level == "error")


def test_dry_run_publish_and_rollback(
    page: PublishPage, window: MainWindow, qloop: Any, dialogs: DialogAnswers
) -> None:
    seen = messages(window)
    page.widget_panel.form.origins.setPlainText("https://example.com")
    target, releases = page.target, page.releases
    with Receiver() as receiver:
        target.endpoint_edit.setText(receiver.url)
        target.bot_edit.setText("acme")
        settle_token_lookup(page, qloop)
        target.dry_run_button.click()
        qloop.wait_until(lambda: page.job is None and page.publisher.last_report is not None)
        assert receiver.server.requests_seen == []
        assert "First release: 5 passages" in page.checks.changes_label.text()
        assert "5 passages" in page.checks.size_label.text()
        texts = page.checks.texts()
        assert any("no public web address" in t and "Fix:" in t for t in texts)

        target.notes_edit.setText("first")
        target.publish_button.click()
        qloop.wait_until(lambda: page.job is None and releases.model.rowCount() == 1)
        live = receiver.live()
        assert live is not None and live.version == 1
        assert "Release 1 is live" in target.status_label.text()

        assert window.workspace is not None
        window.workspace.execute("update passages set excluded = 1 where page = 3")
        target.publish_button.click()
        qloop.wait_until(lambda: page.job is None and releases.model.rowCount() == 2)
        assert "1 removed" in page.checks.changes_label.text()
        assert receiver.live().version == 2  # type: ignore[union-attr]

        releases.table.selectRow(1)  # version 1 (newest first)
        assert releases.selected_release() == "rel-1"
        dialogs.next(click_button("Make release 1 live"))
        releases.rollback_button.click()
        qloop.wait_until(lambda: "live again" in releases.note.text())
        assert receiver.live().release_id == "rel-1"  # type: ignore[union-attr]
        assert releases.model.index(1, 0).data() == "●"
        assert "Make release 1 live?" in dialogs.seen[0]
    assert not [text for level, text in seen if level in ("error", "bug")]


def test_publish_refused_is_shown_plainly(
    page: PublishPage, window: MainWindow, qloop: Any
) -> None:
    seen = messages(window)
    with Receiver() as receiver:
        page.target.endpoint_edit.setText(receiver.url)
        page.target.bot_edit.setText("acme")
        page.target.publish_button.click()  # no allowed origins yet
        qloop.wait_until(lambda: page.job is None and any(level == "error" for level, _ in seen))
        assert receiver.server.requests_seen == []
    errors = [text for level, text in seen if level == "error"]
    assert "allowed_origins" in errors[0] and "\u201cAllowed websites\u201d" in errors[0]
    assert page.target.publish_button.isEnabled()


def test_no_workspace_says_what_to_do(window: MainWindow) -> None:
    found = window.show_page("Publish")
    assert isinstance(found, PublishPage)
    assert found.empty_label.text().startswith("Open or create a workspace")


def test_build_bundle_file_for_the_test_bench(
    page: PublishPage, tmp_path: Path, qloop: Any
) -> None:
    out = tmp_path / "acme.bundle"
    page.target.quantize_combo.setCurrentText("int8")
    assert page.build_bundle_file(str(out)) is not None
    qloop.wait_until(lambda: page.job is None)
    assert out.is_file()
    assert "Wrote acme.bundle: 5 passages" in page.target.status_label.text()
