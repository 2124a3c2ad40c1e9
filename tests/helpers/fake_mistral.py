"""A stand-in Mistral API on 127.0.0.1 speaking its real HTTP wire format.

Endpoints: POST /v1/embeddings, POST /v1/chat/completions (SSE when "stream": true:
`data: {chunk}` events, the last one carrying `usage`, then `data: [DONE]`; one JSON body
otherwise), GET /v1/models. Bearer keys are checked (401 {"message": "Unauthorized"}),
unknown models are 400 invalid_model, too many tokens 400 invalid_request_error.

    with FakeMistral() as fake:                   # or the `fake_mistral` fixture
        fake.script("/v1/embeddings", Scripted(status=429, headers={"Retry-After": "1"}))
        ... BOTDESK_MISTRAL_URL=fake.url, MISTRAL_API_KEY=fake.key ...

Embeddings are `fake_embeddings.embed_text(text, 1024)`, as mistral-embed has 1024.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from typing import Any

from tests.helpers.fake_embeddings import embed_text, token_count
from tests.helpers.loopback import ScriptedHandler
from tests.helpers.model_script import FakeModelServer, Scripted, split_answer

EMBED_MODELS = {"mistral-embed": 1024}
CHAT_MODELS = ("mistral-small-latest", "mistral-large-latest", "ministral-8b-latest")
KEY = "test-mistral-key"
EMBED_MAX_TOKENS = 8192
BATCH_MAX_TOKENS = 16384


def error_body(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    """Mistral's error shape."""
    return {"object": "error", "message": message, "type": kind, "param": None, "code": code}


