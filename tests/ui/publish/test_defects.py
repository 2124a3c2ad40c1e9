"""The Publish defects a new user hit (issue 10), each driven through the real window."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from desktop.core.jobs import JobEvent
from desktop.core.publish.client import STEP_RELEASE
from desktop.services import publish
from desktop.services.backends import PublishOptions
from desktop.ui.main_window import MainWindow
from desktop.ui.publish.dialogs import TokenDialog
from desktop.ui.publish.page import PublishPage
from tests.helpers.backends import with_changes
from tests.helpers.receiver import Receiver
from tests.ui.publish.conftest import (
    TOKEN,
    DialogAnswers,
    click_button,
    messages,
    settle_token_lookup,
)


def _ready(page: PublishPage, receiver: Receiver, qloop: Any) -> None:
    page.widget_panel.form.origins.setPlainText("https://example.com")
    page.target.endpoint_edit.setText(receiver.url)
    page.target.bot_edit.setText("acme")
    settle_token_lookup(page, qloop)


def _publish(page: PublishPage, qloop: Any) -> None:
    page.target.publish_button.click()
    qloop.wait_until(lambda: page.job is None)


def _cancel_at_release(page: PublishPage, *, later: float = 0.0) -> None:
    """Start a publish and press the jobs dock's Cancel once it reaches the release step."""
    handle = page.start_publish(dry_run=False)
    assert handle is not None
    job = handle.job  # not the handle: no cycle through a Qt object for a worker's GC

    def on_change(event: JobEvent) -> None:
        if event.stage == STEP_RELEASE:
            if later:
                asyncio.get_running_loop().call_later(later, job.cancel)
            else:
                job.cancel()

    handle.changed.connect(on_change)


def test_cancel_at_the_release_step_is_honoured_and_said(
    page: PublishPage, window: MainWindow, qloop: Any
) -> None:
    with Receiver() as receiver:
        _ready(page, receiver, qloop)
        _publish(page, qloop)
        assert window.workspace is not None
        window.workspace.execute("update passages set excluded = 1 where page = 3")
        _cancel_at_release(page)
        qloop.wait_until(lambda: page.job is None)
        assert receiver.live().version == 1  # type: ignore[union-attr]
        status = page.target.status_label.text()
        assert "cancelled before the release call was sent" in status
        assert "live bot is unchanged" in status
        assert page.target.publish_button.isEnabled()


def test_a_cancel_after_an_unanswered_release_call_says_it_may_be_live(
    page: PublishPage, window: MainWindow, qloop: Any
) -> None:
    with Receiver() as receiver:
        _ready(page, receiver, qloop)
        _publish(page, qloop)
        assert window.workspace is not None
        window.workspace.execute("update passages set excluded = 1 where page = 3")
        receiver.fault("POST", "commit-then-cut")
        patient = PublishOptions(timeout_s=2.0, backoff_s=60.0)  # still retrying at the cancel
        window.context.backends = with_changes(window.context.backends, publish=patient)
        _cancel_at_release(page, later=0.3)
        qloop.wait_until(lambda: page.job is None)
        assert "may be live" in page.target.status_label.text()
        # The page asks the endpoint at once, and the history shows release 2 live.
        qloop.wait_until(lambda: "Up to date" in page.releases.note.text())
        assert page.releases.model.index(0, 0).data() == "●"
        assert page.releases.model.index(0, 1).data() == "2"


def test_errors_name_the_step_and_upload_progress_is_in_mb(
    page: PublishPage, window: MainWindow, qloop: Any
) -> None:
    seen = messages(window)
    statuses: list[str] = []
    page.publisher.status_changed.connect(statuses.append)
    with Receiver() as receiver:
        _ready(page, receiver, qloop)
        _publish(page, qloop)
        uploads = [s for s in statuses if s.startswith("Uploading the bundle")]
        assert uploads and all(s.endswith(" MB…") and "/" not in s for s in uploads)
        assert window.workspace is not None
        window.workspace.execute("update passages set excluded = 1 where page = 3")
        receiver.fault("PUT", "413")
        _publish(page, qloop)
    errors = [text for level, text in seen if level == "error"]
    assert errors and errors[-1].startswith("Publish: Upload bundle failed:")
    assert "Upload bundle failed" in page.target.status_label.text()


def test_no_releases_note_goes_when_rows_come(
    page: PublishPage, qloop: Any, dialogs: DialogAnswers
) -> None:
    assert "No releases yet" in page.releases.note.text()
    with Receiver() as receiver:
        _ready(page, receiver, qloop)
        _publish(page, qloop)
        assert page.releases.model.rowCount() == 1
        assert "No releases yet" not in page.releases.note.text()
        page.releases.refresh_button.click()
        qloop.wait_until(lambda: page.publisher.release_job is None)
        assert "No releases yet" not in page.releases.note.text()
    page.releases.refresh_button.click()  # the endpoint is gone: the local list stays
    qloop.wait_until(lambda: page.publisher.release_job is None)
    assert page.releases.model.rowCount() == 1
    note = page.releases.note.text()
    assert "No releases yet" not in note and "List releases failed" in note


def test_rollback_asks_once_and_cancel_changes_nothing(
    page: PublishPage, window: MainWindow, qloop: Any, dialogs: DialogAnswers
) -> None:
    with Receiver() as receiver:
        _ready(page, receiver, qloop)
        _publish(page, qloop)
        assert window.workspace is not None
        window.workspace.execute("update passages set excluded = 1 where page = 3")
        _publish(page, qloop)
        page.releases.table.selectRow(1)
        requests = len(receiver.server.requests_seen)
        dialogs.next(click_button("Cancel"))
        assert page.rollback(page.releases.selected_release() or "") is None
        assert len(dialogs.seen) == 1 and "Make release 1 live?" in dialogs.seen[0]
        assert len(receiver.server.requests_seen) == requests  # nothing was sent
        assert receiver.live().version == 2  # type: ignore[union-attr]


