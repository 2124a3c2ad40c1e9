"""Model set-up: finding Ollama, downloading a model with progress, the answer model."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from desktop.core.errors import CancelledError, ConfigError, ModelNotFoundError
from desktop.core.jobs import Job, JobEvent
from desktop.core.store.workspace import Workspace
from desktop.services import answers, content, content_sources, model_setup
from desktop.services.backends import Backends
from tests.helpers.backends import test_backends
from tests.helpers.fake_ollama import FakeModel


def test_find_ollama_lists_chat_and_embedding_models(fake_ollama: Any, backends: Backends) -> None:
    found = asyncio.run(model_setup.find_ollama(backends=backends))
    assert found.running and found.host == fake_ollama.url
    assert found.chat_models() == ["llama3.2"]
    assert found.embedding_models() == ["all-minilm", "nomic-embed-text"]
    assert found.has("llama3.2:latest") and not found.has("qwen3")


def test_no_ollama_says_how_to_start_it() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    found = asyncio.run(model_setup.find_ollama(test_backends(ollama=f"http://127.0.0.1:{port}")))
    assert not found.running and "ollama serve" in found.problem


def test_pull_a_missing_model_with_progress(fake_ollama: Any, backends: Backends) -> None:
    fake_ollama.remove_model("llama3.2")
    fake_ollama.pull_steps = 4
    events: list[JobEvent] = []
    job = Job("Download", listeners=[events.append])
    summary = asyncio.run(model_setup.pull_ollama_model("ollama:llama3.2", job, backends=backends))
    assert summary == "Downloaded llama3.2."
    assert "llama3.2" in fake_ollama.models
    body = fake_ollama.calls("/api/pull")[0]
    assert body["model"] == "llama3.2" and body["stream"] is True
    counted = [e.done for e in events if e.total == fake_ollama.pull_bytes]
    assert (
        counted[-1] == fake_ollama.pull_bytes and counted == sorted(counted) and len(counted) >= 4
    )
    assert events[-1].message == "success"
    assert asyncio.run(model_setup.find_ollama(backends=backends)).has("llama3.2")


def test_pull_an_unknown_model_names_it(fake_ollama: Any, backends: Backends) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        asyncio.run(
            model_setup.pull_ollama_model("no-such-model", Job("Download"), backends=backends)
        )
    assert "no-such-model" in caught.value.message and "ollama.com/library" in caught.value.hint


def test_a_cancelled_pull_stops(fake_ollama: Any, backends: Backends) -> None:
    fake_ollama.library["big"] = FakeModel("big")
    fake_ollama.pull_steps, fake_ollama.pull_delay_s = 20, 0.02
    job = Job("Download")
    job.listeners.append(lambda event: job.cancel() if event.done else None)
    with pytest.raises(CancelledError):
        asyncio.run(model_setup.pull_ollama_model("big", job, backends=backends))
    assert 0 < job.done < fake_ollama.pull_bytes
    assert "big" not in fake_ollama.models  # the server stopped when the client left


def test_set_answer_model_changes_the_chosen_profiles(workspace: Workspace) -> None:
    answers.set_profile(workspace, "careful", generator="ollama:llama3.2")
    model_setup.set_answer_model(workspace, "mistral:mistral-small-latest", [])
    assert answers.get_profile(workspace, "default").generator == "mistral:mistral-small-latest"
    assert answers.get_profile(workspace, "careful").generator == "ollama:llama3.2"
    model_setup.set_answer_model(workspace, "ollama:qwen3", ["careful", "default"])
    assert answers.get_profile(workspace, "careful").generator == "ollama:qwen3"
    assert answers.get_profile(workspace, "default").generator == "ollama:qwen3"
    with pytest.raises(ConfigError):
        model_setup.set_answer_model(workspace, "none", ["default"])
    assert answers.get_profile(workspace, "default").generator == "ollama:qwen3"


def test_embedder_cost_before_and_after_passages(workspace: Workspace, backends: Backends) -> None:
    line = model_setup.embedder_cost(workspace, "ollama:nomic-embed-text")
    assert "free" in line and "first sync" in line
    assert "nothing to embed" in model_setup.embedder_cost(workspace, "none")
    assert "Unknown embedder" in model_setup.embedder_cost(workspace, "nonsense")
    content_sources.add_text(workspace, "Hours", "We open at nine.")
    asyncio.run(content.sync(workspace, Job("sync"), backends=backends))
    assert "1 of 1 passage(s) to embed" in model_setup.embedder_cost(
        workspace, "mistral:mistral-embed"
    )
