"""What the Conversations page's intents do: service calls, as jobs where they take time."""

from __future__ import annotations

from typing import Any

from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace
from desktop.services import answers, conversations
from desktop.services.answers import AnswerResult
from desktop.services.backends import Backends
from desktop.ui.jobs import JobWork, ThreadJobWork


def pull_work(backends: Backends) -> ThreadJobWork:
    """Pulling writes page after page (10,000 conversations: 6 s): on a thread of its own."""

    async def work(job: Job, ws: Workspace) -> conversations.PullSummary:
        return await conversations.pull(ws, job, backends=backends)

    return work


def add_qa_work(ws: Workspace, question: str, answer: str, backends: Backends) -> JobWork:
    async def work(job: Job) -> Any:
        return await conversations.add_qa_passage(ws, question, answer, backends=backends, job=job)

    return work


def gaps_work(backends: Backends) -> ThreadJobWork:
    """Grouping is pure Python (5,000 questions: about 0.4 s): on a thread of its own."""

    async def work(job: Job, ws: Workspace) -> conversations.GapReport:
        job.stage("group failed questions")
        report = await conversations.find_gaps(ws, backends=backends)
        job.finish(f"{len(report.gaps)} gap(s) in {report.questions} failed question(s).")
        return report

    return work


async def reask(
    ws: Workspace, question: str, profile_a: str, profile_b: str, backends: Backends
) -> tuple[str, str]:
    """The question asked now with two profiles (the workspace as it is, not the release)."""
    first, second = await answers.ask_pair(ws, question, profile_a, profile_b, backends=backends)
    return answer_text(first), answer_text(second)


def answer_text(result: AnswerResult) -> str:
    if result.error:
        return f"(no answer: {result.error})"
    lines = [result.answer]
    if result.declined:
        lines.append("\n(declined)")
    for citation in result.citations:
        lines.append(f"[{citation.n}] passage {citation.chunk_id}")
    return "\n".join(lines)


def pull_line(state: conversations.PullState | None) -> str:
    if state is None:
        return "Never pulled. Pull brings the live bot's conversations here."
    summary = state.last_summary
    when = (state.last_pull_at or "").replace("T", " ")[:16]
    return (
        f"Last pull {when} UTC: {summary.get('new', 0)} new, {summary.get('updated', 0)} "
        f"updated, {summary.get('skipped', 0)} malformed skipped."
    )
