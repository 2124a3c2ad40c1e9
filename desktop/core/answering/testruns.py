"""Test runs: the saved set answered by profiles, each result stored, totalled and compared.

Results cross the layers as frozen dataclasses (`RunResult`, `ProfileTotals`; comparisons
in runreview.py); only the command line turns them into JSON, with `to_json`, in the shape
`botdesk test --json` and `botdesk runs --json` have always printed.
"""

from __future__ import annotations

import asyncio
import json
import statistics
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from desktop.core.answering.testbench import (
    DEFAULT_SET,
    TestQuestion,
    evaluate,
    list_questions,
)
from desktop.core.answering.types import AnswerProfile, AnswerResult, Citation, GivenPassage
from desktop.core.errors import BotdeskError, CancelledError, ConfigError
from desktop.core.jobs import Job
from desktop.core.source_ref import SourceRef
from desktop.core.store.workspace import Workspace, utc_now

AskFunction = Callable[[str, AnswerProfile], Awaitable[AnswerResult]]


@dataclass
class QuestionResult:
    """One question answered by one profile in a run, and how it was judged (in flight)."""

    question: TestQuestion
    result: AnswerResult
    checks: dict[str, bool]

    @property
    def passed(self) -> bool:
        return not self.result.error and all(self.checks.values())


@dataclass(frozen=True)
class RetrievedSource:
    """A passage the search found for the question (what the retrieval check looks at)."""

    chunk_id: int
    source: SourceRef


@dataclass(frozen=True)
class RunResult:
    """One stored result of a run: a question, one profile's answer, and its checks."""

    run_id: int
    question_id: int | None
    question: str
    expected: TestQuestion
    profile: str
    answer: str
    declined: bool
    citations: tuple[Citation, ...]
    invalid_citations: tuple[int, ...]
    passages: tuple[GivenPassage, ...]
    retrieved: tuple[RetrievedSource, ...]
    checks: Mapping[str, bool]
    passed: bool
    error: str
    notes: tuple[str, ...]
    prompt_tokens: int | None
    completion_tokens: int | None
    first_token_s: float | None
    total_s: float | None
    cost: float | None

    @property
    def failed_checks(self) -> list[str]:
        return [name for name, ok in self.checks.items() if not ok]

    def to_json(self) -> dict[str, Any]:
        """The shape of one result in `botdesk test --json`."""
        return {
            "question": self.question,
            "profile": self.profile,
            "expected": self.expected.to_json(),
            "passed": self.passed,
            "checks": dict(self.checks),
            "answer": self.answer,
            "declined": self.declined,
            "citations": [c.to_json() for c in self.citations],
            "invalid_citations": list(self.invalid_citations),
            "passages": [p.to_json() for p in self.passages],
            "tokens": {"prompt": self.prompt_tokens, "completion": self.completion_tokens},
            "latency": {"first_token_s": self.first_token_s, "total_s": self.total_s},
            "cost": self.cost,
            "notes": list(self.notes),
            "error": self.error or None,
        }


