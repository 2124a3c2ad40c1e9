"""Re-sync bookkeeping: unchanged marks share commits (and survive a cancel); boilerplate
detection is skipped only when nothing it reads changed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from desktop.core.content import boilerplate, curation, source_sync
from desktop.core.errors import CancelledError
from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace
from desktop.services import content, content_sources
from tests.helpers.backends import OFFLINE

FOOTER = "Copyright 2026 Lumen Bakery. All rights reserved."


def _folder(tmp_path: Path, n: int) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    legal = " ".join([FOOTER] * 8)  # long enough to be a passage of its own
    for i in range(n):
        body = " ".join(
            f"Rye bread number {i} batch {j} is baked every morning." for j in range(40)
        )
        (root / f"page{i:02d}.md").write_text(
            f"# Page {i}\n\n{body}\n\n## Legal\n\n{legal}\n", encoding="utf-8"
        )
    return root


def _sync(ws: Workspace, job: Job | None = None) -> content.SyncSummary:
    return asyncio.run(content.sync(ws, job or Job("sync"), backends=OFFLINE))


def _statuses(ws: Workspace) -> dict[str, int]:
    rows = ws.fetch_all("select status, count(*) as n from documents group by status")
    return {row["status"]: int(row["n"]) for row in rows}


def test_unchanged_marks_share_commits_and_all_land(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content_sources.add_files(workspace, [_folder(tmp_path, 7)])
    assert _sync(workspace).fetched == 7
    monkeypatch.setattr(source_sync, "MARKS_BATCH", 3)
    flushes: list[int] = []
    real_flush = source_sync.SourceSync.flush_marks

    def counting(self: source_sync.SourceSync) -> None:
        flushes.append(len(self._marks))
        real_flush(self)

    monkeypatch.setattr(source_sync.SourceSync, "flush_marks", counting)
    again = _sync(workspace)
    assert again.unchanged == 7
    assert [n for n in flushes if n] == [3, 3, 1]
    assert _statuses(workspace) == {"unchanged": 7}


def test_a_cancelled_resync_keeps_its_unchanged_marks(workspace: Workspace, tmp_path: Path) -> None:
    content_sources.add_files(workspace, [_folder(tmp_path, 6)])
    _sync(workspace)
    job = Job("sync")
    real_advance = job.advance

    def advance(n: int = 1, message: str = "") -> None:
        real_advance(n, message)
        if job.done >= 4:
            job.cancel()

    job.advance = advance  # type: ignore[method-assign]
    with pytest.raises(CancelledError):
        _sync(workspace, job)
    assert _statuses(workspace) == {"unchanged": 4, "ok": 2}


def test_boilerplate_detection_skipped_only_when_its_inputs_are_unchanged(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content_sources.add_files(workspace, [_folder(tmp_path, 4)])
    first = _sync(workspace)
    assert first.boilerplate == 4
    runs: list[int] = []
    real_group = boilerplate._group

    def counting(rows: list[dict[str, object]]) -> boilerplate.Groups:
        runs.append(1)
        return real_group(rows)

    monkeypatch.setattr(boilerplate, "_group", counting)
    assert _sync(workspace).boilerplate == 4
    assert runs == []  # nothing changed: the flags are counted, not recomputed
    # A review settled outside a sync changes a passage's source text: detect again.
    footer = workspace.fetch_one("select id from passages where boilerplate = 1 order by id")
    assert footer is not None
    workspace.execute(
        "update passages set needs_review = 1, review_source_text = 'Other legal text.'"
        " where id = ?",
        (footer["id"],),
    )
    curation.resolve_review(workspace, footer["id"], "source")
    assert _sync(workspace).boilerplate == 3
    assert runs == [1]
    flagged = workspace.scalar("select count(*) from passages where boilerplate = 1")
    assert flagged == 3
