"""The preview server speaks the chat protocol (docs/widget-protocol.md) over real HTTP:
the widget's config, SSE answers from the real answering code and the Ollama stand-in,
limits, origins, feedback, leads, bad input, and the customer's page made inert."""

from __future__ import annotations

import asyncio
import copy
import gzip
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from desktop.core.errors import BotdeskError
from desktop.core.jobs import Job, JobState
from desktop.core.paths import resource_path
from desktop.core.publish.widget_config import default_config, validate
from desktop.services import conversations, preview, preview_server
from desktop.services.backends import Backends
from desktop.services.workspaces import open_workspace
from tests.helpers.fake_ollama import FakeOllama
from tests.helpers.model_script import Scripted
from tests.helpers.shop import Shop, model_answer, synced_shop

WIDGET_GZIP_LIMIT = 15 * 1024
SESSION = "session-0001"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    with synced_shop(tmp_path_factory.mktemp("preview")) as served:
        yield served


@pytest.fixture
def settings() -> dict[str, Any]:
    config = copy.deepcopy(default_config())
    config["bot_name"] = "Lumen Bakery"
    config["answering"]["refusal_message"] = "We do not know that one."
    return config


@asynccontextmanager
async def serving(
    path: Path, settings: dict[str, Any], backends: Backends, **options: Any
) -> AsyncIterator[tuple[preview_server.PreviewServer, httpx.AsyncClient]]:
    with open_workspace(path) as ws:
        server = preview_server.PreviewServer(
            ws, config=lambda: settings, **options, backends=backends
        )
        async with server, httpx.AsyncClient(base_url=server.origin, timeout=10) as client:
            yield server, client


def api(call: str) -> str:
    return f"/v1/bots/preview/{call}"


async def chat(
    client: httpx.AsyncClient, server: preview_server.PreviewServer, message: str, **body: Any
) -> tuple[int, list[tuple[str, Any]], httpx.Headers]:
    payload = {"session_id": SESSION, "message": message, "page_url": server.url, **body}
    headers = {"Origin": server.origin}
    async with client.stream("POST", api("chat"), json=payload, headers=headers) as response:
        raw = (await response.aread()).decode()
    if response.status_code != 200:
        return response.status_code, [("json", json.loads(raw))], response.headers
    events = []
    for block in raw.split("\n\n"):
        if block.strip():
            name = re.search(r"^event: (.*)$", block, re.M)
            data = re.search(r"^data: (.*)$", block, re.M)
            assert name and data, block
            events.append((name.group(1), json.loads(data.group(1))))
    return 200, events, response.headers


def test_the_widget_gets_the_public_config_only(
    shop: Shop, settings: dict[str, Any], backends: Backends
) -> None:
    async def run() -> dict[str, Any]:
        async with serving(shop.path, settings, backends=backends) as (_server, client):
            response = await client.get(api("widget-config"))
            assert response.status_code == 200
            return dict(response.json())

    public = asyncio.run(run())
    assert public["bot_name"] == "Lumen Bakery"
    assert public["refusal_message"] == "We do not know that one."
    assert public["lead_capture"]["consent_text"] == ""
    assert "answering" not in public and "allowed_origins" not in public
    assert "system_prompt" not in json.dumps(public)


def test_an_answer_streams_as_server_sent_events_with_citations(
    settings: dict[str, Any], fake_ollama: FakeOllama, shop: Shop, backends: Backends
) -> None:
    fake_ollama.chat_answer = model_answer

    async def run() -> tuple[Any, ...]:
        async with serving(shop.path, settings, backends=backends) as (server, client):
            status, events, headers = await chat(client, server, "When do you deliver?")
            return status, events, headers, server.conversations.conversations()

    status, events, headers, conversations = asyncio.run(run())
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done" and set(names[1:-1]) == {"token"}
    text = "".join(data["text"] for name, data in events if name == "token")
    assert text == "We deliver Monday to Friday, never on Sundays [1]."
    done = events[-1][1]
    assert done["message_id"] == events[0][1]["message_id"] and not done["declined"]
    assert done["citations"][0]["url"] == shop.url + "/delivery"
    assert isinstance(done["citations"][0]["passage_id"], int)
    assert done["tokens"]["completion"] == 9 and done["latency_ms"] >= 0
    (conversation,) = conversations
    visitor, answer = conversation["messages"]
    assert conversation["release_id"] == "preview"
    assert conversation["page_url"] is None  # the demo page: no customer page
    assert visitor == {
        "id": visitor["id"],
        "role": "visitor",
        "text": "When do you deliver?",
        "at": visitor["at"],
    }
    assert answer["text"] == text and answer["feedback"] is None
    assert answer["citations"] == [{k: done["citations"][0][k] for k in ("n", "passage_id", "url")}]