@dataclass(frozen=True)
class ProfileTotals:
    """One profile's totals over a run (rates are None when nothing was checked)."""

    questions: int = 0
    passed: int = 0
    errors: int = 0
    retrieval_hits: int = 0
    retrieval_checked: int = 0
    retrieval_hit_rate: float | None = None
    answered: int = 0
    valid_citations: int = 0
    valid_citation_rate: float | None = None
    correct_declines: int = 0
    should_decline: int = 0
    decline_checked: int = 0
    decline_checks_passed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    first_token_s_median: float | None = None
    total_s_median: float | None = None
    total_s_max: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProfileTotals:
        """As stored with a run; a key an older version did not write keeps its default."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class RunReport:
    run_id: int
    status: str
    results: list[QuestionResult] = field(default_factory=list)
    totals: dict[str, ProfileTotals] = field(default_factory=dict)


def compute_totals(rows: Sequence[RunResult]) -> ProfileTotals:
    """Totals of one profile's stored results."""
    checked = [r for r in rows if "retrieval" in r.checks]
    decline_checked = [r for r in rows if "decline" in r.checks]
    answered = [r for r in rows if not r.error and not r.declined]
    firsts = [r.first_token_s for r in rows if r.first_token_s is not None]
    totals_s = [r.total_s for r in rows if r.total_s is not None]
    costs = [r.cost for r in rows if r.cost is not None]

    def rate(n: int, d: int) -> float | None:
        return round(n / d, 4) if d else None

    hits = sum(1 for r in checked if r.checks["retrieval"])
    valid = sum(1 for r in answered if r.citations and not r.invalid_citations)
    should_decline = [r for r in decline_checked if r.expected.should_decline]
    return ProfileTotals(
        questions=len(rows),
        passed=sum(1 for r in rows if r.passed),
        errors=sum(1 for r in rows if r.error),
        retrieval_hits=hits,
        retrieval_checked=len(checked),
        retrieval_hit_rate=rate(hits, len(checked)),
        answered=len(answered),
        valid_citations=valid,
        valid_citation_rate=rate(valid, len(answered)),
        correct_declines=sum(1 for r in should_decline if r.checks["decline"]),
        should_decline=len(should_decline),
        decline_checked=len(decline_checked),
        decline_checks_passed=sum(1 for r in decline_checked if r.checks["decline"]),
        prompt_tokens=sum(r.prompt_tokens or 0 for r in rows),
        completion_tokens=sum(r.completion_tokens or 0 for r in rows),
        cost=round(sum(costs), 6) if costs else (0.0 if not rows else None),
        first_token_s_median=round(statistics.median(firsts), 4) if firsts else None,
        total_s_median=round(statistics.median(totals_s), 4) if totals_s else None,
        total_s_max=round(max(totals_s), 4) if totals_s else None,
    )


# -- storing and reading results -----------------------------------------------------------
def _store_result(ws: Workspace, run_id: int, item: QuestionResult) -> None:
    r = item.result
    ws.execute(
        "insert into test_results(run_id, question_id, question, expected, profile, answer,"
        " declined,"
        "  citations, invalid_citations, passages, retrieved, checks, passed, error, notes,"
        " prompt_tokens, completion_tokens, first_token_s, total_s, cost, created_at)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run_id,
            item.question.id,
            item.question.question,
            json.dumps(item.question.to_json(), ensure_ascii=False),
            r.profile,
            r.answer,
            int(r.declined),
            json.dumps([c.to_json() for c in r.citations], ensure_ascii=False),
            json.dumps(r.invalid_citations),
            json.dumps([p.to_json() for p in r.passages], ensure_ascii=False),
            json.dumps(
                [{"chunk_id": p.chunk_id, "source": p.source.to_json()} for p in r.retrieved],
                ensure_ascii=False,
            ),
            json.dumps(item.checks),
            int(item.passed),
            r.error,
            json.dumps(r.notes, ensure_ascii=False),
            r.prompt_tokens,
            r.completion_tokens,
            r.first_token_s,
            r.total_s,
            r.cost,
            utc_now(),
        ),
    )


def _citation(data: Mapping[str, Any]) -> Citation:
    return Citation(int(data["n"]), int(data["chunk_id"]), SourceRef.from_json(data["source"]))


def _given(data: Mapping[str, Any]) -> GivenPassage:
    return GivenPassage(
        n=int(data["n"]),
        chunk_id=int(data["chunk_id"]),
        text=str(data.get("text") or ""),
        heading=str(data.get("heading") or ""),
        score=float(data.get("score") or 0.0),
        source=SourceRef.from_json(data.get("source") or {}),
    )


