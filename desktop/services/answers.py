"""Answers and the test bench as the UI and the CLI use them: profiles, ask, ask_pair, test runs.

Joins the answering core to the two things it does not know: the model back-ends
(desktop.providers) and the search (desktop.services.index). Both are reached through the
caller's `Backends`; tests pass ones that point at loopback stand-ins.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from desktop.core.answering import profiles as profile_store
from desktop.core.answering import runreview, testbench, testruns
from desktop.core.answering.citations import CITATION_PATTERN, cited_numbers
from desktop.core.answering.engine import ChatModel, ModelDelta, ModelUsage, answer_question
from desktop.core.answering.types import (
    DEFAULT_TEST_CONCURRENCY,
    AnswerProfile,
    AnswerResult,
    RetrievedPassage,
)
from desktop.core.errors import ConfigError
from desktop.core.jobs import Job
from desktop.core.model_specs import parse_model_spec
from desktop.core.source_ref import SourceRef
from desktop.core.store.workspace import Workspace
from desktop.providers.base import ChatMessage, GenerationSettings, Generator, TextDelta, Usage
from desktop.services import index
from desktop.services.backends import Backends

__all__ = [
    "CITATION_PATTERN",
    "AnswerProfile",
    "AnswerResult",
    "ask",
    "ask_pair",
    "cited_numbers",
    "compare_last_runs",
    "export_test_set",
    "get_profile",
    "import_test_set",
    "list_profiles",
    "list_questions",
    "list_runs",
    "run_tests",
    "set_profile",
]

DEFAULT_CONCURRENCY = DEFAULT_TEST_CONCURRENCY
TestQuestion = testbench.TestQuestion


# -- the two back-ends -------------------------------------------------------------------
class GeneratorModel:
    """A providers Generator seen as the answering core's ChatModel."""

    def __init__(self, generator: Generator) -> None:
        self.generator = generator
        self.name = str(generator.spec)
        self.context_tokens = generator.context_tokens

    async def stream(
        self, system: str, user: str, *, temperature: float, max_tokens: int
    ) -> AsyncIterator[ModelDelta | ModelUsage]:
        messages = [ChatMessage("system", system), ChatMessage("user", user)]
        settings = GenerationSettings(temperature=temperature, max_tokens=max_tokens)
        async for event in self.generator.stream(messages, settings):
            if isinstance(event, TextDelta):
                yield ModelDelta(event.text)
            elif isinstance(event, Usage):
                yield ModelUsage(event.prompt_tokens, event.completion_tokens)


class ModelPool:
    """One client per model, shared by the questions of a pair or a run (and by nothing
    longer-lived: a client may hold connections of the event loop that made it)."""

    def __init__(self, backends: Backends) -> None:
        self.backends = backends
        self._models: dict[str, ChatModel] = {}

    def model(self, spec_text: str) -> ChatModel:
        if spec_text not in self._models:
            spec = parse_model_spec(spec_text, what="generator")
            if spec is None:
                raise ConfigError("This profile has no generator.", hint="Set one: ollama:MODEL.")
            self._models[spec_text] = GeneratorModel(self.backends.generator(spec))
        return self._models[spec_text]


async def _find(
    backends: Backends, target: Any, query: str, *, k: int, mode: str, min_score: float | None
) -> Sequence[Any]:
    """The passages for an answer: the backends' search seam, else the index's search."""
    if backends.search is not None:
        return await backends.search(target, query, k, mode, min_score)
    hits: Sequence[Any] = await index.search(
        target, query, k=k, mode=mode, min_score=min_score, backends=backends
    )
    return hits


def _as_passage(hit: Any) -> RetrievedPassage:
    source = hit.source
    if not isinstance(source, SourceRef):  # a search stand-in may hand over the JSON shape
        source = SourceRef.from_json(source or {})
    return RetrievedPassage(
        chunk_id=int(hit.chunk_id),
        text=str(hit.text),
        heading=str(getattr(hit, "heading", "") or ""),
        score=float(hit.score),
        source=source,
    )


# -- profiles --------------------------------------------------------------------------
def list_profiles(ws: Workspace) -> list[AnswerProfile]:
    return profile_store.list_profiles(ws)


def get_profile(ws: Workspace, name: str) -> AnswerProfile:
    return profile_store.get_profile(ws, name)


def set_profile(ws: Workspace, name: str, **changes: Any) -> AnswerProfile:
    """Create or change a profile. Settings: generator, system_prompt, mode, k, min_score,
    temperature, max_tokens, refusal."""
    return profile_store.update_profile(ws, name, **changes)


def create_profile(ws: Workspace, profile: AnswerProfile) -> AnswerProfile:
    """A new profile with these settings; refuses a name already taken."""
    return profile_store.create_profile(ws, profile)


def rename_profile(ws: Workspace, old: str, new: str) -> AnswerProfile:
    return profile_store.rename_profile(ws, old, new)


def delete_profile(ws: Workspace, name: str) -> AnswerProfile:
    """Delete a profile (never `default`); what is returned re-creates it (undo)."""
    return profile_store.delete_profile(ws, name)


def restore_profile(ws: Workspace, profile: AnswerProfile) -> AnswerProfile:
    return profile_store.save_profile(ws, profile)


def default_system_prompt() -> str:
    from desktop.core.answering.prompt import default_system_prompt as shipped

    return shipped()


