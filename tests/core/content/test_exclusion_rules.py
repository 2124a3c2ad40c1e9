"""Exclusion rules as the user sees them: a URL pattern holds from the moment a document is
stored (a cancelled sync included), an excluded document's passages read as excluded, the
repeated-passage groups count them so, and every left-out address says which rule or why."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from desktop.core.content import boilerplate
from desktop.core.content.models import SKIPPED_URLS_KEPT, SitePreview, SyncSummary, passage_name
from desktop.core.errors import CancelledError
from desktop.core.ingest.urls import pattern_rule
from desktop.core.jobs import Job, JobEvent
from desktop.core.store.workspace import Workspace
from desktop.services import content, content_sources
from desktop.services.backends import Backends
from tests.helpers.site_server import SiteServer

FOOTER = "Lumen Bakery Supplies GmbH, registered in Hamburg; all prices exclude VAT. " * 4


def _pages(root: Path, names: list[str]) -> Path:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        body = " ".join(f"{path.stem} sentence {j} about rye and ovens." for j in range(60))
        path.write_text(f"# {path.stem}\n\n{body}\n\n## Legal\n\n{FOOTER}\n", encoding="utf-8")
    return root


def _cancel_after(job: Job, n: int) -> None:
    def listener(event: JobEvent) -> None:
        if event.done >= n:
            job.cancel()

    job.listeners.append(listener)


def test_pattern_applies_when_a_document_is_stored_even_if_the_sync_is_cancelled(
    workspace: Workspace, tmp_path: Path, backends: Backends
) -> None:
    names = [f"{i:02d}/events/e.md" if i % 2 else f"{i:02d}/shop/s.md" for i in range(40)]
    root = _pages(tmp_path / "site", names)
    content_sources.add_files(workspace, [root])
    assert content.exclude_url_pattern(workspace, "*/events/*") == 0  # nothing stored yet
    job = Job("sync")
    _cancel_after(job, 8)
    with pytest.raises(CancelledError):
        asyncio.run(content.sync(workspace, job, backends=backends))
    stored = content.list_documents(workspace)
    assert 8 <= len(stored) < 40  # cancelled midway: the end-of-sync pass never ran
    events = [d for d in stored if "/events/" in d.uri]
    assert events and all(d.excluded for d in events)
    assert not any(d.excluded for d in stored if "/events/" not in d.uri)
    included = content.list_passages(workspace, state="included")
    assert included and not any("/events/" in p.uri for p in included)


def test_passages_of_an_excluded_document_read_as_excluded(
    workspace: Workspace, tmp_path: Path, backends: Backends
) -> None:
    content_sources.add_files(workspace, [_pages(tmp_path / "docs", ["a.md", "b.md", "c.md"])])
    asyncio.run(content.sync(workspace, Job("sync"), backends=backends))
    doc = content.list_documents(workspace)[0]
    content.exclude_document(workspace, doc.id)
    passages = content.list_passages(workspace, document_id=doc.id)
    assert passages and {p.state for p in passages} == {"excluded"}
    assert all(p.document_excluded and not p.excluded for p in passages)
    assert not [
        p for p in content.list_passages(workspace, state="included") if p.document_id == doc.id
    ]
    found = content.list_passages(workspace, query="Hamburg")
    assert {p.state for p in found if p.document_id == doc.id} == {"excluded"}


def test_repeated_groups_count_excluded_documents_and_list_pending_groups_first(
    workspace: Workspace, tmp_path: Path, backends: Backends
) -> None:
    content_sources.add_files(
        workspace, [_pages(tmp_path / "docs", [f"p{i}.md" for i in range(4)])]
    )
    asyncio.run(content.sync(workspace, Job("sync"), backends=backends))
    [group] = boilerplate.groups(workspace)
    assert group.excluded == 0 and len(group.passage_ids) == 4
    for doc in content.list_documents(workspace)[:3]:
        content.exclude_document(workspace, doc.id)
    [group] = boilerplate.groups(workspace)
    assert group.excluded == 3  # the passages of excluded documents are not given to the bot
    # A group wholly excluded (here through its documents) goes after those still pending.
    other = "Opening hours: Monday to Friday from seven until six, Saturday until noon. " * 4
    for i in range(3):
        page = tmp_path / "more" / f"m{i}.md"
        page.parent.mkdir(exist_ok=True)
        words = " ".join(f"word{i}x{j}" for j in range(150))
        page.write_text(f"# More {i}\n\n{words}\n\n## Hours\n\n{other}\n", encoding="utf-8")
    content_sources.add_files(workspace, [tmp_path / "more"])
    asyncio.run(content.sync(workspace, Job("sync"), backends=backends))
    for doc in content.list_documents(workspace):
        wholly = "/docs/" not in doc.uri or doc.uri.endswith("p3.md")
        content.exclude_document(workspace, doc.id, wholly)
    groups = boilerplate.groups(workspace)
    assert [g.excluded < len(g.passage_ids) for g in groups] == [True, False]
    assert "Hamburg" in groups[0].text


def test_preview_and_pattern_rule_name_the_pattern() -> None:
    assert pattern_rule("https://a.example/blog/x", [], ["*.pdf", "*/blog/*"]) == (
        "excluded by */blog/*"
    )
    assert pattern_rule("https://a.example/about", ["/docs/*"], []) == (
        "not in the include rules (/docs/*)"
    )
    assert pattern_rule("https://a.example/docs/a", ["/docs/*"], ["*/blog/*"]) is None
    preview = SitePreview(
        start_url="https://a.example/",
        urls=[
            ("https://a.example/", "start"),
            ("https://a.example/blog/x", "sitemap"),
            ("https://a.example/logo.png", "link"),
        ],
    )
    selection = content_sources.apply_site_rules(preview, exclude=["*/blog/*"])
    why = {u.url: (u.reason, u.detail) for u in selection.urls}
    assert why["https://a.example/blog/x"] == ("pattern", "excluded by */blog/*")
    assert why["https://a.example/logo.png"][1].startswith("not a page")
    assert why["https://a.example/"] == (None, "")


def test_a_site_sync_lists_what_it_skipped_and_why(
    workspace: Workspace, site_server: SiteServer, backends: Backends
) -> None:
    source = content_sources.add_site(
        workspace, site_server.at("/"), exclude=["/about", "*.pdf"], max_pages=50
    )
    summary = asyncio.run(content.sync(workspace, Job("sync"), backends=backends))
    about, pdf = site_server.at("/about"), site_server.at("/sheet.pdf")
    assert sum(summary.skipped.values()) == len(summary.skipped_urls)
    assert summary.skipped_urls[about] == "excluded by /about"
    assert summary.skipped_urls[pdf] == "excluded by *.pdf"
    assert any(why.startswith("the site's robots.txt") for why in summary.skipped_urls.values())
    stored = content_sources.get_source(workspace, source.id).last_sync_summary
    assert stored is not None and stored["skipped_urls"][about] == "excluded by /about"


def test_skipped_list_is_bounded_and_merges() -> None:
    total = SyncSummary()
    for part in range(2):
        summary = SyncSummary()
        for i in range(SKIPPED_URLS_KEPT):
            summary.skip("type", 1)
            summary.skip_url(f"https://a.example/{part}/{i}.png", "not a page")
        total.merge(summary)
    assert total.skipped == {"type": 2 * SKIPPED_URLS_KEPT}
    assert len(total.skipped_urls) == SKIPPED_URLS_KEPT


def test_one_name_for_a_passage() -> None:
    assert passage_name(1234) == "Passage #1234"
