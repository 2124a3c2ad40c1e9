"""Creating and opening workspaces."""

from __future__ import annotations

from pathlib import Path

from desktop.core.index.store import parse_embedder
from desktop.core.model_specs import DEFAULT_EMBEDDER
from desktop.core.store.workspace import SUFFIX, Workspace


def create_workspace(path: Path | str, *, name: str, embedder: str = DEFAULT_EMBEDDER) -> Workspace:
    """Create `path` (the .botdesk suffix is added when missing) and record its embedder."""
    chosen = parse_embedder(embedder)  # a bad spec is refused before any file is made
    path = Path(path)
    if path.suffix != SUFFIX:
        path = path.with_name(path.name + SUFFIX)
    workspace = Workspace.create(path, name=name)
    workspace.set_setting("embedder", "none" if chosen is None else str(chosen))
    return workspace


def open_workspace(path: Path | str) -> Workspace:
    return Workspace.open(path)


def outside_change_count(workspace: Workspace) -> int:
    """A number that changes when another connection (the command line, another window)
    commits to the workspace file; this connection's own writes leave it alone. Cheap
    (SQLite's data_version, no I/O), so a window can poll it to reload what changed, as the
    vector index does to reload its matrix."""
    return int(workspace.scalar("pragma data_version"))
