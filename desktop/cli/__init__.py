"""The `botdesk` command line: a stable contract that scripts and the hosted service rely on.

Exit status: 0 on success, 1 on a failure (one-line reason on stderr), 2 on a usage error.
Progress goes to stderr, results to stdout (`--json` for machine-readable output).
Each concern registers its verbs from its own module; all of them call desktop.services.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from desktop import __version__
from desktop.core.errors import BotdeskError

# Modules under desktop.cli, each with register(subparsers).
COMMAND_MODULES = (
    "workspace",
    "backup",
    "sources",
    "content",
    "flagged",
    "index",
    "answers",
    "publish",
    "preview",
    "refresh",
    "connections",
    "conversations",
    "gui",
)

EXIT_FAILURE, EXIT_USAGE = 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="botdesk",
        description="Curate what a website chatbot knows: ingest, preview, curate, test, publish.",
    )
    parser.add_argument("--version", action="version", version=f"botdesk {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on a usage error
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    # The one place the command reads the model servers' addresses and tuning knobs from
    # the environment; every handler passes them on to the services as `args.backends`.
    from desktop.services.backends import Backends  # here: `--help` needs none of it

    args.backends = Backends.from_environment()
    try:
        return int(handler(args))
    except BotdeskError as exc:
        print(f"botdesk: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:
        # A damaged, read-only or busy workspace found mid-command: one sentence, no traceback.
        from desktop.core.store.db import user_error

        known = user_error(exc, getattr(args, "workspace", None))
        if known is None:
            raise
        print(f"botdesk: {known}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("botdesk: interrupted.", file=sys.stderr)
        return EXIT_FAILURE