class _MistralHandler(ScriptedHandler):
    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and
        # delayed ACKs add ~40 ms to every small response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up first (a timeout or a cancel in the test): expected.
            self.close_connection = True

    @property
    def fake(self) -> FakeMistral:
        fake: FakeMistral = self.state["fake"]
        return fake

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {self.fake.key}":
            return True
        self.send_json(401, {"message": "Unauthorized", "request_id": uuid.uuid4().hex})
        return False

    def _scripted(self, path: str) -> Scripted | bool | None:
        script = self.fake.script_state
        if script.latency_s:
            time.sleep(script.latency_s)
        reply = script.take(path)
        if reply is None:
            return None
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.status is None:
            return reply
        body = reply.body
        if body is None:
            body = error_body(f"scripted {reply.status}", "scripted_error")
        if isinstance(body, dict | list):
            self.send_json(reply.status, body, reply.headers)
        else:
            raw = body.encode() if isinstance(body, str) else body
            self.send_bytes(reply.status, raw, "text/plain; charset=utf-8", reply.headers)
        return True

    def do_GET(self) -> None:
        self.record()
        path = self.path.split("?")[0]
        self.fake.script_state.log(path, None)
        if not self._authorised() or self._scripted(path) is True:
            return
        if path == "/v1/models":
            cards = [
                {
                    "id": name,
                    "object": "model",
                    "created": 1_700_000_000,
                    "owned_by": "mistralai",
                    "capabilities": {"completion_chat": name in CHAT_MODELS},
                    "name": name,
                    "max_context_length": 8192 if name in EMBED_MODELS else self.fake.chat_context,
                    "aliases": [],
                    "type": "base",
                }
                for name in [*EMBED_MODELS, *CHAT_MODELS]
            ]
            self.send_json(200, {"object": "list", "data": cards})
        else:
            self.send_json(404, {"detail": "Not Found"})

    def do_POST(self) -> None:
        self.record()
        path = self.path.split("?")[0]
        try:
            body = self.read_json() or {}
        except json.JSONDecodeError:
            self.send_json(400, error_body("Invalid JSON", "invalid_request_error"))
            return
        self.fake.script_state.log(path, body)
        if not self._authorised():
            return
        scripted = self._scripted(path)
        if scripted is True:
            return
        extra = scripted or None
        if path == "/v1/embeddings":
            self._embeddings(body, extra)
        elif path == "/v1/chat/completions":
            self._chat(body, extra)
        else:
            self.send_json(404, {"detail": "Not Found"})

    def _invalid_model(self, name: str) -> None:
        self.send_json(400, error_body(f"Invalid model: {name}", "invalid_model", "1500"))

    def _embeddings(self, body: dict[str, Any], extra: Scripted | None) -> None:
        name = str(body.get("model", ""))
        dims = EMBED_MODELS.get(name)
        if dims is None:
            self._invalid_model(name)
            return
        raw = body.get("input", body.get("inputs", []))
        texts = [raw] if isinstance(raw, str) else list(raw)
        counts = [token_count(t) for t in texts]
        if any(c > self.fake.embed_max_tokens for c in counts):
            longest = max(counts)
            self.send_json(
                400,
                error_body(
                    f"Input is too long. Max length is {self.fake.embed_max_tokens} got {longest}",
                    "invalid_request_error",
                ),
            )
            return
        if sum(counts) > self.fake.batch_max_tokens:
            self.send_json(
                400,
                error_body(
                    "Too many tokens overall, split into more batches.", "invalid_request_error"
                ),
            )
            return
        if extra and extra.dimensions:
            dims = extra.dimensions
        vectors = [embed_text(t, dims) for t in texts]
        if extra and extra.count is not None:
            vectors = vectors[: extra.count]
        with self.fake.script_state.lock:
            self.fake.embedded_texts.extend(texts)
        self.send_json(
            200,
            {
                "id": uuid.uuid4().hex,
                "object": "list",
                "model": name,
                "usage": {
                    "prompt_tokens": sum(counts),
                    "total_tokens": sum(counts),
                    "completion_tokens": 0,
                },
                "data": [
                    {"object": "embedding", "embedding": v, "index": i}
                    for i, v in enumerate(vectors)
                ],
            },
        )

    def _chat(self, body: dict[str, Any], extra: Scripted | None) -> None:
        name = str(body.get("model", ""))
        if name not in CHAT_MODELS:
            self._invalid_model(name)
            return
        messages = list(body.get("messages") or [])
        prompt_tokens = sum(token_count(str(m.get("content", ""))) for m in messages)
        if prompt_tokens > self.fake.chat_context:
            self.send_json(
                400,
                error_body(
                    f"Prompt contains {prompt_tokens} tokens, too large for model with "
                    f"{self.fake.chat_context} maximum context length",
                    "invalid_request_error",
                ),
            )
            return
        if self.fake.script_state.chat_delay_s:
            time.sleep(self.fake.script_state.chat_delay_s)
        answer = self.fake.script_state.answer(messages)
        pieces = split_answer(answer)
        ident = uuid.uuid4().hex
        created = int(time.time())
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(pieces),
            "total_tokens": prompt_tokens + len(pieces),
        }
        if not body.get("stream"):
            self.send_json(
                200,
                {
                    "id": ident,
                    "object": "chat.completion",
                    "created": created,
                    "model": name,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": answer},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                },
            )
            return

        def chunk(delta: dict[str, Any], finish: str | None, with_usage: bool) -> dict[str, Any]:
            data: dict[str, Any] = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": name,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if with_usage:
                data["usage"] = usage
            return data

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        delay = self.fake.script_state.chunk_delay_s
        if extra and extra.chunk_delay_s is not None:
            delay = extra.chunk_delay_s
        try:
            self._event(chunk({"role": "assistant", "content": ""}, None, False))
            for i, piece in enumerate(pieces):
                if extra and extra.close_after == i:
                    self.close_connection = True
                    return
                if extra and extra.stream_error_after == i:
                    # Mistral reports a failure mid-stream as an event with an error body.
                    self._event(error_body("Internal server error", "internal_error"))
                    self._end()
                    return
                self._event(chunk({"content": piece}, None, False))
                if delay:
                    time.sleep(delay)
            self._event(chunk({"content": ""}, "stop", not self.fake.omit_usage))
            self._raw(b"data: [DONE]\n\n")
            self._end()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            with self.fake.script_state.lock:
                self.fake.disconnects += 1

    def _event(self, value: Any) -> None:
        self._raw(b"data: " + json.dumps(value).encode() + b"\n\n")

    def _raw(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class FakeMistral(FakeModelServer):
    """The stand-in server and its script. Start it as a context manager."""

    def __init__(
        self, key: str = KEY, *, chat_delay_s: float = 0.0, latency_s: float = 0.0
    ) -> None:
        super().__init__(_MistralHandler, chat_delay_s=chat_delay_s, latency_s=latency_s)
        self.key = key
        self.embed_max_tokens = EMBED_MAX_TOKENS
        self.batch_max_tokens = BATCH_MAX_TOKENS
        self.chat_context = 32768
        self.omit_usage = False
