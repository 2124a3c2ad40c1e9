"""Commands of this concern are registered here (work in progress: none yet)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """No commands yet."""
