"""One blank-text rule: Python's `is_blank`, SQL's `is_blank()`, the embedder and index_status."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core import index
from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace
from desktop.core.text import is_blank
from desktop.services.index import index_status
from tests.core.index.support import CountingEmbedder, new_workspace
from tests.core.publish.factory import add_document, add_passage, add_source

EM_SPACES = "\u2003\u2003 \u3000"


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = new_workspace(tmp_path / "blank.botdesk")
    yield workspace
    workspace.close()


def test_sql_and_python_agree_on_every_character(ws: Workspace) -> None:
    samples = [chr(c) * 3 for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    samples += ["", " word ", EM_SPACES, "\u200b"]  # zero-width space is not whitespace
    blank_in_sql = [bool(ws.scalar("select is_blank(?)", (text,))) for text in samples[::97]]
    assert blank_in_sql == [is_blank(text) for text in samples[::97]]
    spaces = [text for text in samples if text.isspace()]
    assert all(ws.scalar("select is_blank(?)", (text,)) == 1 for text in spaces)
    assert is_blank(EM_SPACES) and is_blank(None) and is_blank("")
    assert not is_blank("\u200b") and not is_blank(" a ")


def test_a_passage_of_em_spaces_is_empty_not_waiting(ws: Workspace) -> None:
    site = add_source(ws, "site", "https://example.com/", "Example")
    doc = add_document(ws, site, "https://example.com/a", "A")
    add_passage(ws, doc, "a passage about shipping")
    add_passage(ws, doc, EM_SPACES)
    embedder = CountingEmbedder()
    report = asyncio.run(index.embed_pending(ws, embedder, Job("embed")))
    assert embedder.texts == ["a passage about shipping"] and report.skipped_empty == 1
    status = index_status(ws)
    assert (status.included, status.embedded, status.pending) == (2, 1, 0)
