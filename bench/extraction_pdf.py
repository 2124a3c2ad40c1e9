"""Bench: PDF extraction throughput through the worker process (cold start, then warm).

Generated text PDFs (tests/helpers/pdfs.py) of 1, 10 and 50 pages, parsed one after the
other and from 2 threads. Run: python bench/extraction_pdf.py
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop.core.ingest.pdf import extract_pdf, shutdown_workers
from tests.helpers.pdfs import text_pdf

LINE = "The enterprise plan includes a named contact and a four-hour response time."


def main() -> None:
    start = time.perf_counter()
    extract_pdf(text_pdf(["warm-up"]))
    print(f"first file (starts a worker): {1000 * (time.perf_counter() - start):.0f} ms")
    for pages in (1, 10, 50):
        data = text_pdf(["\n".join([f"Page {p}", *[LINE] * 40]) for p in range(pages)])
        count = 40 if pages < 50 else 10
        start = time.perf_counter()
        for _ in range(count):
            extract_pdf(data)
        serial = count / (time.perf_counter() - start)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(extract_pdf, [data] * count))
        parallel = count / (time.perf_counter() - start)
        print(
            f"{pages:>3} pages, {len(data) // 1024:>4} KB: {serial:6.1f} files/s serial, "
            f"{parallel:6.1f} files/s from 2 threads"
        )
    shutdown_workers()


if __name__ == "__main__":
    main()
