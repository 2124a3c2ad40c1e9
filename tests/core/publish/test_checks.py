"""Checks before publishing: each finding comes with a fix; errors block, warnings do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from desktop.core.publish import checks, widget_config
from desktop.core.store.workspace import Workspace
from tests.core.publish.factory import add_document, add_passage, add_source, sample_workspace

MISTRAL = {"provider": "mistral", "model": "mistral-embed", "dimensions": 1024}


def _ok_widget(ws: Workspace) -> dict[str, object]:
    return widget_config.set_value(
        widget_config.default_config(ws), "allowed_origins", ["https://example.com"]
    )


def _codes(found: list[checks.Check]) -> dict[str, str]:
    return {c.code: c.severity for c in found}


def test_empty_workspace_and_invalid_widget_block(workspace: Workspace) -> None:
    found = checks.run_checks(workspace, {"bot_name": ""}, embedding=None)
    codes = _codes(found)
    assert codes["no-passages"] == "error" and codes["widget-config"] == "error"
    assert found[0].severity == "error"  # errors first
    assert all(c.fix for c in found)


def test_findings_on_curated_content(workspace: Workspace, tmp_path: Path) -> None:
    sample_workspace(workspace, str(tmp_path))
    site = add_source(workspace, "site", "https://shop.example.com/", "Shop")
    failed = add_document(workspace, site, "https://shop.example.com/faq", "FAQ", status="failed")
    workspace.execute("update documents set status_reason = 'HTTP 500' where id = ?", (failed,))
    add_passage(workspace, failed, "Old FAQ text kept from an earlier sync.")
    old = (datetime.now(UTC) - timedelta(days=90)).isoformat()
    workspace.execute("update sources set last_synced_at = ? where id = ?", (old, site))
    workspace.execute(
        "update passages set needs_review = 1 where id = (select min(id) from passages)"
    )
    found = checks.run_checks(workspace, _ok_widget(workspace), embedding=MISTRAL)
    by_code = {c.code: c for c in found}
    assert set(by_code) == {"source-errors", "stale-sources", "citations-no-url", "needs-review"}
    assert not checks.blocking(found)
    assert by_code["source-errors"].examples == ["https://shop.example.com/faq: HTTP 500"]
    assert "Shop (last synced" in by_code["stale-sources"].examples[0]
    # A file source has no public URL: named by file name, never by its local path.
    files_id = workspace.scalar("select id from sources where kind = 'files'")
    assert by_code["citations-no-url"].examples == [f"manual.pdf (source {files_id})"]
    assert str(tmp_path) not in repr(found)
    assert "public URL" in by_code["citations-no-url"].fix


def test_public_url_clears_the_citation_warning(workspace: Workspace, tmp_path: Path) -> None:
    sample_workspace(workspace, str(tmp_path))
    workspace.execute(
        'update sources set settings = \'{"public_url": "https://example.com/docs/"}\''
        " where kind = 'files'"
    )
    found = checks.run_checks(workspace, _ok_widget(workspace), embedding=MISTRAL)
    assert "citations-no-url" not in _codes(found)


def test_embedder_other_than_the_hosted_one_blocks(workspace: Workspace, tmp_path: Path) -> None:
    sample_workspace(workspace, str(tmp_path))
    other = {"provider": "ollama", "model": "all-minilm", "dimensions": 384}
    found = checks.run_checks(workspace, _ok_widget(workspace), embedding=other)
    mismatch = next(c for c in found if c.code == "embedder-mismatch")
    assert mismatch.severity == "error"
    assert "ollama:all-minilm" in mismatch.message and "mistral:mistral-embed" in mismatch.message
    keyword = checks.run_checks(workspace, _ok_widget(workspace), embedding=None)
    assert _codes(keyword)["keyword-only"] == "warning"
