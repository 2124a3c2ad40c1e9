"""`botdesk preview-widget`: the real chat widget on the customer's page, served locally."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "preview-widget",
        aliases=["preview-site"],
        help="show the chat widget on your page, answering from this workspace",
        description=(
            "Serve a preview on 127.0.0.1: your page (fetched once, its scripts removed) "
            "or a demo page, with the real chat widget answering from the workspace's "
            "passages with an answer profile. Runs until Ctrl+C."
        ),
    )
    parser.add_argument("workspace", metavar="WS")
    parser.add_argument("page", metavar="PAGE", nargs="?", help="the page to show the widget on")
    parser.add_argument("--url", help="the page to show the widget on (same as PAGE)")
    parser.add_argument("--profile", default="default", help="answer profile (default: default)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free)")
    parser.add_argument(
        "--no-browser", action="store_true", help="print the address; do not open a browser"
    )
    parser.set_defaults(handler=run_preview_widget)


def run_preview_widget(args: argparse.Namespace) -> int:
    import asyncio
    import webbrowser

    from desktop.cli.output import StderrProgress
    from desktop.core.errors import ConfigError
    from desktop.core.jobs import Job
    from desktop.services import preview
    from desktop.services.workspaces import open_workspace

    if args.page and args.url and args.page != args.url:
        raise ConfigError("Give the page once: as PAGE or as --url, not both.")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be 0 to 65535 (got {args.port}).")
    page_url = args.url or args.page

    def ready(url: str) -> None:
        print(f"Preview at {url}  (Ctrl+C stops it)", flush=True)
        if not args.no_browser:
            webbrowser.open(url)

    with open_workspace(args.workspace) as ws:
        job = Job("Widget preview", listeners=[StderrProgress()])
        try:
            report = asyncio.run(
                preview.run_preview(
                    ws,
                    job,
                    page_url=page_url,
                    profile=args.profile,
                    port=args.port,
                    backends=args.backends,
                    on_ready=ready,
                )
            )
        except KeyboardInterrupt:
            print("Preview stopped.", file=sys.stderr)
            return 0
    print(job.summary or f"Preview stopped: {report.answers} answers.")
    return 0