def _result_from_row(row: Mapping[str, Any]) -> RunResult:
    retrieved = json.loads(row["retrieved"])
    return RunResult(
        run_id=int(row["run_id"]),
        question_id=None if row["question_id"] is None else int(row["question_id"]),
        question=row["question"],
        expected=TestQuestion.from_json(json.loads(row["expected"])),
        profile=row["profile"],
        answer=row["answer"],
        declined=bool(row["declined"]),
        citations=tuple(_citation(c) for c in json.loads(row["citations"])),
        invalid_citations=tuple(int(n) for n in json.loads(row["invalid_citations"])),
        passages=tuple(_given(p) for p in json.loads(row["passages"])),
        retrieved=tuple(
            RetrievedSource(int(p["chunk_id"]), SourceRef.from_json(p.get("source") or {}))
            for p in retrieved
        ),
        checks={str(k): bool(v) for k, v in json.loads(row["checks"]).items()},
        passed=bool(row["passed"]),
        error=row["error"] or "",
        notes=tuple(str(n) for n in json.loads(row["notes"])),
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        first_token_s=row["first_token_s"],
        total_s=row["total_s"],
        cost=row["cost"],
    )


def run_results(ws: Workspace, run_id: int) -> list[RunResult]:
    """A run's stored results, in the order of the test set."""
    rows = ws.fetch_all(
        "select r.* from test_results r left join test_questions q on q.id = r.question_id"
        " where r.run_id = ? order by q.ordinal is null, q.ordinal, r.question, r.id",
        (run_id,),
    )
    return [_result_from_row(row) for row in rows]


def _totals_by_profile(
    ws: Workspace, run_id: int, profiles: Sequence[str]
) -> dict[str, ProfileTotals]:
    rows = run_results(ws, run_id)
    return {name: compute_totals([r for r in rows if r.profile == name]) for name in profiles}


# -- running -------------------------------------------------------------------------------
def _start_run(ws: Workspace, profiles: Sequence[AnswerProfile], target: str) -> int:
    with ws.transaction():
        ws.execute(
            "insert into test_runs(test_set_id, started_at, target, profiles)"
            " values ((select id from test_sets where name = ?), ?, ?, ?)",
            (
                DEFAULT_SET,
                utc_now(),
                target,
                json.dumps({p.name: p.settings() for p in profiles}, ensure_ascii=False),
            ),
        )
        return ws.last_insert_id()


def _check_run_request(
    profiles: Sequence[AnswerProfile], questions: Sequence[TestQuestion], concurrency: int
) -> None:
    if concurrency < 1:
        raise ConfigError("Concurrency must be at least 1.")
    if not profiles:
        raise ConfigError("Choose at least one profile to run the test set with.")
    if not questions:
        raise ConfigError(
            "The test set is empty.", hint="Import questions with `botdesk test import`."
        )
    names = [p.name for p in profiles]
    if len(set(names)) != len(names):
        raise ConfigError("The same profile is named twice.")


async def run_test_set(
    ws: Workspace,
    job: Job,
    profiles: Sequence[AnswerProfile],
    ask: AskFunction,
    *,
    concurrency: int = 4,
    target: str = "workspace",
    questions: Sequence[TestQuestion] | None = None,
) -> RunReport:
    """Answer every saved question with every profile, at most `concurrency` at once.

    Each result is stored as it arrives; a cancel keeps what was answered and marks the run
    cancelled. A model failure is a failed result (the run goes on), never a crash.
    """
    questions = list(questions) if questions is not None else list_questions(ws)
    _check_run_request(profiles, questions, concurrency)
    run_id = _start_run(ws, profiles, target)
    report = RunReport(run_id, "running")
    work: asyncio.Queue[tuple[TestQuestion, AnswerProfile]] = asyncio.Queue()
    for q in questions:
        for profile in profiles:
            work.put_nowait((q, profile))
    job.stage("Answering", total=work.qsize())
    worker = _worker(ws, job, report, work, ask)
    status = "finished"
    try:
        # A task group: a bug in one worker stops the others instead of leaving them running.
        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, work.qsize())):
                group.create_task(worker())
    except asyncio.CancelledError:
        status = "cancelled"
        raise
    except BaseExceptionGroup as errors:
        status = "failed"
        raise errors.exceptions[0] from None
    finally:
        if status == "finished" and job.cancel_requested:
            status = "cancelled"
        report.status = status
        report.totals = _totals_by_profile(ws, run_id, [p.name for p in profiles])
        ws.execute(
            "update test_runs set status = ?, finished_at = ?, totals = ? where id = ?",
            (status, utc_now(), json.dumps(totals_json(report.totals)), run_id),
        )
    if status == "cancelled":
        raise CancelledError(
            f"Test run cancelled after {len(report.results)} answers; they are kept (run {run_id})."
        )
    job.summary = "; ".join(
        f"{name}: {t.passed}/{t.questions} passed" for name, t in report.totals.items()
    )
    return report


