"""Bench: sync of a 1,000-page site on loopback (pages/s, peak memory) and the unchanged re-sync.

The site is generated here (headings, paragraphs, a table, links, a sitemap, ETags) and
served by a threaded HTTP server on 127.0.0.1, in a child process (`--server thread`: in a
thread of this process, as before, where the server's Python competes with the sync's for
the GIL and the figures say less about the client). Needs the crawler
(desktop.core.ingest.crawl); without it, the same pages are synced as a folder of HTML
files instead, which measures extraction, chunking and storage alone.
Run: python bench/sync_site.py [--pages N] [--server process|thread] [--profile DIR] [--traps]
[--latency-ms MS]
(--profile writes a pyinstrument report of each sync into DIR, if pyinstrument is installed.)

--traps adds crawl traps to the site, linked from every page's navigation: an endless
calendar (/calendar/YYYY/MM, each link with a fresh ?session=), endless pagination
(/list?page=N) and a page that never answers (/dead). Three syncs are timed: the first,
the unchanged re-sync (the dead page waits for its retry) and the third (it is retried).

Every run also measures the floor in the same run: the site's N pages fetched with plain
httpx GETs, 4 at a time as the crawler's default, and their HTML extracted by the same
Extractor pool as a sync; the first sync's pages/s is printed as % of min(fetch, extract).
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
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop.core.jobs import Job
from desktop.services import content, content_sources
from desktop.services.backends import Backends
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


TRAP_LINKS = '<a href="/calendar/2026/01?session=5e55a1d0">Events</a> <a href="/list">All</a> '
TRAP_LINKS += '<a href="/dead">Status</a> '
DEAD_WAIT_S = 30.0  # longer than the crawler's 20 s response timeout


def with_traps(pages: dict[str, bytes]) -> dict[str, bytes]:
    """The same pages, each linking to the traps from its navigation (the calendar's own
    links carry a fresh session id on every visit)."""
    return {
        path: body.replace(b"<nav>", b"<nav>" + TRAP_LINKS.encode()) for path, body in pages.items()
    }


def _trap_page(path: str, query: str) -> bytes | None:
    """The calendar and pagination pages (endless), None for any other path."""
    if path.startswith("/calendar/"):
        year, month = (int(x) for x in path.strip("/").split("/")[1:3])
        index = year * 12 + month - 1
        nav = " ".join(
            f'<a href="/calendar/{i // 12:04d}/{i % 12 + 1:02d}?session={uuid.uuid4().hex}">'
            f"{label}</a>"
            for i, label in ((index + 1, "Next month"), (index - 1, "Previous month"))
        )
        title = f"Events {year}-{month:02d}"
    elif path == "/list":
        n = int(query.removeprefix("page=") or 1) if query.startswith("page=") or not query else 1
        nav = f'<a href="/list?page={n + 1}">Next page</a>'
        title = f"All items, page {n}"
    else:
        return None
    return (
        f"<html><head><title>{title}</title></head><body><nav>{nav}</nav><main><h1>{title}</h1>"
        "<p>Nothing planned yet.</p></main></body></html>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else ~40 ms of delayed ACK per response skews pages/s
    pages: ClassVar[dict[str, bytes]] = {}
    origin = ""
    traps = False
    latency_s = 0.0  # --latency-ms: each answer waits this long, as a host over the internet

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.latency_s:
            time.sleep(self.latency_s)  # one server thread per connection: waits overlap
        parts = urlsplit(self.path)
        path = parts.path
        trap = _trap_page(path, parts.query) if self.traps else None
        if self.traps and path == "/dead":
            time.sleep(DEAD_WAIT_S)
            return
        if trap is not None:
            self.pages_trap(trap)
            return
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

    def pages_trap(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
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
    summary = await content.sync(ws, Job("bench sync"), backends=Backends())  # no embedder
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


def _server(n: int, traps: bool = False) -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    _Handler.traps = traps
    _Handler.pages = with_traps(make_site(n)) if traps else make_site(n)
    _Handler.origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    return httpd


def serve(n: int, traps: bool = False, latency_s: float = 0.0) -> None:
    """The child process of --server process: print the origin, serve until stdin closes."""
    httpd = _server(n, traps)
    _Handler.latency_s = latency_s
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(_Handler.origin, flush=True)
    sys.stdin.read()
    httpd.shutdown()


@contextmanager
def served_site(
    n: int, *, server: str = "process", traps: bool = False, latency_ms: int = 0
) -> Iterator[str]:
    """The generated site served on 127.0.0.1, yielding its origin. In a process of its own
    by default: a customer's site does not share the app's interpreter, and server threads
    in the bench's process would compete with the sync for the GIL."""
    if server != "process":
        httpd = _server(n, traps)
        _Handler.latency_s = latency_ms / 1000
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            yield _Handler.origin
        finally:
            httpd.shutdown()
        return
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(n), "--latency-ms", str(latency_ms)]
        + (["--traps"] if traps else []),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        yield child.stdout.readline().strip()
    finally:
        child.communicate()  # closing its stdin ends it


