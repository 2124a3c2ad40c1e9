"""`botdesk app` and `botdesk demo`: start the desktop application."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from desktop.cli.output import StderrProgress


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "app", help="open the desktop app", description="Open the desktop app."
    )
    parser.add_argument("workspace", metavar="WS", nargs="?", help="a workspace to open")
    parser.set_defaults(handler=run_app)

    parser = subparsers.add_parser(
        "demo",
        help="open the app on a sample workspace",
        description="Build a sample workspace (a small bakery supplier's site and product "
        "sheet), if needed, and open the app on it. No server needed.",
    )
    parser.add_argument(
        "--path", type=Path, metavar="P", help="where to build it (default: your data folder)"
    )
    parser.add_argument("--rebuild", action="store_true", help="build it again from scratch")
    parser.add_argument("--no-gui", action="store_true", help="only build it; print its path")
    parser.set_defaults(handler=run_demo)


def run_app(args: argparse.Namespace) -> int:
    from desktop.app import run  # Qt is imported only when the window is wanted

    return run(workspace_path=args.workspace)


def run_demo(args: argparse.Namespace) -> int:
    from desktop.services.demo import build_demo

    path = asyncio.run(build_demo(args.path, rebuild=args.rebuild, listener=StderrProgress()))
    print(path)
    if args.no_gui:
        return 0
    from desktop.app import run

    return run(workspace_path=str(path))
