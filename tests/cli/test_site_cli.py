"""`botdesk preview`, `add site`, `sync` and `docs` against the loopback website."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop.cli import main
from tests.helpers.site_server import SiteServer


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Any:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_preview_add_sync_resync(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(tmp_path / "bakery.botdesk")
    assert main(["init", ws, "--name", "Bakery"]) == 0
    with SiteServer() as site:
        start = site.at("/")
        preview = _json(capsys, ["preview", ws, start, "--exclude", "*.pdf", "--json"])
        urls = {u["url"].removeprefix(site.url): u for u in preview["urls"]}
        assert urls["/orphan"]["via"] == "sitemap" and urls["/orphan"]["included"]
        assert urls["/sheet.pdf"]["reason"] == "pattern"
        assert urls["/logo.png"]["reason"] == "type"
        assert "/private/secret" not in urls  # robots.txt forbids it
        assert preview["count"] == sum(1 for u in preview["urls"] if u["included"])
        assert "/sheet.pdf" not in [p for p in site.paths_requested() if p != "/sheet.pdf"]

        capsys.readouterr()
        assert main(["preview", ws, start, "--include", "/docs/*"]) == 0
        out = capsys.readouterr().out
        assert "docs" in out and "pages would be fetched" in out

        # (PDFs are covered by the service test: their parse in a worker is slow to start.)
        add = ["add", "site", ws, start, "--exclude", "/about", "--exclude", "*.pdf"]
        assert main([*add, "--max-pages", "50"]) == 0
        first = _json(capsys, ["sync", ws, "--json"])
        assert first["fetched"] == 6  # /, pricing, docs/, install, faq, orphan
        assert first["skipped"] == {"robots": 1, "type": 1, "pattern": 2, "duplicate": 2}
        assert first["failed"] == {}
        docs = _json(capsys, ["docs", ws, "--json"])
        titles = {d["uri"].removeprefix(site.url): d["title"] for d in docs}
        assert titles["/pricing"] == "Pricing" and "/about" not in titles

        del site.pages["/orphan"]
        capsys.readouterr()
        assert main(["sync", ws]) == 0
        captured = capsys.readouterr()
        assert "skipped (robots): 1" in captured.out
        second = _json(capsys, ["sync", ws, "--json"])
        assert second["fetched"] == 0 and second["unchanged"] == 5
        statuses = {
            d["uri"].removeprefix(site.url): d["status"]
            for d in _json(capsys, ["docs", ws, "--json"])
        }
        assert statuses["/orphan"] == "removed" and statuses["/pricing"] == "unchanged"


def test_sync_of_an_unreachable_site_reports_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = str(tmp_path / "gone.botdesk")
    assert main(["init", ws, "--name", "Gone"]) == 0
    assert main(["add", "site", ws, "http://127.0.0.1:9/"]) == 0  # nothing listens there
    summary = _json(capsys, ["sync", ws, "--json"])
    assert summary["fetched"] == 0
    assert any("127.0.0.1:9" in url for url in summary["failed"])


def test_a_sites_politeness_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(tmp_path / "polite.botdesk")
    assert main(["init", ws, "--name", "Polite"]) == 0
    argv = ["add", "site", ws, "https://example.com/", "--concurrency", "2", "--noindex", "ignore"]
    assert main(argv) == 0
    shown = _json(capsys, ["source", ws, "1", "--timeout", "7", "--family-cap", "20", "--json"])
    settings = shown["settings"]
    assert settings["concurrency"] == 2 and settings["honour_noindex"] is False
    assert settings["timeout_s"] == 7.0 and settings["family_cap"] == 20
    capsys.readouterr()
    assert main(["source", ws, "1", "--concurrency", "0"]) == 1
    assert "concurrency must be a whole number from 1 to 16" in capsys.readouterr().err
    assert _json(capsys, ["source", ws, "1", "--json"])["settings"]["concurrency"] == 2
