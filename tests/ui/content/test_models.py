"""The Content page's table models, checked with pytest-qt's model tester, and how they
refill: the same rows repaint only what changed; other rows reset once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt

from desktop.core.content.models import (
    BoilerplateGroup,
    ChunkPreview,
    DocumentInfo,
    PassageInfo,
    SourceInfo,
)
from desktop.ui.content.models import (
    BoilerplateModel,
    ChunkPreviewModel,
    DocumentsModel,
    PassagesModel,
    SourcesModel,
    document_address,
)


def doc(i: int, uri: str, *, title: str = "Events 2024-01", excluded: bool = False) -> DocumentInfo:
    return DocumentInfo(
        id=i,
        source_id=1,
        uri=uri,
        title=title,
        content_type="text/html",
        status="ok",
        status_reason="",
        excluded=excluded,
        passages=3,
        fetched_at=None,
        updated_at="2026-01-01T00:00:00",
    )


def passage(i: int, *, ordinal: int = 0, **changes: Any) -> PassageInfo:
    base = PassageInfo(
        id=i,
        document_id=1,
        uri="https://shop.example/events/a",
        title="Events",
        ordinal=ordinal,
        heading_path="Events > January",
        page=None,
        char_start=0,
        char_end=10,
        text=f"Passage text {i} <b>not bold</b>",
        source_text=f"Passage text {i}",
        review_source_text=None,
        state="included",
        excluded=False,
        edited=False,
        needs_review=False,
        removed=False,
        tokens=12,
        boilerplate=False,
        origin="chunker",
        text_hash="h",
    )
    return replace(base, **changes)


def test_sources_model(qtmodeltester: Any) -> None:
    model = SourcesModel()
    model.set_rows(
        [
            SourceInfo(1, "site", "https://shop.example/", "shop.example", {}, "t", None, 4, 9),
            SourceInfo(
                2, "files", "/data/docs", "docs", {}, "t", "t2", 2, 5, {"failed": {"/a": "x"}}
            ),
        ]
    )
    qtmodeltester.check(model)
    assert model.index(0, 0).data() == "Website: https://shop.example/"
    assert [model.index(1, c).data() for c in range(4)] == ["Files: docs", "2", "5", "1"]


def test_documents_model_tells_same_titled_pages_apart(qtmodeltester: Any) -> None:
    model = DocumentsModel()
    uris = [f"https://shop.example/events/2024-01/day-{i}?lang=en" for i in range(45)]
    model.set_documents([doc(i, uri) for i, uri in enumerate(uris)])
    qtmodeltester.check(model)
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Address"
    titles = {model.index(r, 0).data() for r in range(45)}
    addresses = {model.index(r, 1).data() for r in range(45)}
    assert titles == {"Events 2024-01"} and len(addresses) == 45
    assert model.index(3, 1).data() == "/events/2024-01/day-3?lang=en"
    assert "day-3" in model.index(3, 1).data(Qt.ItemDataRole.ToolTipRole)


def test_document_address_forms() -> None:
    assert document_address("https://a.example") == "/"
    assert document_address("/data/docs/sub/a.md", "/nonexistent-root") == "/data/docs/sub/a.md"
    assert document_address("text:3") == ""


def test_passages_model_numbers_passages_by_their_stable_id(qtmodeltester: Any) -> None:
    model = PassagesModel()
    rows = [
        passage(1234, ordinal=0),
        passage(77, ordinal=1, boilerplate=True, state="excluded", document_excluded=True),
    ]
    model.set_passages(rows, search_results=False)
    qtmodeltester.check(model)
    assert [model.index(r, 0).data() for r in range(2)] == ["#1234", "#77"]
    assert model.index(1, 1).data() == "excluded (document), repeated"
    assert model.headerData(3, Qt.Orientation.Horizontal) == "Heading"
    model.set_passages(rows, search_results=True)
    qtmodeltester.check(model)
    assert model.headerData(3, Qt.Orientation.Horizontal) == "Document"
    assert model.index(0, 3).data() == "Events: Events > January"


def test_same_rows_repaint_only_what_changed(qtmodeltester: Any) -> None:
    model = DocumentsModel()
    docs = [doc(i, f"https://a.example/p{i}") for i in range(1000)]
    model.set_documents(docs)
    resets: list[int] = []
    changed: list[tuple[int, int]] = []
    model.modelReset.connect(lambda: resets.append(1))
    model.dataChanged.connect(lambda top, bottom, *_: changed.append((top.row(), bottom.row())))
    assert not model.set_documents(list(docs))  # nothing changed: nothing emitted
    docs[500] = replace(docs[500], excluded=True)
    assert model.set_documents(docs)
    assert resets == [] and changed == [(500, 500)]
    assert model.index(500, 2).data() == "ok (excluded)"
    model.set_documents(docs[:10])  # other rows: one reset
    assert resets == [1] and model.rowCount() == 10
    qtmodeltester.check(model)


def test_boilerplate_and_chunk_preview_models(qtmodeltester: Any) -> None:
    groups = BoilerplateModel()
    groups.set_rows(
        [
            BoilerplateGroup("k1", "Footer text", 4, [1, 2, 3, 4], 1),
            BoilerplateGroup("k2", "Menu", 3, [5, 6, 7], 3),
        ]
    )
    qtmodeltester.check(groups)
    assert [groups.index(0, c).data() for c in range(3)] == ["4", "4", "1"]
    assert groups.index(1, 0).data(Qt.ItemDataRole.ForegroundRole) is not None  # done: grey
    chunks = ChunkPreviewModel()
    chunks.set_rows(
        [ChunkPreview(1, "/a.md", i, "H", None, 0, 5, 40, "text " * 50) for i in range(3)]
    )
    qtmodeltester.check(chunks)
    assert chunks.index(2, 1).data() == "3"
