"""What the Search page does: each action is one service call (an undo command for edits)."""

from __future__ import annotations

from desktop.core.content.models import PassageInfo
from desktop.core.errors import BotdeskError
from desktop.core.store.workspace import Workspace
from desktop.services import content, content_sources, index
from desktop.services.index import SearchResults, WhyNot
from desktop.ui.content.commands import EditPassage, SetExcluded
from desktop.ui.context import WindowContext
from desktop.ui.jobs import JobHandle
from desktop.ui.search.panels import SearchOptions

CANDIDATES_SHOWN = 50


async def search(
    context: WindowContext, ws: Workspace, query: str, options: SearchOptions
) -> SearchResults:
    return await index.search(
        ws,
        query,
        k=options.k,
        mode=options.mode,
        min_score=options.min_score,
        filters=options.filters,
        backends=context.backends,
    )


async def why_not(
    context: WindowContext, ws: Workspace, query: str, passage_id: int, options: SearchOptions
) -> WhyNot:
    return await index.why_not(
        ws,
        query,
        passage_id,
        k=options.k,
        mode=options.mode,
        min_score=options.min_score,
        filters=options.filters,
        backends=context.backends,
    )


def find_candidates(ws: Workspace, text: str) -> list[PassageInfo]:
    """Passages with these words (excluded ones too), or the one with this id."""
    if text.isdigit():
        return [content.get_passage(ws, int(text))]
    return content.list_passages(ws, query=text)[:CANDIDATES_SHOWN]


def source_choices(ws: Workspace) -> list[tuple[str, int]]:
    choices = []
    for source in content_sources.list_sources(ws):
        label = source.title or source.location or source.kind
        choices.append((f"{label} ({source.kind})", source.id))
    return choices


def status(ws: Workspace) -> tuple[str, bool]:
    """The index's state in one line, and whether "Embed now" has work to do."""
    try:
        state = index.index_status(ws)
    except BotdeskError as exc:
        return str(exc), False
    return state.line(), state.embedder != "none" and state.pending > 0


def _changed(context: WindowContext) -> None:
    context.content_changed.emit()


def exclude_passage(context: WindowContext, ws: Workspace, passage_id: int) -> bool:
    command = SetExcluded(ws, [passage_id], True, lambda: _changed(context), context.messages.error)
    return context.push(command)


def edit_passage(context: WindowContext, ws: Workspace, passage_id: int, text: str) -> bool:
    command = EditPassage(ws, passage_id, text, lambda: _changed(context), context.messages.error)
    return context.push(command)


def embed_pending(context: WindowContext, ws: Workspace) -> JobHandle:
    return context.jobs.start(
        "Embed passages", lambda job: index.embed_pending(ws, job, backends=context.backends)
    )
