"""`botdesk flagged`: passages that speak to the bot itself (prompt injection), to review."""

from __future__ import annotations

import argparse

from desktop.cli.output import print_json, print_table


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "flagged",
        help="passages that address the bot (\u201cignore previous instructions\u201d...)",
        description=(
            "List the included passages whose text addresses the model, with the words "
            "matched; --accept marks some as harmless (until their text changes), so the "
            "publish check stops flagging them. Exclude the others with `botdesk chunk "
            "exclude`."
        ),
    )
    parser.add_argument("workspace", metavar="WS", help="the workspace file (NAME.botdesk)")
    parser.add_argument(
        "--accept", type=int, nargs="+", metavar="ID", help="accept these passages as harmless"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run_flagged)


def run_flagged(args: argparse.Namespace) -> int:
    from desktop.services import content
    from desktop.services.workspaces import open_workspace

    with open_workspace(args.workspace) as ws:
        if args.accept:
            print(f"accepted {content.accept_flagged(ws, args.accept)} passage(s)")
            return 0
        flagged = content.flagged_passages(ws)
    if args.json:
        print_json([f.to_json() for f in flagged])
    elif not flagged:
        print("no passage addresses the bot")
    else:
        rows = [
            [
                str(f.passage_id),
                f.document,
                "; ".join(f.matches),
                "accepted" if f.accepted else "to review",
            ]
            for f in flagged
        ]
        print_table(rows, ["id", "document", "matched", "status"])
    return 0
