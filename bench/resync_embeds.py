"""Bench: embedding calls in a re-sync where 1 page of 100 changed (target: that page's
passages only, in one call).

A 100-page site is served on 127.0.0.1 (tests/helpers/site_server.py) and crawled by the
real crawler; the embedder is ollama:all-minilm on the loopback Ollama stand-in
(tests/helpers/fake_ollama.py), which speaks Ollama's HTTP API and logs every /api/embed
request. Sync, change one page, sync again, then sync once more with nothing changed.
With --files the pages are a folder of HTML files instead (no crawler).

    python bench/resync_embeds.py [--pages 100] [--files]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop.core.jobs import Job  # noqa: E402
from desktop.services import content, content_sources, index  # noqa: E402
from desktop.services.backends import Backends  # noqa: E402
from desktop.services.workspaces import create_workspace  # noqa: E402
from tests.helpers.fake_ollama import FakeOllama  # noqa: E402
from tests.helpers.site_server import Page, SiteServer  # noqa: E402

TOPICS = ["flour", "ovens", "delivery", "pricing", "training", "repairs", "leasing", "rye"]


def page_text(number: int, version: int = 0) -> str:
    rng = random.Random(number)
    topic = TOPICS[number % len(TOPICS)]
    sections = []
    for s in range(3):
        words = " ".join(rng.choice(TOPICS) for _ in range(60))
        sections.append(f"<h2>{topic} part {s}</h2><p>Page {number} section {s}: {words}.</p>")
    if version:
        sections[1] = sections[1].replace("section 1:", f"section 1 (revised {version}):")
    return "".join(sections)


def html(number: int, version: int = 0) -> str:
    return (
        f"<!doctype html><html><head><title>Page {number}</title></head><body><main>"
        f"<h1>Page {number}</h1>{page_text(number, version)}</main></body></html>"
    )


def embed_calls(fake: FakeOllama) -> tuple[int, int]:
    return len(fake.calls("/api/embed")), len(fake.embedded_texts)


def sync(ws: Any, fake: FakeOllama, label: str) -> None:
    calls, texts = embed_calls(fake)
    started = time.perf_counter()
    job = Job("Sync")
    asyncio.run(content.sync(ws, job, backends=Backends(ollama_host=fake.url)))
    after_calls, after_texts = embed_calls(fake)
    status = index.index_status(ws)
    print(
        f"{label:34} {after_calls - calls:4} embed call(s), {after_texts - texts:5} text(s) "
        f"embedded; {status.embedded}/{status.included} passages embedded "
        f"({time.perf_counter() - started:.1f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--files", action="store_true", help="a folder of files, no crawler")
    args = parser.parse_args()
    changed = args.pages // 2
    with FakeOllama() as fake, tempfile.TemporaryDirectory() as tmp:
        ws = create_workspace(
            Path(tmp) / "resync.botdesk", name="Resync", embedder="ollama:all-minilm"
        )
        ws.set_setting("chunking", {"target_tokens": 120})  # a few passages per page
        server: Any = None
        if args.files:
            folder = Path(tmp) / "site"
            folder.mkdir()
            for n in range(args.pages):
                (folder / f"page{n:03d}.html").write_text(html(n), encoding="utf-8")
            content_sources.add_files(ws, [folder])
        else:
            pages = {f"/p/{n}": Page(html(n).encode()) for n in range(args.pages)}
            links = "".join(f'<a href="/p/{n}">page {n}</a> ' for n in range(args.pages))
            pages["/"] = Page(f"<html><body><main>{links}</main></body></html>".encode())
            server = SiteServer(pages)
            server.__enter__()
            server.sitemap = ["/", *(f"/p/{n}" for n in range(args.pages))]
            content_sources.add_site(ws, server.url + "/", max_pages=args.pages + 5)
        try:
            sync(ws, fake, f"first sync of {args.pages} pages")
            per_page = ws.fetch_all(
                "select d.uri, count(*) as n from passages p join documents d"
                " on d.id = p.document_id where p.removed = 0 group by d.uri"
            )
            target = next(
                r
                for r in per_page
                if r["uri"]
                .rstrip("/")
                .endswith(f"page{changed:03d}.html" if args.files else f"/p/{changed}")
            )
            print(f"the changed page has {target['n']} passage(s), one of them edited")
            if args.files:
                (Path(tmp) / "site" / f"page{changed:03d}.html").write_text(
                    html(changed, 1), encoding="utf-8"
                )
            else:
                server.pages[f"/p/{changed}"] = Page(html(changed, 1).encode())
            sync(ws, fake, f"re-sync, 1 page of {args.pages} changed")
            sync(ws, fake, "re-sync, nothing changed")
        finally:
            if server is not None:
                server.__exit__(None, None, None)
            ws.close()


if __name__ == "__main__":
    main()
