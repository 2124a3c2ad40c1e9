"""The Publish page's table models pass Qt's model tester, empty and filled."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from desktop.services.publish import Check, ReleaseInfo
from desktop.ui.publish.models import RELEASE_ID_ROLE, ChecksModel, ReleasesModel, check_text


def _release(version: int, *, active: bool = False) -> ReleaseInfo:
    return ReleaseInfo(
        release_id=f"rel-{version}",
        version=version,
        bundle_sha256="0" * 64,
        created_at="2026-11-27T10:00:00Z",
        published_at="",
        notes="<b>not html</b>",
        active=active,
        mine=version != 3,
        passage_count=None if version == 3 else 5,
    )


def test_releases_model(qtmodeltester: Any) -> None:
    model = ReleasesModel()
    qtmodeltester.check(model)
    model.set_releases([_release(3), _release(2, active=True), _release(1)])
    qtmodeltester.check(model)
    assert model.rowCount() == 3 and model.columnCount() == 6
    assert model.index(1, 0).data() == "●" and model.index(0, 0).data() == ""
    assert model.index(0, 3).data() == "2026-11-27T10:00:00Z"  # not published here: created
    assert model.index(0, 4).data() == ""  # passage count unknown
    assert model.index(2, 5).data() == "<b>not html</b>"
    assert model.index(2, 2).data(RELEASE_ID_ROLE) == "rel-1"
    assert "published elsewhere" in model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Version"
    model.set_releases([])
    qtmodeltester.check(model)


def test_checks_model(qtmodeltester: Any) -> None:
    model = ChecksModel()
    qtmodeltester.check(model)
    assert not model.ran
    found = [
        Check("no-passages", "error", "Nothing to publish.", "Sync first."),
        Check("stale", "warning", "Old.", "Sync again.", count=2, examples=["a", "b"]),
    ]
    model.set_checks(found)
    qtmodeltester.check(model)
    assert model.ran and model.rowCount() == 2
    assert model.index(0, 0).data() == "Must fix: Nothing to publish.\n   Fix: Sync first."
    assert model.index(1, 0).data() == check_text(found[1])
    assert "· a" in model.index(1, 0).data()
    assert model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole) is not None
    model.set_checks([])
    assert model.ran and model.rowCount() == 0
