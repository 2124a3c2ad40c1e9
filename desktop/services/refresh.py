"""Unattended refresh: sync every source, run the saved tests, publish only what is safe.

`refresh()` is what `botdesk refresh` and the scheduler entries run. It holds the workspace
lock for the whole job, and leaves one row in `refresh_runs` however it ends:

    status     exit  meaning
    ok         0     synced; tests (if any) did not regress; published if asked and needed
    regressed  1     a saved test that passed in the previous run now fails (nothing published)
    blocked    1     --publish was refused: a regression, or a publish check is an error
    failed     1     the sync, the test run or the upload failed (nothing half-published)

Tests are re-run when the content changed at this sync, or when publishing something new,
or when there is no earlier run; never when the latest run answered from exactly this
content (a fingerprint of the included passages, kept with each refresh): then that run's
results stand and no model is called. "Passed before" means in the last run not rejected
by a refresh, so a regression keeps blocking until it is fixed or a person publishes.
Nothing new to publish means nothing is sent to the endpoint.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from desktop.core.content.curation import INCLUDED_WHERE
from desktop.core.content.models import SyncSummary
from desktop.core.errors import BotdeskError, CancelledError, ConfigError
from desktop.core.jobs import Job
from desktop.core.publish import widget_config
from desktop.core.store.lock import WorkspaceLock, current_holder
from desktop.core.store.workspace import Workspace, utc_now
from desktop.services import answers, content, publish
from desktop.services.backends import Backends

RefreshStatus = Literal["running", "ok", "regressed", "blocked", "failed"]
EXIT_OK, EXIT_FAILED = 0, 1
# Statuses the window reports when the workspace is next opened.
PROBLEM_STATUSES = ("regressed", "blocked", "failed", "interrupted")
REGRESSIONS_NAMED = 5


# -- what one refresh did ------------------------------------------------------------------
@dataclass
class TestOutcome:
    """The test step: run or not (and why), and what regressed against the previous run."""

    ran: bool = False
    note: str = ""  # why not run, or why it failed
    run_id: int | None = None
    previous_run_id: int | None = None
    questions: int = 0
    passed: int = 0
    failed: int = 0
    regressions: list[str] = field(default_factory=list)  # questions, "profile: question"
    content: str = ""  # fingerprint of the included passages the run answered from

    __test__ = False  # not a pytest class

    def to_json(self) -> dict[str, Any]:
        return {
            "ran": self.ran,
            "note": self.note,
            "run_id": self.run_id,
            "previous_run_id": self.previous_run_id,
            "questions": self.questions,
            "passed": self.passed,
            "failed": self.failed,
            "regressions": list(self.regressions),
            "content": self.content,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TestOutcome:
        return cls(
            ran=bool(data.get("ran")),
            note=str(data.get("note") or ""),
            run_id=data.get("run_id"),
            previous_run_id=data.get("previous_run_id"),
            questions=int(data.get("questions") or 0),
            passed=int(data.get("passed") or 0),
            failed=int(data.get("failed") or 0),
            regressions=[str(q) for q in data.get("regressions") or []],
            content=str(data.get("content") or ""),
        )

    def line(self) -> str:
        if self.ran:
            text = f"tests {self.passed}/{self.questions} passed"
        else:
            text = f"tests {self.note}" if self.note else "tests not run"
            if self.questions:
                text += f" ({self.passed}/{self.questions} passed)"
        if self.regressions:
            named = "; ".join(f"“{q}”" for q in self.regressions[:REGRESSIONS_NAMED])
            more = len(self.regressions) - REGRESSIONS_NAMED
            extra = f" and {more} more" if more > 0 else ""
            text += f", {len(self.regressions)} now failing that passed before: {named}{extra}"
        return text


@dataclass
class RefreshReport:
    """One refresh, as recorded in the workspace and printed by the command."""

    id: int
    started_at: str
    finished_at: str | None = None
    status: RefreshStatus | Literal["interrupted"] = "running"
    exit_code: int | None = None
    publish_requested: bool = False
    changes: dict[str, Any] = field(default_factory=dict)
    tests: TestOutcome = field(default_factory=TestOutcome)
    published: bool = False
    release_version: int | None = None
    reason: str = ""
    summary: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.changes.get("changed"))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": self.status,
            "exit_code": self.exit_code,
            "publish_requested": self.publish_requested,
            "changes": self.changes,
            "tests": self.tests.to_json(),
            "published": self.published,
            "release_version": self.release_version,
            "reason": self.reason,
            "summary": self.summary,
        }


def _changes_from(summary: SyncSummary) -> dict[str, Any]:
    passages = summary.passages_added + summary.passages_changed + summary.passages_removed
    return {
        "changed": bool(passages or summary.removed),
        "fetched": summary.fetched,
        "unchanged": summary.unchanged,
        "failed": len(summary.failed),
        "failed_items": dict(list(summary.failed.items())[:20]),
        "removed": summary.removed,
        "passages_added": summary.passages_added,
        "passages_changed": summary.passages_changed,
        "passages_removed": summary.passages_removed,
        "needs_review": summary.needs_review,
        "sources": summary.sources,
    }


def _changes_line(changes: Mapping[str, Any]) -> str:
    if not changes:
        return "not synced"
    if changes.get("sources") == 0:
        return "no sources to sync (add your website or files)"
    failed = int(changes.get("failed") or 0)
    failed_text = f", {failed} failed" if failed else ""
    if not changes.get("changed"):
        return f"nothing changed ({changes.get('unchanged', 0)} unchanged{failed_text})"
    return (
        f"content changed: passages +{changes['passages_added']} ~{changes['passages_changed']}"
        f" -{changes['passages_removed']} ({changes['fetched']} fetched, "
        f"{changes['removed']} removed{failed_text})"
    )


def summary_line(report: RefreshReport, workspace_name: str) -> str:
    """The one line: what changed, what failed, whether it went live."""
    parts = [_changes_line(report.changes)]
    if report.changes:
        parts.append(report.tests.line())
    if report.published:
        parts.append(f"published: release {report.release_version} is live")
    elif report.reason:
        parts.append(("not published: " if report.publish_requested else "") + report.reason)
    elif not report.publish_requested:
        parts.append("not published (no --publish)")
    label = report.status.upper() if report.status != "ok" else "ok"
    return f"Refresh of {workspace_name} {label}: " + "; ".join(parts) + "."


# -- the history ---------------------------------------------------------------------------
def _start_record(ws: Workspace, publish_requested: bool) -> RefreshReport:
    started = utc_now()
    with ws.transaction():
        ws.execute(
            "insert into refresh_runs(started_at, publish_requested) values (?, ?)",
            (started, int(publish_requested)),
        )
        row_id = ws.last_insert_id()
    return RefreshReport(id=row_id, started_at=started, publish_requested=publish_requested)


def _finish_record(ws: Workspace, report: RefreshReport) -> None:
    report.finished_at = utc_now()
    with ws.transaction():
        ws.execute(
            "update refresh_runs set finished_at = ?, status = ?, exit_code = ?, changes = ?,"
            " tests = ?, published = ?, release_version = ?, reason = ?, summary = ?"
            " where id = ?",
            (
                report.finished_at,
                report.status,
                report.exit_code,
                json.dumps(report.changes, ensure_ascii=False),
                json.dumps(report.tests.to_json(), ensure_ascii=False),
                int(report.published),
                report.release_version,
                report.reason,
                report.summary,
                report.id,
            ),
        )


def _record_from(row: Mapping[str, Any], running_now: bool) -> RefreshReport:
    status = row["status"]
    if status == "running" and not running_now:
        status = "interrupted"  # killed half-way: its lock is gone, its row never finished
    return RefreshReport(
        id=int(row["id"]),
        started_at=str(row["started_at"]),
        finished_at=row["finished_at"],
        status=status,
        exit_code=row["exit_code"],
        publish_requested=bool(row["publish_requested"]),
        changes=json.loads(row["changes"] or "{}"),
        tests=TestOutcome.from_json(json.loads(row["tests"] or "{}")),
        published=bool(row["published"]),
        release_version=row["release_version"],
        reason=str(row["reason"]),
        summary=str(row["summary"]),
    )


def history(ws: Workspace, *, limit: int = 100) -> list[RefreshReport]:
    """The workspace's refreshes, newest first."""
    holder = current_holder(ws.path)
    running_now = holder is not None and holder.job == "refresh"
    rows = ws.fetch_all("select * from refresh_runs order by id desc limit ?", (limit,))
    return [_record_from(row, running_now and i == 0) for i, row in enumerate(rows)]


