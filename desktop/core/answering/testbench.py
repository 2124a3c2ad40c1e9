"""Test sets: questions with expectations, their CSV/JSONL files, runs, results and comparisons.

A row has `question` and optionally `expected_source` (a URL or file path, or part of one;
several separated by "|"; "#123" names a passage id), `must_include` and `must_not_include`
(text the answer must / must not contain, case-insensitive; several separated by "|" in
CSV, a list or a string in JSONL) and `should_decline` (true/false). A file with any bad
row is refused as a whole, with every row's reason, so nothing half-imports.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import statistics
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop.core.answering.types import AnswerProfile, AnswerResult
from desktop.core.errors import BotdeskError, CancelledError, ConfigError
from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace, utc_now

DEFAULT_SET = "default"
FIELDS = ("question", "expected_source", "must_include", "must_not_include", "should_decline")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}
MAX_ROW_ERRORS_SHOWN = 20


@dataclass(frozen=True)
class TestQuestion:
    """A saved question and what its answer is expected to do."""

    question: str
    expected_source: str = ""
    must_include: tuple[str, ...] = ()
    must_not_include: tuple[str, ...] = ()
    should_decline: bool | None = None
    id: int | None = None

    __test__ = False  # not a pytest class

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"question": self.question}
        if self.expected_source:
            data["expected_source"] = self.expected_source
        if self.must_include:
            data["must_include"] = list(self.must_include)
        if self.must_not_include:
            data["must_not_include"] = list(self.must_not_include)
        if self.should_decline is not None:
            data["should_decline"] = self.should_decline
        return data


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based line (JSONL) or data row (CSV, after the header)
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


# -- parsing and writing files -------------------------------------------------------
def _parse_bool(value: Any, row: int, errors: list[RowError]) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    errors.append(RowError(row, f"should_decline must be true or false, not {value!r}"))
    return None


def _parse_texts(value: Any, name: str, row: int, errors: list[RowError]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items = value.split("|")
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = value
    else:
        errors.append(RowError(row, f"{name} must be text or a list of texts"))
        return ()
    return tuple(s.strip() for s in items if s.strip())


def _question_from(data: dict[str, Any], row: int, errors: list[RowError]) -> TestQuestion | None:
    before = len(errors)
    unknown = sorted(k for k in data if k not in FIELDS)
    if unknown:
        errors.append(
            RowError(row, f"unknown field(s) {', '.join(unknown)}; expected {', '.join(FIELDS)}")
        )
    question = data.get("question")
    if not isinstance(question, str) or not question.strip():
        errors.append(RowError(row, "question is missing or empty"))
        question = ""
    source = data.get("expected_source") or ""
    if not isinstance(source, str):
        errors.append(RowError(row, "expected_source must be text"))
        source = ""
    include = _parse_texts(data.get("must_include"), "must_include", row, errors)
    exclude = _parse_texts(data.get("must_not_include"), "must_not_include", row, errors)
    decline = _parse_bool(data.get("should_decline"), row, errors)
    if len(errors) > before:
        return None
    return TestQuestion(question.strip(), source.strip(), include, exclude, decline)


def _check_duplicates(questions: list[tuple[int, TestQuestion]], errors: list[RowError]) -> None:
    seen: dict[str, int] = {}
    for row, q in questions:
        key = " ".join(q.question.lower().split())
        if key in seen:
            errors.append(RowError(row, f"the same question as row {seen[key]}"))
        else:
            seen[key] = row


def parse_csv(text: str) -> tuple[list[TestQuestion], list[RowError]]:
    errors: list[RowError] = []
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "question" not in [f.strip() for f in reader.fieldnames]:
        return [], [RowError(0, "the first line must be a header with a `question` column")]
    found: list[tuple[int, TestQuestion]] = []
    for row_number, raw in enumerate(reader, start=1):
        if None in raw:  # more cells than header columns
            errors.append(RowError(row_number, "more cells than the header has columns"))
            continue
        data = {k.strip(): v for k, v in raw.items() if k is not None}
        if not any((v or "").strip() for v in data.values()):
            continue  # blank line
        question = _question_from(data, row_number, errors)
        if question is not None:
            found.append((row_number, question))
    _check_duplicates(found, errors)
    return [q for _, q in found], errors


def parse_jsonl(text: str) -> tuple[list[TestQuestion], list[RowError]]:
    errors: list[RowError] = []
    found: list[tuple[int, TestQuestion]] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(RowError(line_number, f"not valid JSON ({exc.msg})"))
            continue
        if not isinstance(data, dict):
            errors.append(RowError(line_number, "each line must be a JSON object"))
            continue
        question = _question_from(data, line_number, errors)
        if question is not None:
            found.append((line_number, question))
    _check_duplicates(found, errors)
    return [q for _, q in found], errors


def read_test_file(path: Path) -> list[TestQuestion]:
    """Parse a .csv or .jsonl test set; ConfigError listing every bad row."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise ConfigError(
            f"{path.name}: unknown test set format.", hint="Use a .csv or .jsonl file."
        )
    try:
        text = path.read_bytes().decode("utf-8-sig")  # Excel writes a BOM
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path.name} is not UTF-8 text.", hint="Save it as UTF-8 (CSV UTF-8 in Excel)."
        ) from exc
    questions, errors = parse_csv(text) if suffix == ".csv" else parse_jsonl(text)
    if errors:
        shown = "; ".join(str(e) for e in errors[:MAX_ROW_ERRORS_SHOWN])
        more = len(errors) - MAX_ROW_ERRORS_SHOWN
        extra = f"; and {more} more" if more > 0 else ""
        raise ConfigError(
            f"{path.name}: {len(errors)} bad row(s), nothing imported: {shown}{extra}.",
            hint="Fix the rows and import again.",
        )
    if not questions:
        raise ConfigError(f"{path.name} has no questions.")
    return questions


