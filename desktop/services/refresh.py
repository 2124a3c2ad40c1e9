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

The history of refreshes is core/refresh_history.py, shown by services/refresh_history.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from desktop.core.content import queries as content_queries
from desktop.core.errors import BotdeskError, CancelledError, ConfigError
from desktop.core.jobs import Job
from desktop.core.publish import release, widget_config
from desktop.core.refresh_history import (
    RefreshReport,
    TestOutcome,
    changes_from,
    changes_line,
    finish_record,
    rejected_test_runs,
    start_record,
    summary_line,
    tested_content,
)
from desktop.core.store.lock import WorkspaceLock
from desktop.core.store.workspace import Workspace
from desktop.services import answers, content, publish
from desktop.services.backends import Backends

EXIT_OK, EXIT_FAILED = 0, 1


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
    rejected = rejected_test_runs(ws)
    for run in answers.list_runs(ws):
        if run.status == "finished" and run.target == "workspace" and run.id not in rejected:
            return int(run.id)
    return None


class TestRunError(BotdeskError):
    """The saved tests could not be run (every answer failed)."""

    __test__ = False  # not a pytest class


async def _run_tests(
    ws: Workspace, job: Job, backends: Backends, reason_to_run: str
) -> TestOutcome:
    previous = _baseline_run_id(ws)
    latest = _previous_run_id(ws)
    if not answers.list_questions(ws):
        return TestOutcome(note="not run: no saved test questions")
    content = content_queries.included_fingerprint(ws)
    if latest is not None and content == tested_content(ws, latest):
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


def _something_to_publish(ws: Workspace, endpoint: str, bot_id: str) -> bool:
    if publish.changes_since_last_release(ws, endpoint=endpoint, bot_id=bot_id).any:
        return True
    if release.pending(ws, (endpoint, bot_id)) is not None:
        return True  # an interrupted publish to finish
    published = release.published_widget(ws, (endpoint, bot_id))
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
        report = start_record(ws, publish_after)
        try:
            await _refresh_steps(ws, job, report, backends)
        except BaseException as exc:  # a cancel or a bug: the record says so, then re-raise
            report.status, report.exit_code = "failed", EXIT_FAILED
            cancelled = isinstance(exc, CancelledError | asyncio.CancelledError | KeyboardInterrupt)
            why = "cancelled" if cancelled else f"stopped: {exc or type(exc).__name__}"
            report.reason = report.reason or why
            report.summary = summary_line(report, ws.path.name)
            finish_record(ws, report)
            raise
        report.exit_code = EXIT_OK if report.status == "ok" else EXIT_FAILED
        report.summary = summary_line(report, ws.path.name)
        finish_record(ws, report)
    job.finish(report.summary)
    return report


async def _refresh_steps(
    ws: Workspace, job: Job, report: RefreshReport, backends: Backends
) -> None:
    """Sync, test, publish; a step that fails or refuses sets the report's status and
    reason, and the steps after it do not run."""
    endpoint, bot_id = publish.get_target(ws)
    if report.publish_requested and not (endpoint and bot_id):
        report.status = "failed"
        report.reason = (
            "no endpoint remembered: publish once with "
            "`botdesk publish WS --endpoint URL --bot-id ID`"
        )
        return
    if not await _sync_step(ws, job, report, backends):
        return
    to_publish = bool(
        report.publish_requested
        and endpoint
        and bot_id
        and _something_to_publish(ws, endpoint, bot_id)
    )
    if not await _test_step(ws, job, report, backends, _reason_to_run(ws, report, to_publish)):
        return
    await _publish_step(ws, job, report, backends, to_publish)


async def _sync_step(ws: Workspace, job: Job, report: RefreshReport, backends: Backends) -> bool:
    """1. Sync every source; False when the sync failed (or every page or file did)."""
    try:
        summary = await content.sync(ws, _step(job, "sync"), backends=backends)
    except CancelledError:
        raise  # recorded by refresh(), reported as a cancel
    except BotdeskError as exc:
        report.status, report.reason = "failed", f"sync failed: {exc}"
        return False
    report.changes = changes_from(summary)
    if summary.failed and not summary.fetched and not summary.unchanged:
        first = next(iter(summary.failed.items()))
        report.status = "failed"
        report.reason = f"every page or file failed to sync (e.g. {first[0]}: {first[1]})"
        return False
    return True


def _reason_to_run(ws: Workspace, report: RefreshReport, to_publish: bool) -> str:
    """Why the saved tests run again ("" when the latest run's results may stand)."""
    if report.changed:
        return "content changed"
    if to_publish:
        return "changes since the last release"
    if _previous_run_id(ws) is None:
        return "no earlier run"
    return ""


async def _test_step(
    ws: Workspace, job: Job, report: RefreshReport, backends: Backends, reason_to_run: str
) -> bool:
    """2. The saved test set against the new index; False when it could not run."""
    try:
        report.tests = await _run_tests(ws, job, backends, reason_to_run)
    except CancelledError:
        raise  # recorded by refresh(), reported as a cancel
    except BotdeskError as exc:
        run_id = _previous_run_id(ws) if isinstance(exc, TestRunError) else None
        report.tests = TestOutcome(note=f"could not run: {exc}", run_id=run_id)
        report.status = "failed"
        report.reason = f"the test run failed: {exc}"
        return False
    return True


async def _publish_step(
    ws: Workspace, job: Job, report: RefreshReport, backends: Backends, to_publish: bool
) -> None:
    """3. Publish, only when asked, needed and safe (no test regressed)."""
    regressed = bool(report.tests.regressions)
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
            notes=f"Refresh {report.id}: {changes_line(report.changes)}",
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
    return f"a test that passed before now fails: {tests.regressions_named()}"
