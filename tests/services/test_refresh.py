"""Unattended refresh end to end: a loopback website, the Ollama stand-in answering the saved
tests, the independent receiver as the endpoint. Publishes only what changed and is safe."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from desktop.core.jobs import Job
from desktop.core.refresh_history import RefreshReport
from desktop.core.store.lock import WorkspaceBusyError, WorkspaceLock
from desktop.core.store.workspace import Workspace
from desktop.services import answers, content, content_sources, publish, refresh, refresh_history
from desktop.services.backends import Backends
from desktop.services.workspaces import create_workspace
from tests.helpers.backends import OFFLINE
from tests.helpers.fake_ollama import FakeModel
from tests.helpers.receiver import Receiver
from tests.helpers.site_server import Page, SiteServer

TOKEN = "test-token-123"
RYE = "How much is rye flour?"
HOURS = "When do you open?"


@dataclass
class Setup:
    ws: Workspace
    site: SiteServer
    receiver: Receiver
    ollama: Any
    backends: Backends

    def uploads(self) -> list[tuple[str, str]]:
        """What the endpoint was sent (anything but reads)."""
        seen = self.receiver.server.requests_seen
        return [(method, path) for method, path in seen if method in ("PUT", "POST")]

    def chats(self) -> int:
        return len(self.ollama.calls("/api/chat"))


def refresh_now(ws: Workspace, backends: Backends, *, publish_after: bool = True) -> RefreshReport:
    return asyncio.run(
        refresh.refresh(ws, Job("Refresh"), publish_after=publish_after, backends=backends)
    )


@pytest.fixture
def published(
    tmp_path: Path, fake_ollama: Any, monkeypatch: pytest.MonkeyPatch, backends: Backends
) -> Iterator[Setup]:
    """A synced, tested and published workspace: the state a schedule then keeps fresh."""
    monkeypatch.setenv("BOTDESK_PUBLISH_TOKEN", TOKEN)
    fake_ollama.chat_answer = "Rye flour costs 40 euros a sack [1]."
    site = SiteServer()  # LoopbackServer.__enter__ is typed as the base class
    with site, Receiver() as receiver:
        ws = create_workspace(tmp_path / "lumen.botdesk", name="Lumen")
        content_sources.add_site(ws, site.url + "/", max_pages=50)
        asyncio.run(content.sync(ws, Job("Sync"), backends=backends))
        answers.set_profile(ws, "default", generator="ollama:llama3.2", k=3, mode="keyword")
        questions = tmp_path / "questions.jsonl"
        rows = [
            {"question": RYE, "expected_source": "/pricing", "must_include": "40 euros"},
            {"question": HOURS, "expected_source": "/docs/faq"},
        ]
        questions.write_text("".join(json.dumps(r) + "\n" for r in rows))
        answers.import_test_set(ws, questions)
        first_run = asyncio.run(answers.run_tests(ws, Job("Tests"), backends=backends))
        passed = ws.scalar(
            "select count(*) from test_results where run_id = ? and passed = 1",
            (first_run.run_id,),
        )
        assert passed == 2, first_run.results
        publish.set_widget_value(ws, "allowed_origins", '["https://lumen.example"]')
        asyncio.run(publish.publish(ws, endpoint=receiver.url, bot_id="acme", backends=backends))
        receiver.server.requests_seen.clear()
        try:
            yield Setup(ws, site, receiver, fake_ollama, backends)
        finally:
            ws.close()


def test_nothing_changed_sends_nothing_and_calls_no_model(published: Setup) -> None:
    chats_before = published.chats()
    report = refresh_now(published.ws, published.backends)
    assert report.status == "ok" and report.exit_code == 0
    assert not report.changed and not report.published
    assert report.reason == "nothing new to publish"
    assert published.uploads() == []  # no PUT/POST reached the endpoint
    assert published.receiver.server.requests_seen == []  # not even a read
    assert published.chats() == chats_before  # the earlier run stands: no model call
    assert not report.tests.ran and "nothing changed" in report.tests.note
    assert "nothing changed" in report.summary and "nothing new to publish" in report.summary
    [record] = refresh_history.history(published.ws)
    assert record.status == "ok" and record.summary == report.summary and record.finished_at


def test_a_changed_page_with_passing_tests_goes_live(published: Setup) -> None:
    published.site.pages["/about"] = Page.html(
        "About", "A family bakery supplier, now also selling spelt.", links=["/"]
    )
    report = refresh_now(published.ws, published.backends)
    assert report.status == "ok" and report.exit_code == 0, report.summary
    assert report.changed and report.changes["fetched"] == 1
    assert report.tests.ran and report.tests.passed == 2 and report.tests.regressions == []
    assert report.published and report.release_version == 2
    live = published.receiver.live()
    assert live is not None and live.version == 2
    assert any(method == "POST" for method, _ in published.uploads())
    assert "published: release 2 is live" in report.summary
    assert refresh_history.last_refresh_problem(published.ws) is None


def test_a_regression_blocks_the_publish_and_names_the_question(published: Setup) -> None:
    # The pricing page loses the price: the rye question no longer finds it.
    published.site.pages["/pricing"] = Page.html("Pricing", "Prices on request.", links=["/"])
    report = refresh_now(published.ws, published.backends)
    assert report.status == "blocked" and report.exit_code == 1
    assert report.tests.regressions == [RYE]
    assert RYE in report.reason and RYE in report.summary
    assert "not published" in report.summary
    assert published.uploads() == []
    live = published.receiver.live()
    assert live is not None and live.version == 1  # the old release stays live
    problem = refresh_history.last_refresh_problem(published.ws)
    assert problem is not None and "was blocked" in problem and RYE in problem
    stored = published.ws.fetch_one("select * from refresh_runs order by id desc limit 1")
    assert stored is not None and stored["exit_code"] == 1
    assert json.loads(stored["tests"])["regressions"] == [RYE]
    # The next refresh compares with the tests that vetted the live release, not with the
    # failing run: still blocked, with no new test run (nothing changed) and nothing sent.
    chats = published.chats()
    again = refresh_now(published.ws, published.backends)
    assert again.status == "blocked" and again.tests.regressions == [RYE], again.summary
    assert not again.tests.ran and published.chats() == chats
    assert published.uploads() == []


def test_without_publish_a_regression_is_reported_not_published(published: Setup) -> None:
    published.site.pages["/pricing"] = Page.html("Pricing", "Prices on request.", links=["/"])
    report = refresh_now(published.ws, published.backends, publish_after=False)
    assert report.status == "regressed" and report.exit_code == 1
    assert not report.published and published.uploads() == []


def test_a_model_that_does_not_answer_fails_the_refresh_not_the_questions(
    published: Setup,
) -> None:
    published.site.pages["/about"] = Page.html("About", "Now with oat flour.", links=["/"])
    published.ollama.remove_model("llama3.2")  # every answer fails: model not found
    report = refresh_now(published.ws, published.backends)
    assert report.status == "failed" and report.exit_code == 1
    assert "the test run failed: every answer failed" in report.reason
    assert "llama3.2" in report.reason and report.tests.regressions == []
    assert not report.published and published.uploads() == []
    # Once the model is back, the next refresh runs the tests again (the failed run is no
    # baseline) and publishes.
    published.ollama.add_model(FakeModel("llama3.2", context_length=131072))
    again = refresh_now(published.ws, published.backends)
    assert again.status == "ok" and again.tests.ran and again.published, again.summary


def test_a_failing_check_blocks_the_publish(published: Setup) -> None:
    published.site.pages["/about"] = Page.html("About", "Now with oat flour.", links=["/"])
    # An invalid widget setting saved behind the form's back: the publish checks refuse it.
    published.ws.execute(
        "update publish_settings set widget = json_set(widget, '$.allowed_origins', json('[]'))"
    )
    report = refresh_now(published.ws, published.backends)
    assert report.status == "blocked" and "Publishing refused" in report.reason
    assert published.uploads() == []


def test_the_site_down_fails_and_is_recorded(published: Setup) -> None:
    published.site.stop()
    report = refresh_now(published.ws, published.backends)
    assert report.status == "failed" and report.exit_code == 1
    assert "failed" in report.reason
    assert not report.published and published.uploads() == []
    problem = refresh_history.last_refresh_problem(published.ws)
    assert problem is not None and "failed" in problem


def test_publish_without_a_remembered_endpoint_says_how(tmp_path: Path) -> None:
    with create_workspace(tmp_path / "new.botdesk", name="New") as ws:
        report = refresh_now(ws, OFFLINE)
        assert report.status == "failed" and "botdesk publish WS --endpoint URL" in report.reason
        assert refresh_history.history(ws)[0].status == "failed"


def test_a_second_refresh_while_one_runs_is_refused_and_not_recorded(tmp_path: Path) -> None:
    with create_workspace(tmp_path / "busy.botdesk", name="Busy") as ws:
        with WorkspaceLock(ws.path, "refresh"), pytest.raises(WorkspaceBusyError):
            refresh_now(ws, OFFLINE)
        assert refresh_history.history(ws) == []


def test_a_refresh_killed_half_way_reads_as_interrupted(tmp_path: Path) -> None:
    with create_workspace(tmp_path / "cut.botdesk", name="Cut") as ws:
        ws.execute("insert into refresh_runs(started_at) values ('2026-11-28T03:00:00+00:00')")
        [record] = refresh_history.history(ws)
        assert record.status == "interrupted"
        problem = refresh_history.last_refresh_problem(ws)
        assert problem is not None and "interrupted" in problem