def write_test_file(path: Path, questions: Sequence[TestQuestion]) -> None:
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        lines = [json.dumps(q.to_json(), ensure_ascii=False) for q in questions]
        text = "\n".join(lines) + ("\n" if lines else "")
    elif suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(FIELDS)
        for q in questions:
            decline = "" if q.should_decline is None else str(q.should_decline).lower()
            writer.writerow(
                [
                    q.question,
                    q.expected_source,
                    " | ".join(q.must_include),
                    " | ".join(q.must_not_include),
                    decline,
                ]
            )
        text = buffer.getvalue()
    else:
        raise ConfigError(f"{path.name}: unknown format.", hint="Export to .csv or .jsonl.")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot write {path}: {exc.strerror or exc}.") from exc


# -- the saved set ---------------------------------------------------------------------
def _set_id(ws: Workspace, name: str = DEFAULT_SET) -> int:
    found = ws.scalar("select id from test_sets where name = ?", (name,))
    if found is not None:
        return int(found)
    ws.execute("insert into test_sets(name, created_at) values (?, ?)", (name, utc_now()))
    return ws.last_insert_id()


def list_questions(ws: Workspace) -> list[TestQuestion]:
    rows = ws.fetch_all(
        "select q.* from test_questions q join test_sets s on s.id = q.test_set_id"
        " where s.name = ? order by q.ordinal, q.id",
        (DEFAULT_SET,),
    )
    return [
        TestQuestion(
            question=r["question"],
            expected_source=r["expected_source"],
            must_include=tuple(json.loads(r["must_include"])),
            must_not_include=tuple(json.loads(r["must_not_include"])),
            should_decline=None if r["should_decline"] is None else bool(r["should_decline"]),
            id=int(r["id"]),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class ImportReport:
    added: int
    updated: int
    total: int


def save_questions(ws: Workspace, questions: Sequence[TestQuestion]) -> ImportReport:
    """Add the questions to the set; one with the same text replaces its expectations."""
    added = updated = 0
    with ws.transaction():
        set_id = _set_id(ws)
        existing = {
            " ".join(str(r["question"]).lower().split()): int(r["id"])
            for r in ws.fetch_all(
                "select id, question from test_questions where test_set_id = ?", (set_id,)
            )
        }
        ordinal = int(
            ws.scalar(
                "select coalesce(max(ordinal), 0) from test_questions where test_set_id = ?",
                (set_id,),
            )
        )
        for q in questions:
            values = (
                q.expected_source,
                json.dumps(list(q.must_include), ensure_ascii=False),
                json.dumps(list(q.must_not_include), ensure_ascii=False),
                None if q.should_decline is None else int(q.should_decline),
            )
            key = " ".join(q.question.lower().split())
            if key in existing:
                ws.execute(
                    "update test_questions set expected_source = ?, must_include = ?,"
                    " must_not_include = ?, should_decline = ? where id = ?",
                    (*values, existing[key]),
                )
                updated += 1
            else:
                ordinal += 1
                ws.execute(
                    "insert into test_questions(test_set_id, ordinal, question, expected_source,"
                    " must_include, must_not_include, should_decline, created_at)"
                    " values (?, ?, ?, ?, ?, ?, ?, ?)",
                    (set_id, ordinal, q.question, *values, utc_now()),
                )
                existing[key] = ws.last_insert_id()
                added += 1
        total = int(
            ws.scalar("select count(*) from test_questions where test_set_id = ?", (set_id,))
        )
    return ImportReport(added, updated, total)


def delete_questions(ws: Workspace, ids: Sequence[int]) -> None:
    with ws.transaction():
        for question_id in ids:
            ws.execute("delete from test_questions where id = ?", (question_id,))


# -- judging one answer --------------------------------------------------------------
def _source_matches(item: str, result: AnswerResult) -> bool:
    wanted = item.strip().lower()
    if wanted.startswith("#") and wanted[1:].isdigit():
        return any(p.chunk_id == int(wanted[1:]) for p in result.retrieved)
    return any(wanted in p.location.lower() for p in result.retrieved)


def evaluate(question: TestQuestion, result: AnswerResult) -> dict[str, bool]:
    """Pass/fail per expectation the question states (an unstated one is not checked)."""
    checks: dict[str, bool] = {}
    if question.expected_source:
        items = [s for s in question.expected_source.split("|") if s.strip()]
        checks["retrieval"] = any(_source_matches(s, result) for s in items)
    answer = result.answer.lower()
    if question.must_include:
        checks["must_include"] = all(s.lower() in answer for s in question.must_include)
    if question.must_not_include:
        checks["must_not_include"] = not any(s.lower() in answer for s in question.must_not_include)
    if question.should_decline is not None:
        checks["decline"] = not result.error and result.declined == question.should_decline
    return checks


# -- runs ------------------------------------------------------------------------------
@dataclass
class QuestionResult:
    """One question answered by one profile in a run, and how it was judged."""

    question: TestQuestion
    result: AnswerResult
    checks: dict[str, bool]

    @property
    def passed(self) -> bool:
        return not self.result.error and all(self.checks.values())


@dataclass
class RunReport:
    run_id: int
    status: str
    results: list[QuestionResult] = field(default_factory=list)
    totals: dict[str, dict[str, Any]] = field(default_factory=dict)


AskFunction = Callable[[str, AnswerProfile], Awaitable[AnswerResult]]


def compute_totals(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Totals of one profile's results (rows as stored: checks, declined, tokens...)."""
    checked = [r for r in rows if "retrieval" in r["checks"]]
    decline_checked = [r for r in rows if "decline" in r["checks"]]
    answered = [r for r in rows if not r["error"] and not r["declined"]]
    firsts = [r["first_token_s"] for r in rows if r["first_token_s"] is not None]
    totals_s = [r["total_s"] for r in rows if r["total_s"] is not None]
    costs = [r["cost"] for r in rows if r["cost"] is not None]

    def rate(n: int, d: int) -> float | None:
        return round(n / d, 4) if d else None

    hits = sum(1 for r in checked if r["checks"]["retrieval"])
    valid = sum(1 for r in answered if r["citations"] and not r["invalid_citations"])
    should_decline = [r for r in decline_checked if r["expected"].get("should_decline")]
    declines = sum(1 for r in should_decline if r["checks"]["decline"])
    return {
        "questions": len(rows),
        "passed": sum(1 for r in rows if r["passed"]),
        "errors": sum(1 for r in rows if r["error"]),
        "retrieval_hits": hits,
        "retrieval_checked": len(checked),
        "retrieval_hit_rate": rate(hits, len(checked)),
        "answered": len(answered),
        "valid_citations": valid,
        "valid_citation_rate": rate(valid, len(answered)),
        "correct_declines": declines,
        "should_decline": len(should_decline),
        "decline_checked": len(decline_checked),
        "decline_checks_passed": sum(1 for r in decline_checked if r["checks"]["decline"]),
        "prompt_tokens": sum(r["prompt_tokens"] or 0 for r in rows),
        "completion_tokens": sum(r["completion_tokens"] or 0 for r in rows),
        "cost": round(sum(costs), 6) if costs else (0.0 if not rows else None),
        "first_token_s_median": round(statistics.median(firsts), 4) if firsts else None,
        "total_s_median": round(statistics.median(totals_s), 4) if totals_s else None,
        "total_s_max": round(max(totals_s), 4) if totals_s else None,
    }


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
                [{"chunk_id": p.chunk_id, "source": p.source} for p in r.retrieved],
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


def run_results(ws: Workspace, run_id: int) -> list[dict[str, Any]]:
    """A run's stored results, JSON columns decoded."""
    rows = ws.fetch_all(
        "select r.* from test_results r left join test_questions q on q.id = r.question_id"
        " where r.run_id = ? order by q.ordinal is null, q.ordinal, r.question, r.id",
        (run_id,),
    )
    for row in rows:
        for key in (
            "citations",
            "invalid_citations",
            "passages",
            "retrieved",
            "checks",
            "notes",
            "expected",
        ):
            row[key] = json.loads(row[key])
        row["declined"] = bool(row["declined"])
        row["passed"] = bool(row["passed"])
    return rows


def _totals_by_profile(ws: Workspace, run_id: int, profiles: Sequence[str]) -> dict[str, Any]:
    rows = run_results(ws, run_id)
    return {name: compute_totals([r for r in rows if r["profile"] == name]) for name in profiles}


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
    if concurrency < 1:
        raise ConfigError("Concurrency must be at least 1.")
    if not profiles:
        raise ConfigError("Choose at least one profile to run the test set with.")
    questions = list(questions) if questions is not None else list_questions(ws)
    if not questions:
        raise ConfigError(
            "The test set is empty.", hint="Import questions with `botdesk test import`."
        )
    names = [p.name for p in profiles]
    if len(set(names)) != len(names):
        raise ConfigError("The same profile is named twice.")
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
        run_id = ws.last_insert_id()
    report = RunReport(run_id, "running")
    work: asyncio.Queue[tuple[TestQuestion, AnswerProfile]] = asyncio.Queue()
    for q in questions:
        for profile in profiles:
            work.put_nowait((q, profile))
    job.stage("Answering", total=work.qsize())

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
            _store_result(ws, run_id, item)
            report.results.append(item)
            if result.error:
                job.item_error(f"{profile.name}: {question.question[:80]}", result.error)
            verdict = "pass" if item.passed else "FAIL"
            job.advance(message=f"{verdict} · {profile.name}: {question.question[:60]}")

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
        report.totals = _totals_by_profile(ws, run_id, names)
        ws.execute(
            "update test_runs set status = ?, finished_at = ?, totals = ? where id = ?",
            (status, utc_now(), json.dumps(report.totals), run_id),
        )
    if status == "cancelled":
        raise CancelledError(
            f"Test run cancelled after {len(report.results)} answers; they are kept (run {run_id})."
        )
    job.summary = _summary_line(report)
    return report


def _summary_line(report: RunReport) -> str:
    parts = []
    for name, t in report.totals.items():
        parts.append(f"{name}: {t['passed']}/{t['questions']} passed")
    return "; ".join(parts)


@dataclass(frozen=True)
class RunInfo:
    id: int
    started_at: str
    finished_at: str | None
    status: str
    target: str
    profiles: dict[str, Any]
    totals: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": self.status,
            "target": self.target,
            "profiles": self.profiles,
            "totals": self.totals,
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
            totals=json.loads(r["totals"]),
        )
        for r in rows
    ]


def compare_runs(ws: Workspace, previous_id: int, current_id: int) -> dict[str, Any]:
    """What got better or worse per (question, profile) between two runs, and the totals."""
    before = {(r["question"], r["profile"]): r for r in run_results(ws, previous_id)}
    after = {(r["question"], r["profile"]): r for r in run_results(ws, current_id)}
    changes: list[dict[str, Any]] = []
    counts = {"better": 0, "worse": 0, "same": 0, "new": 0, "gone": 0}
    for key in list(after) + [k for k in before if k not in after]:
        old, new = before.get(key), after.get(key)
        if old is None:
            change = "new"
        elif new is None:
            change = "gone"
        elif new["passed"] and not old["passed"]:
            change = "better"
        elif old["passed"] and not new["passed"]:
            change = "worse"
        else:
            change = "same"
        counts[change] += 1
        checks_changed = {}
        if old is not None and new is not None:
            for name in sorted(set(old["checks"]) | set(new["checks"])):
                was, now = old["checks"].get(name), new["checks"].get(name)
                if was != now:
                    checks_changed[name] = {"before": was, "after": now}
        changes.append(
            {
                "question": key[0],
                "profile": key[1],
                "change": change,
                "before": None if old is None else old["passed"],
                "after": None if new is None else new["passed"],
                "checks_changed": checks_changed,
                "answer_changed": (
                    old is not None and new is not None and old["answer"] != new["answer"]
                ),
            }
        )
    return {"previous": previous_id, "current": current_id, "counts": counts, "changes": changes}
