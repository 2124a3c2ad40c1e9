"""The chat widget's figures: its size, page load to launcher visible, and time to first token
through the preview server.

- size: resources/widget/widget.js raw and gzipped (level 9, as a CDN would);
- launcher: in Debian's headless Chromium, the widget's `botdesk:launcher` performance mark
  (set when the launcher is on the page) on the preview's demo page and on a loopback copy
  of a shop page, over several fresh loads;
- first token: an SSE client posting a question to the preview server, which answers with
  the real search and answering code and the Ollama stand-in (no model latency: what is
  timed is the preview server, search and the provider client).

    python bench/widget_preview.py [--loads 10] [--questions 30]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from desktop.core.paths import resource_path
from desktop.services import preview_server
from desktop.services.backends import Backends
from desktop.services.workspaces import open_workspace
from tests.helpers.fake_ollama import FakeOllama
from tests.helpers.shop import build_shop_workspace, model_answer, shop_site
from tests.helpers.webdriver import Chromedriver, chromium_missing_reason


def widget_size() -> None:
    source = resource_path("widget", "widget.js").read_bytes()
    packed = len(gzip.compress(source, 9))
    print(f"widget.js: {len(source):,} bytes raw, {packed:,} bytes gzipped (limit 15,360)")


def median_ms(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[max(0, int(len(ordered) * 0.9) - 1)]
    return f"median {statistics.median(values):.1f} ms, p90 {p90:.1f} ms, n={len(values)}"


class Served:
    """The preview server on its own loop in a thread (the browser blocks the main one)."""

    def __init__(self, path: Path, page_url: str | None, backends: Backends) -> None:
        self.path, self.page_url, self.backends = path, page_url, backends
        self.url = ""
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stop_event: asyncio.Event | None = None
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self.serve(),))

    async def serve(self) -> None:
        self.stop_event = asyncio.Event()
        with open_workspace(self.path) as ws:
            async with preview_server.PreviewServer(
                ws, page_url=self.page_url, backends=self.backends
            ) as server:
                self.url = server.url
                self.ready.set()
                await self.stop_event.wait()

    def __enter__(self) -> Served:
        self.thread.start()
        self.ready.wait(60)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.stop_event is not None
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(10)


def launcher_times(
    path: Path, page_url: str | None, loads: int, label: str, backends: Backends
) -> None:
    reason = chromium_missing_reason()
    if reason:
        print(f"launcher visible ({label}): skipped, {reason}")
        return
    marks: list[float] = []
    with Served(path, page_url, backends) as served, Chromedriver() as driver:
        for _ in range(loads):
            with driver.browser(width=1280, height=800) as browser:
                browser.get(served.url)
                mark = browser.wait_for(
                    "const m = performance.getEntriesByName('botdesk:launcher')[0];"
                    " return m && m.startTime"
                )
                marks.append(float(mark))
    print(f"page load to launcher on the page ({label}): {median_ms(marks)}")


async def first_tokens(path: Path, questions: int, backends: Backends) -> None:
    firsts: list[float] = []
    totals: list[float] = []
    with open_workspace(path) as ws:
        async with (
            preview_server.PreviewServer(ws, backends=backends) as server,
            httpx.AsyncClient() as client,
        ):
            for i in range(questions):
                body = {"session_id": f"bench-session-{i:04d}", "message": "When do you deliver?"}
                started = time.perf_counter()
                first = None
                async with client.stream(
                    "POST",
                    server.url + "v1/bots/preview/chat",
                    json=body,
                    headers={"Origin": server.origin},
                ) as response:
                    async for line in response.aiter_lines():
                        if line.startswith("event: token") and first is None:
                            first = time.perf_counter() - started
                totals.append((time.perf_counter() - started) * 1000)
                if first is not None:
                    firsts.append(first * 1000)
    print(f"time to first token through the preview server: {median_ms(firsts)}")
    print(f"whole answer (9 tokens, no model delay): {median_ms(totals)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--questions", type=int, default=30)
    args = parser.parse_args()
    widget_size()
    with shop_site() as site, FakeOllama() as fake, tempfile.TemporaryDirectory() as folder:
        backends = Backends(ollama_host=fake.url)
        fake.chat_answer = model_answer
        path = build_shop_workspace(Path(folder) / "shop.botdesk", site.url)
        asyncio.run(first_tokens(path, args.questions, backends))
        launcher_times(path, None, args.loads, "demo page", backends)
        launcher_times(path, site.url + "/", args.loads, "shop page, hostile CSS", backends)


if __name__ == "__main__":
    main()