def test_a_question_nothing_answers_is_declined_with_the_widget_refusal(
    shop: Shop, settings: dict[str, Any], fake_ollama: FakeOllama, backends: Backends
) -> None:
    async def run() -> list[tuple[str, Any]]:
        async with serving(shop.path, settings, backends=backends) as (server, client):
            return (await chat(client, server, "Zebra quantum xylophone?"))[1]

    events = asyncio.run(run())
    assert events[1] == ("token", {"text": "We do not know that one."})
    assert events[-1][1]["declined"] is True and events[-1][1]["citations"] == []
    assert fake_ollama.calls("/api/chat") == []  # refused without a model call


def test_a_failing_model_ends_the_stream_with_an_error_event(
    shop: Shop, settings: dict[str, Any], fake_ollama: FakeOllama, backends: Backends
) -> None:
    fake_ollama.script("/api/chat", *[Scripted(status=500, body={"error": "boom"})] * 5)
    problems: list[tuple[str, str]] = []

    async def run() -> tuple[Any, ...]:
        async with serving(
            shop.path, settings, on_problem=lambda *p: problems.append(p), backends=backends
        ) as (
            server,
            client,
        ):
            _status, events, _h = await chat(client, server, "When do you deliver?")
            return events, server.conversations.conversations()

    events, conversations = asyncio.run(run())
    assert events[-1] == ("error", {"error": preview_server.ANSWER_FAILED, "status": 503})
    assert problems and problems[0][0] == "When do you deliver?"
    assert "boom" in problems[0][1] or "500" in problems[0][1]  # the reason, for the app
    assert conversations[0]["messages"][1]["error"] == problems[0][1]


def test_limits_answer_429_with_retry_after(
    shop: Shop, settings: dict[str, Any], fake_ollama: FakeOllama, backends: Backends
) -> None:
    settings["limits"] = {"messages_per_session": 2, "messages_per_day": 3}

    async def run() -> list[tuple[int, Any, Any]]:
        seen = []
        async with serving(shop.path, settings, backends=backends) as (server, client):
            for session in (SESSION, SESSION, SESSION, "session-0002", "session-0003"):
                status, events, headers = await chat(client, server, "Zebra?", session_id=session)
                seen.append((status, events[0][1], headers.get("retry-after")))
        return seen

    seen = asyncio.run(run())
    assert [s for s, _e, _r in seen] == [200, 200, 429, 200, 429]
    assert seen[2][1]["limit"] == "session" and seen[2][2] is not None
    assert seen[4][1]["limit"] == "day" and int(seen[4][2]) > 0


def test_other_origins_hosts_and_bad_requests_are_refused(
    shop: Shop, settings: dict[str, Any], backends: Backends
) -> None:
    async def run() -> list[tuple[int, str]]:
        good = {"session_id": SESSION, "message": "hi"}
        async with serving(shop.path, settings, backends=backends) as (server, client):
            own = {"Origin": server.origin}
            answers = [
                await client.post(
                    api("chat"), json=good, headers={"Origin": "https://evil.example"}
                ),
                await client.post(api("chat"), json=good),  # a POST without Origin
                await client.get("/", headers={"Host": "rebound.example:80"}),
                await client.post(api("chat"), content=b"{not json", headers=own),
                await client.post(api("chat"), json={**good, "message": " "}, headers=own),
                await client.post(api("chat"), json={**good, "session_id": "x"}, headers=own),
                await client.post(api("chat"), json={**good, "message": "x" * 2001}, headers=own),
                await client.post(api("chat"), content=b"x" * 70_000, headers=own),
                await client.get("/v1/bots/other/widget-config"),
                await client.get(api("chat")),
                await client.post(
                    api("feedback"),
                    json={"session_id": SESSION, "message_id": "m_x", "value": "up"},
                    headers=own,
                ),
                await client.post(
                    api("feedback"),
                    json={"session_id": SESSION, "message_id": "m_x", "value": "meh"},
                    headers=own,
                ),
                await client.post(
                    api("leads"),
                    json={"session_id": SESSION, "fields": {"email": "a@b.c"}},
                    headers=own,
                ),
            ]
            assert server.conversations.conversations() == []
        return [(a.status_code, a.json()["error"]) for a in answers]

    answers = asyncio.run(run())
    assert [status for status, _ in answers] == [
        403,
        403,
        403,
        400,
        400,
        400,
        400,
        413,
        404,
        405,
        404,
        400,
        403,
    ]
    assert all(reason for _, reason in answers)


