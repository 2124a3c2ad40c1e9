"""Bench: word F1 of HTML main-content extraction on WCXB dev pages, per page type.

Compares (a) markdownify on the whole page, (b) trafilatura's plain-text output,
(c) trafilatura's own Markdown output, (d) Botdesk's pipeline keeping <nav> and cookie
banners for trafilatura to judge, and (e) Botdesk's pipeline as shipped
(desktop.core.ingest.html.extract_html).
Metric as in the benchmark's README: lowercase, \\w+ tokens, multiset overlap, F1 per page,
mean over pages, for all pages and for odd and even page ids apart (choose a setting on one
half, confirm it on the other). Run: python bench/extraction_wcxb.py [--limit N]
[--methods e_ours,b_trafilatura_txt]
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import re
import sys
import time
from collections import Counter, defaultdict
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "wcxb-dev"
if not DATA.exists():
    DATA = Path("/work/shared/data/wcxb-dev")
METHODS = (
    "a_markdownify_page",
    "b_trafilatura_txt",
    "c_trafilatura_md",
    "d_ours_keep_nav",
    "e_ours",
)
_TOKEN = re.compile(r"\w+")


def word_f1(predicted: str, reference: str) -> float:
    pred = Counter(_TOKEN.findall(predicted.lower()))
    ref = Counter(_TOKEN.findall(reference.lower()))
    if not pred and not ref:
        return 1.0
    overlap = sum((pred & ref).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(pred.values())
    recall = overlap / sum(ref.values())
    return 2 * precision * recall / (precision + recall)


def _run(method: str, html: str) -> str:
    import trafilatura
    from markdownify import markdownify

    from desktop.core.ingest import html as ours

    if method == "a_markdownify_page":
        return str(markdownify(html))
    if method == "b_trafilatura_txt":
        return trafilatura.extract(html) or ""
    if method == "c_trafilatura_md":
        return trafilatura.extract(html, output_format="markdown", include_tables=True) or ""
    if method == "d_ours_keep_nav":
        ours.DROP_NAV = False
        try:
            return ours.extract_html(html).markdown
        finally:
            ours.DROP_NAV = True
    return ours.extract_html(html).markdown


def score_page(
    page_id: str, methods: tuple[str, ...] = METHODS
) -> tuple[str, dict[str, float], dict[str, float]]:
    from desktop.core.ingest.encoding import decode_text

    html = decode_text(
        gzip.decompress((DATA / "html" / f"{page_id}.html.gz").read_bytes()), is_html=True
    )
    truth = json.loads((DATA / "ground-truth" / f"{page_id}.json").read_text())["ground_truth"]
    scores: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for method in methods:
        start = time.perf_counter()
        try:
            text = _run(method, html)
        except RecursionError:
            text = ""  # markdownify on a deeply nested page: counts as nothing extracted
        seconds[method] = time.perf_counter() - start
        scores[method] = word_f1(text, truth["main_content"])
    return page_id, scores, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=0, help="only the first N pages")
    parser.add_argument(
        "--methods", default=",".join(METHODS), help="comma-separated, from: " + ", ".join(METHODS)
    )
    args = parser.parse_args()
    methods = tuple(m for m in METHODS if m in args.methods.split(","))
    meta = json.loads((DATA / "metadata.json").read_text())["files"]
    ids = sorted(p.name.split(".")[0] for p in (DATA / "html").glob("*.html.gz"))
    if args.limit:
        ids = ids[: args.limit]
    start = time.perf_counter()
    with get_context("spawn").Pool(2) as pool:
        results = pool.map(functools.partial(score_page, methods=methods), ids, chunksize=4)
    elapsed = time.perf_counter() - start
    by_type: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    cost: dict[str, float] = defaultdict(float)
    for page_id, scores, seconds in results:
        page_type = meta.get(page_id, {}).get("page_type", "unknown")
        half = "odd" if int(page_id) % 2 else "even"
        for method, value in scores.items():
            for group in ("ALL", page_type, f"{half}:ALL", f"{half}:{page_type}"):
                by_type[group][method].append(value)
            cost[method] += seconds[method]
    print(f"WCXB dev: {len(ids)} pages, {elapsed:.0f} s with 2 workers; mean word F1")
    for prefix in ("", "odd:", "even:"):
        page_types = {t for t in by_type if t.startswith(prefix) and ":" not in t[len(prefix) :]}
        types = [f"{prefix}ALL", *sorted(page_types - {f"{prefix}ALL"})]
        header = f"{prefix + 'method':<22}" + "".join(
            f"{t[len(prefix) :] + f' ({len(by_type[t][methods[0]])})':>22}" for t in types
        )
        print(header + (f"{'ms/page':>10}" if not prefix else ""))
        for method in methods:
            row = f"{method:<22}"
            for t in types:
                values = by_type[t][method]
                row += f"{sum(values) / len(values):>22.3f}"
            print(row + (f"{1000 * cost[method] / len(ids):>10.0f}" if not prefix else ""))
        print()


if __name__ == "__main__":
    main()
