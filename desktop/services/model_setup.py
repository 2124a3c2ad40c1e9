"""Setting up the models, for the first-run guide and the model set-up dialog: find a local
Ollama and its models, download a missing one, and choose the workspace's embedder (with its
cost) and the model that answers in the profiles the user picks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from desktop.core.answering.types import AnswerProfile
from desktop.core.errors import BotdeskError, ConfigError
from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace
from desktop.providers import factory
from desktop.providers.retry import redact_url
from desktop.services import answers, index
from desktop.services.backends import Backends

# What the guide proposes when nothing is there yet: small, good, free models.
SUGGESTED_OLLAMA_GENERATOR = "llama3.2"
SUGGESTED_OLLAMA_EMBEDDER = "nomic-embed-text"
MISTRAL_GENERATOR = "mistral:mistral-small-latest"
MISTRAL_EMBEDDER = "mistral:mistral-embed"
# Ollama's list does not say which models embed; these name parts do (all-minilm,
# nomic-embed-text, mxbai-embed-large, bge-m3, snowflake-arctic-embed...).
_EMBEDDING_NAME_PARTS = ("embed", "minilm", "bge", "gte", "e5-")


@dataclass(frozen=True)
class OllamaFound:
    """Whether Ollama answers at its address, and the models it has."""

    host: str
    running: bool
    models: tuple[str, ...] = ()
    problem: str = ""  # what went wrong and what to do, when it is not running

    def chat_models(self) -> list[str]:
        return [m for m in self.models if not is_embedding_model(m)]

    def embedding_models(self) -> list[str]:
        return [m for m in self.models if is_embedding_model(m)]

    def has(self, model: str) -> bool:
        bare = model.removesuffix(":latest")
        return bare in self.models


def is_embedding_model(name: str) -> bool:
    return any(part in name.lower() for part in _EMBEDDING_NAME_PARTS)


async def find_ollama(backends: Backends) -> OllamaFound:
    """Ask the backends' Ollama which models it has."""
    host = redact_url(backends.ollama_host)
    try:
        models = await backends.list_models("ollama")
    except BotdeskError as exc:
        return OllamaFound(host, False, problem=f"{exc.message} {exc.hint}".strip())
    return OllamaFound(host, True, tuple(models))


async def pull_ollama_model(name: str, job: Job, backends: Backends) -> str:
    """Download a model onto the Ollama server as a job: progress in bytes, cancellable."""
    # Here, not at the top: the ollama SDK is not needed to start the window.
    from desktop.providers import ollama_models

    model = name.strip().removeprefix("ollama:")
    if not model:
        raise ConfigError("Type the name of the model to download.", hint="For example llama3.2.")
    job.stage(f"download {model}", unit="bytes")

    def progress(status: str, completed: int | None, total: int | None) -> None:
        job.check()  # a cancel stops the download here
        if total and job.total != total:
            job.set_total(total)
        job.advance(max(0, (completed or 0) - job.done), message=status)

    await ollama_models.pull_model(
        model, progress, policy=backends.retry, host=backends.ollama_host
    )
    return f"Downloaded {model}."


def embedder_cost(ws: Workspace, spec: str) -> str:
    """The embedder's cost for this workspace's passages, in one line for people."""
    try:
        estimate = index.estimate_embedder(ws, spec)
    except BotdeskError as exc:
        return f"{exc.message} {exc.hint}".strip()
    if estimate is None:
        return "Keyword search only: nothing to embed, free."
    if estimate.passages == 0:
        free = spec.startswith("ollama:")
        price = "free (runs on your computer)" if free else "priced per token"
        return f"{spec}: {price}; the cost is known once the first sync has found passages."
    return estimate.line()


def profile_names(ws: Workspace) -> list[str]:
    return [profile.name for profile in answers.list_profiles(ws)]


def set_answer_model(ws: Workspace, spec: str, profiles: Sequence[str]) -> list[AnswerProfile]:
    """Make `spec` the generator of each named profile (the `default` one when none is named)."""
    if factory.parse_model_spec(spec) is None:
        raise ConfigError("Choose the model that answers.", hint="ollama:MODEL or mistral:MODEL.")
    names = list(profiles) or ["default"]
    return [answers.set_profile(ws, name, generator=spec.strip()) for name in names]
