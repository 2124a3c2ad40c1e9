"""Document and passage commands: docs, chunks, chunk (exclude, include, edit, add, resolve)
and boilerplate. The source commands (add, sources, source, preview, sync) are in sources.py.

No service at import time (`botdesk --help` stays fast): the services are imported by
the handlers that use them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.cli.options import add_workspace_argument, read_text_file
from desktop.cli.output import print_json, print_table

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


# -- registration, one function a command (in the order `botdesk --help` lists them) -----
def register(subparsers: SubParsers) -> None:
    for register_command in (
        _register_docs,
        _register_chunks,
        _register_chunk,
        _register_boilerplate,
    ):
        register_command(subparsers)


def _register_docs(subparsers: SubParsers) -> None:
    p = subparsers.add_parser("docs", help="list documents", description="List the documents.")
    add_workspace_argument(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--text", action="store_true", help="include the extracted Markdown")
    p.set_defaults(handler=run_docs)


def _register_chunks(subparsers: SubParsers) -> None:
    p = subparsers.add_parser("chunks", help="list passages", description="List the passages.")
    add_workspace_argument(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--document", type=int, metavar="ID", help="only this document's passages")
    p.add_argument(
        "--state",
        metavar="S",
        help="included, excluded, edited, needs_review or boilerplate",
    )
    p.add_argument("--search", metavar="QUERY", help="full-text search")
    p.set_defaults(handler=run_chunks)


def _register_chunk(subparsers: SubParsers) -> None:
    chunk = subparsers.add_parser(
        "chunk", help="curate passages", description="Exclude, include, edit or add passages."
    )
    actions = chunk.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, text in (("exclude", "keep passages out of the bot"), ("include", "put them back")):
        p = actions.add_parser(name, help=text, description=text.capitalize() + ".")
        add_workspace_argument(p)
        p.add_argument("ids", metavar="ID", type=int, nargs="+", help="passage ids")
        p.set_defaults(handler=run_chunk_exclude if name == "exclude" else run_chunk_include)
    _register_chunk_edit(actions)
    _register_chunk_add(actions)
    _register_chunk_resolve(actions)


def _register_chunk_edit(actions: SubParsers) -> None:
    p = actions.add_parser("edit", help="replace a passage's text", description="Edit a passage.")
    add_workspace_argument(p)
    p.add_argument("id", metavar="ID", type=int, help="the passage id")
    p.add_argument("--text-file", type=Path, required=True, metavar="F", help="the new text")
    p.set_defaults(handler=run_chunk_edit)


def _register_chunk_add(actions: SubParsers) -> None:
    p = actions.add_parser("add", help="add a passage by hand", description="Add a passage.")
    add_workspace_argument(p)
    p.add_argument("--document", type=int, required=True, metavar="ID", help="under this document")
    p.add_argument("--text-file", type=Path, required=True, metavar="F", help="the text")
    p.add_argument("--heading", default="", help="its heading path")
    p.set_defaults(handler=run_chunk_add)


def _register_chunk_resolve(actions: SubParsers) -> None:
    p = actions.add_parser(
        "resolve", help="settle a passage that needs review", description="Resolve a review."
    )
    add_workspace_argument(p)
    p.add_argument("id", metavar="ID", type=int, help="the passage id")
    p.add_argument("--keep", choices=("edit", "source"), required=True, help="which text to keep")
    p.set_defaults(handler=run_chunk_resolve)


def _register_boilerplate(subparsers: SubParsers) -> None:
    p = subparsers.add_parser(
        "boilerplate",
        help="passages repeated across many documents",
        description="List groups of repeated passages; --exclude KEY excludes one group.",
    )
    add_workspace_argument(p)
    p.add_argument("--exclude", metavar="KEY", help="exclude every passage of this group")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run_boilerplate)


# -- handlers --------------------------------------------------------------------------
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

    text = read_text_file(args.text_file)
    with open_workspace(args.workspace) as ws:
        passage = content.edit_passage(ws, args.id, text)
    print(f"passage {passage.id}: {passage.state}, {passage.tokens} tokens")
    return 0


def run_chunk_add(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    text = read_text_file(args.text_file)
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
