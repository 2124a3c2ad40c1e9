"""Refresh history: the `refresh_runs` table (migration m0006) as `RefreshReport` records.

A refresh writes its row at the start ('running') and completes it at the end, so a run
killed half-way shows as 'interrupted' once its lock is gone. The row keeps what the sync
changed, what the test step did (`TestOutcome`, with the fingerprint of the content the
tests answered from) and whether a release went live; services/refresh.py runs refreshes,
services/refresh_history.py shows this history.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from desktop.core.content.models import SyncSummary
from desktop.core.store.lock import current_holder
from desktop.core.store.workspace import Workspace, utc_now

RefreshStatus = Literal["running", "ok", "regressed", "blocked", "failed"]
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
            text += f", {len(self.regressions)} now failing that passed before: "
            text += self.regressions_named()
        return text

    def regressions_named(self) -> str:
        """The first few questions that regressed, quoted, and how many more."""
        named = "; ".join(f"“{q}”" for q in self.regressions[:REGRESSIONS_NAMED])
        more = len(self.regressions) - REGRESSIONS_NAMED
        return named + (f" and {more} more" if more > 0 else "")


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


def changes_from(summary: SyncSummary) -> dict[str, Any]:
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


def changes_line(changes: Mapping[str, Any]) -> str:
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
    parts = [changes_line(report.changes)]
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


# -- the records ---------------------------------------------------------------------------
def start_record(ws: Workspace, publish_requested: bool) -> RefreshReport:
    started = utc_now()
    with ws.transaction():
        ws.execute(
            "insert into refresh_runs(started_at, publish_requested) values (?, ?)",
            (started, int(publish_requested)),
        )
        row_id = ws.last_insert_id()
    return RefreshReport(id=row_id, started_at=started, publish_requested=publish_requested)


def finish_record(ws: Workspace, report: RefreshReport) -> None:
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


def rejected_test_runs(ws: Workspace) -> set[int]:
    """The test runs of refreshes that regressed, were blocked or failed: results that
    nobody accepted."""
    rejected: set[int] = set()
    for row in ws.fetch_all(
        "select tests from refresh_runs where status in ('regressed', 'blocked', 'failed')"
    ):
        run_id = json.loads(row["tests"] or "{}").get("run_id")
        if isinstance(run_id, int):
            rejected.add(run_id)
    return rejected


def tested_content(ws: Workspace, run_id: int) -> str:
    """The fingerprint a refresh recorded for this test run ("" if no refresh made it)."""
    for row in ws.fetch_all(
        "select tests from refresh_runs where status in ('ok', 'regressed', 'blocked')"
        " order by id desc limit 50"
    ):
        tests = json.loads(row["tests"] or "{}")
        if tests.get("run_id") == run_id and tests.get("content"):
            return str(tests["content"])
    return ""
