"""Reading a run's results back: what changed since the run before, and why a check failed.

`RunChange`/`RunComparison` become JSON only at the command line (`to_json`, the shape
`botdesk runs --json` has always printed); `explain_checks` gives the words the Test bench
shows for each check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from desktop.core.answering.testbench import expected_items, source_rule_hint
from desktop.core.answering.testruns import RunResult, run_results
from desktop.core.source_ref import SourceRef
from desktop.core.store.workspace import Workspace

Change = Literal["better", "worse", "same", "new", "gone"]
MAX_SOURCES_SHOWN = 5


@dataclass(frozen=True)
class RunChange:
    """How one (question, profile) fared in a run against the run before it."""

    question: str
    profile: str
    change: Change
    before: bool | None  # passed in the earlier run (None: not in it)
    after: bool | None
    checks_changed: Mapping[str, tuple[bool | None, bool | None]]  # name -> (before, after)
    answer_changed: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "profile": self.profile,
            "change": self.change,
            "before": self.before,
            "after": self.after,
            "checks_changed": {
                name: {"before": was, "after": now}
                for name, (was, now) in self.checks_changed.items()
            },
            "answer_changed": self.answer_changed,
        }


@dataclass(frozen=True)
class RunComparison:
    previous: int
    current: int
    counts: Mapping[Change, int]
    changes: tuple[RunChange, ...]

    def of(self, change: Change) -> list[RunChange]:
        return [c for c in self.changes if c.change == change]

    def to_json(self) -> dict[str, Any]:
        return {
            "previous": self.previous,
            "current": self.current,
            "counts": dict(self.counts),
            "changes": [c.to_json() for c in self.changes],
        }


def _change(old: RunResult | None, new: RunResult | None) -> Change:
    if old is None:
        return "new"
    if new is None:
        return "gone"
    if new.passed and not old.passed:
        return "better"
    if old.passed and not new.passed:
        return "worse"
    return "same"


def compare_runs(ws: Workspace, previous_id: int, current_id: int) -> RunComparison:
    """What got better or worse per (question, profile) between two runs."""
    before = {(r.question, r.profile): r for r in run_results(ws, previous_id)}
    after = {(r.question, r.profile): r for r in run_results(ws, current_id)}
    changes: list[RunChange] = []
    counts: dict[Change, int] = {"better": 0, "worse": 0, "same": 0, "new": 0, "gone": 0}
    for key in list(after) + [k for k in before if k not in after]:
        old, new = before.get(key), after.get(key)
        change = _change(old, new)
        counts[change] += 1
        checks_changed: dict[str, tuple[bool | None, bool | None]] = {}
        if old is not None and new is not None:
            for name in sorted(set(old.checks) | set(new.checks)):
                was, now = old.checks.get(name), new.checks.get(name)
                if was != now:
                    checks_changed[name] = (was, now)
        changes.append(
            RunChange(
                question=key[0],
                profile=key[1],
                change=change,
                before=None if old is None else old.passed,
                after=None if new is None else new.passed,
                checks_changed=checks_changed,
                answer_changed=old is not None and new is not None and old.answer != new.answer,
            )
        )
    return RunComparison(previous_id, current_id, counts, tuple(changes))


# -- saying why -----------------------------------------------------------------------------
def _shown_location(source: SourceRef) -> str:
    """What the rule looks at, shortly: a page's path, or a file's path."""
    if source.url:
        parts = urlsplit(source.url)
        return parts.path + ("?" + parts.query if parts.query else "") or "/"
    return source.location


def _quoted(items: Sequence[str]) -> str:
    return ", ".join(f"“{s}”" for s in items)


def explain_checks(result: RunResult) -> list[str]:
    """One line per check, saying what was expected and what happened (failures first)."""
    q = result.expected
    lines: dict[str, str] = {}
    if "retrieval" in result.checks:
        wanted = " | ".join(expected_items(q.expected_source))
        if result.checks["retrieval"]:
            lines["retrieval"] = f"expected source {wanted} — retrieved"
        else:
            found = list(dict.fromkeys(_shown_location(p.source) for p in result.retrieved))
            more = " …" if len(found) > MAX_SOURCES_SHOWN else ""
            shown = ", ".join(found[:MAX_SOURCES_SHOWN]) + more
            hint = source_rule_hint(expected_items(q.expected_source), found)
            lines["retrieval"] = (
                f"expected source {wanted} — not retrieved "
                f"({'retrieved: ' + shown if found else 'nothing was retrieved'})"
                + (f"; {hint}" if hint else "")
            )
    answer = result.answer.lower()
    if "must_include" in result.checks:
        missing = [s for s in q.must_include if s.lower() not in answer]
        lines["must_include"] = (
            f"must include {_quoted(missing)} — missing from the answer"
            if missing
            else f"must include {_quoted(q.must_include)} — included"
        )
    if "must_not_include" in result.checks:
        found_bad = [s for s in q.must_not_include if s.lower() in answer]
        lines["must_not_include"] = (
            f"must not include {_quoted(found_bad)} — found in the answer"
            if found_bad
            else f"must not include {_quoted(q.must_not_include)} — absent"
        )
    if "decline" in result.checks:
        wanted_decline = "should decline" if q.should_decline else "should answer"
        did = "error" if result.error else ("declined" if result.declined else "answered")
        lines["decline"] = f"{wanted_decline} — {did}"
    failed = [f"✗ {lines[name]}" for name in result.checks if not result.checks[name]]
    passed = [f"✓ {lines[name]}" for name in result.checks if result.checks[name]]
    return failed + passed