# -- asking ----------------------------------------------------------------------------
async def ask(
    ws: Workspace,
    question: str,
    *,
    profile: str | AnswerProfile = "default",
    on_delta: Callable[[str], None] | None = None,
    backends: Backends,
    models: ModelPool | None = None,
    search_target: Any = None,
) -> AnswerResult:
    """Answer one question with one profile (a saved name, or unsaved settings).
    `models`: the clients to reuse (a pair or a run shares one pool)."""
    if not question.strip():
        raise ConfigError("Type a question first.")
    chosen = profile if isinstance(profile, AnswerProfile) else get_profile(ws, profile)
    chosen = profile_store.validate_profile(chosen)
    models = models or ModelPool(backends)
    target = ws if search_target is None else search_target
    notes: list[str] = []
    if search_target is None and chosen.mode != "keyword" and ws.setting("embedder") == "none":
        # Without an embedder there are no vectors: keyword search is all there is.
        chosen = replace(chosen, mode="keyword")
        notes.append("the workspace has no embedder: keyword search was used")

    async def retrieve(
        query: str, k: int, mode: str, min_score: float | None
    ) -> list[RetrievedPassage]:
        hits = await _find(backends, target, query, k=k, mode=mode, min_score=min_score)
        return [_as_passage(h) for h in hits]

    result = await answer_question(
        question.strip(),
        chosen,
        retrieve=retrieve,
        make_model=models.model,
        prices=backends.price_table(),
        on_delta=on_delta,
    )
    result.notes[:0] = notes
    return result


async def ask_pair(
    ws: Workspace,
    question: str,
    profile_a: str | AnswerProfile,
    profile_b: str | AnswerProfile,
    on_delta: Callable[[str, str], None] | None = None,
    *,
    backends: Backends,
) -> tuple[AnswerResult, AnswerResult]:
    """Both profiles answer at once; `on_delta(side, text)` with side "a" or "b"."""
    models = ModelPool(backends)

    def side(name: str) -> Callable[[str], None] | None:
        if on_delta is None:
            return None
        return lambda text: on_delta(name, text)

    first, second = await asyncio.gather(
        ask(ws, question, profile=profile_a, on_delta=side("a"), backends=backends, models=models),
        ask(ws, question, profile=profile_b, on_delta=side("b"), backends=backends, models=models),
    )
    return first, second


# -- test sets -------------------------------------------------------------------------
def import_test_set(ws: Workspace, path: Path | str) -> testbench.ImportReport:
    """Add a CSV/JSONL file's questions; a file with a bad row is refused whole."""
    return testbench.save_questions(ws, testbench.read_test_file(Path(path)))


def export_test_set(ws: Workspace, path: Path | str) -> int:
    questions = testbench.list_questions(ws)
    testbench.write_test_file(Path(path), questions)
    return len(questions)


def list_questions(ws: Workspace) -> list[testbench.TestQuestion]:
    return testbench.list_questions(ws)


def add_question(ws: Workspace, question: testbench.TestQuestion) -> testbench.ImportReport:
    """Add one question; when it is already saved, what it states is added to the saved
    expectations and nothing is wiped (`unchanged` says there was nothing to add)."""
    return testbench.save_questions(ws, [question], merge=True)


def get_question(ws: Workspace, question_id: int) -> testbench.TestQuestion:
    return testbench.get_question(ws, question_id)


def update_question(
    ws: Workspace, question_id: int, question: testbench.TestQuestion
) -> testbench.TestQuestion:
    return testbench.update_question(ws, question_id, question)


def delete_questions(ws: Workspace, ids: Sequence[int]) -> list[testbench.DeletedQuestion]:
    """Delete exactly these questions; what is returned puts them back (undo)."""
    return testbench.delete_questions(ws, ids)


def restore_questions(ws: Workspace, deleted: Sequence[testbench.DeletedQuestion]) -> None:
    testbench.restore_questions(ws, deleted)


def open_bundle_target(bundle: Path | str) -> Any:
    """The search target for a built bundle file, served by the same search code."""
    path = Path(bundle)
    if not path.is_file():
        raise ConfigError(f"No bundle file at {path}.")
    return index.open_bundle(path)


async def run_tests(
    ws: Workspace,
    job: Job,
    profiles: Sequence[str | AnswerProfile] = ("default",),
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    bundle: Path | str | None = None,
    backends: Backends,
) -> testruns.RunReport:
    """Run the saved test set against each profile as a background job."""
    chosen = [p if isinstance(p, AnswerProfile) else get_profile(ws, p) for p in profiles]
    models = ModelPool(backends)
    target: Any = None
    target_name = "workspace"
    if bundle is not None:
        target = open_bundle_target(bundle)
        target_name = f"bundle:{Path(bundle).resolve()}"

    async def answer(question: str, profile: AnswerProfile) -> AnswerResult:
        return await ask(
            ws, question, profile=profile, backends=backends, models=models, search_target=target
        )

    return await testruns.run_test_set(
        ws, job, chosen, answer, concurrency=concurrency, target=target_name
    )


def bench_state(ws: Workspace) -> int:
    return testruns.bench_state(ws)


def list_runs(ws: Workspace) -> list[testruns.RunInfo]:
    return testruns.list_runs(ws)


def run_results(ws: Workspace, run_id: int) -> list[testruns.RunResult]:
    return testruns.run_results(ws, run_id)


def compare_runs(ws: Workspace, previous_id: int, current_id: int) -> runreview.RunComparison:
    return runreview.compare_runs(ws, previous_id, current_id)


def compare_last_runs(ws: Workspace) -> runreview.RunComparison | None:
    """The newest run against the one before it; None with fewer than two runs."""
    runs = [r for r in testruns.list_runs(ws) if r.status != "running"]
    if len(runs) < 2:
        return None
    return runreview.compare_runs(ws, runs[1].id, runs[0].id)


def explain_checks(result: testruns.RunResult) -> list[str]:
    """Each check of a result in words: what was expected, what happened."""
    return runreview.explain_checks(result)
