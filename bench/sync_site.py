"""Bench: sync of a 1,000-page site on loopback (pages/s, peak memory) and the unchanged re-sync.

The site is generated here (headings, paragraphs, a table, links, a sitemap, ETags) and
served by a threaded HTTP server on 127.0.0.1, in a child process (`--server thread`: in a
thread of this process, as before, where the server's Python competes with the sync's for
the GIL and the figures say less about the client). Needs the crawler
(desktop.core.ingest.crawl); without it, the same pages are synced as a folder of HTML
files instead, which measures extraction, chunking and storage alone.
Run: python bench/sync_site.py [--pages N] [--server process|thread] [--profile DIR]
(--profile writes a pyinstrument report of each sync into DIR, if pyinstrument is installed.)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop.core.jobs import Job
from desktop.services import content
from desktop.services.workspaces import create_workspace

WORDS = [
    "bread",
    "flour",
    "oven",
    "delivery",
    "price",
    "plan",
    "customer",
    "service",
    "bakery",
    "rye",
    "spelt",
    "dough",
    "proofing",
    "repair",
    "training",
    "order",
    "invoice",
    "week",
    "month",
    "sack",
    "organic",
    "contract",
    "support",
]


def make_site(n: int, seed: int = 7) -> dict[str, bytes]:
    rng = random.Random(seed)
    pages: dict[str, bytes] = {}
    for i in range(n):
        links = " ".join(f'<a href="/p/{rng.randrange(n)}">Page {j}</a>' for j in range(6))
        sections = []
        for s in range(4):
            para = " ".join(rng.choice(WORDS) for _ in range(90))
            sections.append(f"<h2>Section {s} of page {i}</h2><p>{para}.</p>")
        rows = "".join(
            f"<tr><td>Item {r}</td><td>{rng.randrange(100)} EUR</td></tr>" for r in range(5)
        )
        html = (
            f"<html><head><title>Page {i}</title></head><body><nav>{links}</nav><main>"
            f"<h1>Page {i}</h1>{''.join(sections)}<table><tr><th>Item</th><th>Price</th></tr>"
            f"{rows}</table><p>{links}</p></main><footer>Copyright Bench Bakery</footer>"
            "</body></html>"
        )
        pages[f"/p/{i}"] = html.encode()
    pages["/"] = pages["/p/0"]
    return pages


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else ~40 ms of delayed ACK per response skews pages/s
    pages: ClassVar[dict[str, bytes]] = {}
    origin = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/robots.txt":
            body, kind = (
                f"User-agent: *\nAllow: /\nSitemap: {self.origin}/sitemap.xml\n".encode(),
                "text/plain",
            )
        elif path == "/sitemap.xml":
            urls = "".join(
                f"<url><loc>{self.origin}{p}</loc></url>" for p in self.pages if p != "/"
            )
            body = (
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{urls}</urlset>"
            ).encode()
            kind = "application/xml"
        elif path in self.pages:
            body, kind = self.pages[path], "text/html; charset=utf-8"
            etag = '"' + hashlib.sha1(body).hexdigest() + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("ETag", etag)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        else:
            body, kind = b"not found", "text/plain"
            self.send_response(404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _maxrss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def _child_mb() -> float:
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / scale


async def _timed_sync(ws: Any) -> tuple[float, content.SyncSummary]:
    start = time.perf_counter()
    summary = await content.sync(ws, Job("bench sync"))
    return time.perf_counter() - start, summary


def _run_sync(ws: Any, profile: Path | None, name: str) -> tuple[float, content.SyncSummary]:
    if profile is None:
        return asyncio.run(_timed_sync(ws))
    from pyinstrument import Profiler

    profiler = Profiler(async_mode="disabled")
    with profiler:
        result = asyncio.run(_timed_sync(ws))
    profile.mkdir(parents=True, exist_ok=True)
    (profile / f"{name}.txt").write_text(profiler.output_text(unicode=False, color=False))
    (profile / f"{name}.html").write_text(profiler.output_html())
    return result


def _report(label: str, runs: tuple[float, Any, float, Any], rss0: float) -> None:
    first, s1, again, s2 = runs
    rate = s1.fetched / first
    print(f"[{label}] first sync: {s1.fetched} pages in {first:.1f} s = {rate:.1f} pages/s")
    print(
        f"[{label}]   passages added: {s1.passages_added}, failed: {len(s1.failed)}, "
        f"skipped: {s1.skipped}"
    )
    print(f"[{label}] peak RSS of this process: {_maxrss_mb():.0f} MB (before: {rss0:.0f} MB)")
    print(
        f"[{label}] unchanged re-sync: {again:.2f} s = {100 * again / first:.1f}% of the first "
        f"({s2.unchanged} unchanged, {s2.fetched} fetched)"
    )


def _server(n: int) -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    _Handler.pages = make_site(n)
    _Handler.origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    return httpd


def serve(n: int) -> None:
    """The child process of --server process: print the origin, serve until stdin closes."""
    httpd = _server(n)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(_Handler.origin, flush=True)
    sys.stdin.read()
    httpd.shutdown()


def bench_site(n: int, tmp: Path, *, server: str = "process", profile: Path | None = None) -> None:
    child: subprocess.Popen[str] | None = None
    httpd: ThreadingHTTPServer | None = None
    if server == "process":
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        origin = child.stdout.readline().strip()
    else:
        httpd = _server(n)
        origin = _Handler.origin
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        ws = create_workspace(tmp / "site.botdesk", name="bench")
        content.add_site(ws, origin + "/", max_pages=n + 10, max_depth=50)
        rss0 = _maxrss_mb()
        first, s1 = _run_sync(ws, profile, "first")
        again, s2 = _run_sync(ws, profile, "resync")
        _report(f"site, server in a {server}", (first, s1, again, s2), rss0)
        ws.close()
    finally:
        if httpd is not None:
            httpd.shutdown()
        if child is not None:
            child.communicate()  # closing its stdin ends it
    print(f"[site] largest child process (extraction worker or site server): {_child_mb():.0f} MB")


def bench_files(n: int, tmp: Path) -> None:
    folder = tmp / "pages"
    folder.mkdir()
    for path, body in make_site(n).items():
        if path != "/":
            (folder / (path.strip("/").replace("/", "_") + ".html")).write_bytes(body)
    ws = create_workspace(tmp / "files.botdesk", name="bench")
    content.add_files(ws, [folder])
    rss0 = _maxrss_mb()
    first, s1 = asyncio.run(_timed_sync(ws))
    again, s2 = asyncio.run(_timed_sync(ws))
    _report("files", (first, s1, again, s2), rss0)
    ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--mode", choices=("auto", "site", "files"), default="auto")
    parser.add_argument("--server", choices=("process", "thread"), default="process")
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return
    try:
        importlib.import_module("desktop.core.ingest.crawl")
        have_crawler = True
    except ImportError:
        have_crawler = False
    with tempfile.TemporaryDirectory() as tmp:
        if args.mode in ("auto", "site"):
            if have_crawler:
                bench_site(args.pages, Path(tmp), server=args.server, profile=args.profile)
            else:
                print("[site] the crawler (desktop.core.ingest.crawl) is not available: skipped")
        if args.mode == "files" or (args.mode == "auto" and not have_crawler):
            bench_files(args.pages, Path(tmp))


if __name__ == "__main__":
    main()
