"""The hosted endpoint's publish protocol (docs/publish-protocol.md), spoken with httpx.

    PUT  {endpoint}/v1/bots/{bot}/bundles/{sha256}     201 stored, 200 already there, 400 bad hash
    HEAD {endpoint}/v1/bots/{bot}/bundles/{sha256}     200 there, 404 not (skip a second upload)
    POST {endpoint}/v1/bots/{bot}/releases             201 {release_id, version}: goes live
    GET  {endpoint}/v1/bots/{bot}/releases             {releases: [...]}
    POST {endpoint}/v1/bots/{bot}/releases/{id}/activate   roll back (or forward) to a release
    GET  {endpoint}/v1/bots/{bot}/conversations?after=&limit=   a page of conversations
    DELETE {endpoint}/v1/bots/{bot}/conversations/{id}   forget one (a visitor's erasure)

A server that does not implement HEAD (405/501) cannot say whether it has a bundle: the
idempotent PUT is sent instead. Every error names its step (upload bundle, create release...).
A `checkpoint` (the job's cancel check) is honoured before every request, during backoff and
between upload chunks, up to the moment the release POST is sent: that one cannot be taken
back, so a cancel then waits for the answer and the caller says whether the release is live.

The token (`Authorization: Bearer`) comes from the keyring under the endpoint's URL, or the
BOTDESK_PUBLISH_TOKEN environment variable; it is never put in a message, a log or the
workspace. 429, 5xx, timeouts and dropped connections are retried with backoff (Retry-After
honoured, capped), then reported plainly. Every other refusal says what to do: the answers
are read (releases out of good ones, PublishErrors out of the rest) in `responses`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import httpx

from desktop import __version__
from desktop.core import secrets
from desktop.core.errors import CancelledError, ConfigError, PublishError
from desktop.core.http_retry import retry_after_s
from desktop.core.publish.responses import (
    CreatedRelease,
    RemoteRelease,
    created_release,
    failure_hint,
    json_answer,
    named,
    refusal,
    remote_releases,
)
from desktop.core.tls import shared_ssl_context

TOKEN_ENV = "BOTDESK_PUBLISH_TOKEN"  # noqa: S105 (a variable name, not a secret)
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_ATTEMPTS = 5
MAX_RETRY_AFTER_S = 60.0
UPLOAD_CHUNK = 256 * 1024
_RETRYABLE = {429, 500, 502, 503, 504}
T = TypeVar("T")

CANCEL_POLL_S = 0.05
# What a server that does not implement HEAD answers: it cannot say, so PUT anyway.
NO_HEAD_STATUSES = (405, 501)

# The steps errors name ("Create release failed: ...").
STEP_CHECK = "check bundle"
STEP_UPLOAD = "upload bundle"
STEP_RELEASE = "create release"
STEP_LIST = "list releases"
STEP_ROLLBACK = "rollback"

Sleep = Callable[[float], Awaitable[None]]
# Raises CancelledError when the user asked to stop (a Job's `check`).
Checkpoint = Callable[[], None]
# (bytes sent, total) for the upload's progress.
UploadProgress = Callable[[int, int], None]


class ReleaseCancelled(CancelledError):
    """A publish was cancelled; `may_be_live` when a release call had gone out unanswered."""

    def __init__(self, *, may_be_live: bool) -> None:
        if may_be_live:
            super().__init__(
                "Publish cancelled after a release call that got no answer: the new release "
                "may be live.",
                hint="Refresh the release history to see which release is live; publishing "
                "again creates no second release.",
            )
        else:
            super().__init__(
                "Publish cancelled before the release call was sent: the live bot is unchanged."
            )
        self.may_be_live = may_be_live


def normalize_endpoint(endpoint: str) -> str:
    """The endpoint's base URL without a trailing slash; https, or http to this computer only.

    A token sent over plain http to another host could be read on the way.
    """
    text = endpoint.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{endpoint!r} is not an endpoint URL.",
            hint="Write it like https://chat.example.com.",
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(
            "The endpoint URL may not carry a query, a fragment or credentials.",
            hint="Store the token with `botdesk token WS --endpoint URL`.",
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"{text} uses plain http: the publish token would travel unencrypted.",
            hint="Use the endpoint's https:// address.",
        )
    return text


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_account(endpoint: str) -> str:
    """The keyring account a token is stored under: the endpoint's URL."""
    return f"publish:{normalize_endpoint(endpoint)}"


