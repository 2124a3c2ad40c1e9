"""The workspace lock: one long job (refresh, sync, publish from the command line) at a time.

An OS file lock on `NAME.botdesk.lock` beside the workspace, held for the whole job. The OS
releases it when the holding process ends, however it ends, so a lock left by a crashed or
killed run never blocks the next one; the file itself stays (deleting lock files races).
The file records who holds it (pid, job, start time) so the second job can say so.

Short writes do not take this lock: they wait on SQLite's busy timeout (see db.connect).
A service that runs inside another long job (the refresh runs the sync) asks
`held_by_this_process` and then goes on under the outer job's lock.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO

from desktop.core.errors import WorkspaceError

LOCK_SUFFIX = ".lock"
# Windows locks byte ranges that others then cannot read: lock one byte far past the
# holder's record, which stays readable.
_WINDOWS_LOCK_OFFSET = 1 << 20


class WorkspaceBusyError(WorkspaceError):
    """Another long job holds this workspace's lock."""


@dataclass(frozen=True)
class LockHolder:
    """Who holds a workspace's lock, as its record says."""

    pid: int
    job: str
    started_at: datetime

    def describe(self) -> str:
        return (
            f"a {self.job} of this workspace is already running "
            f"(pid {self.pid}, since {self.started_at.astimezone():%H:%M})"
        )


def lock_path(workspace_path: Path | str) -> Path:
    path = Path(workspace_path)
    return path.with_name(path.name + LOCK_SUFFIX)


def _try_lock(file: IO[bytes]) -> bool:
    """Take the OS lock without waiting; False when someone else holds it."""
    if sys.platform == "win32":
        import msvcrt

        file.seek(_WINDOWS_LOCK_OFFSET)
        try:
            msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(file: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        file.seek(_WINDOWS_LOCK_OFFSET)
        msvcrt.locking(file.fileno(), msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(file.fileno(), fcntl.LOCK_UN)


def _read_record(file: IO[bytes]) -> LockHolder | None:
    file.seek(0)
    try:
        data = json.loads(file.read(4096).split(b"\0", 1)[0] or b"null")
        return LockHolder(
            pid=int(data["pid"]),
            job=str(data["job"]),
            started_at=datetime.fromisoformat(str(data["started_at"])),
        )
    except (ValueError, KeyError, TypeError):
        return None  # an empty or half-written record: the holder is unknown


# The lock files this process holds now (resolved paths).
_HELD: set[Path] = set()


def held_by_this_process(workspace_path: Path | str) -> bool:
    """Whether a job of this process holds the workspace's lock."""
    return lock_path(workspace_path).resolve() in _HELD


class WorkspaceLock:
    """`with WorkspaceLock(path, "refresh"):` holds the lock or raises WorkspaceBusyError."""

    def __init__(self, workspace_path: Path | str, job: str) -> None:
        self.path = lock_path(workspace_path)
        self.job = job
        self._file: IO[bytes] | None = None

    def acquire(self) -> WorkspaceLock:
        if self._file is not None:
            return self
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise WorkspaceError(
                f"Cannot create the lock file {self.path}: {exc.strerror}.",
                hint="Check that the workspace's folder is writable.",
            ) from exc
        file = os.fdopen(fd, "r+b", buffering=0)
        if not _try_lock(file):
            holder = _read_record(file)
            file.close()
            what = holder.describe() if holder else "another job holds this workspace's lock"
            raise WorkspaceBusyError(
                what + ".",
                hint="Wait for it to finish, then run this again.",
            )
        record = {"pid": os.getpid(), "job": self.job, "started_at": datetime.now().astimezone()}
        file.seek(0)
        file.truncate()
        file.write(json.dumps(record, default=str).encode())
        self._file = file
        _HELD.add(self.path.resolve())
        return self

    def release(self) -> None:
        file, self._file = self._file, None
        if file is None:
            return
        _HELD.discard(self.path.resolve())
        try:
            file.seek(0)
            file.truncate()  # no stale record for readers; the file stays
            _unlock(file)
        finally:
            file.close()

    @property
    def held(self) -> bool:
        return self._file is not None

    def __enter__(self) -> WorkspaceLock:
        return self.acquire()

    @classmethod
    def unless_held(cls, workspace_path: Path | str, job: str) -> WorkspaceLock | nullcontext[None]:
        """The lock for `job`, or nothing when this process holds it already (an outer job
        such as a refresh runs this one)."""
        if held_by_this_process(workspace_path):
            return nullcontext()
        return cls(workspace_path, job)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def current_holder(workspace_path: Path | str) -> LockHolder | None:
    """Who holds the lock now (None: nobody; the lock is taken and released to find out)."""
    path = lock_path(workspace_path)
    if not path.exists():
        return None
    with path.open("r+b", buffering=0) as file:
        if _try_lock(file):
            _unlock(file)
            return None
        return _read_record(file) or LockHolder(0, "job", datetime.now().astimezone())
