"""Source commands: add (site, files, text, qa), sources, source, preview and sync.

No service at import time (`botdesk --help` stays fast): the services are imported by
the handlers that use them.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.cli.options import add_workspace_argument, read_text_file
from desktop.cli.output import print_json, print_table, progress_job
from desktop.core.content.models import SourceInfo
from desktop.core.store.lock import WorkspaceLock

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _rules(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="GLOB",
        help="only URLs matching this glob (repeatable)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="skip URLs matching this glob (repeatable)",
    )
    parser.add_argument("--max-pages", type=int, metavar="N", help="fetch at most N pages")


def _politeness(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--concurrency", type=int, metavar="N", help="requests in flight per host (default 4)"
    )
    parser.add_argument(
        "--timeout", type=float, metavar="S", help="seconds to wait for a response (default 20)"
    )
    parser.add_argument(
        "--family-cap",
        type=int,
        metavar="N",
        help="pages followed in one endless URL series such as /calendar/{n}/{n} (default 50)",
    )
    parser.add_argument(
        "--noindex",
        choices=("honour", "ignore"),
        help="pages marked noindex (meta robots, X-Robots-Tag): left out (default) or kept",
    )


def _politeness_values(args: argparse.Namespace) -> dict[str, Any]:
    values = {
        "concurrency": args.concurrency,
        "timeout_s": args.timeout,
        "family_cap": args.family_cap,
        "honour_noindex": None if args.noindex is None else args.noindex == "honour",
    }
    return {name: value for name, value in values.items() if value is not None}


# -- registration, one function a command (in the order `botdesk --help` lists them) -----
def register(subparsers: SubParsers) -> None:
    for register_command in (
        _register_add,
        _register_sources,
        _register_source,
        _register_preview,
        _register_sync,
    ):
        register_command(subparsers)


def _register_add(subparsers: SubParsers) -> None:
    add = subparsers.add_parser(
        "add",
        help="add a source (site, files, text, qa)",
        description="Add a source to the workspace; `botdesk sync` fetches it.",
    )
    kinds = add.add_subparsers(dest="kind", metavar="KIND", required=True)
    for register_kind in (
        _register_add_site,
        _register_add_files,
        _register_add_text,
        _register_add_qa,
    ):
        register_kind(kinds)


def _register_add_site(kinds: SubParsers) -> None:
    p = kinds.add_parser("site", help="a website", description="Add a website by its start URL.")
    add_workspace_argument(p)
    p.add_argument("url", metavar="URL", help="the start URL (https://...)")
    _rules(p)
    p.add_argument("--max-depth", type=int, metavar="N", help="follow links at most N deep")
    _politeness(p)
    p.set_defaults(handler=run_add_site)


def _register_add_files(kinds: SubParsers) -> None:
    p = kinds.add_parser(
        "files",
        help="files or folders",
        description="Add files or folders (PDF, HTML, Markdown, text).",
    )
    add_workspace_argument(p)
    p.add_argument("paths", metavar="PATH", nargs="+", help="a file or a folder")
    p.set_defaults(handler=run_add_files)


def _register_add_text(kinds: SubParsers) -> None:
    p = kinds.add_parser("text", help="pasted text", description="Add a text as its own source.")
    add_workspace_argument(p)
    p.add_argument("--title", required=True, help="the text's title")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--text", help="the text itself")
    group.add_argument("--file", type=Path, metavar="F", help="read the text from this file")
    p.set_defaults(handler=run_add_text)


def _register_add_qa(kinds: SubParsers) -> None:
    p = kinds.add_parser("qa", help="a question and its answer", description="Add a Q&A pair.")
    add_workspace_argument(p)
    p.add_argument("--question", required=True, help="the question")
    p.add_argument("--answer", required=True, help="the answer")
    p.set_defaults(handler=run_add_qa)


def _register_sources(subparsers: SubParsers) -> None:
    p = subparsers.add_parser("sources", help="list sources", description="List the sources.")
    add_workspace_argument(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run_sources)


def _register_source(subparsers: SubParsers) -> None:
    p = subparsers.add_parser(
        "source",
        help="show or change a site source's crawl settings",
        description="Show a source's settings, or change a site's politeness and trap "
        "settings (taken at the next sync).",
    )
    add_workspace_argument(p)
    p.add_argument("source_id", type=int, metavar="ID", help="the source (see `sources`)")
    _politeness(p)
    p.add_argument("--json", action="store_true", help="print the settings as JSON")
    p.set_defaults(handler=run_source)


def _register_preview(subparsers: SubParsers) -> None:
    p = subparsers.add_parser(
        "preview",
        help="preview a site crawl (no pages fetched)",
        description="Discover a site's pages (sitemaps and links) and show which the rules keep.",
    )
    add_workspace_argument(p)
    p.add_argument("url", metavar="URL", help="the start URL")
    _rules(p)
    p.add_argument("--json", action="store_true", help="print JSON (urls, tree, count)")
    p.set_defaults(handler=run_preview)


def _register_sync(subparsers: SubParsers) -> None:
    p = subparsers.add_parser(
        "sync",
        help="fetch, extract and chunk every source",
        description="Sync incrementally: unchanged pages and files are skipped. Progress on "
        "stderr, the summary on stdout.",
    )
    add_workspace_argument(p)
    p.add_argument("--source", type=int, action="append", metavar="ID", help="only this source")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=run_sync)


# -- helpers ---------------------------------------------------------------------------
def _source_row(s: SourceInfo) -> list[str]:
    return [
        str(s.id),
        s.kind,
        s.location or "-",
        s.title,
        str(s.documents),
        str(s.passages),
        s.last_synced_at or "never",
    ]


def _print_tree(node: Any, depth: int) -> None:
    for child in node.children:
        mark = "" if child.url is None else (" ✓" if child.included else f" ✗ {child.reason}")
        print(f"{'  ' * depth}{child.name}  ({child.included_count}/{child.total}){mark}")
        _print_tree(child, depth + 1)


# -- handlers --------------------------------------------------------------------------
def run_add_site(args: argparse.Namespace) -> int:
    from desktop.services import content_sources
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        source = content_sources.add_site(
            ws,
            args.url,
            include=args.include,
            exclude=args.exclude,
            max_pages=args.max_pages,
            max_depth=args.max_depth,
            **_politeness_values(args),
        )
        print(f"added source {source.id}: {source.location}")
    return 0


def run_add_files(args: argparse.Namespace) -> int:
    from desktop.services import content_sources
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        for source in content_sources.add_files(ws, args.paths):
            print(f"added source {source.id}: {source.location}")
    return 0


def run_add_text(args: argparse.Namespace) -> int:
    from desktop.services import content_sources
    from desktop.services.workspaces import open_workspace

    text = args.text if args.text is not None else read_text_file(args.file)
    with open_workspace(args.workspace) as ws:
        source = content_sources.add_text(ws, args.title, text)
        print(f"added source {source.id}: {source.title}")
    return 0


def run_add_qa(args: argparse.Namespace) -> int:
    from desktop.services import content_sources
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        source = content_sources.add_qa(ws, args.question, args.answer)
        print(f"added source {source.id}: {source.title}")
    return 0


def run_sources(args: argparse.Namespace) -> int:
    from desktop.services import content_sources
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        sources = content_sources.list_sources(ws)
    if args.json:
        print_json([s.to_json() for s in sources])
    else:
        print_table(
            [_source_row(s) for s in sources],
            ["id", "kind", "location", "title", "docs", "passages", "synced"],
        )
    return 0


def run_source(args: argparse.Namespace) -> int:
    from desktop.services import content_sources
    from desktop.services.workspaces import open_workspace

    changes = _politeness_values(args)
    with open_workspace(args.workspace) as ws:
        source = content_sources.get_source(ws, args.source_id)
        if changes:
            source = content_sources.set_source_settings(ws, args.source_id, **changes)
        shown = {k: v for k, v in source.settings.items() if k != "crawl_memory"}
        if args.json:
            print_json({"id": source.id, "kind": source.kind, "settings": shown})
            return 0
        print(f"source {source.id} ({source.kind}): {source.location or source.title}")
        for name, value in sorted(shown.items()):
            print(f"  {name}: {value}")
    return 0


def run_preview(args: argparse.Namespace) -> int:
    from desktop.services import content_sources
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace):
        pass  # only checked: a preview stores nothing
    job = progress_job("Crawl preview")
    preview = asyncio.run(
        content_sources.preview_site(
            args.url,
            include=args.include,
            exclude=args.exclude,
            max_pages=args.max_pages,
            job=job,
            backends=args.backends,
        )
    )
    selection = content_sources.apply_site_rules(
        preview, include=args.include, exclude=args.exclude, max_pages=args.max_pages
    )
    if args.json:
        print_json(selection.to_json())
        return 0
    _print_tree(selection.tree, 0)
    print(f"{selection.count} of {len(selection.urls)} pages would be fetched")
    return 0


def run_sync(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws, WorkspaceLock(ws.path, "sync"):
        job = progress_job(f"Sync {ws.name}")
        summary = asyncio.run(content.sync(ws, job, source_ids=args.source, backends=args.backends))
    if args.json:
        print_json(summary.to_json())
        return 0
    print(summary.line())
    for reason, n in sorted(summary.skipped.items()):
        print(f"skipped ({reason}): {n}")
    for item, reason in sorted(summary.failed.items()):
        print(f"failed: {item}: {reason}")
    return 0