def _worker(
    ws: Workspace,
    job: Job,
    report: RunReport,
    work: asyncio.Queue[tuple[TestQuestion, AnswerProfile]],
    ask: AskFunction,
) -> Callable[[], Coroutine[Any, Any, None]]:
    """One of the `concurrency` workers: answers, judges and stores until the queue is empty
    or the job is cancelled."""

    async def worker() -> None:
        while not work.empty() and not job.cancel_requested:
            question, profile = work.get_nowait()
            try:
                result = await ask(question.question, profile)
            except BotdeskError as exc:  # e.g. a profile setting refused: this item fails
                result = AnswerResult(
                    question=question.question,
                    profile=profile.name,
                    generator=profile.generator,
                    error=str(exc),
                )
            item = QuestionResult(question, result, evaluate(question, result))
            _store_result(ws, report.run_id, item)
            report.results.append(item)
            if result.error:
                job.item_error(f"{profile.name}: {question.question[:80]}", result.error)
            verdict = "pass" if item.passed else "FAIL"
            job.advance(message=f"{verdict} · {profile.name}: {question.question[:60]}")

    return worker


def totals_json(totals: Mapping[str, ProfileTotals]) -> dict[str, Any]:
    return {name: t.to_json() for name, t in totals.items()}


# -- kept runs -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RunInfo:
    id: int
    started_at: str
    finished_at: str | None
    status: str
    target: str
    profiles: dict[str, Any]  # name -> the settings snapshot (AnswerProfile.settings())
    totals: dict[str, ProfileTotals]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": self.status,
            "target": self.target,
            "profiles": self.profiles,
            "totals": totals_json(self.totals),
        }


def list_runs(ws: Workspace) -> list[RunInfo]:
    """Kept runs, newest first."""
    rows = ws.fetch_all("select * from test_runs order by id desc")
    return [
        RunInfo(
            id=int(r["id"]),
            started_at=r["started_at"],
            finished_at=r["finished_at"],
            status=r["status"],
            target=r["target"],
            profiles=json.loads(r["profiles"]),
            totals={
                name: ProfileTotals.from_json(t) for name, t in json.loads(r["totals"]).items()
            },
        )
        for r in rows
    ]


def bench_state(ws: Workspace) -> int:
    """A number that changes when what the Test bench shows changes: the profiles, the
    questions and the runs (a running one's progress too). A window polls it to reload
    what another connection wrote (the command line, a sync's own connection) without
    reloading for every passage a sync stores."""
    rows = ws.fetch_all(
        "select 'p', id, name, updated_at, '' from answer_profiles"
        " union all select 'q', id, question, expected_source,"
        " must_include || must_not_include || coalesce(should_decline, '') from test_questions"
        " union all select 'r', id, status, coalesce(finished_at, ''),"
        " (select count(*) from test_results where run_id = test_runs.id) from test_runs"
    )
    return hash(tuple(tuple(row) for row in rows))
