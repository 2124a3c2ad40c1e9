"""`botdesk app` and `botdesk demo`: start the desktop application."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "app", help="open the desktop app", description="Open the desktop app."
    )
    parser.add_argument("workspace", metavar="WS", nargs="?", help="a workspace to open")
    parser.set_defaults(handler=run_app)


def run_app(args: argparse.Namespace) -> int:
    from desktop.app import run  # Qt is imported only when the window is wanted

    return run(workspace_path=args.workspace)
