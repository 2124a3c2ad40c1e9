"""Arguments that several command modules declare alike, and reading the files they name.

Only argparse and core errors at import time: command modules import this one at the top,
and `botdesk --help` must stay fast (tests/cli/test_startup_imports.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop.core.errors import SourceError


def add_workspace_argument(parser: argparse.ArgumentParser) -> None:
    """The positional WS that names the workspace file (with its help line)."""
    parser.add_argument("workspace", metavar="WS", help="the workspace file (NAME.botdesk)")


def add_target_options(
    parser: argparse.ArgumentParser, *, endpoint_help: str, bot_id_help: str | None = None
) -> None:
    """--endpoint URL and, given its help, --bot-id ID: the hosted service and the bot on it.

    Left out, they are None: the services fall back to the ones remembered for publishing."""
    parser.add_argument("--endpoint", metavar="URL", help=endpoint_help)
    if bot_id_help is not None:
        parser.add_argument("--bot-id", metavar="ID", help=bot_id_help)


def read_text_file(path: Path) -> str:
    """A UTF-8 file an option names; a SourceError with the reason when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"Cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc
