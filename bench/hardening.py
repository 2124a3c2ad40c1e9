"""What the hardening costs: the passage publish checks over a workspace, the chunker on a
5 MB page with no breaks, and a daily backup (VACUUM INTO + quick_check) of that workspace.

    python bench/hardening.py [--passages 10000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop.core.content.chunking import chunk_markdown
from desktop.core.publish.passage_checks import passage_checks
from desktop.core.store import backup
from desktop.core.store.workspace import Workspace, utc_now
from desktop.core.text import count_tokens, sha256_hex

WORDS = [
    *("delivery", "returns", "warranty", "shop", "opens", "nine", "closes", "six"),
    *("weekdays", "screen", "repair", "covered", "two", "year", "price", "euros"),
    *("shipping", "abroad", "week", "order", "account", "card", "refund", "within"),
]


def _text(rng: random.Random, words: int) -> str:
    sentences = []
    while words > 0:
        n = min(words, rng.randint(8, 20))
        sentences.append(" ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + ".")
        words -= n
    return " ".join(sentences)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passages", type=int, default=10_000)
    args = parser.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.botdesk"
        ws = Workspace.create(path, name="bench")
        with ws.transaction():
            ws.execute(
                "insert into sources(kind, location, title, created_at)"
                " values ('text', '', 't', ?)",
                (utc_now(),),
            )
            ws.execute(
                "insert into documents(source_id, uri, status, updated_at) values (1, 'text:1',"
                " 'ok', ?)",
                (utc_now(),),
            )
            for i in range(args.passages):
                text = _text(rng, 120)
                ws.execute(
                    "insert into passages(document_id, ordinal, source_text, source_hash, text,"
                    " text_hash, tokens, created_at, updated_at)"
                    " values (1, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        i,
                        text,
                        sha256_hex(text),
                        text,
                        sha256_hex(text),
                        count_tokens(text),
                        utc_now(),
                        utc_now(),
                    ),
                )
        started = time.perf_counter()
        found = passage_checks(ws, None)
        took = time.perf_counter() - started
        print(
            f"passage checks, {args.passages} passages: {took:.2f} s "
            f"({took / args.passages * 1e3:.3f} ms each), findings: {[c.code for c in found]}"
        )
        started = time.perf_counter()
        made = backup.make_backup(ws.conn, path, kind="daily")
        took = time.perf_counter() - started
        size = path.stat().st_size / 1e6
        print(f"daily backup of a {size:.1f} MB workspace: {took:.2f} s -> {made.path.name}")
        ws.close()
    page = " ".join(rng.choice(WORDS) for _ in range(800_000))  # ~5 MB, one line, no '.'
    started = time.perf_counter()
    chunks = chunk_markdown(page)
    took = time.perf_counter() - started
    print(
        f"chunking a {len(page) / 1e6:.1f} MB line with no sentence end: {took:.2f} s, "
        f"{len(chunks)} passages, largest {max(c.tokens for c in chunks)} tokens"
    )


if __name__ == "__main__":
    main()
