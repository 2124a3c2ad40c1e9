"""Creating and opening workspaces."""

from __future__ import annotations

from pathlib import Path

from desktop.core.errors import WorkspaceError
from desktop.core.index.store import parse_embedder
from desktop.core.model_specs import DEFAULT_EMBEDDER
from desktop.core.store import backup
from desktop.core.store.lock import WorkspaceLock, current_holder, held_by_this_process
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


# -- backups and the lock ---------------------------------------------------------------
def list_backups(path: Path | str) -> list[backup.Backup]:
    """The workspace's backups, newest first (the workspace is not opened: it may be damaged)."""
    return backup.list_backups(path)


def back_up_now(path: Path | str) -> backup.Backup:
    """A checked copy of the workspace now, beside its daily copies."""
    with Workspace.open(path) as ws:
        return backup.make_backup(ws.conn, ws.path, kind="manual")


def restore_backup(path: Path | str, chosen: Path | str | None = None) -> tuple[Path, Path]:
    """Put a backup (the newest when none is chosen) in the workspace's place, under the
    workspace lock; the replaced file is kept. Returns (backup used, replaced file kept)."""
    if chosen is None:
        newest = backup.last_good_backup(path)
        if newest is None:
            raise WorkspaceError(f"There is no backup of {path}.")
        chosen = newest.path
    with WorkspaceLock(path, "restore"):
        kept = backup.restore_backup(path, chosen)
    return Path(chosen), kept


def lock_holder_text(path: Path | str) -> str:
    """What another process is doing with this workspace ("" when nothing): for the window.

    A job of this process (the window's own sync) is not another program's: the jobs panel
    shows it. The OS lock alone cannot tell, since a second open of the lock file in the
    same process conflicts with the first."""
    if held_by_this_process(path):
        return ""
    holder = current_holder(path)
    return holder.describe() if holder else ""
