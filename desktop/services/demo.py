"""The demo workspace: the sample company site and product sheet, synced, ready to browse."""

from __future__ import annotations

from pathlib import Path

from desktop.core.jobs import Job, JobListener
from desktop.core.paths import resource_path, user_data_dir
from desktop.core.store.workspace import Workspace
from desktop.services import content, content_sources
from desktop.services.backends import Backends
from desktop.services.workspaces import create_workspace, open_workspace

SAMPLE_DIR = resource_path("sample")
DEMO_NAME = "Lumen Bakery Supplies (demo)"
DEMO_QUESTION = "Do you deliver on Sundays?"
DEMO_ANSWER = "No. Deliveries run Monday to Friday, and on Saturday mornings for Premium customers."


def default_demo_path() -> Path:
    """Where `botdesk demo` keeps its workspace: the user's data folder."""
    return user_data_dir() / "demo.botdesk"


async def build_demo(
    path: Path | None = None, *, rebuild: bool = False, listener: JobListener | None = None
) -> Path:
    """Create (or reuse) the demo workspace at `path`, add the sample sources and sync them.

    An existing demo workspace is synced again (cheap: everything is unchanged), so a
    half-built one from an interrupted run is completed.
    """
    path = Path(path) if path is not None else default_demo_path()
    if path.suffix != ".botdesk":
        path = path.with_name(path.name + ".botdesk")
    if rebuild and path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    ws: Workspace
    if path.exists():
        ws = open_workspace(path)
    else:
        ws = create_workspace(path, name=DEMO_NAME, embedder="none")
    with ws:
        if not content_sources.list_sources(ws):
            content_sources.add_files(ws, [SAMPLE_DIR])
            content_sources.add_qa(ws, DEMO_QUESTION, DEMO_ANSWER)
        job = Job("Build the demo workspace", listeners=[listener] if listener else [])
        # Local files and no embedder: the demo reaches no server, whatever the environment.
        await content.sync(ws, job, backends=Backends())
    return path