def last_refresh(ws: Workspace) -> RefreshReport | None:
    found = history(ws, limit=1)
    return found[0] if found else None


def last_refresh_problem(ws: Workspace) -> str | None:
    """What to tell the user on opening the workspace, if its last refresh went wrong."""
    last = last_refresh(ws)
    if last is None or last.status not in PROBLEM_STATUSES:
        return None
    when = last.started_at.replace("T", " ")[:16]
    if last.status == "interrupted":
        return f"The last refresh ({when} UTC) was interrupted before it finished."
    why = last.reason or last.tests.line()
    words = {"regressed": "found a regression", "blocked": "was blocked", "failed": "failed"}
    return f"The last refresh ({when} UTC) {words[last.status]}: {why}"


# -- the steps -------------------------------------------------------------------------------
@dataclass
class _StepJob(Job):
    """One step of a refresh (sync, tests, publish) seen as the refresh's own job: the same
    id, title and listeners, so one progress line or jobs-panel row follows every step; a
    step that finishes does not finish the refresh, and cancelling the refresh stops it."""

    parent: Job | None = None

    def finish(self, summary: str = "") -> None:
        self.summary = self.message = summary
        self._emit()

    def fail(self, summary: str) -> None:
        self.finish(summary)

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested or bool(self.parent and self.parent.cancel_requested)

    def check(self) -> None:
        if self.cancel_requested:
            raise CancelledError(f"{self.title}: cancelled.")


