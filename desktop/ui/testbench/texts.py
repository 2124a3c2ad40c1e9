"""Words for runs: a run's line in the list, its totals, what changed, one result in full."""

from __future__ import annotations

from collections.abc import Mapping

from desktop.core.answering.runreview import RunComparison
from desktop.core.answering.testruns import ProfileTotals, RunInfo, RunResult
from desktop.services import answers

SHOWN_CHANGES = 5


def run_label(run: RunInfo) -> str:
    passed = ", ".join(f"{name} {t.passed}/{t.questions}" for name, t in run.totals.items())
    return f"Run {run.id} · {run.started_at} · {run.status} · {passed}"


def totals_text(totals: Mapping[str, ProfileTotals]) -> str:
    lines = []
    for name, t in totals.items():
        hit = "-" if t.retrieval_hit_rate is None else f"{t.retrieval_hit_rate:.0%}"
        cost = "-" if t.cost is None else f"${t.cost:.4f}"
        median = "-" if t.total_s_median is None else f"{t.total_s_median:.2f} s"
        lines.append(
            f"{name}: {t.passed}/{t.questions} passed · retrieval hits {hit} of "
            f"{t.retrieval_checked} · valid citations {t.valid_citations}/{t.answered} · "
            f"correct declines {t.correct_declines}/{t.should_decline} · "
            f"tokens {t.prompt_tokens}+{t.completion_tokens} · cost {cost} · median {median} · "
            f"errors {t.errors}"
        )
    return "\n".join(lines) or "No totals."


def comparison_text(diff: RunComparison) -> str:
    counts = diff.counts
    lines = [
        f"Compared with run {diff.previous}: {counts['better']} better, {counts['worse']} worse, "
        f"{counts['same']} unchanged, {counts['new']} new."
    ]
    lines += [f"  worse: {c.profile}: {c.question}" for c in diff.of("worse")[:SHOWN_CHANGES]]
    lines += [f"  better: {c.profile}: {c.question}" for c in diff.of("better")[:SHOWN_CHANGES]]
    return "\n".join(lines)


def result_detail(r: RunResult) -> str:
    """The answer, each check in words (failures first), citations and notes."""
    lines = [f"{r.profile}: {r.question}", ""]
    if r.error:
        lines += [f"Error: {r.error}", ""]
    checks = answers.explain_checks(r)
    if checks:
        lines += ["Checks:", *(f"  {line}" for line in checks), ""]
    lines += ["Answer:", r.answer or "(no answer)"]
    if r.citations:
        lines += ["", "Cited:"]
        lines += [f"  [{c.n}] {c.source.label()}" for c in r.citations]
    if r.invalid_citations:
        numbers = ", ".join(f"[{n}]" for n in r.invalid_citations)
        lines.append(f"Invalid citations (not among the passages given): {numbers}")
    lines += [f"Note: {n}" for n in r.notes]
    return "\n".join(lines)
