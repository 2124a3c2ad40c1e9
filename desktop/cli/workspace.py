"""`botdesk init`: create a workspace."""

from __future__ import annotations

import argparse

from desktop.core.model_specs import DEFAULT_EMBEDDER


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "init", help="create a workspace file", description="Create a new workspace file."
    )
    parser.add_argument(
        "workspace", metavar="WS", help="the workspace file to create (NAME.botdesk)"
    )
    parser.add_argument("--name", required=True, help="the bot's name")
    parser.add_argument(
        "--embedder",
        default=DEFAULT_EMBEDDER,
        help="ollama:MODEL, mistral:MODEL, or none for keyword search only (default: %(default)s)",
    )
    parser.set_defaults(handler=run_init)


def run_init(args: argparse.Namespace) -> int:
    from desktop.services.workspaces import create_workspace

    with create_workspace(args.workspace, name=args.name, embedder=args.embedder) as workspace:
        print(workspace.path)
    return 0
