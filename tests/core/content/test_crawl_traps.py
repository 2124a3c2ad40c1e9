"""Crawl traps stay caught across re-syncs; failed pages wait 1, 2, 4 syncs and are then
retried alongside the rest; noindex pages are left out (issue 12, part 1).

Requests are counted in the loopback site; nothing here asserts on time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from desktop.core.content.models import SyncSummary
from desktop.core.errors import ConfigError
from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace
from desktop.services import content, content_sources
from desktop.services.backends import Backends
from tests.helpers.backends import OFFLINE
from tests.helpers.site_server import Page, SiteServer

CAP = 5


@pytest.fixture
def trap_site() -> Iterator[SiteServer]:
    """A home page linking to a session-id calendar, endless pagination, a page that
    never answers, a page with a volatile token and a plain page."""
    links = ["/calendar/2024/01?session=f00d", "/list?page=1", "/hang", "/visit", "/about"]
    pages = {
        "/": Page.html("Home", "Lumen Bakery events and lists.", links=links),
        "/about": Page.html("About", "A family bakery supplier since 1990.", links=["/"]),
    }
    with SiteServer(pages=pages) as site:
        site.robots = None
        site.sitemap = None
        yield site


def _sync(ws: Workspace) -> SyncSummary:
    return asyncio.run(content.sync(ws, Job("sync"), backends=OFFLINE))


def _page_requests(site: SiteServer, since: int) -> list[str]:
    return [p for p in site.paths_requested()[since:] if p not in {"/robots.txt", "/sitemap.xml"}]


def _traps(paths: list[str]) -> set[str]:
    return {p for p in paths if p.startswith(("/calendar/", "/list"))}


def _documents(ws: Workspace, like: str) -> int:
    return int(
        ws.scalar(
            "select count(*) from documents where uri like ? and status != 'removed'", (like,)
        )
    )


def _passages_of(ws: Workspace, path: str) -> int:
    return int(
        ws.scalar(
            "select count(*) from passages p join documents d on d.id = p.document_id"
            " where d.uri like ? and p.removed = 0",
            ("%" + path,),
        )
    )


def test_three_syncs_keep_traps_capped_and_retry_the_dead_page_with_backoff(
    workspace: Workspace, trap_site: SiteServer
) -> None:
    content_sources.add_site(
        workspace, trap_site.at("/"), max_depth=200, family_cap=CAP, timeout_s=8.0
    )

    first = _sync(workspace)
    sync1 = _page_requests(trap_site, 0)
    # the session id is dropped, the volatile ?visit= token found and dropped
    assert not any("session=" in p or "visit=" in p for p in sync1)
    assert sync1.count("/visit") == 1
    # each family: its entry (linked from home) plus CAP chained pages, no more
    assert len({p for p in sync1 if p.startswith("/calendar/")}) == CAP + 1
    assert len({p for p in sync1 if p.startswith("/list")}) == CAP + 1
    assert f"possible crawl trap: /calendar/{{n}}/{{n}}, {CAP} pages, capped" in first.notes
    assert f"possible crawl trap: /list?page={{n}}, {CAP} pages, capped" in first.notes
    assert "possible crawl trap" in first.line()
    assert first.skipped.get("trap", 0) >= 2
    assert sync1.count("/hang") == 1
    assert trap_site.at("/hang") in first.failed
    assert _documents(workspace, "%/calendar/%") == CAP + 1
    about_passages = _passages_of(workspace, "/about")
    assert about_passages > 0

    # /about starts failing: its passages must stay until it is known to be gone
    trap_site.pages["/about"] = Page(b"down for maintenance", status=503, etag=False)
    mark = len(trap_site.paths_requested())
    second = _sync(workspace)
    sync2 = _page_requests(trap_site, mark)
    assert _traps(sync2) <= _traps(sync1)  # only the pages kept, no new trap URL
    assert "/hang" not in sync2  # waits one sync
    assert second.passages_added == 0
    # fresh session ids in links leave a page unchanged (the calendar is not re-read);
    # /visit is re-read once, as its ?visit= token was learnt only during the first sync
    assert second.fetched <= 1 and second.unchanged > CAP
    assert _documents(workspace, "%/calendar/%") == CAP + 1
    assert trap_site.at("/about") in second.failed
    assert _passages_of(workspace, "/about") == about_passages

    mark = len(trap_site.paths_requested())
    third = _sync(workspace)
    sync3 = _page_requests(trap_site, mark)
    assert _traps(sync3) <= _traps(sync1)
    assert third.passages_added == 0
    assert third.fetched == 0
    assert "/about" not in sync3  # failed in sync 2: waits for sync 4
    assert _passages_of(workspace, "/about") == about_passages
    # the dead page's retry is due: it goes out among the first requests (it is queued
    # right after the start page), beside the rest, not as a serial tail
    assert "/hang" in sync3
    assert sync3.index("/hang") < len(sync3) // 2
    # ...and once the rest is done the sync does not wait for it: failed again, backoff
    assert "not waited for" in third.failed[trap_site.at("/hang")]
    assert third.skipped.get("retry-later") == 1

    # back up: sync 4 retries /about and keeps it; /hang failed twice and waits two syncs
    trap_site.pages["/about"] = Page.html("About", "A family bakery supplier since 1990.")
    mark = len(trap_site.paths_requested())
    fourth = _sync(workspace)
    sync4 = _page_requests(trap_site, mark)
    assert "/about" in sync4 and "/hang" not in sync4
    assert trap_site.at("/about") not in fourth.failed
    assert _passages_of(workspace, "/about") == about_passages


def test_noindex_pages_are_left_out_unless_the_source_says_otherwise(
    workspace: Workspace,
) -> None:
    pages = {
        "/": Page.html("Home", "Welcome to the bakery.", links=["/meta", "/header", "/plain"]),
        "/meta": Page.html("Meta", "Hidden.", head='<meta name="robots" content="noindex">'),
        "/header": Page.html("Header", "Hidden too.", headers={"X-Robots-Tag": "noindex"}),
        "/plain": Page.html("Plain", "Shown."),
    }
    with SiteServer(pages=pages) as site:
        site.robots = None
        site.sitemap = None
        source = content_sources.add_site(workspace, site.at("/"))
        summary = _sync(workspace)
        assert "2 pages left out: marked noindex" in summary.notes
        assert summary.skipped.get("noindex") == 2
        assert _documents(workspace, "%/meta") == 0
        assert _documents(workspace, "%/header") == 0
        assert _documents(workspace, "%/plain") == 1

        content_sources.set_source_settings(workspace, source.id, honour_noindex=False)
        again = _sync(workspace)
        assert "noindex" not in again.skipped
        assert _documents(workspace, "%/meta") == 1
        assert _documents(workspace, "%/header") == 1

        # honoured again: the stored pages now marked noindex leave the index
        content_sources.set_source_settings(workspace, source.id, honour_noindex=True)
        third = _sync(workspace)
        assert third.removed == 2
        assert _documents(workspace, "%/meta") == 0


def test_crawl_settings_are_checked(workspace: Workspace) -> None:
    with pytest.raises(ConfigError, match="concurrency"):
        content_sources.add_site(workspace, "https://example.com/", concurrency=0)
    with pytest.raises(ConfigError, match="timeout_s"):
        content_sources.add_site(workspace, "https://example.com/", timeout_s=-1)
    source = content_sources.add_site(
        workspace, "https://example.com/", concurrency=2, family_cap=10
    )
    assert source.settings["concurrency"] == 2
    changed = content_sources.set_source_settings(
        workspace, source.id, concurrency=None, timeout_s=5
    )
    assert "concurrency" not in changed.settings
    assert changed.settings["timeout_s"] == 5.0


def test_the_crawl_preview_names_the_trap_families(
    trap_site: SiteServer, backends: Backends
) -> None:
    trap_site.pages["/"] = Page.html(
        "Home", "Events.", links=["/calendar/2024/01?session=f00d", "/list?page=1"]
    )
    preview = asyncio.run(
        content_sources.preview_site(trap_site.at("/"), max_depth=200, backends=backends)
    )
    assert any(t.startswith("possible crawl trap: /calendar/{n}/{n}") for t in preview.traps)
    assert any(t.startswith("possible crawl trap: /list?page={n}") for t in preview.traps)
    assert all("at most 50 of its pages" in t for t in preview.traps)
    assert not any("session=" in url for url, _via in preview.urls)
