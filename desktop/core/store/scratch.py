"""Scratch folders for a job's temporary files, beside the workspace rather than in /tmp.

A bundle being published holds every passage's text: it stays with the workspace (same
disk, same permissions), and what a killed run left is removed by the next run of that job,
which holds the workspace lock (so no other run of it is using them).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _prefix(workspace_path: Path, job: str) -> str:
    return f".{workspace_path.name}.{job}-"


def leftovers(workspace_path: Path | str, job: str) -> list[Path]:
    """Scratch folders of `job` for this workspace still on disk."""
    path = Path(workspace_path).absolute()
    return sorted(p for p in path.parent.glob(_prefix(path, job) + "*") if p.is_dir())


@contextmanager
def scratch_folder(workspace_path: Path | str, job: str) -> Iterator[Path]:
    """A new folder `.NAME.botdesk.JOB-XXXX` beside the workspace, removed afterwards.

    Call with the workspace lock held: earlier runs' leftovers are removed first.
    """
    path = Path(workspace_path).absolute()
    for old in leftovers(path, job):
        shutil.rmtree(old, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=_prefix(path, job), dir=path.parent) as folder:
        yield Path(folder)