def _step(job: Job, title: str) -> Job:
    return _StepJob(job.title, listeners=job.listeners, job_id=job.job_id, parent=job)


def _profiles_of_last_run(ws: Workspace) -> list[str | answers.AnswerProfile]:
    known = {p.name for p in answers.list_profiles(ws)}
    for run in answers.list_runs(ws):
        if run.status == "finished" and run.target == "workspace":
            names = [name for name in run.profiles if name in known]
            if names:
                return list(names)
    return ["default"]


def _previous_run_id(ws: Workspace) -> int | None:
    for run in answers.list_runs(ws):
        if run.status == "finished" and run.target == "workspace":
            return int(run.id)
    return None


def _baseline_run_id(ws: Workspace) -> int | None:
    """The run a new one is compared with: the last finished run, leaving out those of
    refreshes that found a regression (their failures were never accepted).

    Not simply the last run: after a refresh blocked by a regression, the next one would
    otherwise compare with the failing run, see nothing get worse, and publish it. A run
    made by hand (the test bench, `botdesk test`) counts: its user has seen the results.
    """
    rejected: set[int] = set()
    for row in ws.fetch_all(
        "select tests from refresh_runs where status in ('regressed', 'blocked', 'failed')"
    ):
        run_id = json.loads(row["tests"] or "{}").get("run_id")
        if isinstance(run_id, int):
            rejected.add(run_id)
    for run in answers.list_runs(ws):
        if run.status == "finished" and run.target == "workspace" and run.id not in rejected:
            return int(run.id)
    return None


class TestRunError(BotdeskError):
    """The saved tests could not be run (every answer failed)."""

    __test__ = False  # not a pytest class


def _content_fingerprint(ws: Workspace) -> str:
    """What the bot knows, in a few bytes: the included passages' ids and text hashes."""
    digest = hashlib.sha256()
    for passage_id, text_hash in ws.conn.execute(
        "select p.id, p.text_hash from passages p join documents d on d.id = p.document_id"
        f" where {INCLUDED_WHERE} order by p.id"
    ):
        digest.update(f"{passage_id}:{text_hash};".encode())
    return digest.hexdigest()[:32]