def get_token(endpoint: str) -> str:
    """The endpoint's token; a PublishError saying how to set it when there is none."""
    token = secrets.get_secret(token_account(endpoint), env_var=TOKEN_ENV)
    if not token:
        raise PublishError(
            f"No publish token for {normalize_endpoint(endpoint)}.",
            hint=f"Store it with `botdesk token WS --endpoint {normalize_endpoint(endpoint)}` "
            f"(reads it from stdin), or set the environment variable {TOKEN_ENV}.",
        )
    return token


def set_token(endpoint: str, token: str, *, session_only: bool = False) -> None:
    """Keep the token in the keyring (SecretStoreError without one), or with `session_only`
    in memory until Botdesk quits, never on disk."""
    token = token.strip()
    if not token or any(c.isspace() for c in token):
        raise ConfigError("A publish token is one word with no spaces; nothing was stored.")
    if session_only:
        secrets.keep_for_session(token_account(endpoint), token)
        return
    secrets.set_secret(token_account(endpoint), token, env_var=TOKEN_ENV)


def token_source(endpoint: str) -> str:
    """Where the endpoint's token is found: "keyring", "session", "environment" or ""."""
    return secrets.secret_source(token_account(endpoint), env_var=TOKEN_ENV)[0]


def forget_token(endpoint: str) -> None:
    """Remove the token from the keyring and this session (an environment variable stays)."""
    secrets.delete_secret(token_account(endpoint))


def connect(
    endpoint: str,
    bot_id: str,
    *,
    client: httpx.AsyncClient | None = None,
    checkpoint: Checkpoint | None = None,
    options: Mapping[str, Any] | None = None,
) -> PublishClient:
    """A client for the endpoint with its stored token (a PublishError says how to set one).
    `options`: PublishClient's timeouts and retries (tests shorten them)."""
    token = get_token(endpoint)
    return PublishClient(
        endpoint, bot_id, token, client=client, checkpoint=checkpoint, **dict(options or {})
    )