def test_feedback_and_leads_reach_the_conversation(
    shop: Shop, settings: dict[str, Any], fake_ollama: FakeOllama, backends: Backends
) -> None:
    fake_ollama.chat_answer = model_answer
    settings["lead_capture"] = {
        "enabled": True,
        "fields": ["name", "email"],
        "when": "after_first_answer",
        "consent_text": "You may contact me.",
    }
    assert validate(settings) == []

    async def run() -> tuple[list[int], dict[str, Any]]:
        async with serving(shop.path, settings, backends=backends) as (server, client):
            own = {"Origin": server.origin}
            _s, events, _h = await chat(client, server, "When do you deliver?")
            message_id = events[-1][1]["message_id"]
            lead = {"session_id": SESSION, "page_url": server.url, "fields": {"name": "Ada"}}
            statuses = [
                (
                    await client.post(
                        api("feedback"),
                        headers=own,
                        json={"session_id": SESSION, "message_id": message_id, "value": "down"},
                    )
                ).status_code,
                (await client.post(api("leads"), headers=own, json=lead)).status_code,
                (
                    await client.post(
                        api("leads"),
                        headers=own,
                        json={**lead, "fields": {"phone": "1"}, "consent": True},
                    )
                ).status_code,
                (
                    await client.post(
                        api("leads"),
                        headers=own,
                        json={
                            **lead,
                            "fields": {"name": "Ada", "email": "ada@example.com"},
                            "consent": True,
                        },
                    )
                ).status_code,
            ]
            pulled = await client.get(api("conversations"))
            return statuses, pulled.json()

    statuses, pulled = asyncio.run(run())
    assert statuses == [204, 400, 400, 201]  # consent missing, a field not asked for, ok
    (conversation,) = pulled["conversations"]
    assert pulled["has_more"] is False
    assert conversation["messages"][1]["feedback"] == "down"
    assert conversation["lead"] == {"name": "Ada", "email": "ada@example.com"}
    # Kept in the workspace when the preview stopped, as the "preview" release's.
    with open_workspace(shop.path) as ws:
        kept = conversations.list_conversations(ws, release_id="preview")
        assert conversation["id"] in {c.id for c in kept}
        summary = next(c for c in kept if c.id == conversation["id"])
        assert (summary.down, summary.has_lead, summary.cited) == (1, True, 1)
        assert summary.first_question == "When do you deliver?"


def test_the_customer_page_is_served_inert_with_the_snippet(
    settings: dict[str, Any], shop: Shop, backends: Backends
) -> None:
    async def run() -> httpx.Response:
        async with serving(shop.path, settings, page_url=shop.url + "/", backends=backends) as (
            _s,
            client,
        ):
            return await client.get("/")

    response = asyncio.run(run())
    page = response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and f"base-uri {shop.url}" in policy
    assert f'<base href="{shop.url}/">' in page
    assert "scripts ran" not in page and "onload" not in page and "<iframe" not in page
    assert "javascript:" not in page
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts == [
        f'<script src="{response.url.scheme}://{response.url.netloc.decode()}/widget.js" '
        'data-bot-id="preview" async>'
    ]


def test_a_page_that_leads_to_another_private_address_is_refused(
    settings: dict[str, Any], shop: Shop, backends: Backends
) -> None:
    async def run() -> None:
        async with serving(
            shop.path, settings, page_url=shop.url + "/to?url=http://10.1.2.3/", backends=backends
        ):
            pass

    with pytest.raises(BotdeskError, match="private"):
        asyncio.run(run())


def test_the_widget_is_small_and_never_parses_text_as_html() -> None:
    source = resource_path("widget", "widget.js").read_bytes()
    assert len(gzip.compress(source, 9)) <= WIDGET_GZIP_LIMIT
    for sink in (b"innerHTML", b"outerHTML", b"insertAdjacentHTML", b"document.write", b"eval("):
        assert sink not in source, sink


def test_preview_as_a_job_stops_when_cancelled(
    shop: Shop, fake_ollama: FakeOllama, backends: Backends
) -> None:
    async def run() -> tuple[preview.PreviewReport, str, Job]:
        job = Job("Widget preview")
        seen: list[str] = []

        async def ready(url: str) -> None:
            async with httpx.AsyncClient() as client:
                seen.append((await client.get(url + "widget.js")).text)
            job.cancel()

        with open_workspace(shop.path) as ws:
            report = await preview.run_preview(ws, job, on_ready=ready, backends=backends)
        return report, seen[0], job

    report, widget, job = asyncio.run(run())
    assert widget == resource_path("widget", "widget.js").read_text()
    assert job.state is JobState.FINISHED and job.summary.startswith("Preview stopped")
    assert report.url.startswith("http://127.0.0.1:")
    with pytest.raises(httpx.ConnectError):
        httpx.get(report.url + "widget.js")
