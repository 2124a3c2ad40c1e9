"""The Publish page in the real window: widget form + preview, dry run, publish, rollback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.core.publish.bundle import BundleVectors
from desktop.core.store.workspace import Workspace
from desktop.ui.main_window import MainWindow
from desktop.ui.pages.publish import PublishPage
from tests.core.publish.factory import fake_vectors, sample_workspace
from tests.helpers.receiver import Receiver

TOKEN = "test-token-123"


def mistral_vectors(ws: Workspace, passages: object) -> BundleVectors:
    return BundleVectors("mistral", "mistral-embed", 64, fake_vectors(ws))


@pytest.fixture
def page(window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PublishPage:
    monkeypatch.setenv("BOTDESK_PUBLISH_TOKEN", TOKEN)
    assert window.create_path(str(tmp_path / "acme.botdesk"), "Acme")
    assert window.workspace is not None
    sample_workspace(window.workspace, str(tmp_path))
    found = window.show_page("Publish")
    assert isinstance(found, PublishPage)
    found.vector_loader = mistral_vectors
    found.client_options = {"timeout_s": 0.3, "attempts": 2, "backoff_s": 0.0}
    return found


def messages(window: MainWindow) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    window.messages.message_shown.connect(lambda level, text: seen.append((level, text)))
    return seen


def test_form_drives_the_live_preview_and_names_bad_fields(
    page: PublishPage, window: MainWindow, qtbot: Any
) -> None:
    assert page.form.bot_name.text() == "Acme"
    page.form.primary_color.clear()
    qtbot.keyClicks(page.form.primary_color, "#ff0000")
    assert page.preview.colour().name() == "#ff0000"
    page.form.questions.setPlainText("Where is my order?\nDo you ship abroad?")
    assert page.preview.config["suggested_questions"] == [
        "Where is my order?",
        "Do you ship abroad?",
    ]
    page.form.position.setCurrentText("bottom-left")
    assert page.preview.on_left()
    image = page.preview.grab().toImage()
    # The launcher is painted in the theme colour in the bottom-left corner.
    assert image.pixelColor(20, image.height() - 34).name() == "#ff0000"
    assert "allowed_origins" in page.widget_problems.text()
    seen = messages(window)
    page.form.primary_color.setText("red")
    assert not page.save_widget()
    assert any("theme.primary_color" in text for level, text in seen if level == "error")


def test_dry_run_publish_and_rollback(page: PublishPage, window: MainWindow, qloop: Any) -> None:
    seen = messages(window)
    page.form.origins.setPlainText("https://example.com")
    with Receiver() as receiver:
        page.endpoint_edit.setText(receiver.url)
        page.bot_edit.setText("acme")
        page.dry_run_button.click()
        qloop.wait_until(lambda: page.job is None and page.last_report is not None)
        assert receiver.server.requests_seen == []
        assert "First release: 5 passages" in page.changes_label.text()
        assert "5 passages" in page.size_label.text()
        texts = [page.checks_list.item(i).text() for i in range(page.checks_list.count())]
        assert any("no public web address" in t and "Fix:" in t for t in texts)

        page.notes_edit.setText("first")
        page.publish_button.click()
        qloop.wait_until(lambda: page.job is None and page.releases_table.rowCount() == 1)
        assert receiver.live() is not None and receiver.live().version == 1
        assert "Release 1 is live" in page.status_label.text()

        window.workspace.execute("update passages set excluded = 1 where page = 3")
        page.publish_button.click()
        qloop.wait_until(lambda: page.job is None and page.releases_table.rowCount() == 2)
        assert "1 removed" in page.changes_label.text()
        assert receiver.live().version == 2

        page.releases_table.selectRow(1)  # version 1 (newest first)
        assert page.selected_release() == "rel-1"
        page.rollback_button.click()
        qloop.wait_until(lambda: "live again" in page.releases_note.text())
        assert receiver.live().release_id == "rel-1"
        assert page.releases_table.item(1, 0).text() == "●"
    assert not [text for level, text in seen if level in ("error", "bug")]


def test_publish_refused_is_shown_plainly(
    page: PublishPage, window: MainWindow, qloop: Any
) -> None:
    seen = messages(window)
    with Receiver() as receiver:
        page.endpoint_edit.setText(receiver.url)
        page.bot_edit.setText("acme")
        page.publish_button.click()  # no allowed origins yet
        qloop.wait_until(lambda: page.job is None and any(level == "error" for level, _ in seen))
        assert receiver.server.requests_seen == []
    errors = [text for level, text in seen if level == "error"]
    assert "allowed_origins" in errors[0]
    assert page.publish_button.isEnabled()


def test_no_workspace_says_what_to_do(window: MainWindow) -> None:
    found = window.show_page("Publish")
    assert isinstance(found, PublishPage)
    assert found.empty_label.text().startswith("Open or create a workspace")


def test_build_bundle_file_for_the_test_bench(
    page: PublishPage, tmp_path: Path, qloop: Any
) -> None:
    out = tmp_path / "acme.bundle"
    page.quantize_combo.setCurrentText("int8")
    assert page.build_bundle_file(str(out)) is not None
    qloop.wait_until(lambda: page.job is None)
    assert out.is_file()
    assert "Wrote acme.bundle: 5 passages" in page.status_label.text()
