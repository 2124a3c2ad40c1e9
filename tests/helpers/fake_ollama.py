"""A stand-in Ollama server on 127.0.0.1 speaking Ollama's real HTTP API.

Endpoints: GET /api/version, GET /api/tags, POST /api/show, POST /api/embed (batched),
POST /api/pull (NDJSON progress lines; a model in `fake.library` is then "pulled"),
POST /api/embeddings (the old single-prompt one), POST /api/chat (NDJSON streaming, the
final `done` line carrying prompt_eval_count/eval_count; or one JSON body with
"stream": false). Errors come in Ollama's shape: {"error": "..."} with its status codes
(404 for a model not pulled, 400 for an input over the context length).

    with FakeOllama() as fake:                    # or the `fake_ollama` fixture
        fake.script("/api/embed", Scripted(status=500, body={"error": "boom"}))
        fake.chat_answer = "Twelve [1]."
        ... OLLAMA_HOST=fake.url ...
        fake.calls("/api/embed")                  # request bodies seen

Embeddings are `fake_embeddings.embed_text(text, model.dimensions)`.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Any

from tests.helpers.fake_embeddings import embed_text, token_count
from tests.helpers.loopback import ScriptedHandler
from tests.helpers.model_script import FakeModelServer, Scripted, split_answer


@dataclass
class FakeModel:
    """A model the stand-in has "pulled"."""

    name: str
    dimensions: int | None = None  # None: a chat model (cannot embed)
    context_length: int = 2048
    family: str = "llama"

    @property
    def capabilities(self) -> list[str]:
        return ["embedding"] if self.dimensions else ["completion"]


DEFAULT_MODELS = (
    FakeModel("all-minilm", dimensions=384, context_length=512, family="bert"),
    FakeModel("nomic-embed-text", dimensions=768, context_length=2048, family="nomic-bert"),
    FakeModel("llama3.2", context_length=131072, family="llama"),
)

NOT_FOUND = 'model "{name}" not found, try pulling it first'
PULL_MISSING = "pull model manifest: file does not exist"
TOO_LONG = "the input length exceeds the context length"


def _bare(name: str) -> str:
    return name[: -len(":latest")] if name.endswith(":latest") else name


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())


class _OllamaHandler(ScriptedHandler):
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
    def fake(self) -> FakeOllama:
        fake: FakeOllama = self.state["fake"]
        return fake

    def do_GET(self) -> None:
        self.record()
        path = self.path.split("?")[0]
        self.fake.script_state.log(path, None)
        if self._scripted_error(path):
            return
        if path == "/api/version":
            self.send_json(200, {"version": self.fake.version})
        elif path == "/api/tags":
            self.send_json(200, {"models": [self.fake.tag(m) for m in self.fake.models.values()]})
        elif path == "/":
            self.send_bytes(200, b"Ollama is running")
        else:
            self.send_bytes(404, b"404 page not found")

    def do_POST(self) -> None:
        self.record()
        path = self.path.split("?")[0]
        try:
            body = self.read_json() or {}
        except json.JSONDecodeError:
            self.send_json(400, {"error": "invalid character in request body"})
            return
        self.fake.script_state.log(path, body)
        scripted = self._scripted_error(path)
        if scripted is True:
            return
        extra = scripted or None
        if path == "/api/show":
            self._show(body)
        elif path == "/api/embed":
            self._embed(body, extra)
        elif path == "/api/embeddings":
            self._embeddings(body, extra)
        elif path == "/api/chat":
            self._chat(body, extra)
        elif path == "/api/pull":
            self._pull(body)
        else:
            self.send_bytes(404, b"404 page not found")

    # -- scripting ------------------------------------------------------------------------
    def _scripted_error(self, path: str) -> Scripted | bool | None:
        """True if a scripted error was sent; a Scripted to apply to a normal answer."""
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
        if isinstance(body, dict | list):
            self.send_json(reply.status, body, reply.headers)
        else:
            raw = body.encode() if isinstance(body, str) else (body or b"")
            self.send_bytes(reply.status, raw, "text/plain; charset=utf-8", reply.headers)
        return True

    def _model(self, body: dict[str, Any]) -> FakeModel | None:
        name = str(body.get("model") or body.get("name") or "")
        model = self.fake.models.get(_bare(name))
        if model is None:
            self.send_json(404, {"error": NOT_FOUND.format(name=name)})
        return model

    # -- endpoints ------------------------------------------------------------------------
    def _show(self, body: dict[str, Any]) -> None:
        name = str(body.get("model") or body.get("name") or "")
        model = self.fake.models.get(_bare(name))
        if model is None:
            self.send_json(404, {"error": f"model '{name}' not found"})
            return
        info: dict[str, Any] = {
            "general.architecture": model.family,
            f"{model.family}.context_length": model.context_length,
        }
        if model.dimensions:
            info[f"{model.family}.embedding_length"] = model.dimensions
        self.send_json(
            200,
            {
                "modelfile": f"FROM {model.name}\n",
                "parameters": "",
                "template": "{{ .Prompt }}",
                "details": self.fake.details(model),
                "model_info": info,
                "capabilities": model.capabilities,
                "modified_at": _now(),
            },
        )

    def _vectors(self, model: FakeModel, texts: list[str], extra: Scripted | None) -> Any:
        dims = (extra.dimensions if extra and extra.dimensions else None) or model.dimensions
        assert dims is not None
        vectors = [embed_text(t, dims) for t in texts]
        if extra and extra.count is not None:
            vectors = vectors[: extra.count]
        return vectors

    def _too_long(self, model: FakeModel, texts: list[str], truncate: Any) -> bool:
        refuses = truncate is False or not self.fake.honours_truncate
        return refuses and any(token_count(t) > model.context_length for t in texts)

    def _embed(self, body: dict[str, Any], extra: Scripted | None) -> None:
        model = self._model(body)
        if model is None:
            return
        if not model.dimensions:
            self.send_json(400, {"error": f'"{model.name}" does not support embeddings'})
            return
        raw = body.get("input", "")
        texts = [raw] if isinstance(raw, str) else list(raw)
        if self._too_long(model, texts, body.get("truncate")):
            self.send_json(400, {"error": TOO_LONG})
            return
        with self.fake.script_state.lock:
            self.fake.embedded_texts.extend(texts)
        self.send_json(
            200,
            {
                "model": model.name,
                "embeddings": self._vectors(model, texts, extra),
                "total_duration": 14_143_917,
                "load_duration": 1_019_500,
                "prompt_eval_count": sum(token_count(t) for t in texts),
            },
        )

    def _embeddings(self, body: dict[str, Any], extra: Scripted | None) -> None:
        model = self._model(body)
        if model is None or not model.dimensions:
            if model is not None:
                self.send_json(400, {"error": f'"{model.name}" does not support embeddings'})
            return
        text = str(body.get("prompt") or "")
        self.send_json(200, {"embedding": self._vectors(model, [text], extra)[0]})

    def _chat(self, body: dict[str, Any], extra: Scripted | None) -> None:
        model = self._model(body)
        if model is None:
            return
        if model.dimensions:
            self.send_json(400, {"error": f'"{model.name}" does not support chat'})
            return
        messages = list(body.get("messages") or [])
        if self.fake.script_state.chat_delay_s:
            time.sleep(self.fake.script_state.chat_delay_s)
        answer = self.fake.script_state.answer(messages)
        prompt_tokens = sum(token_count(str(m.get("content", ""))) for m in messages)
        pieces = split_answer(answer)
        final = {
            "model": model.name,
            "created_at": _now(),
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "total_duration": 4_935_886_791,
            "load_duration": 534_986_708,
            "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": 107_345_000,
            "eval_count": len(pieces),
            "eval_duration": 4_289_432_000,
        }
        if body.get("stream") is False:
            final["message"] = {"role": "assistant", "content": answer}
            self.send_json(200, final)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        delay = self.fake.script_state.chunk_delay_s
        if extra and extra.chunk_delay_s is not None:
            delay = extra.chunk_delay_s
        try:
            for i, piece in enumerate(pieces):
                if extra and extra.stream_error_after == i:
                    self._chunk({"error": "an error was encountered while running the model"})
                    self._end_chunks()
                    return
                if extra and extra.close_after == i:
                    self.close_connection = True
                    self.wfile.flush()
                    return
                line = {
                    "model": model.name,
                    "created_at": _now(),
                    "message": {"role": "assistant", "content": piece},
                    "done": False,
                }
                self._chunk(line)
                if delay:
                    time.sleep(delay)
            self._chunk(final)
            self._end_chunks()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (cancelled): fine
            with self.fake.script_state.lock:
                self.fake.disconnects += 1

    def _pull(self, body: dict[str, Any]) -> None:
        """Ollama's pull: progress lines, then "success"; an unknown name is an error line."""
        name = _bare(str(body.get("model") or body.get("name") or ""))
        model = self.fake.library.get(name)
        if body.get("stream") is False:
            if model is None:
                self.send_json(500, {"error": PULL_MISSING})
                return
            self.fake.add_model(model)
            self.send_json(200, {"status": "success"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._chunk({"status": "pulling manifest"})
        if model is None:
            self._chunk({"error": PULL_MISSING})
            self._end_chunks()
            return
        total, steps = self.fake.pull_bytes, self.fake.pull_steps
        digest = "sha256:" + "ab" * 32
        for step in range(steps + 1):
            done = total * step // steps
            line = {"status": f"pulling {digest[7:19]}", "digest": digest, "total": total}
            self._chunk({**line, "completed": done})
            if self.fake.pull_delay_s:
                time.sleep(self.fake.pull_delay_s)
        for status in ("verifying sha256 digest", "writing manifest", "success"):
            self._chunk({"status": status})
        self.fake.add_model(model)
        self._end_chunks()

    def _chunk(self, value: Any) -> None:
        data = json.dumps(value).encode() + b"\n"
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_chunks(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class FakeOllama(FakeModelServer):
    """The stand-in server and its script. Start it as a context manager."""

    def __init__(
        self,
        models: tuple[FakeModel, ...] = DEFAULT_MODELS,
        *,
        chat_delay_s: float = 0.0,
        latency_s: float = 0.0,
    ) -> None:
        super().__init__(_OllamaHandler, chat_delay_s=chat_delay_s, latency_s=latency_s)
        self.models: dict[str, FakeModel] = {m.name: m for m in models}
        self.version = "0.12.6"
        # Some Ollama versions ignored `truncate` and answered 400 for a long input.
        self.honours_truncate = True
        # What /api/pull can download (ollama.com's library), and how the download goes.
        self.library: dict[str, FakeModel] = {m.name: m for m in DEFAULT_MODELS}
        self.pull_bytes = 2_019_393_189
        self.pull_steps = 4
        self.pull_delay_s = 0.0

    # -- models -------------------------------------------------------------------------
    def add_model(self, model: FakeModel) -> None:
        self.models[model.name] = model

    def remove_model(self, name: str) -> None:
        self.models.pop(name, None)

    # -- wire shapes --------------------------------------------------------------------
    def details(self, model: FakeModel) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": model.family,
            "families": [model.family],
            "parameter_size": "23M" if model.dimensions else "3.2B",
            "quantization_level": "F16" if model.dimensions else "Q4_K_M",
        }

    def tag(self, model: FakeModel) -> dict[str, Any]:
        return {
            "name": f"{model.name}:latest",
            "model": f"{model.name}:latest",
            "modified_at": _now(),
            "size": 45_960_996,
            "digest": "1b226e2802dbb772b5fc32a58f103ca1804ef7501331012de126ab22f67475ef",
            "details": self.details(model),
        }
