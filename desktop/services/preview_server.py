"""The preview server on 127.0.0.1: the widget, the page it sits on, and the chat protocol.

It serves the real widget (`resources/widget/widget.js`), the customer's own page with the
embed snippet (or a demo page), and answers the chat from the workspace's passages with an
answer profile: the same search and answering code as the test bench
(`services.answers.ask`). Protocol: docs/widget-protocol.md. The HTTP plumbing is in
preview_http.py, fetching the page in preview_fetch.py; preview.py runs the server as a job.

It runs on the caller's event loop (the app's qasync loop, or `asyncio.run` in the command
line), so answering uses the workspace on the thread that opened it. It binds 127.0.0.1
only, accepts requests only for its own `Host` (a rebound DNS name cannot reach it) and
only its own `Origin`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote, urlsplit

import apsw

from desktop.core.answering.types import AnswerProfile, AnswerResult
from desktop.core.conversations import protocol as conversation_protocol
from desktop.core.conversations import store as conversation_store
from desktop.core.errors import BotdeskError
from desktop.core.publish import widget_config
from desktop.core.publish.chat_protocol import (
    ChatRequest,
    ConversationLog,
    MessageLimits,
    ProtocolError,
    parse_chat,
    parse_feedback,
    parse_lead,
    sse_event,
)
from desktop.core.publish.preview_page import WIDGET_PATH, demo_page, page_policy
from desktop.core.publish.preview_page import prepare_page as make_page_inert
from desktop.core.store.workspace import Workspace
from desktop.services import answers
from desktop.services.backends import Backends
from desktop.services.preview_fetch import fetch_page, page_address, widget_file
from desktop.services.preview_http import (
    Request,
    read_request,
    send,
    send_json,
    start_stream,
    write,
)

HOST = "127.0.0.1"
PREVIEW_BOT = "preview"
# Where the preview's conversations are kept (beside the pulled ones, by endpoint and bot).
PREVIEW_TARGET = "preview"
REQUEST_TIMEOUT_S = 15.0
# The calls under /v1/bots/{bot}/: any other method on them is a 405, any other call a 404.
BOT_CALLS = ("widget-config", "conversations", "chat", "feedback", "leads")
# What a visitor sees when the model failed; the reason goes to the app's jobs panel.
ANSWER_FAILED = "The assistant could not answer just now."

ConfigSource = Callable[[], Mapping[str, Any]]


@dataclass
class PreviewStats:
    """What the preview served, for the job's summary and the benchmark."""

    answers: int = 0
    failed: int = 0
    first_token_ms: list[int] = field(default_factory=list)


