"""Creating and opening workspaces."""

from __future__ import annotations

from pathlib import Path

from desktop.core.store.workspace import SUFFIX, Workspace

DEFAULT_EMBEDDER = "none"


def create_workspace(path: Path | str, *, name: str, embedder: str = DEFAULT_EMBEDDER) -> Workspace:
    """Create `path` (the .botdesk suffix is added when missing) and record its embedder."""
    path = Path(path)
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    workspace = Workspace.create(path, name=name)
    workspace.set_setting("embedder", embedder)
    return workspace


def open_workspace(path: Path | str) -> Workspace:
    return Workspace.open(path)