def _tested_content(ws: Workspace, run_id: int) -> str:
    """The fingerprint a refresh recorded for this test run ("" if no refresh made it)."""
    for row in ws.fetch_all(
        "select tests from refresh_runs where status in ('ok', 'regressed', 'blocked')"
        " order by id desc limit 50"
    ):
        tests = json.loads(row["tests"] or "{}")
        if tests.get("run_id") == run_id and tests.get("content"):
            return str(tests["content"])
    return ""


async def _run_tests(
    ws: Workspace, job: Job, backends: Backends, reason_to_run: str
) -> TestOutcome:
    previous = _baseline_run_id(ws)
    latest = _previous_run_id(ws)
    if not answers.list_questions(ws):
        return TestOutcome(note="not run: no saved test questions")
    content = _content_fingerprint(ws)
    if latest is not None and content == _tested_content(ws, latest):
        reason_to_run = ""  # the latest run answered from exactly this content
    if reason_to_run or latest is None:
        report = await answers.run_tests(
            ws, _step(job, "tests"), _profiles_of_last_run(ws), backends=backends
        )
        current, note = report.run_id, ""
    else:  # the content is what the latest run answered from: its results stand
        current, note = latest, f"not re-run: nothing changed since run {latest}"
    results = answers.run_results(ws, current)
    outcome = TestOutcome(
        ran=not note,
        note=note,
        content=content,
        run_id=current,
        previous_run_id=previous,
        questions=len(results),
        passed=sum(1 for r in results if r.passed),
        failed=sum(1 for r in results if not r.passed),
    )
    errors = [r.error for r in results if r.error]
    if results and len(errors) == len(results):
        # Every answer failed (model server down, model missing): not a regression to
        # report question by question, a test run that could not happen.
        raise TestRunError(f"every answer failed, e.g. {errors[0]}")
    if previous is not None and previous != current:
        compared = answers.compare_runs(ws, previous, current)
        several = len({c.profile for c in compared.changes}) > 1
        outcome.regressions = [
            f"{c.profile}: {c.question}" if several else c.question for c in compared.of("worse")
        ]
    return outcome


def _published_widget(ws: Workspace, endpoint: str, bot_id: str) -> dict[str, Any] | None:
    raw = ws.scalar(
        "select widget from publish_releases where status = 'published' and endpoint = ?"
        " and bot_id = ? order by published_at desc, id desc limit 1",
        (endpoint, bot_id),
    )
    return None if raw is None else dict(json.loads(raw))


def _something_to_publish(ws: Workspace, endpoint: str, bot_id: str) -> bool:
    if publish.changes_since_last_release(ws, endpoint=endpoint, bot_id=bot_id).any:
        return True
    if ws.scalar(
        "select 1 from publish_releases where status = 'pending' and endpoint = ? and bot_id = ?",
        (endpoint, bot_id),
    ):
        return True  # an interrupted publish to finish
    published = _published_widget(ws, endpoint, bot_id)
    return published is None or published != widget_config.load(ws)


async def refresh(
    ws: Workspace,
    job: Job,
    *,
    publish_after: bool = False,
    backends: Backends,
) -> RefreshReport:
    """Sync, test, and (with `publish_after`) publish if nothing regressed; recorded.

    Raises WorkspaceBusyError (nothing done, nothing recorded) while another long job
    holds the workspace; every other failure is recorded and reported, not raised.
    """
    with WorkspaceLock(ws.path, "refresh"):
        report = _start_record(ws, publish_after)
        try:
            await _refresh_steps(ws, job, report, backends)
        except BaseException as exc:  # a cancel or a bug: the record says so, then re-raise
            report.status, report.exit_code = "failed", EXIT_FAILED
            cancelled = isinstance(exc, CancelledError | asyncio.CancelledError | KeyboardInterrupt)
            why = "cancelled" if cancelled else f"stopped: {exc or type(exc).__name__}"
            report.reason = report.reason or why
            report.summary = summary_line(report, ws.path.name)
            _finish_record(ws, report)
            raise
        report.exit_code = EXIT_OK if report.status == "ok" else EXIT_FAILED
        report.summary = summary_line(report, ws.path.name)
        _finish_record(ws, report)
    job.finish(report.summary)
    return report


