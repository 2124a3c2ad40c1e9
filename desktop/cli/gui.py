"""`botdesk app` and `botdesk demo`: start the desktop application."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from desktop.cli.output import StderrProgress

if TYPE_CHECKING:
    from desktop.ui.main_window import MainWindow

# What the demo check's search must find: the demo's delivery answer (services/demo.py).
DEMO_CHECK_EXPECTED = "Monday to Friday"


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
    parser.add_argument(
        "--check",
        action="store_true",
        help="check this installation: build the demo in a scratch folder (or --path), open "
        "it in the window offscreen, run one search, exit 0 if all worked",
    )
    parser.set_defaults(handler=run_demo)


def window_argv(argv: list[str]) -> list[str]:
    """The command a double-click means: the windowed executable of the Windows and macOS
    builds gets no argument (or macOS's old `-psn_...`) or a workspace file, and opens the
    window; any other argument list is the command line's."""
    args = [arg for arg in argv if not arg.startswith("-psn_")]
    if not args:
        return ["app"]
    if (
        len(args) == 1
        and not args[0].startswith("-")
        and Path(args[0]).suffix.lower() == ".botdesk"
    ):
        return ["app", args[0]]
    return args


def run_app(args: argparse.Namespace) -> int:
    from desktop.app import run  # Qt is imported only when the window is wanted

    return run(workspace_path=args.workspace)


def run_demo(args: argparse.Namespace) -> int:
    from desktop.services.demo import build_demo

    if args.check:
        return run_demo_check(args.path)
    path = asyncio.run(build_demo(args.path, rebuild=args.rebuild, listener=StderrProgress()))
    print(path)
    if args.no_gui:
        return 0
    from desktop.app import run

    return run(workspace_path=str(path))


def run_demo_check(path: Path | None) -> int:
    """`botdesk demo --check`: the whole app works here (resources, the extractor, the
    index, Qt's platform plugin, the window), without showing anything to anyone."""
    # Offscreen unless told otherwise (QT_QPA_PLATFORM=xcb checks the X11 plugin instead).
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="botdesk-check-") as scratch:
        target = path if path is not None else Path(scratch) / "demo.botdesk"
        try:
            line = _demo_check(target, Path(scratch))
        except Exception as exc:  # any failure is the check's answer, on one line
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            print(f"botdesk: demo check failed: {reason}", file=sys.stderr)
            return 1
    print(f"demo check passed: {line}")
    return 0


def _demo_check(target: Path, scratch: Path) -> str:
    from desktop.app import check_window
    from desktop.services import content, index
    from desktop.services.demo import DEMO_QUESTION, build_demo

    built = asyncio.run(build_demo(target))

    async def search(window: MainWindow) -> str:
        workspace = window.workspace
        if workspace is None:
            raise RuntimeError("the window has no workspace open")
        # The sample has HTML pages and a PDF: each must have been extracted (the PDF
        # parser runs in a child process, which a frozen build must be able to start).
        failed = [d for d in content.list_documents(workspace) if d.status == "failed"]
        if failed:
            raise RuntimeError(
                f"{len(failed)} sample documents failed: {failed[0].uri}: {failed[0].status_reason}"
            )
        hits = await index.search(workspace, DEMO_QUESTION, k=3, backends=window.context.backends)
        if not any(DEMO_CHECK_EXPECTED in hit.text for hit in hits):
            raise RuntimeError(
                f"the search for {DEMO_QUESTION!r} did not find the delivery passage "
                f"({len(hits)} hits)"
            )
        return f"{len(hits)} hits for {DEMO_QUESTION!r} ({hits.mode} search)"

    found = check_window(built, search, settings_path=scratch / "settings.ini")
    # The model back-ends' client libraries must load too (the demo itself needs neither).
    for provider in ("desktop.providers.ollama", "desktop.providers.mistral"):
        importlib.import_module(provider)
    platform = os.environ["QT_QPA_PLATFORM"]
    return f"built and synced {built.name}, window painted ({platform}), {found}"
