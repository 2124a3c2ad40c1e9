"""PDF extraction in the worker process: text per page, titles, and every bad input."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator

import pytest

from desktop.core.errors import ExtractionError, NoTextError
from desktop.core.ingest import pdf
from desktop.core.ingest.pdf import extract_pdf
from tests.helpers import pdfs


@pytest.fixture(autouse=True, scope="module")
def _stop_workers() -> Iterator[None]:
    yield
    pdf.shutdown_workers()


def test_text_per_page_with_page_spans() -> None:
    document = extract_pdf(pdfs.text_pdf(["First page\nalpha", "", "Third page\ngamma"]))
    assert [span.page for span in document.pages] == [1, 3]  # the blank page has no span
    expected_texts = ("First page\nalpha", "Third page\ngamma")
    for span, expected in zip(document.pages, expected_texts, strict=True):
        assert document.markdown[span.start : span.end] == expected
    assert document.title == "First page"
    assert document.warnings == []


def test_title_from_metadata() -> None:
    assert extract_pdf(pdfs.text_pdf(title="Price list 2026")).title == "Price list 2026"


def test_aes_encrypted_with_empty_password_opens() -> None:
    document = extract_pdf(pdfs.aes_empty_password_pdf())
    assert "AES text." in document.markdown


def test_password_protected_is_refused_clearly() -> None:
    with pytest.raises(ExtractionError, match=r"^PDF is encrypted with a password$"):
        extract_pdf(pdfs.password_pdf())


def test_no_text_layer_says_scanned() -> None:
    with pytest.raises(NoTextError, match="no text, scanned"):
        extract_pdf(pdfs.blank_pdf())


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (pdfs.truncated_pdf, "^PDF is damaged: "),
        (pdfs.garbage_pdf, "^Not a PDF file"),
        (pdfs.pathological_pdf, "^PDF is damaged: "),
        (lambda: b"%PDF-1.4\n" + b"\x00" * 200, "^PDF is damaged: "),
    ],
)
def test_broken_files_give_one_line_errors(factory: object, message: str) -> None:
    with pytest.raises(ExtractionError, match=message) as caught:
        extract_pdf(factory())  # type: ignore[operator]
    assert "\n" not in str(caught.value)
    # The worker survived or was replaced: the next file still parses.
    assert "alpha" in extract_pdf(pdfs.text_pdf(["alpha"])).markdown


def test_a_slow_parse_is_killed_at_the_timeout() -> None:
    with pytest.raises(ExtractionError, match=r"^PDF took longer than 0.5 s to parse$"):
        extract_pdf(pdfs.text_pdf(), timeout_s=0.5, _hook=functools.partial(time.sleep, 60))
    assert "alpha" in extract_pdf(pdfs.text_pdf(["alpha"])).markdown


def test_memory_over_the_limit_is_an_error_not_a_crash() -> None:
    greedy = functools.partial(bytearray, 800 * 1024 * 1024)
    with pytest.raises(ExtractionError, match="memory"):
        extract_pdf(pdfs.text_pdf(), memory_mb=200, _hook=greedy)
    assert "alpha" in extract_pdf(pdfs.text_pdf(["alpha"])).markdown


def test_a_crashing_worker_is_reported_and_replaced() -> None:
    import os

    with pytest.raises(ExtractionError, match="crashed"):
        extract_pdf(pdfs.text_pdf(), _hook=functools.partial(os._exit, 3))
    assert "alpha" in extract_pdf(pdfs.text_pdf(["alpha"])).markdown


def test_concurrent_parses_share_a_bounded_set_of_workers() -> None:
    from concurrent.futures import ThreadPoolExecutor

    datas = [pdfs.text_pdf([f"document {i}"]) for i in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(extract_pdf, datas))
    assert [r.markdown for r in results] == [f"document {i}" for i in range(8)]