async def _refresh_steps(
    ws: Workspace, job: Job, report: RefreshReport, backends: Backends
) -> None:
    endpoint, bot_id = publish.get_target(ws)
    if report.publish_requested and not (endpoint and bot_id):
        report.status = "failed"
        report.reason = (
            "no endpoint remembered: publish once with "
            "`botdesk publish WS --endpoint URL --bot-id ID`"
        )
        return
    # 1. sync every source
    try:
        summary = await content.sync(ws, _step(job, "sync"), backends=backends)
    except CancelledError:
        raise  # recorded by refresh(), reported as a cancel
    except BotdeskError as exc:
        report.status, report.reason = "failed", f"sync failed: {exc}"
        return
    report.changes = _changes_from(summary)
    if summary.failed and not summary.fetched and not summary.unchanged:
        first = next(iter(summary.failed.items()))
        report.status = "failed"
        report.reason = f"every page or file failed to sync (e.g. {first[0]}: {first[1]})"
        return
    # 2. the saved test set against the new index
    to_publish = bool(
        report.publish_requested
        and endpoint
        and bot_id
        and _something_to_publish(ws, endpoint, bot_id)
    )
    if report.changed:
        reason_to_run = "content changed"
    elif to_publish:
        reason_to_run = "changes since the last release"
    elif _previous_run_id(ws) is None:
        reason_to_run = "no earlier run"
    else:
        reason_to_run = ""
    try:
        report.tests = await _run_tests(ws, job, backends, reason_to_run)
    except CancelledError:
        raise  # recorded by refresh(), reported as a cancel
    except BotdeskError as exc:
        run_id = _previous_run_id(ws) if isinstance(exc, TestRunError) else None
        report.tests = TestOutcome(note=f"could not run: {exc}", run_id=run_id)
        report.status = "failed"
        report.reason = f"the test run failed: {exc}"
        return
    regressed = bool(report.tests.regressions)
    # 3. publish, only when asked, needed and safe
    if not report.publish_requested:
        report.status = "regressed" if regressed else "ok"
        if regressed:
            report.reason = _regression_reason(report.tests)
        return
    if not to_publish:
        report.status = "regressed" if regressed else "ok"
        report.reason = "nothing new to publish"
        return
    if regressed:
        report.status, report.reason = "blocked", _regression_reason(report.tests)
        return
    try:
        published = await publish.publish(
            ws,
            _step(job, "publish"),
            notes=f"Refresh {report.id}: {_changes_line(report.changes)}",
            backends=backends,
        )
    except CancelledError:
        raise
    except ConfigError as exc:  # a publish check is an error: nothing was sent
        report.status, report.reason = "blocked", str(exc)
        return
    except BotdeskError as exc:  # the endpoint failed: the live release is untouched
        report.status, report.reason = "failed", f"publish failed: {exc}"
        return
    report.status = "ok"
    report.published, report.release_version = True, published.version


def _regression_reason(tests: TestOutcome) -> str:
    named = "; ".join(f"“{q}”" for q in tests.regressions[:REGRESSIONS_NAMED])
    more = len(tests.regressions) - REGRESSIONS_NAMED
    extra = f" and {more} more" if more > 0 else ""
    return f"a test that passed before now fails: {named}{extra}"


def history_rows(reports: Sequence[RefreshReport]) -> list[list[str]]:
    """The history as table cells (the command's table and the window's both use these)."""
    rows: list[list[str]] = []
    for r in reports:
        tests = (
            f"{r.tests.passed}/{r.tests.questions}"
            + (f", {len(r.tests.regressions)} regressed" if r.tests.regressions else "")
            if r.tests.questions
            else "—"
        )
        live = f"release {r.release_version}" if r.published else "no"
        rows.append(
            [
                r.started_at.replace("T", " ")[:16],
                r.status,
                _changes_line(r.changes),
                tests,
                live,
                r.reason,
            ]
        )
    return rows


HISTORY_HEADERS = ["started (UTC)", "status", "changes", "tests", "published", "why"]