def test_save_widget_settings_says_so_and_can_be_undone(
    page: PublishPage, window: MainWindow
) -> None:
    panel = page.widget_panel
    assert panel.saved_label.text() == ""
    panel.form.bot_name.setText("Acme helper")
    panel.save_button.click()
    assert panel.saved_label.text().startswith("Widget settings saved.")
    assert window.workspace is not None
    assert publish.get_widget(window.workspace, "bot_name") == "Acme helper"
    panel.form.greeting.setPlainText("Hello!")
    assert panel.saved_label.text() == ""  # edited since: no longer claims "saved"
    window.context.undo_stack.undo()
    assert publish.get_widget(window.workspace, "bot_name") == "Acme"
    assert panel.form.bot_name.text() == "Acme"
    assert "undo" in panel.saved_label.text()


def test_question_embedder_follows_the_workspace(page: PublishPage, window: MainWindow) -> None:
    assert window.workspace is not None
    window.workspace.set_setting("embedder", "ollama:all-minilm")
    page.on_workspace_changed(window.workspace)
    assert page.widget_panel.form.embedding_model.text() == "ollama:all-minilm"


@pytest.mark.parametrize(("mode", "panel_colour"), [("light", "#ffffff"), ("dark", "#1f1f1f")])
def test_preview_honours_light_dark_and_the_suggested_questions(
    page: PublishPage, mode: str, panel_colour: str
) -> None:
    form, preview = page.widget_panel.form, page.widget_panel.preview
    preview.resize(320, 480)
    form.primary_color.setText("#ff0000")
    form.mode.setCurrentText(mode)
    form.questions.setPlainText("Where is my order?\nDo you ship abroad?")
    parts = preview.layout_parts()
    assert [text for _, text in parts.chips] == ["Where is my order?", "Do you ship abroad?"]
    image = preview.grab().toImage()
    # The opened chat has the mode's colour (it was painted all in the theme colour).
    below_chips = parts.chips[-1][0].bottom() + 8
    spot = (int(parts.panel.right() - 12), int((below_chips + parts.input_box.top()) / 2))
    assert image.pixelColor(*spot).name() == panel_colour
    # Each suggested question is outlined in the theme colour on the panel's colour.
    for chip, _ in parts.chips:
        row = int(chip.center().y())
        reds = [
            x
            for x in range(int(chip.left()), int(chip.right()))
            if _near(image.pixelColor(x, row), QColor("#ff0000"))
        ]
        assert reds, "no chip outline or text in the theme colour"
        inside = image.pixelColor(int(chip.left()) + 14, int(chip.top()) + 3)
        assert not _near(inside, QColor("#ff0000"))


def _near(a: QColor, b: QColor) -> bool:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue()) < 90


def test_without_a_keyring_the_token_dialog_says_so_first_and_keeps_it_for_the_session(
    page: PublishPage,
    window: MainWindow,
    qloop: Any,
    dialogs: DialogAnswers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BOTDESK_PUBLISH_TOKEN")
    seen = messages(window)
    said: list[str] = []

    def type_token(dialog: QWidget) -> None:
        assert isinstance(dialog, TokenDialog)
        said.append(dialog.where_label.text())
        dialog.token_edit.setText(TOKEN)
        dialog.keep_button.click()

    with Receiver() as receiver:
        try:
            _ready(page, receiver, qloop)
            assert "no keyring" in page.target.token_label.text()
            dialogs.next(type_token)
            page.target.token_button.click()
            assert "no usable keyring" in said[0] and "this session only" in said[0]
            assert "never written to disk" in said[0]
            qloop.wait_until(lambda: "this session only" in page.target.token_label.text())
            infos = [text for level, text in seen if level == "info"]
            assert any("kept for this session only" in text for text in infos)
            assert not [text for level, text in seen if level == "error"]
            _publish(page, qloop)
            assert receiver.live() is not None  # the session's token was used
            # Forgetting asks first.
            dialogs.next(click_button("Forget token"))
            page.target.forget_token_button.click()
            qloop.wait_until(lambda: "Not set" in page.target.token_label.text())
            assert "Forget the publish token?" in dialogs.seen[-1]
        finally:
            publish.forget_token(receiver.url)
    assert page.target.token_label.textFormat() == Qt.TextFormat.PlainText


def test_ticking_any_website_is_enough(page: PublishPage, window: MainWindow) -> None:
    panel = page.widget_panel
    assert "Allowed websites: is empty" in panel.problems_label.text()
    panel.form.any_origin.setChecked(True)  # as the problem says
    assert panel.problems_label.text() == "Ready to publish."
    panel.save_button.click()
    assert window.workspace is not None
    assert publish.get_widget(window.workspace, "allowed_origins") == ["*"]
    page.on_workspace_changed(window.workspace)  # read back: the box, not a "*" line
    assert panel.form.any_origin.isChecked() and panel.form.origins.toPlainText() == ""


def test_a_token_for_a_bad_endpoint_is_refused_plainly(
    page: PublishPage, window: MainWindow
) -> None:
    seen = messages(window)
    page.target.endpoint_edit.setText("chat.example.com")  # no scheme
    page.target.token_button.click()  # looked up on the spot: no dialog opens
    errors = [text for level, text in seen if level == "error"]
    assert errors and "not an endpoint URL" in errors[0]
    assert not [text for level, text in seen if level == "bug"]