class PublishClient:
    """One endpoint and bot. Pass `client` to share a connection pool (tests pass theirs)."""

    def __init__(
        self,
        endpoint: str,
        bot_id: str,
        token: str,
        *,
        client: httpx.AsyncClient | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff_s: float = 1.0,
        max_retry_after_s: float = MAX_RETRY_AFTER_S,
        sleep: Sleep = asyncio.sleep,
        checkpoint: Checkpoint | None = None,
    ) -> None:
        self.endpoint = normalize_endpoint(endpoint)
        if not bot_id.strip() or "/" in bot_id:
            raise ConfigError(
                f"{bot_id!r} is not a bot id.", hint="Pass the id the service gave you: --bot-id."
            )
        self.bot_id = bot_id.strip()
        self._token = token
        self._client = client
        self.timeout_s = timeout_s
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s
        self.max_retry_after_s = max_retry_after_s
        self._sleep = sleep
        self._checkpoint = checkpoint

    def __repr__(self) -> str:  # never the token
        return f"PublishClient({self.endpoint!r}, {self.bot_id!r})"

    # -- the five calls -------------------------------------------------------------------
    def _url(self, *parts: str) -> str:
        return "/".join([self.endpoint, "v1", "bots", quote(self.bot_id, safe=""), *parts])

    async def bundle_exists(self, sha256: str) -> bool | None:
        """Whether the endpoint has the bundle; None when it does not implement HEAD."""
        response = await self._request(
            "HEAD", self._url("bundles", sha256), ok=(200, 404, *NO_HEAD_STATUSES)
        )
        if response.status_code in NO_HEAD_STATUSES:
            return None
        return response.status_code == 200

    async def upload_bundle(
        self, path: Path, sha256: str, *, progress: UploadProgress | None = None
    ) -> bool:
        """PUT the bundle; True if it was stored now, False if the endpoint already had it."""
        size = path.stat().st_size

        def body() -> AsyncIterator[bytes]:
            return _file_chunks(path, size, progress, self._checkpoint)

        response = await self._request(
            "PUT",
            self._url("bundles", sha256),
            ok=(200, 201),
            body=body,
            headers={"Content-Type": "application/vnd.sqlite3", "Content-Length": str(size)},
            size=size,
        )
        return response.status_code == 201

    async def create_release(
        self,
        *,
        bundle_sha256: str,
        widget: Mapping[str, Any],
        manifest: Mapping[str, Any],
        notes: str = "",
        idempotency_key: str = "",
    ) -> CreatedRelease:
        """Make the bundle and widget live, in one call on the endpoint's side.

        A cancel is honoured until the POST is sent (ReleaseCancelled says whether an earlier,
        unanswered attempt may have made it live); once sent, the answer is awaited."""
        payload = {
            "bundle_sha256": bundle_sha256,
            "widget": dict(widget),
            "manifest": dict(manifest),
            "notes": notes,
        }
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        response = await self._request(
            "POST", self._url("releases"), ok=(200, 201), json_body=payload, headers=headers
        )
        return created_release(response)

    async def list_releases(self) -> list[RemoteRelease]:
        response = await self._request("GET", self._url("releases"), ok=(200,))
        return remote_releases(response)

    async def activate(self, release_id: str) -> None:
        await self._request(
            "POST", self._url("releases", quote(release_id, safe=""), "activate"), ok=(200, 201)
        )

    async def conversations_page(self, *, after: str | None, limit: int) -> Any:
        """One page of conversations as the endpoint sent it (desktop.core.conversations
        checks its form entry by entry)."""
        params = {"limit": str(limit), **({"after": after} if after else {})}
        response = await self._request(
            "GET", self._url("conversations") + "?" + urlencode(params), ok=(200,)
        )
        return json_answer(response)

    async def delete_conversation(self, conversation_id: str) -> None:
        """Ask the endpoint to forget a conversation (204 also when it was already gone)."""
        await self._request(
            "DELETE", self._url("conversations", quote(conversation_id, safe="")), ok=(200, 204)
        )

    # -- transport, retries and errors -----------------------------------------------------
    async def _request(
        self,
        method: str,
        url: str,
        *,
        ok: tuple[int, ...],
        body: Callable[[], AsyncIterator[bytes]] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        size: int | None = None,
    ) -> httpx.Response:
        """Send until an answer in `ok` (returned), a refusal, or the last attempt (raised)."""
        all_headers = self._headers(headers, json_body=json_body is not None)
        step = _step(method, url)
        # Once the release POST is on its way it is not abandoned: its answer says what is live.
        abortable = step != STEP_RELEASE
        unanswered = False  # an attempt went out and no answer came back (it may have landed)
        async with self._http_client() as client:

            def send() -> Awaitable[httpx.Response]:
                content: Any = body() if body is not None else None
                if json_body is not None:
                    content = json.dumps(json_body).encode()
                return client.request(
                    method, url, content=content, headers=all_headers, timeout=self.timeout_s
                )

            for attempt in range(1, self.attempts + 1):
                self._check_cancel(step, unanswered)
                answer = await self._send_once(send, abortable=abortable)
                if isinstance(answer, httpx.Response):
                    if answer.status_code in ok:
                        return answer
                    failed = self._retryable(answer, step=step, method=method, size=size)
                else:
                    failed = answer
                unanswered = unanswered or failed.unanswered
                if attempt == self.attempts:
                    raise self._gave_up(step, url, failed.problem, failed.status, unanswered)
                await self._back_off(attempt, failed.retry_after_s, step, unanswered)
            raise AssertionError("unreachable")

    def _headers(self, extra: Mapping[str, str] | None, *, json_body: bool) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self._token}",
            "User-Agent": f"botdesk/{__version__}",
            **(extra or {}),
        }
        if json_body:
            headers["Content-Type"] = "application/json"
        return headers

    @contextlib.asynccontextmanager
    async def _http_client(self) -> AsyncIterator[httpx.AsyncClient]:
        """The shared client when one was given, else one for this request, closed after."""
        if self._client is not None:
            yield self._client
            return
        client = httpx.AsyncClient(
            timeout=self.timeout_s,
            follow_redirects=False,
            trust_env=False,
            verify=shared_ssl_context(),
        )
        try:
            yield client
        finally:
            await client.aclose()

    async def _send_once(
        self, send: Callable[[], Awaitable[httpx.Response]], *, abortable: bool
    ) -> httpx.Response | _Failed:
        """One attempt: the answer, or why there was none (transport errors are retried)."""
        try:
            return await (self._abortable(send()) if abortable else send())
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            return _Failed(f"the connection failed ({type(exc).__name__})")
        except httpx.TimeoutException:
            return _Failed(f"no answer within {self.timeout_s:g} s", unanswered=True)
        except httpx.TransportError as exc:
            return _Failed(f"the connection failed ({type(exc).__name__})", unanswered=True)

    def _retryable(
        self, response: httpx.Response, *, step: str, method: str, size: int | None
    ) -> _Failed:
        """A 429/5xx answer, to be tried again; any other raises the step's refusal."""
        status = response.status_code
        if status not in _RETRYABLE:
            token_hint = (
                f"Store a valid token with `botdesk token WS --endpoint {self.endpoint}` "
                f"(reads it from stdin) or set {TOKEN_ENV}."
            )
            error = refusal(
                response, method=method, size=size, bot_id=self.bot_id, token_hint=token_hint
            )
            raise named(step, error)
        return _Failed(f"HTTP {status}", status, retry_after_s(response.headers.get("Retry-After")))

    async def _back_off(
        self, attempt: int, retry_after: float | None, step: str, unanswered: bool
    ) -> None:
        """Wait before the next attempt (Retry-After when sent, capped); a cancel cuts it."""
        wait = self.backoff_s * (2 ** (attempt - 1)) * (1 + random.random() / 4)  # noqa: S311
        if retry_after is not None:
            wait = retry_after
        pause = self._sleep(min(wait, self.max_retry_after_s))
        await self._abortable(pause, step, unanswered)

    def _gave_up(
        self, step: str, url: str, problem: str, status: int | None, unanswered: bool
    ) -> PublishError:
        """Still failing after every attempt; an unanswered release may have landed."""
        hint = failure_hint(url)
        if step == STEP_RELEASE and unanswered:
            hint = ReleaseCancelled(may_be_live=True).hint
        return PublishError(
            f"{step.capitalize()} failed: the endpoint gave no good answer: "
            f"{problem}, {self.attempts} attempts.",
            hint=hint,
            status=status,
            step=step,
        )

    def _check_cancel(self, step: str, unanswered: bool = False) -> None:
        """Raise if the user cancelled; for the release, say whether it may be live."""
        if self._checkpoint is None:
            return
        try:
            self._checkpoint()
        except CancelledError as exc:
            if step == STEP_RELEASE:
                raise ReleaseCancelled(may_be_live=unanswered) from exc
            raise

    async def _abortable(self, work: Awaitable[T], step: str = "", unanswered: bool = False) -> T:
        """Await `work`, giving it up as soon as the user cancels (polled: Job has no event)."""
        if self._checkpoint is None:
            return await work
        task = asyncio.ensure_future(work)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=CANCEL_POLL_S)
                if done:
                    return task.result()
                self._check_cancel(step, unanswered)
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


@dataclass(frozen=True)
class _Failed:
    """An attempt that got no good answer, to be retried."""

    problem: str  # for the message: "HTTP 503", "no answer within 60 s"...
    status: int | None = None
    retry_after_s: float | None = None  # the server's Retry-After, when it sent one
    unanswered: bool = False  # it went out and no answer came back (it may have landed)


async def _file_chunks(
    path: Path, size: int, progress: UploadProgress | None, checkpoint: Checkpoint | None
) -> AsyncIterator[bytes]:
    sent = 0
    with path.open("rb") as file:
        while block := file.read(UPLOAD_CHUNK):
            if checkpoint is not None:
                checkpoint()  # a cancel stops the upload between chunks
            sent += len(block)
            if progress is not None:
                progress(sent, size)
            yield block


def _step(method: str, url: str) -> str:
    """The step a call belongs to, as errors name it."""
    if "/conversations" in url:
        return "list conversations" if method == "GET" else "forget conversation"
    if "/bundles/" in url:
        return STEP_UPLOAD if method == "PUT" else STEP_CHECK
    if url.endswith("/activate"):
        return STEP_ROLLBACK
    return STEP_RELEASE if method == "POST" else STEP_LIST
