"""Content commands: add, sources, preview, sync, docs, chunks, chunk, boilerplate."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop.cli.output import StderrProgress, print_json, print_table
from desktop.core.content.models import SourceInfo
from desktop.core.errors import SourceError
from desktop.core.jobs import Job
from desktop.core.store.lock import WorkspaceLock

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _ws_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workspace", metavar="WS", help="the workspace file (NAME.botdesk)")


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


def register(subparsers: SubParsers) -> None:
    add = subparsers.add_parser(
        "add",
        help="add a source (site, files, text, qa)",
        description="Add a source to the workspace; `botdesk sync` fetches it.",
    )
    kinds = add.add_subparsers(dest="kind", metavar="KIND", required=True)
    p = kinds.add_parser("site", help="a website", description="Add a website by its start URL.")
    _ws_arg(p)
    p.add_argument("url", metavar="URL", help="the start URL (https://...)")
    _rules(p)
    p.add_argument("--max-depth", type=int, metavar="N", help="follow links at most N deep")
    _politeness(p)
    p.set_defaults(handler=run_add_site)
    p = kinds.add_parser(
        "files",
        help="files or folders",
        description="Add files or folders (PDF, HTML, Markdown, text).",
    )
    _ws_arg(p)
    p.add_argument("paths", metavar="PATH", nargs="+", help="a file or a folder")
    p.set_defaults(handler=run_add_files)
    p = kinds.add_parser("text", help="pasted text", description="Add a text as its own source.")
    _ws_arg(p)
    p.add_argument("--title", required=True, help="the text's title")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--text", help="the text itself")
    group.add_argument("--file", type=Path, metavar="F", help="read the text from this file")
    p.set_defaults(handler=run_add_text)
    p = kinds.add_parser("qa", help="a question and its answer", description="Add a Q&A pair.")
    _ws_arg(p)
    p.add_argument("--question", required=True, help="the question")
    p.add_argument("--answer", required=True, help="the answer")
    p.set_defaults(handler=run_add_qa)

    p = subparsers.add_parser("sources", help="list sources", description="List the sources.")
    _ws_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run_sources)

    p = subparsers.add_parser(
        "source",
        help="show or change a site source's crawl settings",
        description="Show a source's settings, or change a site's politeness and trap "
        "settings (taken at the next sync).",
    )
    _ws_arg(p)
    p.add_argument("source_id", type=int, metavar="ID", help="the source (see `sources`)")
    _politeness(p)
    p.add_argument("--json", action="store_true", help="print the settings as JSON")
    p.set_defaults(handler=run_source)

    p = subparsers.add_parser(
        "preview",
        help="preview a site crawl (no pages fetched)",
        description="Discover a site's pages (sitemaps and links) and show which the rules keep.",
    )
    _ws_arg(p)
    p.add_argument("url", metavar="URL", help="the start URL")
    _rules(p)
    p.add_argument("--json", action="store_true", help="print JSON (urls, tree, count)")
    p.set_defaults(handler=run_preview)

    p = subparsers.add_parser(
        "sync",
        help="fetch, extract and chunk every source",
        description="Sync incrementally: unchanged pages and files are skipped. Progress on "
        "stderr, the summary on stdout.",
    )
    _ws_arg(p)
    p.add_argument("--source", type=int, action="append", metavar="ID", help="only this source")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(handler=run_sync)

    p = subparsers.add_parser("docs", help="list documents", description="List the documents.")
    _ws_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--text", action="store_true", help="include the extracted Markdown")
    p.set_defaults(handler=run_docs)

    p = subparsers.add_parser("chunks", help="list passages", description="List the passages.")
    _ws_arg(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--document", type=int, metavar="ID", help="only this document's passages")
    p.add_argument(
        "--state",
        metavar="S",
        help="included, excluded, edited, needs_review or boilerplate",
    )
    p.add_argument("--search", metavar="QUERY", help="full-text search")
    p.set_defaults(handler=run_chunks)

    chunk = subparsers.add_parser(
        "chunk", help="curate passages", description="Exclude, include, edit or add passages."
    )
    actions = chunk.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (("exclude", "keep passages out of the bot"), ("include", "put them back")):
        p = actions.add_parser(name, help=text, description=text.capitalize() + ".")
        _ws_arg(p)
        p.add_argument("ids", metavar="ID", type=int, nargs="+", help="passage ids")
        p.set_defaults(handler=run_chunk_exclude if name == "exclude" else run_chunk_include)
    p = actions.add_parser("edit", help="replace a passage's text", description="Edit a passage.")
    _ws_arg(p)
    p.add_argument("id", metavar="ID", type=int, help="the passage id")
    p.add_argument("--text-file", type=Path, required=True, metavar="F", help="the new text")
    p.set_defaults(handler=run_chunk_edit)
    p = actions.add_parser("add", help="add a passage by hand", description="Add a passage.")
    _ws_arg(p)
    p.add_argument("--document", type=int, required=True, metavar="ID", help="under this document")
    p.add_argument("--text-file", type=Path, required=True, metavar="F", help="the text")
    p.add_argument("--heading", default="", help="its heading path")
    p.set_defaults(handler=run_chunk_add)
    p = actions.add_parser(
        "resolve", help="settle a passage that needs review", description="Resolve a review."
    )
    _ws_arg(p)
    p.add_argument("id", metavar="ID", type=int, help="the passage id")
    p.add_argument("--keep", choices=("edit", "source"), required=True, help="which text to keep")
    p.set_defaults(handler=run_chunk_resolve)

    p = subparsers.add_parser(
        "boilerplate",
        help="passages repeated across many documents",
        description="List groups of repeated passages; --exclude KEY excludes one group.",
    )
    _ws_arg(p)
    p.add_argument("--exclude", metavar="KEY", help="exclude every passage of this group")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run_boilerplate)


# -- helpers ---------------------------------------------------------------------------
def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"Cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc


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


# -- handlers --------------------------------------------------------------------------
def run_add_site(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        source = content.add_site(
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


def run_source(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    changes = _politeness_values(args)
    with open_workspace(args.workspace) as ws:
        source = content.get_source(ws, args.source_id)
        if changes:
            source = content.set_source_settings(ws, args.source_id, **changes)
        shown = {k: v for k, v in source.settings.items() if k != "crawl_memory"}
        if args.json:
            print_json({"id": source.id, "kind": source.kind, "settings": shown})
            return 0
        print(f"source {source.id} ({source.kind}): {source.location or source.title}")
        for name, value in sorted(shown.items()):
            print(f"  {name}: {value}")
    return 0


def run_add_files(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        for source in content.add_files(ws, args.paths):
            print(f"added source {source.id}: {source.location}")
    return 0


def run_add_text(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    text = args.text if args.text is not None else _read_text(args.file)
    with open_workspace(args.workspace) as ws:
        source = content.add_text(ws, args.title, text)
        print(f"added source {source.id}: {source.title}")
    return 0


def run_add_qa(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        source = content.add_qa(ws, args.question, args.answer)
        print(f"added source {source.id}: {source.title}")
    return 0


def run_sources(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        sources = content.list_sources(ws)
    if args.json:
        print_json([s.to_json() for s in sources])
    else:
        print_table(
            [_source_row(s) for s in sources],
            ["id", "kind", "location", "title", "docs", "passages", "synced"],
        )
    return 0


def run_preview(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace):
        pass  # only checked: a preview stores nothing
    job = Job("Crawl preview", listeners=[StderrProgress()])
    preview = asyncio.run(
        content.preview_site(
            args.url,
            include=args.include,
            exclude=args.exclude,
            max_pages=args.max_pages,
            job=job,
            backends=args.backends,
        )
    )
    selection = content.apply_site_rules(
        preview, include=args.include, exclude=args.exclude, max_pages=args.max_pages
    )
    if args.json:
        print_json(selection.to_json())
        return 0
    _print_tree(selection.tree, 0)
    print(f"{selection.count} of {len(selection.urls)} pages would be fetched")
    return 0


def _print_tree(node: Any, depth: int) -> None:
    for child in node.children:
        mark = "" if child.url is None else (" ✓" if child.included else f" ✗ {child.reason}")
        print(f"{'  ' * depth}{child.name}  ({child.included_count}/{child.total}){mark}")
        _print_tree(child, depth + 1)


def run_sync(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws, WorkspaceLock(ws.path, "sync"):
        job = Job(f"Sync {ws.name}", listeners=[StderrProgress()])
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


def run_docs(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        docs = content.list_documents(ws)
        details = [content.get_document(ws, d.id) for d in docs] if args.text else []
    if args.json:
        out = []
        for i, doc in enumerate(docs):
            item = doc.to_json()
            if args.text:
                item["markdown"] = details[i].markdown
                item["pages"] = details[i].pages
            out.append(item)
        print_json(out)
        return 0
    if args.text:
        for detail in details:
            print(f"=== {detail.id} {detail.uri} ({detail.status}) {detail.title}")
            print(detail.markdown)
        return 0
    rows = [
        [
            str(d.id),
            d.uri,
            d.title,
            d.status + (" (excluded)" if d.excluded else ""),
            d.status_reason,
            str(d.passages),
        ]
        for d in docs
    ]
    print_table(rows, ["id", "source", "title", "status", "reason", "passages"])
    return 0


def run_chunks(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        passages = content.list_passages(
            ws, document_id=args.document, state=args.state, query=args.search
        )
    if args.json:
        print_json([p.to_json() for p in passages])
        return 0
    rows = [
        [
            str(p.id),
            p.uri,
            p.title,
            p.heading_path,
            "" if p.page is None else str(p.page),
            p.state + (" boilerplate" if p.boilerplate else ""),
            str(p.tokens),
            " ".join(p.text.split()),
        ]
        for p in passages
    ]
    print_table(rows, ["id", "source", "title", "heading", "page", "state", "tokens", "text"])
    return 0


def run_chunk_exclude(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        n = content.exclude_passages(ws, args.ids)
    print(f"excluded {n} passages")
    return 0


def run_chunk_include(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        n = content.include_passages(ws, args.ids)
    print(f"included {n} passages")
    return 0


def run_chunk_edit(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    text = _read_text(args.text_file)
    with open_workspace(args.workspace) as ws:
        passage = content.edit_passage(ws, args.id, text)
    print(f"passage {passage.id}: {passage.state}, {passage.tokens} tokens")
    return 0


def run_chunk_add(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    text = _read_text(args.text_file)
    with open_workspace(args.workspace) as ws:
        passage = content.add_passage(ws, args.document, text, heading_path=args.heading)
    print(f"added passage {passage.id}")
    return 0


def run_chunk_resolve(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        passage = content.resolve_review(ws, args.id, keep=args.keep)
    print(f"passage {passage.id}: {passage.state}")
    return 0


def run_boilerplate(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        if args.exclude:
            n = content.exclude_boilerplate(ws, args.exclude)
            print(f"excluded {n} passages")
            return 0
        groups = content.boilerplate_groups(ws)
    if args.json:
        print_json([g.to_json() for g in groups])
        return 0
    if not groups:
        print("no repeated passages found", file=sys.stderr)
    rows = [
        [g.key, str(g.documents), f"{g.excluded}/{len(g.passage_ids)}", " ".join(g.text.split())]
        for g in groups
    ]
    print_table(rows, ["key", "docs", "excluded", "text"])
    return 0
