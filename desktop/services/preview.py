"""The local widget preview: a server on 127.0.0.1 that speaks the chat protocol.

It serves the real widget (`resources/widget/widget.js`), the customer's own page with the
embed snippet (or a demo page), and answers the chat from the workspace's passages with an
answer profile: the same search and answering code as the test bench
(`services.answers.ask`). Protocol: docs/widget-protocol.md.

Plain asyncio streams, no web framework: the server runs on the caller's event loop (the
app's qasync loop, or `asyncio.run` in the command line), so answering uses the workspace
on the thread that opened it. It binds 127.0.0.1 only, accepts requests only for its own
`Host` (a rebound DNS name cannot reach it) and only its own `Origin`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote, urlsplit

import apsw
import httpx

from desktop.core.conversations import protocol as conversation_protocol
from desktop.core.conversations import store as conversation_store
from desktop.core.errors import BotdeskError, ConfigError, FetchError
from desktop.core.ingest.encoding import decode_text
from desktop.core.ingest.fetch import AddressGuard, FetchLimits, fetch
from desktop.core.ingest.types import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_REDIRECTS,
    DEFAULT_TIMEOUT_S,
    USER_AGENT,
)
from desktop.core.ingest.urls import InvalidURL, canonicalize_url, host_port
from desktop.core.jobs import Job
from desktop.core.paths import resource_path
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
from desktop.core.publish.preview_page import WIDGET_PATH, demo_page, embed_snippet, page_policy
from desktop.core.publish.preview_page import prepare_page as make_page_inert
from desktop.core.store.workspace import Workspace
from desktop.core.tls import shared_ssl_context
from desktop.services import answers
from desktop.services.backends import Backends

HOST = "127.0.0.1"
PREVIEW_BOT = "preview"
# Where the preview's conversations are kept (beside the pulled ones, by endpoint and bot).
PREVIEW_TARGET = "preview"
MAX_BODY_BYTES = 64 * 1024
MAX_HEADER_LINES = 100
REQUEST_TIMEOUT_S = 15.0
STOP_POLL_S = 0.2
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
# What a visitor sees when the model failed; the reason goes to the app's jobs panel.
ANSWER_FAILED = "The assistant could not answer just now."

ConfigSource = Callable[[], Mapping[str, Any]]


def widget_file() -> bytes:
    """The widget as shipped: the same file the hosted service serves."""
    return resource_path("widget", "widget.js").read_bytes()


def snippet_for(ws: Workspace, endpoint: str | None = None) -> str:
    """The embed snippet for the workspace's publish target (a placeholder until one is set)."""
    from desktop.services import publish

    saved_endpoint, bot_id = publish.get_target(ws)
    base = (endpoint or saved_endpoint or "https://YOUR-CHAT-SERVICE").rstrip("/")
    return embed_snippet(f"{base}{WIDGET_PATH}", bot_id or "YOUR-BOT-ID")


def page_address(url: str) -> str:
    """The canonical http(s) address of a page the user typed, or a ConfigError."""
    try:
        start = canonicalize_url(url.strip())
    except InvalidURL as exc:
        raise ConfigError(f"Not a page address: {exc}.", hint="Write https://… .") from None
    if urlsplit(start).scheme not in ("http", "https"):
        raise ConfigError(f"Not a web page address: {url}.", hint="Write https://… .")
    return start


