"""Index commands: search (one query or a file of them), why-not, embedder (status, switch)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.cli.output import print_json, print_json_line, print_table
from desktop.core.errors import ConfigError
from desktop.core.source_ref import SourceRef

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

MODES = ("hybrid", "vector", "keyword")


def _search_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-k", type=int, default=10, metavar="N", help="how many passages (default: 10)"
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        help="hybrid (default with an embedder), vector, or keyword (default without one)",
    )
    parser.add_argument("--min-score", type=float, metavar="X", help="drop hits scoring below X")
    parser.add_argument(
        "--source",
        type=int,
        action="append",
        default=[],
        metavar="ID",
        help="only passages of this source (repeatable)",
    )
    parser.add_argument(
        "--url-prefix",
        default="",
        metavar="PREFIX",
        help="only passages whose URL or path starts with PREFIX",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def register(subparsers: SubParsers) -> None:
    p = subparsers.add_parser(
        "search",
        help="show the passages the bot would be given for a question",
        description="Search the workspace's included passages as the bot would. With "
        "--queries FILE, one question per line in, one JSON line per question out.",
    )
    p.add_argument("workspace", metavar="WS", help="the workspace file (NAME.botdesk)")
    p.add_argument("query", metavar="QUERY", nargs="?", help="the question")
    p.add_argument(
        "--queries",
        type=Path,
        metavar="FILE",
        help="a file with one question per line ('-' for standard input)",
    )
    _search_options(p)
    p.set_defaults(handler=run_search)

    p = subparsers.add_parser(
        "why-not",
        help="why a passage is not retrieved for a question",
        description="Show a passage's rank and score in keyword, vector and hybrid search "
        "for a question, and what kept it out (k, minimum score, exclusion, a filter).",
    )
    p.add_argument("workspace", metavar="WS", help="the workspace file (NAME.botdesk)")
    p.add_argument("query", metavar="QUERY", help="the question")
    p.add_argument("passage", metavar="PASSAGE_ID", type=int, help="the passage expected")
    _search_options(p)
    p.set_defaults(handler=run_why_not)

    p = subparsers.add_parser(
        "embedder",
        help="show the index status, or switch the embedder",
        description="Without SPEC: the embedder and how many passages are embedded. With "
        "SPEC (ollama:MODEL, mistral:MODEL or none): what switching would embed and cost; "
        "add --yes to switch (the next sync embeds).",
    )
    p.add_argument("workspace", metavar="WS", help="the workspace file (NAME.botdesk)")
    p.add_argument("spec", metavar="SPEC", nargs="?", help="ollama:MODEL, mistral:MODEL or none")
    p.add_argument("--yes", action="store_true", help="switch after showing the cost")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run_embedder)


def _read_queries(path: Path) -> list[str]:
    if str(path) == "-":
        text = sys.stdin.read()
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"Cannot read the queries file {path}: {exc}") from exc
    return [line.strip() for line in text.splitlines() if line.strip()]


def _source_text(source: SourceRef) -> str:
    """The URL, or a local file's name (the table is narrow; --json has the full path)."""
    where = source.url or Path(source.path or "").name
    page = f" p.{source.page}" if source.page else ""
    return where + page


def run_search(args: argparse.Namespace) -> int:
    from desktop.services import index
    from desktop.services.workspaces import open_workspace

    if (args.query is None) == (args.queries is None):
        print("botdesk search: give a QUERY or --queries FILE (one of them).", file=sys.stderr)
        return 2
    queries = [args.query] if args.queries is None else _read_queries(args.queries)
    with open_workspace(args.workspace) as ws:

        async def run_all() -> None:
            for query in queries:
                hits = await index.search(
                    ws,
                    query,
                    k=args.k,
                    mode=args.mode,
                    min_score=args.min_score,
                    source_ids=args.source,
                    url_prefix=args.url_prefix,
                    backends=args.backends,
                )
                for note in hits.notes:
                    print(f"note: {note}", file=sys.stderr)
                if args.json:
                    out = {"query": query, "results": [h.as_json() for h in hits]}
                    if args.queries is None:
                        print_json(out)
                    else:
                        print_json_line(out)
                    continue
                if args.queries is not None:
                    print(f"# {query}")
                if not hits:
                    print("No passage found.")
                    continue
                rows = [
                    [
                        str(h.rank),
                        f"{h.score:.4f}",
                        str(h.chunk_id),
                        _source_text(h.source),
                        h.heading,
                        " ".join(h.text.split()),
                    ]
                    for h in hits
                ]
                print_table(rows, ["RANK", "SCORE", "ID", "SOURCE", "HEADING", "TEXT"])

        asyncio.run(run_all())
    return 0


def run_why_not(args: argparse.Namespace) -> int:
    from desktop.services import index
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        filters = index.Filters(tuple(args.source), args.url_prefix)
        result = asyncio.run(
            index.why_not(
                ws,
                args.query,
                args.passage,
                k=args.k,
                mode=args.mode,
                min_score=args.min_score,
                filters=filters,
                backends=args.backends,
            )
        )
    if args.json:
        print_json(
            {
                "query": args.query,
                "passage": args.passage,
                "mode": result.mode,
                "summary": result.summary(),
                "included": result.state.included,
                "modes": {
                    name: {
                        "rank": v.rank,
                        "score": v.score,
                        "retrieved": v.retrieved,
                        "cut_by": v.cut_by,
                    }
                    for name, v in result.modes.items()
                },
            }
        )
        return 0
    print(result.summary())
    rows = [
        [
            name,
            "-" if v.rank is None else str(v.rank),
            "-" if v.score is None else f"{v.score:.4f}",
            "yes" if v.retrieved else "no",
            "; ".join(v.cut_by),
        ]
        for name, v in result.modes.items()
    ]
    print_table(rows, ["MODE", "RANK", "SCORE", "RETRIEVED", "CUT BY"])
    return 0


def run_embedder(args: argparse.Namespace) -> int:
    from desktop.services import index
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        if args.spec is None:
            status = index.index_status(ws)
            if args.json:
                print_json(status.__dict__)
            else:
                print(status.line())
            return 0
        cost = index.estimate_embedder(ws, args.spec)
        switched = False
        if args.yes:
            index.set_embedder(ws, args.spec)
            switched = True
    if args.json:
        print_json(
            {
                "embedder": args.spec,
                "switched": switched,
                "estimate": None if cost is None else cost.__dict__,
            }
        )
        return 0
    print(cost.line() if cost is not None else "none: keyword search only, nothing to embed")
    if switched:
        print(f"Embedder set to {args.spec}; the next sync embeds what is missing.")
    else:
        print("Nothing changed: add --yes to switch.")
    return 0