class PreviewServer:
    """The preview on 127.0.0.1: `await start()`, then `url`; `await close()` to stop."""

    def __init__(
        self,
        ws: Workspace,
        *,
        page_url: str | None = None,
        profile: str = "default",
        port: int = 0,
        backends: Backends,
        config: ConfigSource | None = None,
        on_problem: Callable[[str, str], None] | None = None,
    ) -> None:
        self.ws = ws
        self.page_url = page_url.strip() if page_url else None
        self.profile_name = profile
        self.port = port
        self.backends = backends
        self.config = config or (lambda: widget_config.load(ws))
        self.on_problem = on_problem
        self.conversations = ConversationLog(release_id="preview", clock=self._seconds)
        self.stats = PreviewStats()
        self._limits: MessageLimits | None = None
        self._server: asyncio.Server | None = None
        self._page = ""
        self._connections: set[asyncio.Task[Any]] = set()
        self.kept = 0  # conversations saved into the workspace when the preview stopped
        from desktop.services import publish

        self.bot_id = publish.get_target(ws)[1] or PREVIEW_BOT

    # -- life ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def widget_url(self) -> str:
        return self.origin + WIDGET_PATH

    def check(self) -> None:
        """Fail now, before anything starts, on an unknown profile or an unusable address."""
        answers.get_profile(self.ws, self.profile_name)
        if self.page_url:
            page_address(self.page_url)

    async def start(self) -> str:
        """Fetch the customer's page (if any), bind 127.0.0.1, and return the preview's URL."""
        self.check()
        fetched: tuple[str, str] | None = None
        if self.page_url:
            fetched = await fetch_page(self.page_url, client=self.backends.site_http)
        self._server = await asyncio.start_server(self._accept, HOST, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        if fetched is not None:
            self.page_url = fetched[0]
            self._page = make_page_inert(
                fetched[1], page_url=fetched[0], widget_url=self.widget_url, bot_id=self.bot_id
            )
        else:
            name = str(self.config().get("bot_name") or "Your bot")
            self._page = demo_page(bot_name=name, widget_url=self.widget_url, bot_id=self.bot_id)
        return self.url

    async def close(self) -> None:
        """Stop serving, then keep the preview's conversations in the workspace."""
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None
        self.kept = self.keep_conversations()

    def _seconds(self) -> float:
        """The backends' clock as the conversation log and the message limits count it."""
        return self.backends.now().timestamp()

    def keep_conversations(self) -> int:
        """Save the preview's conversations as conversations of the "preview" release, where
        the review finds them (and turns them into test questions); how many were saved."""
        records = self.conversations.conversations()
        if not records:
            return 0
        parsed = [conversation_protocol.parse_conversation(record) for record in records]
        cutoff = conversation_store.retention_cutoff(
            self.backends.now(), conversation_store.retention_days(self.ws)
        )
        try:
            conversation_store.save_page(
                self.ws,
                conversation_store.target_key(PREVIEW_TARGET, self.bot_id),
                parsed,
                None,
                mask=conversation_store.masking_enabled(self.ws),
                cutoff=cutoff,
            )
        except apsw.ConnectionClosedError:
            if self.on_problem is not None:
                self.on_problem(
                    "preview conversations",
                    f"The workspace was closed first: {len(parsed)} conversations were not kept.",
                )
            return 0
        return len(parsed)

    async def __aenter__(self) -> PreviewServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- HTTP ----------------------------------------------------------------------------
    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            try:
                request = await asyncio.wait_for(read_request(reader), REQUEST_TIMEOUT_S)
            except ProtocolError as exc:
                await send_json(writer, exc.status, exc.body())
                return
            if request is None:
                return
            try:
                await self._route(request, writer)
            except ProtocolError as exc:
                headers = {}
                if exc.status == 429 and "retry_after" in exc.extra:
                    headers["Retry-After"] = str(exc.extra["retry_after"])
                await send_json(writer, exc.status, exc.body(), self._cors(request) | headers)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass  # the browser went away or never finished its request
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()
            if task is not None:
                self._connections.discard(task)

    def _cors(self, request: Request) -> dict[str, str]:
        if request.headers.get("origin") == self.origin:
            return {"Access-Control-Allow-Origin": self.origin, "Vary": "Origin"}
        return {}

    def _check_request(self, request: Request) -> None:
        host = request.headers.get("host", "")
        if host not in (f"{HOST}:{self.port}",):
            raise ProtocolError(403, "Wrong Host: the preview answers only at " + self.origin)
        origin = request.headers.get("origin")
        if origin is not None and origin != self.origin:
            raise ProtocolError(403, "origin not allowed")
        if request.method == "POST" and origin is None:
            raise ProtocolError(403, "origin not allowed")

    async def _route(self, request: Request, writer: asyncio.StreamWriter) -> None:
        self._check_request(request)
        path = urlsplit(request.path).path
        if request.method == "GET" and await self._serve_file(path, writer):
            return
        call = self._bot_call(path)
        if request.method == "OPTIONS":
            await self._preflight(request, writer)
            return
        await self._answer_call(call, request, writer, self._cors(request))

    async def _serve_file(self, path: str, writer: asyncio.StreamWriter) -> bool:
        """Serve the page, the widget or the (empty) icon at `path`; False for any other."""
        if path in ("/", "/index.html"):
            body = self._page.encode("utf-8")
            headers = {
                "Content-Security-Policy": page_policy(self.page_url),
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
            }
            await send(writer, 200, body, "text/html; charset=utf-8", headers)
        elif path == WIDGET_PATH:
            javascript = "text/javascript; charset=utf-8"
            await send(writer, 200, widget_file(), javascript, {"Cache-Control": "no-cache"})
        elif path == "/favicon.ico":
            await send(writer, 204, b"", "image/x-icon")
        else:
            return False
        return True

    def _bot_call(self, path: str) -> str:
        """The call in /v1/bots/{bot}/{call}, for this preview's bot; else a 404."""
        parts = path.split("/")
        if len(parts) != 5 or parts[:3] != ["", "v1", "bots"]:
            raise ProtocolError(404, "Not found.")
        if unquote(parts[3]) != self.bot_id:
            raise ProtocolError(404, f"No bot {unquote(parts[3])!r} here (this is {self.bot_id}).")
        return parts[4]

    async def _preflight(self, request: Request, writer: asyncio.StreamWriter) -> None:
        headers = self._cors(request) | {
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        }
        await send(writer, 204, b"", "text/plain", headers)

    async def _answer_call(
        self, call: str, request: Request, writer: asyncio.StreamWriter, cors: dict[str, str]
    ) -> None:
        """One call of the chat protocol: settings, conversations, chat, feedback, lead."""
        if request.method == "GET" and call == "widget-config":
            public = widget_config.public_config(self.config())
            await send_json(writer, 200, public, cors | {"Cache-Control": "no-store"})
        elif request.method == "GET" and call == "conversations":
            listed = self.conversations.conversations()
            await send_json(
                writer, 200, {"conversations": listed, "next_cursor": None, "has_more": False}
            )
        elif request.method == "POST" and call == "chat":
            await self._chat(parse_chat(request.json()), writer, cors)
        elif request.method == "POST" and call == "feedback":
            session, message_id, value = parse_feedback(request.json())
            self.conversations.feedback(session, message_id, value)
            await send(writer, 204, b"", "text/plain", cors)
        elif request.method == "POST" and call == "leads":
            lead_id = self._lead(request.json())
            await send_json(writer, 201, {"lead_id": lead_id}, cors)
        elif call in BOT_CALLS:
            raise ProtocolError(405, f"{request.method} is not allowed here.")
        else:
            raise ProtocolError(404, "Not found.")

    def _lead(self, body: Any) -> str:
        """Record the visitor's contact details (as the widget settings ask for them)."""
        lead_settings = widget_config.public_config(self.config())["lead_capture"]
        session, fields = parse_lead(body, lead_settings)
        page_url = body.get("page_url") if isinstance(body.get("page_url"), str) else None
        return self.conversations.lead(session, self._visited(page_url), fields)

    def _visited(self, page_url: str | None) -> str | None:
        """The page the visitor was on: the customer's page, not our 127.0.0.1 copy of it."""
        if page_url and page_url.startswith(self.origin):
            return self.page_url
        return page_url

    def _limits_now(self) -> MessageLimits:
        limits = widget_config.public_config(self.config())["limits"]
        per_session = int(limits["messages_per_session"])
        per_day = int(limits["messages_per_day"])
        current = self._limits
        if current is None or (current.per_session, current.per_day) != (per_session, per_day):
            # Changed settings apply at once; the counts so far carry over.
            fresh = MessageLimits(per_session, per_day, clock=self._seconds)
            if current is not None:
                fresh._sessions, fresh._recent, fresh._day = (
                    current._sessions,
                    current._recent,
                    current._day,
                )
            self._limits = current = fresh
        return current

    # -- chat ----------------------------------------------------------------------------
    async def _chat(
        self, chat: ChatRequest, writer: asyncio.StreamWriter, cors: Mapping[str, str]
    ) -> None:
        """Stream one answer as server-sent events: start, tokens, then done or error."""
        hit = self._limits_now().take(chat.session_id)
        if hit is not None:
            raise hit.error()
        profile = self._chat_profile()
        chat = replace(chat, page_url=self._visited(chat.page_url))
        conversation_id, message_id = self.conversations.visitor_said(chat)
        headers = dict(cors) | {
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
        await start_stream(writer, headers)
        ids: dict[str, Any] = {"conversation_id": conversation_id, "message_id": message_id}
        await write(writer, sse_event("start", ids))
        try:
            result = await self._stream_answer(chat, profile, writer)
        except BotdeskError as exc:
            self._record_failure(chat, message_id, str(exc))
            await write(writer, sse_event("error", {"error": ANSWER_FAILED, "status": 503}))
            return
        if result.error:
            self._record_failure(chat, message_id, result.error, text=result.answer)
            await write(writer, sse_event("error", {"error": ANSWER_FAILED, "status": 503}))
            return
        done = ids | self._record_answer(chat, message_id, result)
        await write(writer, sse_event("done", done))

    def _chat_profile(self) -> AnswerProfile:
        """The preview's answer profile, with the refusal that the widget settings set."""
        config = self.config()
        profile = answers.get_profile(self.ws, self.profile_name)
        refusal = str((config.get("answering") or {}).get("refusal_message") or "")
        if refusal:
            # The refusal visitors see is a widget setting: the preview shows the one set there.
            profile = replace(profile, refusal=refusal)
        return profile

    async def _stream_answer(
        self, chat: ChatRequest, profile: AnswerProfile, writer: asyncio.StreamWriter
    ) -> AnswerResult:
        """Answer the visitor's message, writing each piece as a token event as it comes."""
        pieces: asyncio.Queue[str | None] = asyncio.Queue()
        task = asyncio.ensure_future(
            answers.ask(
                self.ws,
                chat.message,
                profile=profile,
                on_delta=pieces.put_nowait,
                backends=self.backends,
            )
        )
        task.add_done_callback(lambda _: pieces.put_nowait(None))
        try:
            while (piece := await pieces.get()) is not None:
                await write(writer, sse_event("token", {"text": piece}))
            return await task
        finally:
            if not task.done():
                task.cancel()  # the browser went away: stop the model too

    def _record_answer(
        self, chat: ChatRequest, message_id: str, result: AnswerResult
    ) -> dict[str, Any]:
        """Log the answer in the conversation and the stats; the done event's fields."""
        citations = [_citation(c.n, c.chunk_id, c.to_json()["source"]) for c in result.citations]
        latency_ms = round((result.total_s or 0.0) * 1000)
        tokens = {"prompt": result.prompt_tokens, "completion": result.completion_tokens}
        self.conversations.assistant_said(
            chat.session_id,
            message_id,
            text=result.answer,
            declined=result.declined,
            citations=citations,
            latency_ms=latency_ms,
            tokens=tokens,
        )
        self.stats.answers += 1
        if result.first_token_s is not None:
            self.stats.first_token_ms.append(round(result.first_token_s * 1000))
        return {
            "declined": result.declined,
            "citations": citations,
            "latency_ms": latency_ms,
            "tokens": tokens,
        }

    def _record_failure(
        self, chat: ChatRequest, message_id: str, reason: str, *, text: str = ""
    ) -> None:
        self.stats.failed += 1
        self.conversations.assistant_said(
            chat.session_id,
            message_id,
            text=text,
            declined=False,
            citations=[],
            latency_ms=0,
            tokens={"prompt": None, "completion": None},
            error=reason,
        )
        if self.on_problem is not None:
            self.on_problem(chat.message[:80], reason)


def _citation(n: int, passage_id: int, source: Mapping[str, Any]) -> dict[str, Any]:
    url = source.get("url")
    web = isinstance(url, str) and url.startswith(("http://", "https://"))
    return {
        "n": n,
        "passage_id": passage_id,
        "url": url if web else None,
        "title": str(source.get("title") or "") or None,
    }
