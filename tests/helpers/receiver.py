"""An independent hosted-endpoint stand-in: real HTTP on 127.0.0.1, written from the protocol doc.

It imports nothing from `desktop`, so a client that drifts from docs/publish-protocol.md fails
here. It checks the token, verifies each bundle's sha256, keeps bundles and releases, and
makes a release live in one step (under a lock), so "live" is always one whole release.

Faults are scripted per call and consumed in order:

    receiver.fault("PUT", "cut")            # read half the body, drop the connection
    receiver.fault("POST", "429", retry_after="1")
    receiver.fault("PUT", "500"); receiver.fault("GET", "401"); receiver.fault("PUT", "413")
    receiver.fault("POST", "timeout")       # answer nothing for `timeout_sleep` seconds, then drop
    receiver.fault("POST", "commit-then-cut")  # create the release, then drop the connection
    receiver.store.head_status = 405        # a server without HEAD on bundles (405 or 501)

Conversations (GET pages by cursor, DELETE) are served from `receiver.put_conversation(entry)`:
any JSON value, so a test can plant a malformed one; the same id again replaces it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tests.helpers.loopback import LoopbackServer, ScriptedHandler

_BUNDLE = re.compile(r"^/v1/bots/([^/]+)/bundles/([0-9a-f]{64})$")
_RELEASES = re.compile(r"^/v1/bots/([^/]+)/releases$")
_ACTIVATE = re.compile(r"^/v1/bots/([^/]+)/releases/([^/]+)/activate$")
_CONVERSATIONS = re.compile(r"^/v1/bots/([^/]+)/conversations$")
_CONVERSATION = re.compile(r"^/v1/bots/([^/]+)/conversations/([^/]+)$")


@dataclass
class Release:
    release_id: str
    version: int
    bundle_sha256: str
    widget: dict[str, Any]
    manifest: dict[str, Any]
    notes: str
    created_at: str
    idempotency_key: str = ""


@dataclass
class Store:
    """What the endpoint holds; every change happens under `lock`."""

    token: str
    bots: set[str]
    limit_bytes: int = 50 * 1024 * 1024
    timeout_sleep: float = 1.0
    head_status: int = 0  # set (405, 501): HEAD on bundles is not implemented
    bundles: dict[str, bytes] = field(default_factory=dict)
    releases: list[Release] = field(default_factory=list)
    live: dict[str, str] = field(default_factory=dict)  # bot -> release id
    faults: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    stored_uploads: int = 0  # PUTs answered 201
    upload_attempts: int = 0  # PUT requests that started sending a body
    # Conversation id -> (updated_at, the entry as served); `forgotten`: ids DELETEd.
    conversations: dict[str, tuple[str, Any]] = field(default_factory=dict)
    forgotten: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def live_release(self, bot: str) -> Release | None:
        with self.lock:
            wanted = self.live.get(bot)
            return next((r for r in self.releases if r.release_id == wanted), None)


class ReceiverHandler(ScriptedHandler):
    @property
    def store(self) -> Store:
        store: Store = self.state["store"]
        return store

    def _take_fault(self) -> tuple[str, dict[str, str]] | None:
        with self.store.lock:
            for i, (method, kind, options) in enumerate(self.store.faults):
                if method == self.command:
                    del self.store.faults[i]
                    return kind, options
        return None

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _error(self, status: int, message: str, **extra: Any) -> None:
        self.send_json(status, {"error": message, **extra})

    def _dispatch(self) -> None:
        self.record()
        fault = self._take_fault()
        if fault is not None:
            kind, options = fault
            if kind == "cut":
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length // 2)
                self._drop()
                return
            if kind == "timeout":
                time.sleep(self.store.timeout_sleep)
                self._drop()
                return
            if kind == "429":
                headers = (
                    {"Retry-After": options["retry_after"]} if "retry_after" in options else {}
                )
                self.read_body()
                self.send_json(429, {"error": "slow down"}, headers)
                return
            if kind in ("500", "401"):
                self.read_body()
                self._error(int(kind), "scripted fault")
                return
            if kind == "413":
                self.read_body()  # drained, so the client reads the answer, not a broken pipe
                self._error(413, "bundle too large", limit_bytes=int(options.get("limit", "1000")))
                self.close_connection = True
                return
            if kind != "commit-then-cut":
                raise AssertionError(f"unknown fault {kind}")
            self.state["cut_after_commit"] = True
        if self.headers.get("Authorization") != f"Bearer {self.store.token}":
            self.read_body()
            self._error(401, "invalid token")
            return
        path = self.path.split("?", 1)[0]
        for pattern, handler in (
            (_BUNDLE, self._bundle),
            (_RELEASES, self._releases),
            (_ACTIVATE, self._activate),
            (_CONVERSATIONS, self._conversations),
            (_CONVERSATION, self._conversation),
        ):
            match = pattern.match(path)
            if match:
                if match.group(1) not in self.store.bots:
                    self.read_body()
                    self._error(404, "no such bot")
                    return
                handler(*match.groups())
                return
        self._error(404, "no such route")

    def _bundle(self, bot: str, sha256: str) -> None:
        store = self.store
        if self.command == "HEAD":
            if store.head_status:
                self.send_bytes(store.head_status, b"")
                return
            with store.lock:
                there = sha256 in store.bundles
            self.send_bytes(200 if there else 404, b"")
            return
        if self.command != "PUT":
            self._error(405, "method not allowed")
            return
        length = self.headers.get("Content-Length")
        if length is None:
            self._error(411, "Content-Length required")
            return
        if int(length) > store.limit_bytes:
            if int(length) < 64 * 1024 * 1024:
                self.rfile.read(int(length))
            self._error(413, "bundle too large", limit_bytes=store.limit_bytes)
            self.close_connection = True
            return
        with store.lock:
            store.upload_attempts += 1
        body = self.rfile.read(int(length))
        if hashlib.sha256(body).hexdigest() != sha256:
            self._error(400, "sha256 of the body does not match the URL")
            return
        with store.lock:
            existed = sha256 in store.bundles
            store.bundles[sha256] = body
            if not existed:
                store.stored_uploads += 1
        self.send_json(200 if existed else 201, {"sha256": sha256, "size": len(body)})

    def _releases(self, bot: str) -> None:
        store = self.store
        if self.command == "GET":
            with store.lock:
                live = store.live.get(bot)
                rows = [
                    {
                        "release_id": r.release_id,
                        "version": r.version,
                        "bundle_sha256": r.bundle_sha256,
                        "created_at": r.created_at,
                        "notes": r.notes,
                        "active": r.release_id == live,
                        "manifest": r.manifest,
                    }
                    for r in store.releases
                ]
            self.send_json(200, {"releases": rows})
            return
        if self.command != "POST":
            self._error(405, "method not allowed")
            return
        try:
            data = json.loads(self.read_body())
            sha256, widget, manifest = data["bundle_sha256"], data["widget"], data["manifest"]
            notes = str(data.get("notes", ""))
            assert isinstance(widget, dict) and isinstance(manifest, dict)
        except (ValueError, KeyError, TypeError, AssertionError):
            self._error(400, "expected {bundle_sha256, widget, manifest, notes}")
            return
        key = self.headers.get("Idempotency-Key", "")
        with store.lock:
            if sha256 not in store.bundles:
                status, release = 409, None
            else:
                release = next(
                    (r for r in store.releases if key and r.idempotency_key == key), None
                )
                status = 200
                if release is None:
                    status = 201
                    release = Release(
                        release_id=f"rel-{len(store.releases) + 1}",
                        version=len(store.releases) + 1,
                        bundle_sha256=sha256,
                        widget=widget,
                        manifest=manifest,
                        notes=notes,
                        created_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        idempotency_key=key,
                    )
                    store.releases.append(release)
                store.live[bot] = release.release_id  # the one step that changes what is live
        if release is None:
            self._error(409, "bundle not uploaded")
            return
        if self.state.pop("cut_after_commit", False):
            self._drop()
            return
        self.send_json(status, {"release_id": release.release_id, "version": release.version})

    def _activate(self, bot: str, release_id: str) -> None:
        if self.command != "POST":
            self._error(405, "method not allowed")
            return
        self.read_body()
        store = self.store
        with store.lock:
            release = next((r for r in store.releases if r.release_id == release_id), None)
            if release is not None:
                store.live[bot] = release_id
        if release is None:
            self._error(404, "no such release")
            return
        self.send_json(200, {"release_id": release_id, "version": release.version, "active": True})

    def _conversations(self, bot: str) -> None:
        if self.command != "GET":
            self._error(405, "method not allowed")
            return
        query = {k: v[-1] for k, v in parse_qs(self.path.partition("?")[2]).items()}
        try:
            limit = int(query.get("limit", "100"))
            after = _read_cursor(query["after"]) if query.get("after") else None
            assert 1 <= limit <= 100
        except (ValueError, AssertionError):
            self._error(400, "bad cursor or limit")
            return
        with self.store.lock:
            ordered = sorted((u, i, e) for i, (u, e) in self.store.conversations.items())
        rest = [c for c in ordered if after is None or (c[0], c[1]) > after]
        page = rest[:limit]
        if page:
            cursor: str | None = _make_cursor(page[-1][0], page[-1][1])
        else:
            cursor = query.get("after") or None
        self.send_json(
            200,
            {
                "conversations": [entry for _, _, entry in page],
                "next_cursor": cursor,
                "has_more": len(rest) > limit,
            },
        )

    def _conversation(self, bot: str, conversation_id: str) -> None:
        if self.command != "DELETE":
            self._error(405, "method not allowed")
            return
        with self.store.lock:
            self.store.conversations.pop(conversation_id, None)
            self.store.forgotten.append(conversation_id)
        self.send_bytes(204, b"")

    do_GET = _dispatch
    do_PUT = _dispatch
    do_POST = _dispatch
    do_HEAD = _dispatch
    do_DELETE = _dispatch


def _make_cursor(updated_at: str, conversation_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([updated_at, conversation_id]).encode()).decode()


def _read_cursor(text: str) -> tuple[str, str]:
    updated_at, conversation_id = json.loads(base64.urlsafe_b64decode(text.encode()))
    return str(updated_at), str(conversation_id)


class Receiver:
    """The endpoint on 127.0.0.1. Use as a context manager."""

    def __init__(self, *, token: str = "test-token-123", bots: tuple[str, ...] = ("acme",)) -> None:
        self.store = Store(token=token, bots=set(bots))
        self.server = LoopbackServer(ReceiverHandler)
        self.server.state["store"] = self.store

    @property
    def url(self) -> str:
        return self.server.url

    def fault(self, method: str, kind: str, **options: str) -> None:
        with self.store.lock:
            self.store.faults.append((method, kind, options))

    def put_conversation(self, entry: Any, *, key: str = "", updated_at: str = "") -> None:
        """Serve `entry` (replacing one with the same id); `key`/`updated_at` order and name
        an entry whose own fields are missing or malformed."""
        fields = entry if isinstance(entry, dict) else {}
        conversation_id = key or str(fields.get("id"))
        with self.store.lock:
            self.store.conversations[conversation_id] = (
                updated_at or str(fields.get("updated_at")),
                entry,
            )

    def live(self, bot: str = "acme") -> Release | None:
        return self.store.live_release(bot)

    def __enter__(self) -> Receiver:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
