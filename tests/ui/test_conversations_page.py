"""The Conversations page in the real window, against the independent receiver."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from desktop.core.jobs import Job
from desktop.services import conversations, publish
from desktop.services.backends import Backends
from desktop.services.workspaces import create_workspace
from desktop.ui.conversations.models import (
    ConversationsModel,
    GapQuestionsModel,
    GapsModel,
    LeadsModel,
    ReleaseStatsModel,
)
from desktop.ui.conversations.page import ConversationsPage
from desktop.ui.main_window import MainWindow
from tests.helpers import conversation_seed as seed
from tests.helpers.receiver import Receiver

TOKEN = "test-token-123"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        for entry in seed.seeded_conversations(datetime.now(UTC), filler=6):
            server.put_conversation(entry, key=str(entry.get("id")))
        yield server


@pytest.fixture
def ws_path(tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BOTDESK_PUBLISH_TOKEN", TOKEN)
    path = tmp_path / "acme.botdesk"
    with create_workspace(path, name="Acme") as ws:
        publish.remember_target(ws, receiver.url, "acme")
    return path


def open_page(window: MainWindow, ws_path: Path) -> ConversationsPage:
    assert window.open_path(str(ws_path))
    page = window.show_page("Conversations")
    assert isinstance(page, ConversationsPage)
    return page


def pulled_page(window: MainWindow, qloop: Any, ws_path: Path) -> ConversationsPage:
    page = open_page(window, ws_path)
    assert window.workspace is not None
    pulled = conversations.pull(window.workspace, Job("Pull"), backends=window.context.backends)
    qloop.run(pulled)
    qloop.wait_until(lambda: page.gaps_job is None, timeout=20)
    page.reload()
    qloop.wait_until(lambda: page.gaps_job is None and bool(page.gaps_model.rows), timeout=20)
    return page


def test_pull_in_the_jobs_panel_then_gaps_first(
    window: MainWindow, qloop: Any, ws_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pulling (thousands of rows written) and grouping (pure Python) run off the window's
    # thread, as a sync does.
    threads: dict[str, int] = {}
    for name in ("pull", "find_gaps"):
        original = getattr(conversations, name)

        def recording(*args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
            threads[_name] = threading.get_ident()
            return _original(*args, **kw)

        monkeypatch.setattr(conversations, name, recording)
    page = open_page(window, ws_path)
    assert "Never pulled" in page.last_pull.text()
    page.pull_button.click()
    assert page.pull_job is not None
    qloop.wait_until(lambda: page.pull_job is None and page.gaps_job is None, timeout=20)
    assert "Last pull" in page.last_pull.text() and "1 malformed skipped" in page.last_pull.text()
    titles = {job.title: job.state.value for job in window.jobs.jobs.values()}
    assert titles["Pull conversations"] == "finished" and titles["Find gaps"] == "finished"
    gui = threading.get_ident()
    assert threads.keys() == {"pull", "find_gaps"} and gui not in threads.values()
    assert page.tabs.currentIndex() == 0 and page.tabs.tabText(0) == "Gaps"
    first = page.gaps_model.rows[0]
    assert "norway" in first.label.lower() and len(first.questions) == 4
    assert page.gap_questions_model.rowCount() == 4
    assert page.stats_model.rowCount() == 2 and page.leads_model.rowCount() == 1


def test_thread_shows_html_as_text_and_actions_work(
    window: MainWindow, qloop: Any, ws_path: Path, tmp_path: Path
) -> None:
    page = pulled_page(window, qloop, ws_path)
    page.filters.kind.setCurrentIndex(page.filters.kind.findData("declined"))
    ids = [c.id for c in page.conversations_model.rows]
    assert "html-1" in ids and "fill-001" not in ids
    page.open_conversation("html-1")
    assert page.tabs.currentIndex() == 1
    labels = [w for w in page.thread_panel.text_widgets if isinstance(w, QLabel)]
    assert labels[0].text() == seed.HTML_TEXT
    assert labels[0].textFormat() == Qt.TextFormat.PlainText
    page.open_conversation("big-1")
    assert len(page.thread_panel.text_widgets[0].toPlainText()) == 32_000  # type: ignore[attr-defined]
    # Add to test set: the dialog comes pre-filled ("should answer"), saving adds it.
    dialog = page.add_test_dialog("norway-0", "norway-0-q0")
    assert dialog is not None and dialog.test_question().should_decline is False
    dialog.accept()
    from desktop.services import answers

    assert window.workspace is not None
    assert [q.question for q in answers.list_questions(window.workspace)] == [
        "Do you ship to Norway?"
    ]
    out = tmp_path / "leads.csv"
    assert page.export_leads(str(out)) == 1 and seed.EMAIL in out.read_text(encoding="utf-8-sig")
    # Forget: gone here and on the service.
    page.forget("personal-1", confirm=False)
    qloop.wait_until(lambda: page.leads_model.rowCount() == 0, timeout=10)
    assert window.workspace is not None
    assert conversations.list_conversations(window.workspace, kind="lead") == []


def test_add_qa_for_a_gap_adds_a_passage(window: MainWindow, qloop: Any, ws_path: Path) -> None:
    page = pulled_page(window, qloop, ws_path)
    dialog = page.add_qa_dialog(page.gaps_model.rows[0].representative)
    assert dialog is not None
    dialog.answer.setPlainText("Yes, we ship to Norway in 5 days.")
    dialog.accept()
    ws = window.workspace
    assert ws is not None
    qloop.wait_until(
        lambda: bool(ws.fetch_all("select id from passages where text like '%5 days%'")),
        timeout=20,
    )
    qloop.run(window.jobs.wait_all())
    assert window.workspace is not None
    found = window.workspace.fetch_all("select text from passages where text like '%Norway%'")
    assert found and "5 days" in found[0]["text"]


@pytest.mark.parametrize(
    "model_class",
    [GapsModel, GapQuestionsModel, ConversationsModel, ReleaseStatsModel, LeadsModel],
)
def test_models_pass_the_model_tester(
    qtmodeltester: Any, ws_path: Path, model_class: type[Any], backends: Backends
) -> None:
    from desktop.services.workspaces import open_workspace

    with open_workspace(ws_path) as ws:
        asyncio.run(conversations.pull(ws, Job("Pull"), backends=backends))
        rows: dict[type[Any], Any] = {
            GapsModel: asyncio.run(conversations.find_gaps(ws, backends=backends)).gaps,
            GapQuestionsModel: conversations.failed_questions(ws),
            ConversationsModel: conversations.list_conversations(ws),
            ReleaseStatsModel: conversations.release_stats(ws),
            LeadsModel: conversations.list_leads(ws),
        }
    model = model_class()
    model.set_rows(rows[model_class])
    assert model.rowCount() > 0
    qtmodeltester.check(model)


def test_open_passage_shows_it_on_the_content_page(
    window: MainWindow, qloop: Any, ws_path: Path, tmp_path: Path
) -> None:
    from desktop.services.workspaces import open_workspace
    from tests.core.publish.factory import sample_workspace

    with open_workspace(ws_path) as ws:
        sample_workspace(ws, str(tmp_path))  # passage 1 is the shipping passage the seed cites
    page = pulled_page(window, qloop, ws_path)
    page.open_conversation("fill-001")
    buttons = [b for b in page.thread_panel.findChildren(QPushButton) if b.text() == "Open passage"]
    assert buttons
    buttons[0].click()
    content_page: Any = next(p for p in window.pages if p.title == "Content")
    assert window.page_stack.currentWidget() is content_page
    assert content_page.selected_passage_ids() == [1]


def test_reask_with_a_and_b_beside_the_live_answer(
    window: MainWindow, qloop: Any, ws_path: Path
) -> None:
    from desktop.services import answers
    from tests.core.answering.support import FakeSearch, backends, hits
    from tests.helpers.fake_generator import FakeGenerator

    page = pulled_page(window, qloop, ws_path)
    assert window.workspace is not None
    answers.set_profile(window.workspace, "short", generator="ollama:small", k=2)
    generator = FakeGenerator(default=lambda m: "We ship to Norway in five days [1].")
    window.context.backends = backends(generator, FakeSearch(hits(3)))
    dialog = page.reask_dialog("norway-0", "norway-0-q0")
    assert dialog is not None
    assert dialog.live.toPlainText() == "I don't know."  # what the live bot said
    assert [dialog.profile_a.currentText(), dialog.profile_b.currentText()] == [
        "default",
        "short",
    ]
    dialog.ask_button.click()
    qloop.wait_until(dialog.ask_button.isEnabled, timeout=10)
    for side in (dialog.answer_a, dialog.answer_b):
        assert side.toPlainText().startswith("We ship to Norway in five days [1].")
    assert len(generator.requests) == 2


def test_privacy_settings_are_saved(window: MainWindow, qloop: Any, ws_path: Path) -> None:
    page = open_page(window, ws_path)
    qloop.run(asyncio.sleep(0.05))  # tasks other pages start on opening get to run
    dialog = page.privacy_dialog()
    assert dialog is not None and dialog.mask_box.isChecked() and dialog.days_spin.value() == 90
    dialog.mask_box.setChecked(False)
    dialog.days_spin.setValue(30)
    dialog.accept()
    assert window.workspace is not None
    assert conversations.privacy_settings(window.workspace) == (False, 30)
