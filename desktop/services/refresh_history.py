"""The refresh history as the window and `botdesk refresh --history` show it: the records
(core/refresh_history.py), the table's cells, and what to say on opening a workspace whose
last refresh went wrong."""

from __future__ import annotations

from collections.abc import Sequence

from desktop.core import refresh_history
from desktop.core.refresh_history import PROBLEM_STATUSES, RefreshReport, changes_line
from desktop.core.store.workspace import Workspace

HISTORY_HEADERS = ["started (UTC)", "status", "changes", "tests", "published", "why"]


def history(ws: Workspace, *, limit: int = 100) -> list[RefreshReport]:
    """The workspace's refreshes, newest first."""
    return refresh_history.history(ws, limit=limit)


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
                changes_line(r.changes),
                tests,
                live,
                r.reason,
            ]
        )
    return rows
