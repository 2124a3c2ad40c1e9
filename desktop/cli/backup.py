"""`botdesk backup`: list, make and restore a workspace's backups."""

from __future__ import annotations

import argparse

from desktop.cli.output import print_json, print_table


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "backup",
        help="list, make or restore the workspace's backups",
        description=(
            "Botdesk keeps a checked copy of each workspace before every schema change and "
            "once a day, in NAME.botdesk-backups/ beside it. Without an option, make one now."
        ),
    )
    parser.add_argument("workspace", metavar="WS", help="the workspace file (NAME.botdesk)")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--list", action="store_true", help="list the backups, newest first")
    what.add_argument(
        "--restore",
        nargs="?",
        const="latest",
        metavar="FILE",
        help="put a backup (default: the newest) in the workspace's place; the replaced "
        "file is kept beside it",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run_backup)


def run_backup(args: argparse.Namespace) -> int:
    from desktop.services import workspaces

    if args.list:
        backups = workspaces.list_backups(args.workspace)
        if args.json:
            print_json([b.to_json() for b in backups])
        elif not backups:
            print("no backups yet")
        else:
            rows = [
                [f"{b.created_at.astimezone():%Y-%m-%d %H:%M}", b.reason, str(b.path)]
                for b in backups
            ]
            print_table(rows, ["when", "why", "file"])
        return 0
    if args.restore is not None:
        chosen = None if args.restore == "latest" else args.restore
        used, kept = workspaces.restore_backup(args.workspace, chosen)
        print(f"restored {used}; the replaced file is kept as {kept}")
        return 0
    made = workspaces.back_up_now(args.workspace)
    print(made.path)
    return 0
