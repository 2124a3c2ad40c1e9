"""Table models of the Test bench: the saved questions and one run's results.

They adapt lists the page hands them (`set_rows`); they never read the workspace.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from desktop.core.answering.testbench import SOURCE_RULE
from desktop.core.answering.testruns import RunResult
from desktop.services.answers import TestQuestion
from desktop.ui.widgets import RowsModel, escaped_tooltip

FAIL_COLOUR = QColor("#c0392b")
PASS_COLOUR = QColor("#1e8449")
CHECK_NAMES = {
    "retrieval": "source",
    "must_include": "includes",
    "must_not_include": "excludes",
    "decline": "decline",
}


def _decline_text(q: TestQuestion) -> str:
    return "" if q.should_decline is None else ("yes" if q.should_decline else "no")


class QuestionsModel(RowsModel[TestQuestion]):
    """The saved test questions and their expectations."""

    headers = ("Question", "Expected source", "Must include", "Must not include", "Should decline")
    header_tips: ClassVar[Mapping[int, str]] = {1: SOURCE_RULE}

    def columns(self) -> Sequence[Callable[[TestQuestion], str]]:
        return (
            lambda q: q.question,
            lambda q: q.expected_source,
            lambda q: " | ".join(q.must_include),
            lambda q: " | ".join(q.must_not_include),
            _decline_text,
        )

    def role_data(self, row: TestQuestion, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return escaped_tooltip(row.question)
        return None


def verdict(result: RunResult) -> str:
    return "pass" if result.passed else ("error" if result.error else "FAIL")


def checks_text(result: RunResult) -> str:
    """Short enough for its column: the failed checks by name, or how many passed."""
    if not result.checks:
        return "-"
    failed = result.failed_checks
    if not failed:
        return f"all {len(result.checks)} ✓"
    return "✗ " + ", ".join(CHECK_NAMES.get(name, name) for name in failed)


def _tokens(r: RunResult) -> str:
    return "-" if r.prompt_tokens is None else f"{r.prompt_tokens}+{r.completion_tokens}"


class ResultsModel(RowsModel[RunResult]):
    """One run's results; `changes` maps (question, profile) to better/worse/same/new."""

    headers = (
        "Question",
        "Profile",
        "Result",
        "Checks",
        "Citations",
        "Tokens",
        "Latency",
        "Cost",
        "Change",
    )
    CHECKS = 3
    RESULT = 2

    def __init__(self) -> None:
        super().__init__()
        self.changes: dict[tuple[str, str], str] = {}
        self.explain: Callable[[RunResult], list[str]] = lambda _r: []

    def set_results(
        self, rows: Sequence[RunResult], changes: Mapping[tuple[str, str], str]
    ) -> None:
        self.changes = dict(changes)
        self.set_rows(rows)

    def columns(self) -> Sequence[Callable[[RunResult], str]]:
        return (
            lambda r: r.question,
            lambda r: r.profile,
            verdict,
            checks_text,
            lambda r: "invalid" if r.invalid_citations else str(len(r.citations)),
            _tokens,
            lambda r: "-" if r.total_s is None else f"{r.total_s:.2f} s",
            lambda r: "-" if r.cost is None else f"${r.cost:.6f}",
            lambda r: self.changes.get((r.question, r.profile), ""),
        )

    def role_data(self, row: RunResult, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and column in (self.RESULT, self.CHECKS):
            return PASS_COLOUR if row.passed else FAIL_COLOUR
        if role == Qt.ItemDataRole.ToolTipRole and column in (self.RESULT, self.CHECKS):
            why = "\n".join([row.error] if row.error else self.explain(row))
            return escaped_tooltip(why) if why else None
        if role == Qt.ItemDataRole.ToolTipRole and column == 0:
            return escaped_tooltip(row.question)
        return None
