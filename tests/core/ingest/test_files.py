"""Files: listing folders, dispatch by type/suffix/sniffing, size cap, async extraction."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.core.errors import ExtractionError, NoTextError, SourceError
from desktop.core.ingest import files, pdf
from desktop.core.ingest.files import extract_bytes, extract_bytes_async, list_files
from desktop.core.ingest.types import ExtractedDocument
from tests.helpers import pdfs

HTML = (
    "<html><head><title>Hours</title></head><body><article><h1>Opening hours</h1>"
    "<p>We are open from nine to five on weekdays and closed on public holidays.</p>"
    "</article></body></html>"
)


@pytest.fixture(autouse=True, scope="module")
def _stop_workers() -> Iterator[None]:
    yield
    pdf.shutdown_workers()


def test_list_files_recurses_sorts_and_skips_hidden(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("# B")
    (tmp_path / "sub" / "deep").mkdir(parents=True)
    (tmp_path / "sub" / "deep" / "a.PDF").write_bytes(pdfs.text_pdf())
    (tmp_path / "sub" / "notes.txt").write_text("notes")
    (tmp_path / "sub" / "image.png").write_bytes(b"png")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "secret.md").write_text("# no")
    (tmp_path / ".draft.md").write_text("# no")
    single = tmp_path / "single.html"
    single.write_text(HTML)
    found = list_files([tmp_path, single])
    assert found == sorted(
        [
            tmp_path / "b.md",
            tmp_path / "single.html",
            tmp_path / "sub" / "deep" / "a.PDF",
            tmp_path / "sub" / "notes.txt",
        ]
    )


def test_list_files_refuses_missing_and_unsupported(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="No such file or folder"):
        list_files([tmp_path / "missing"])
    docx = tmp_path / "report.docx"
    docx.write_bytes(b"PK")
    with pytest.raises(SourceError, match=r"Unsupported file type: report\.docx"):
        list_files([docx])


def test_dispatch_by_content_type_suffix_and_sniffing() -> None:
    assert extract_bytes(HTML.encode(), content_type="text/html; charset=utf-8").title == "Hours"
    assert extract_bytes(HTML.encode(), filename="page.htm").title == "Hours"
    assert extract_bytes(HTML.encode()).title == "Hours"  # sniffed
    assert "nine to five" in extract_bytes(HTML.encode(), url="https://x.test/a").markdown
    document = extract_bytes(pdfs.text_pdf(), content_type="application/pdf")
    assert document.pages and "basic plan" in document.markdown
    assert extract_bytes(pdfs.text_pdf(), filename="guide.pdf").pages
    assert extract_bytes(pdfs.text_pdf()).pages  # sniffed


def test_markdown_kept_as_is_with_first_heading_as_title() -> None:
    text = "Intro line\n\n## Pricing\n\n- Basic: 10 euros\n\n<b>raw</b>\n"
    document = extract_bytes(text.encode(), filename="docs/pricing.md")
    assert document.title == "Pricing"
    assert document.markdown == text.strip()
    untitled = extract_bytes(b"just words", filename="readme.markdown")
    assert untitled.title == "readme.markdown"
    # A server calling Markdown text/plain: the suffix decides.
    served = extract_bytes(b"# Served", content_type="text/plain", url="https://x.test/a.md")
    assert served.title == "Served"


def test_plain_text_title_is_the_file_name_and_encoding_is_detected() -> None:
    russian = "Привет, мир! Это обычный текстовый файл в старой кодировке. " * 3
    document = extract_bytes(russian.encode("cp1251"), filename="notes.txt")
    assert document.title == "notes.txt"
    assert document.markdown == russian.strip()
    declared = extract_bytes("Café".encode("latin-1"), filename="a.txt", charset="iso-8859-1")
    assert declared.markdown == "Café"


def test_empty_text_file_warns() -> None:
    document = extract_bytes(b"", filename="empty.txt")
    assert document.markdown == ""
    assert document.warnings == ["no text"]


def test_unsupported_type_and_huge_file_are_clear_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ExtractionError, match="Unsupported content type: image/png"):
        extract_bytes(b"\x89PNG....", content_type="image/png")
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ExtractionError, match=r"File is too large \(0 MB; the limit is 0 MB\)"):
        extract_bytes(b"x" * 1001, filename="big.txt")


def test_pdf_errors_pass_through_dispatch() -> None:
    with pytest.raises(NoTextError):
        extract_bytes(pdfs.blank_pdf(), filename="scan.pdf")
    with pytest.raises(ExtractionError, match="Not a PDF"):
        extract_bytes(pdfs.garbage_pdf(), filename="fake.pdf")


def test_async_extraction_runs_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    real_html, real_pdf = files.extract_html, files.extract_pdf

    def html_spy(html: str, *, url: str | None = None) -> ExtractedDocument:
        threads.append(threading.get_ident())
        return real_html(html, url=url)

    def pdf_spy(data: bytes) -> ExtractedDocument:
        threads.append(threading.get_ident())
        return real_pdf(data)

    monkeypatch.setattr(files, "extract_html", html_spy)
    monkeypatch.setattr(files, "extract_pdf", pdf_spy)

    async def run() -> tuple[ExtractedDocument, ExtractedDocument]:
        return await asyncio.gather(
            extract_bytes_async(HTML.encode(), content_type="text/html"),
            extract_bytes_async(pdfs.text_pdf(), filename="a.pdf"),
        )

    html_doc, pdf_doc = asyncio.run(run())
    assert html_doc.title == "Hours"
    assert "basic plan" in pdf_doc.markdown
    assert len(threads) == 2
    assert threading.get_ident() not in threads