async def _fetch_floor(origin: str, paths: list[str], concurrency: int = 4) -> float:
    """Pages/s of plain GETs of `paths`, `concurrency` at a time (the crawler's default)."""
    import httpx

    queue = list(paths)
    async with httpx.AsyncClient(timeout=30) as client:

        async def worker() -> None:
            while queue:
                response = await client.get(origin + queue.pop())
                response.read()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return len(paths) / (time.perf_counter() - start)


async def _extract_floor(bodies: list[bytes], origin: str) -> float:
    """Pages/s of the sync's Extractor (its worker pool) over `bodies`, all queued at once."""
    from desktop.core.ingest.extractor import Extractor

    extractor = Extractor()
    try:
        start = time.perf_counter()
        await asyncio.gather(
            *(
                extractor.extract(body, content_type="text/html", url=f"{origin}/p/{i}")
                for i, body in enumerate(bodies)
            )
        )
        return len(bodies) / (time.perf_counter() - start)
    finally:
        await extractor.aclose()


def _floor(origin: str, n: int, traps: bool) -> float:
    pages = make_site(n)
    paths = [p for p in pages if p != "/"]
    fetch_rate = asyncio.run(_fetch_floor(origin, paths))
    bodies = list((with_traps(pages) if traps else pages).values())[: len(paths)]
    extract_rate = asyncio.run(_extract_floor(bodies, origin))
    print(
        f"[floor] fetch {fetch_rate:.1f} pages/s (4 in flight), extract {extract_rate:.1f} pages/s"
        f" -> floor {min(fetch_rate, extract_rate):.1f} pages/s"
    )
    return min(fetch_rate, extract_rate)


def bench_site(
    n: int,
    tmp: Path,
    *,
    server: str = "process",
    profile: Path | None = None,
    traps: bool = False,
    timeout_s: float | None = None,
    latency_ms: int = 0,
) -> None:
    with served_site(n, server=server, traps=traps, latency_ms=latency_ms) as origin:
        ws = create_workspace(tmp / "site.botdesk", name="bench")
        # room for the traps' capped families (50 each by default) beyond the site's pages
        extra = 200 if traps else 10
        content_sources.add_site(
            ws, origin + "/", max_pages=n + extra, max_depth=200, timeout_s=timeout_s
        )
        floor = _floor(origin, n, traps)
        rss0 = _maxrss_mb()
        first, s1 = _run_sync(ws, profile, "first")
        again, s2 = _run_sync(ws, profile, "resync")
        label = f"{'trap site' if traps else 'site'}, server in a {server}"
        _report(label, (first, s1, again, s2), rss0)
        print(
            f"[{label}] first sync {s1.fetched / first:.1f} pages/s = "
            f"{100 * s1.fetched / first / floor:.0f}% of the floor ({floor:.1f} pages/s)"
        )
        if traps:
            for note in s1.notes:
                print(f"[{label}]   first sync: {note}")
            third, s3 = _run_sync(ws, profile, "third")
            print(
                f"[{label}] third sync (the dead page retried): {third:.2f} s = "
                f"{100 * third / first:.1f}% of the first ({s3.fetched} fetched, "
                f"{len(s3.failed)} failed, passages added {s3.passages_added})"
            )
            print(
                f"[{label}]   re-syncs added passages: {s2.passages_added} and "
                f"{s3.passages_added}; skipped: {s2.skipped} / {s3.skipped}"
            )
        ws.close()
    print(f"[site] largest child process (extraction worker or site server): {_child_mb():.0f} MB")


def bench_files(n: int, tmp: Path) -> None:
    folder = tmp / "pages"
    folder.mkdir()
    for path, body in make_site(n).items():
        if path != "/":
            (folder / (path.strip("/").replace("/", "_") + ".html")).write_bytes(body)
    ws = create_workspace(tmp / "files.botdesk", name="bench")
    content_sources.add_files(ws, [folder])
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
    parser.add_argument("--traps", action="store_true", help="a site with crawl traps")
    parser.add_argument(
        "--timeout", type=float, default=None, help="the source's response timeout (default 20 s)"
    )
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=0,
        help="each response waits this long, as from a host across the internet (default 0)",
    )
    parser.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.traps, args.latency_ms / 1000)
        return
    try:
        importlib.import_module("desktop.core.ingest.crawl")
        have_crawler = True
    except ImportError:
        have_crawler = False
    with tempfile.TemporaryDirectory() as tmp:
        if args.mode in ("auto", "site"):
            if have_crawler:
                bench_site(
                    args.pages,
                    Path(tmp),
                    server=args.server,
                    profile=args.profile,
                    traps=args.traps,
                    timeout_s=args.timeout,
                    latency_ms=args.latency_ms,
                )
            else:
                print("[site] the crawler (desktop.core.ingest.crawl) is not available: skipped")
        if args.mode == "files" or (args.mode == "auto" and not have_crawler):
            bench_files(args.pages, Path(tmp))


if __name__ == "__main__":
    main()