async def fetch_page(url: str, *, client: httpx.AsyncClient | None = None) -> tuple[str, str]:
    """(final URL, HTML) of one page, through the crawler's fetcher and its address rule:
    a private or loopback address is reachable only when it is the host the user typed."""
    start = page_address(url)
    probe = AddressGuard()
    host, port = host_port(start)
    guard = AddressGuard(allowed=[(host, port)] if await probe.is_private(start) else [])
    guard.remember(probe)
    limits = FetchLimits(DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S, DEFAULT_MAX_REDIRECTS)
    own = client is None
    http = client or httpx.AsyncClient(
        timeout=httpx.Timeout(DEFAULT_TIMEOUT_S),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        verify=shared_ssl_context(),
    )
    try:
        response = await fetch(http, start, guard=guard, limits=limits, kinds=("html",))
    finally:
        if own:
            await http.aclose()
    if response.status != 200:
        raise FetchError(
            f"{response.final_url} answered HTTP {response.status}.",
            hint="Check the address; the preview needs a page that opens in a browser.",
            reason="status",
        )
    text = decode_text(response.body, declared_charset=response.charset, is_html=True)
    return response.final_url, text


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ProtocolError(400, "The body is not JSON.") from None


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
                request = await asyncio.wait_for(_read_request(reader), REQUEST_TIMEOUT_S)
            except ProtocolError as exc:
                await _send_json(writer, exc.status, exc.body())
                return
            if request is None:
                return
            try:
                await self._route(request, writer)
            except ProtocolError as exc:
                headers = {}
                if exc.status == 429 and "retry_after" in exc.extra:
                    headers["Retry-After"] = str(exc.extra["retry_after"])
                await _send_json(writer, exc.status, exc.body(), self._cors(request) | headers)
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
        if request.method == "GET" and path in ("/", "/index.html"):
            body = self._page.encode("utf-8")
            headers = {
                "Content-Security-Policy": page_policy(self.page_url),
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
            }
            await _send(writer, 200, body, "text/html; charset=utf-8", headers)
            return
        if request.method == "GET" and path == WIDGET_PATH:
            await _send(
                writer,
                200,
                widget_file(),
                "text/javascript; charset=utf-8",
                {"Cache-Control": "no-cache"},
            )
            return
        if request.method == "GET" and path == "/favicon.ico":
            await _send(writer, 204, b"", "image/x-icon")
            return
        parts = path.split("/")
        # /v1/bots/{bot}/{call}
        if len(parts) != 5 or parts[:3] != ["", "v1", "bots"]:
            raise ProtocolError(404, "Not found.")
        if unquote(parts[3]) != self.bot_id:
            raise ProtocolError(404, f"No bot {unquote(parts[3])!r} here (this is {self.bot_id}).")
        call = parts[4]
        if request.method == "OPTIONS":
            headers = self._cors(request) | {
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Max-Age": "600",
            }
            await _send(writer, 204, b"", "text/plain", headers)
            return
        cors = self._cors(request)
        if request.method == "GET" and call == "widget-config":
            public = widget_config.public_config(self.config())
            await _send_json(writer, 200, public, cors | {"Cache-Control": "no-store"})
        elif request.method == "GET" and call == "conversations":
            listed = self.conversations.conversations()
            await _send_json(
                writer, 200, {"conversations": listed, "next_cursor": None, "has_more": False}
            )
        elif request.method == "POST" and call == "chat":
            await self._chat(parse_chat(request.json()), writer, cors)
        elif request.method == "POST" and call == "feedback":
            session, message_id, value = parse_feedback(request.json())
            self.conversations.feedback(session, message_id, value)
            await _send(writer, 204, b"", "text/plain", cors)
        elif request.method == "POST" and call == "leads":
            body = request.json()
            lead_settings = widget_config.public_config(self.config())["lead_capture"]
            session, fields = parse_lead(body, lead_settings)
            page_url = body.get("page_url") if isinstance(body.get("page_url"), str) else None
            lead_id = self.conversations.lead(session, self._visited(page_url), fields)
            await _send_json(writer, 201, {"lead_id": lead_id}, cors)
        elif call in ("widget-config", "conversations", "chat", "feedback", "leads"):
            raise ProtocolError(405, f"{request.method} is not allowed here.")
        else:
            raise ProtocolError(404, "Not found.")

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
        hit = self._limits_now().take(chat.session_id)
        if hit is not None:
            raise hit.error()
        config = self.config()
        profile = answers.get_profile(self.ws, self.profile_name)
        refusal = str((config.get("answering") or {}).get("refusal_message") or "")
        if refusal:
            # The refusal visitors see is a widget setting: the preview shows the one set there.
            profile = replace(profile, refusal=refusal)
        chat = replace(chat, page_url=self._visited(chat.page_url))
        conversation_id, message_id = self.conversations.visitor_said(chat)
        headers = dict(cors) | {
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
        await _start_stream(writer, headers)
        await _write(
            writer,
            sse_event("start", {"conversation_id": conversation_id, "message_id": message_id}),
        )
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
                await _write(writer, sse_event("token", {"text": piece}))
            result = await task
        except BotdeskError as exc:
            self._record_failure(chat, message_id, str(exc))
            await _write(writer, sse_event("error", {"error": ANSWER_FAILED, "status": 503}))
            return
        finally:
            if not task.done():
                task.cancel()  # the browser went away: stop the model too
        if result.error:
            self._record_failure(chat, message_id, result.error, text=result.answer)
            await _write(writer, sse_event("error", {"error": ANSWER_FAILED, "status": 503}))
            return
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
        done = {
            "conversation_id": conversation_id,
            "message_id": message_id,
            "declined": result.declined,
            "citations": citations,
            "latency_ms": latency_ms,
            "tokens": tokens,
        }
        await _write(writer, sse_event("done", done))

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


# -- HTTP/1.1, the small part a browser needs ---------------------------------------------
async def _read_request(reader: asyncio.StreamReader) -> Request | None:
    line = await reader.readline()
    if not line:
        return None
    try:
        method, target, _version = line.decode("latin-1").split()
    except ValueError:
        raise ProtocolError(400, "Not an HTTP request.") from None
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    else:
        raise ProtocolError(400, "Too many headers.")
    length_text = headers.get("content-length", "0") or "0"
    if not length_text.isdigit():
        raise ProtocolError(400, "Bad Content-Length.")
    length = int(length_text)
    if length > MAX_BODY_BYTES:
        raise ProtocolError(413, f"The body is larger than {MAX_BODY_BYTES} bytes.")
    body = await reader.readexactly(length) if length else b""
    return Request(method.upper(), target, headers, body)


def _head(status: int, content_type: str, headers: Mapping[str, str], length: int | None) -> bytes:
    lines = [f"HTTP/1.1 {status} {STATUS_TEXT.get(status, 'Status')}"]
    lines.append(f"Content-Type: {content_type}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += ["Connection: close", "X-Content-Type-Options: nosniff"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _write(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)
    await writer.drain()


async def _send(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    content_type: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    await _write(writer, _head(status, content_type, headers or {}, len(body)) + body)


async def _send_json(
    writer: asyncio.StreamWriter, status: int, value: Any, headers: Mapping[str, str] | None = None
) -> None:
    body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    await _send(writer, status, body, "application/json", headers)


async def _start_stream(writer: asyncio.StreamWriter, headers: Mapping[str, str]) -> None:
    # No Content-Length: the stream ends when the connection closes (Connection: close).
    await _write(writer, _head(200, "text/event-stream; charset=utf-8", headers, None))


# -- as a job ------------------------------------------------------------------------------
@dataclass(frozen=True)
class PreviewReport:
    url: str
    conversations: int
    answers: int
    failed: int


async def run_preview(
    ws: Workspace,
    job: Job,
    *,
    page_url: str | None = None,
    profile: str = "default",
    port: int = 0,
    backends: Backends,
    on_ready: Callable[[str], None] | Callable[[str], Awaitable[None]] | None = None,
) -> PreviewReport:
    """Serve the preview until the job is cancelled (Stop); `on_ready(url)` once it listens."""
    server = PreviewServer(
        ws,
        page_url=page_url,
        profile=profile,
        port=port,
        backends=backends,
        on_problem=job.item_error,
    )
    server.check()
    job.stage("Fetching the page" if page_url else "Starting")
    url = await server.start()
    try:
        job.stage("Serving")
        job.advance(0, url)
        if on_ready is not None:
            ready = on_ready(url)
            if asyncio.iscoroutine(ready):
                await ready
        while not job.cancel_requested:
            await asyncio.sleep(STOP_POLL_S)
    finally:
        await server.close()
    report = PreviewReport(
        url=url,
        conversations=server.kept,
        answers=server.stats.answers,
        failed=server.stats.failed,
    )
    job.finish(
        f'Preview stopped: {report.conversations} conversations kept (release "preview"), '
        f"{report.answers} answers" + (f", {report.failed} failed." if report.failed else ".")
    )
    return report
