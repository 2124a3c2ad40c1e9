"""An incremental, resumable pull of the hosted bot's conversations.

Retention is applied first; then page after page from the saved cursor, each page committed
with the cursor that follows it. A failure or a cancel keeps every page already saved and
the next pull goes on from there; pulling again changes nothing when nothing changed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from desktop.core.conversations import store
from desktop.core.conversations.protocol import MAX_PAGE, parse_page
from desktop.core.errors import PublishError
from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace


class ConversationSource(Protocol):
    """What a pull needs of the endpoint (desktop.core.publish.client.PublishClient)."""

    async def conversations_page(self, *, after: str | None, limit: int) -> Any: ...

    async def delete_conversation(self, conversation_id: str) -> None: ...


@dataclass
class PullSummary:
    target: str = ""
    pages: int = 0
    received: int = 0  # entries the endpoint sent
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # malformed entries, skipped and counted
    expired: int = 0  # received but older than the retention period
    removed_by_retention: int = 0  # stored ones deleted because they grew too old
    truncated: int = 0
    forgotten: int = 0  # forgotten here, still on the service: not stored again
    erasures_sent: int = 0  # forget requests that reached the service on this pull
    resumed: bool = False  # started from a saved cursor

    def line(self) -> str:
        parts = [f"{self.new} new", f"{self.updated} updated"]
        if self.skipped:
            parts.append(f"{self.skipped} malformed skipped")
        if self.expired or self.removed_by_retention:
            parts.append(f"{self.expired + self.removed_by_retention} past retention removed")
        if self.truncated:
            parts.append(f"{self.truncated} long messages cut")
        return (
            f"Pulled {self.received} conversation(s) in {self.pages} page(s): "
            + ", ".join(parts)
            + "."
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


async def pull(
    ws: Workspace,
    source: ConversationSource,
    job: Job,
    *,
    target: str,
    page_size: int = MAX_PAGE,
    now: datetime | None = None,
) -> PullSummary:
    """Pull what changed since the saved cursor; see the module docstring."""
    moment = now or datetime.now(UTC)
    cutoff = store.retention_cutoff(moment, store.retention_days(ws))
    mask = store.masking_enabled(ws)
    summary = PullSummary(target=target)
    job.stage("retention")
    with store.secure_delete(ws):
        summary.removed_by_retention = store.apply_retention(ws, cutoff)
    job.stage("forget requests")
    for conversation_id in store.pending_erasures(ws, target):
        try:
            await source.delete_conversation(conversation_id)
        except PublishError as exc:
            job.item_error(f"forget {conversation_id}", str(exc))
        else:
            store.erasure_done(ws, target, conversation_id)
            summary.erasures_sent += 1
    cursor = store.pull_state(ws, target).cursor
    summary.resumed = cursor is not None
    job.stage("pull conversations")
    while True:
        job.check()
        page = parse_page(await source.conversations_page(after=cursor, limit=page_size))
        for problem in page.problems:
            job.item_error(problem.item, problem.reason)
        with store.secure_delete(ws):
            counts = store.save_page(
                ws, target, page.conversations, page.next_cursor, mask=mask, cutoff=cutoff
            )
        summary.pages += 1
        summary.received += len(page.conversations) + len(page.problems)
        summary.skipped += len(page.problems)
        for key in ("new", "updated", "unchanged", "expired", "truncated", "forgotten"):
            setattr(summary, key, getattr(summary, key) + getattr(counts, key))
        job.advance(len(page.conversations) + len(page.problems), f"page {summary.pages}")
        if not page.has_more:
            break
        if page.next_cursor is None or page.next_cursor == cursor:
            raise PublishError(
                "The endpoint says there are more conversations but its cursor did not move.",
                hint="The pages saved so far are kept; report this to the service.",
            )
        cursor = page.next_cursor
    store.record_pull(ws, target, summary.to_json())
    job.finish(summary.line())
    return summary
