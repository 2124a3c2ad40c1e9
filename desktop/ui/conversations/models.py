"""Table models of the Conversations page: thin adapters over the services' frozen rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from desktop.services.conversations import (
    ConversationSummary,
    FailedQuestion,
    Gap,
    LeadRow,
    ReleaseStats,
)
from desktop.ui.widgets import RowsModel

Row = TypeVar("Row")
CELL_MAX_CHARS = 300


class VisitorRowsModel(RowsModel[Row]):
    """The shared row model, with columns given as (header, text) pairs, and every cell one
    line of at most CELL_MAX_CHARS: visitors' text can be long and hold line breaks. No cell
    tooltips: Qt would read visitors' text in them as HTML."""

    column_specs: Sequence[tuple[str, Callable[[Any], str]]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.headers = tuple(header for header, _text in cls.column_specs)

    def columns(self) -> Sequence[Callable[[Row], str]]:
        return [_one_line(text) for _header, text in self.column_specs]


def _one_line(text: Callable[[Any], str]) -> Callable[[Any], str]:
    return lambda row: " ".join(text(row).split())[:CELL_MAX_CHARS]


def _count(value: int) -> str:
    return str(value) if value else ""


class GapsModel(VisitorRowsModel[Gap]):
    column_specs = (
        ("Gap", lambda g: g.label),
        ("Asked", lambda g: str(len(g.questions))),
        ("Declined", lambda g: _count(g.declined)),
        ("Down", lambda g: _count(g.down)),
    )


class GapQuestionsModel(VisitorRowsModel[FailedQuestion]):
    column_specs = (
        ("Question", lambda q: q.text),
        ("What happened", lambda q: "declined" if q.declined else "thumbs down"),
        ("Release", lambda q: q.release_id or ""),
    )


def _flags(c: ConversationSummary) -> str:
    flags = [f"{c.declined} declined" if c.declined else "", f"{c.down} down" if c.down else ""]
    flags += ["uncited" if c.uncited else "", "lead" if c.has_lead else ""]
    return ", ".join(f for f in flags if f)


class ConversationsModel(VisitorRowsModel[ConversationSummary]):
    column_specs = (
        ("When", lambda c: c.updated_at[5:16].replace("T", " ")),
        ("First question", lambda c: c.first_question),
        ("What went wrong", _flags),
    )


class ReleaseStatsModel(VisitorRowsModel[ReleaseStats]):
    column_specs = (
        (
            "Release",
            lambda s: f"{s.version} ({s.release_id})" if s.version else s.release_id or "?",
        ),
        ("Conversations", lambda s: str(s.conversations)),
        ("Declined", lambda s: f"{s.declined_pct:.1f} %"),
        ("Thumbs down", lambda s: f"{s.down_pct:.1f} %"),
        ("Cited", lambda s: f"{s.cited_pct:.1f} %"),
    )


class LeadsModel(VisitorRowsModel[LeadRow]):
    column_specs = (
        ("When", lambda x: x.updated_at.replace("T", " ").rstrip("Z")),
        ("Name", lambda x: x.name),
        ("E-mail", lambda x: x.email),
        ("Phone", lambda x: x.phone),
        ("Company", lambda x: x.company),
        ("Message", lambda x: x.message),
    )
