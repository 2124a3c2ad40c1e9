"""The local widget preview as a job: serve it until Stop, then say what it served.

The server itself (the widget, the customer's page with the embed snippet, the chat
protocol answered from the workspace's passages) is preview_server.py; its HTTP plumbing
is preview_http.py. Protocol: docs/widget-protocol.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from desktop.core.jobs import Job
from desktop.core.publish.preview_page import WIDGET_PATH, embed_snippet
from desktop.core.store.workspace import Workspace
from desktop.services.backends import Backends
from desktop.services.preview_server import PreviewServer

STOP_POLL_S = 0.2


def snippet_for(ws: Workspace, endpoint: str | None = None) -> str:
    """The embed snippet for the workspace's publish target (a placeholder until one is set)."""
    from desktop.services import publish

    saved_endpoint, bot_id = publish.get_target(ws)
    base = (endpoint or saved_endpoint or "https://YOUR-CHAT-SERVICE").rstrip("/")
    return embed_snippet(f"{base}{WIDGET_PATH}", bot_id or "YOUR-BOT-ID")


@dataclass(frozen=True)
class PreviewReport:
    url: str
    conversations: int
    answers: int
    failed: int


async def run_preview(
    ws: Workspace,
    job: Job,
    *,
    page_url: str | None = None,
    profile: str = "default",
    port: int = 0,
    backends: Backends,
    on_ready: Callable[[str], None] | Callable[[str], Awaitable[None]] | None = None,
) -> PreviewReport:
    """Serve the preview until the job is cancelled (Stop); `on_ready(url)` once it listens."""
    server = PreviewServer(
        ws,
        page_url=page_url,
        profile=profile,
        port=port,
        backends=backends,
        on_problem=job.item_error,
    )
    server.check()
    job.stage("Fetching the page" if page_url else "Starting")
    url = await server.start()
    try:
        job.stage("Serving")
        job.advance(0, url)
        if on_ready is not None:
            ready = on_ready(url)
            if asyncio.iscoroutine(ready):
                await ready
        while not job.cancel_requested:
            await asyncio.sleep(STOP_POLL_S)
    finally:
        await server.close()
    report = PreviewReport(
        url=url,
        conversations=server.kept,
        answers=server.stats.answers,
        failed=server.stats.failed,
    )
    job.finish(
        f'Preview stopped: {report.conversations} conversations kept (release "preview"), '
        f"{report.answers} answers" + (f", {report.failed} failed." if report.failed else ".")
    )
    return report
