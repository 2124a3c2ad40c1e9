"""A 100-question test-set run with a stand-in model of fixed latency, at bounded concurrency.

Reports the run's wall time against the ideal 100 × latency / N. The stand-in is the
loopback Ollama fake (real HTTP, the real `ollama` client) when the providers part is in
this build, else the in-process fake generator; retrieval returns fixed passages so the
figure is the runner's own (storing results, judging, progress) on top of the model wait.

    python bench/testset_run.py [--questions 100] [--latency 0.2] [--concurrency 1,4,8]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop.core.answering.prices import PriceTable
from desktop.core.jobs import Job
from desktop.services import answers
from desktop.services.workspaces import create_workspace
from tests.core.answering.support import FakeSearch, hits
from tests.helpers.backends import test_backends
from tests.helpers.fake_ollama import FakeOllama


def stand_in(latency: float) -> tuple[str, Any, Any]:
    """(label, the stand-in Ollama server, cleanup)."""
    server = FakeOllama(chat_delay_s=latency).start()
    server.chat_answer = "Eight o'clock [1]."  # what the test set's questions expect
    return "loopback Ollama fake over HTTP", server, server.stop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", default="1,4,8")
    args = parser.parse_args()
    label, server, cleanup = stand_in(args.latency)
    print(f"stand-in model: {label}, {args.latency * 1000:.0f} ms per answer")
    print(f"{'N':>3}  {'total s':>8}  {'ideal s':>8}  {'overhead':>8}  passed")
    try:
        for n in [int(x) for x in args.concurrency.split(",")]:
            with tempfile.TemporaryDirectory() as tmp:
                ws = create_workspace(Path(tmp) / "bench.botdesk", name="bench")
                answers.testbench.save_questions(
                    ws,
                    [
                        answers.TestQuestion(f"Question {i}?", "page0", ("eight",))
                        for i in range(args.questions)
                    ],
                )
                backends = test_backends(
                    ollama=server, search=FakeSearch(hits(5)), prices=PriceTable.load()
                )
                t0 = time.perf_counter()
                report = asyncio.run(
                    answers.run_tests(
                        ws, Job("bench"), ["default"], concurrency=n, backends=backends
                    )
                )
                total = time.perf_counter() - t0
                ideal = args.questions * args.latency / n
                passed = report.totals["default"].passed
                print(
                    f"{n:>3}  {total:8.2f}  {ideal:8.2f}  {(total / ideal - 1) * 100:7.1f}%  "
                    f"{passed}/{args.questions}"
                )
                ws.close()
    finally:
        cleanup()


if __name__ == "__main__":
    main()
