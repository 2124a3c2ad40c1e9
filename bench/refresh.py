"""Bench: `refresh --publish` of the 1,000-page bench site with nothing changed.

The site is bench/sync_site.py's (served by it, in a child process, with ETags); the models
are the loopback Ollama stand-in (all-minilm embeddings, llama3.2 answers) and the endpoint
the independent receiver, both speaking their real protocols. The workspace is first
synced, tested (10 saved questions) and published once; then one refresh with --publish
runs with nothing changed on the site. Printed: its time, and the requests it made to the
model server and to the endpoint (expected: none to either).

Run: python bench/refresh.py [--pages 1000] [--questions 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop.core.jobs import Job
from desktop.services import answers, content, content_sources, publish, refresh
from desktop.services.backends import Backends
from desktop.services.workspaces import create_workspace
from tests.helpers.fake_ollama import FakeOllama
from tests.helpers.receiver import Receiver

TOKEN = "bench-token"
WORDS = ("bread", "flour", "oven", "delivery", "price", "rye", "spelt", "dough", "repair")


def _questions(n: int) -> list[answers.TestQuestion]:
    """Distinct questions whose answers must come from the site's pages (/p/N)."""
    return [
        answers.TestQuestion(
            question=f"Question {i}: what about {WORDS[i % len(WORDS)]} and "
            f"{WORDS[(i * 4 + 1) % len(WORDS)]}?",
            expected_source="/p/*",
        )
        for i in range(n)
    ]


def _model_calls(fake: FakeOllama) -> Counter[str]:
    with fake.script_state.lock:
        return Counter(path for path, _ in fake.script_state.requests)


def bench(pages: int, questions: int, tmp: Path) -> None:
    server = Path(__file__).resolve().parent / "sync_site.py"
    with (
        subprocess.Popen(
            [sys.executable, str(server), "--serve", str(pages)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        ) as site,
        FakeOllama() as ollama,
        Receiver(token=TOKEN, bots=("bench",)) as receiver,
    ):
        assert site.stdout is not None
        origin = site.stdout.readline().strip()
        backends = Backends(ollama_host=ollama.url)
        os.environ["BOTDESK_PUBLISH_TOKEN"] = TOKEN
        ws = create_workspace(tmp / "bench.botdesk", name="Bench", embedder="ollama:all-minilm")
        content_sources.add_site(ws, origin + "/", max_pages=pages + 10, max_depth=50)
        start = time.perf_counter()
        first = asyncio.run(content.sync(ws, Job("Sync"), backends=backends))
        print(
            f"[setup] first sync: {time.perf_counter() - start:.1f} s, {first.fetched} pages, "
            f"{first.passages_added} passages"
        )
        answers.set_profile(ws, "default", generator="ollama:llama3.2", k=4)
        for question in _questions(questions):
            answers.add_question(ws, question)
        start = time.perf_counter()
        asyncio.run(answers.run_tests(ws, Job("Tests"), backends=backends))
        print(
            f"[setup] first test run ({questions} questions): {time.perf_counter() - start:.1f} s"
        )
        publish.set_widget_value(ws, "allowed_origins", '["https://bench.example"]')
        publish.set_widget_value(ws, "answering.embedding_model", "ollama:all-minilm")
        start = time.perf_counter()
        released = asyncio.run(
            publish.publish(ws, endpoint=receiver.url, bot_id="bench", backends=backends)
        )
        print(
            f"[setup] first publish: {time.perf_counter() - start:.1f} s, "
            f"release {released.version}, {released.bundle_size / 1e6:.1f} MB bundle"
        )

        before = _model_calls(ollama)
        receiver.server.requests_seen.clear()
        start = time.perf_counter()
        report = asyncio.run(
            refresh.refresh(ws, Job("Refresh"), publish_after=True, backends=backends)
        )
        elapsed = time.perf_counter() - start
        model_calls = _model_calls(ollama) - before
        endpoint_calls = Counter(method for method, _ in receiver.server.requests_seen)
        ws.close()
        site.communicate()  # closing its stdin ends it

    print(f"[refresh --publish, nothing changed] {pages} pages: {elapsed:.2f} s")
    print(f"  status {report.status}, exit {report.exit_code}: {report.summary}")
    print(
        f"  calls to the model server: {sum(model_calls.values())} ({dict(model_calls) or 'none'})"
    )
    print(
        f"  calls to the endpoint: {sum(endpoint_calls.values())} "
        f"({dict(endpoint_calls) or 'none'}); PUT/POST: "
        f"{endpoint_calls['PUT'] + endpoint_calls['POST']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--questions", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench(args.pages, args.questions, Path(tmp))


if __name__ == "__main__":
    main()
