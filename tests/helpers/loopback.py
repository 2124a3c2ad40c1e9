"""A real HTTP server on 127.0.0.1 in a thread, for stand-ins that speak real wire protocols.

Subclass `BaseHTTPRequestHandler` (use `ScriptedHandler` for its helpers), then:

    with LoopbackServer(MyHandler) as server:
        server.state["fail_next"] = 2      # shared, scriptable state
        httpx.get(server.url + "/path")
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    state: dict[str, Any]
    requests_seen: list[tuple[str, str]]


class ScriptedHandler(BaseHTTPRequestHandler):
    """Handler base with small helpers and a shared `state` dict."""

    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY each response waits
    # ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True

    @property
    def state(self) -> dict[str, Any]:
        return self.server.state

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def record(self) -> None:
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.requests_seen.append((self.command, self.path))

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def read_json(self) -> Any:
        body = self.read_body()
        return json.loads(body) if body else None

    def send_bytes(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/plain; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(status, json.dumps(value).encode(), "application/json", headers)


class LoopbackServer:
    """Serve `handler` on 127.0.0.1 on a free port, in a daemon thread."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1") -> None:
        self.httpd = _Server((host, 0), handler)
        self.httpd.state = {}
        self.httpd.requests_seen = []
        self.httpd.lock = threading.Lock()  # type: ignore[attr-defined]
        # A short poll interval: shutdown() then takes milliseconds, not the default 0.5 s.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state(self) -> dict[str, Any]:
        return self.httpd.state

    @property
    def requests_seen(self) -> list[tuple[str, str]]:
        return self.httpd.requests_seen

    def start(self) -> LoopbackServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
