"""Backups of a workspace: a copy before each migration and a rolling daily copy, and restore.

Each copy is `VACUUM INTO` a temporary file, checked (`pragma quick_check`), then renamed
into place, so a backup on disk is always whole. They live in `NAME.botdesk-backups/`
beside the workspace (they travel with it, and a damaged file's message can name them).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import apsw

from desktop.core.errors import WorkspaceError

FOLDER_SUFFIX = "-backups"
KEEP_DAILY = 3
KEEP_MIGRATION = 3
_STAMP = "%Y%m%d-%H%M%S"


@dataclass(frozen=True)
class Backup:
    """One backup file: when it was made and why (daily, before migration N)."""

    path: Path
    created_at: datetime
    reason: str

    def describe(self) -> str:
        return f"{self.path} ({self.reason}, {self.created_at.astimezone():%Y-%m-%d %H:%M})"

    def to_json(self) -> dict[str, str]:
        return {
            "path": str(self.path),
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "reason": self.reason,
        }


def backup_folder(workspace_path: Path | str) -> Path:
    path = Path(workspace_path)
    return path.with_name(path.name + FOLDER_SUFFIX)


def list_backups(workspace_path: Path | str) -> list[Backup]:
    """The backups of a workspace, newest first (does not open the workspace)."""
    folder = backup_folder(workspace_path)
    if not folder.is_dir():
        return []
    found: list[Backup] = []
    for file in folder.glob("*.botdesk"):
        kind, _, stamp = file.stem.rpartition("-")
        kind, _, day = kind.rpartition("-")
        try:
            created = datetime.strptime(f"{day}-{stamp}", _STAMP).replace(tzinfo=UTC)
        except ValueError:
            continue  # not one of ours
        reason = _reason(kind)
        found.append(Backup(file, created, reason))
    # Two copies in one second (a manual one after the daily one): the file's time decides.
    return sorted(found, key=lambda b: (b.created_at, b.path.stat().st_mtime_ns), reverse=True)


def last_good_backup(workspace_path: Path | str) -> Backup | None:
    backups = list_backups(workspace_path)
    return backups[0] if backups else None


def make_backup(
    conn: apsw.Connection, workspace_path: Path | str, *, kind: str, now: datetime | None = None
) -> Backup:
    """Copy the workspace (through its open connection) into its backup folder.

    kind: "daily" or "before-migration-N". Older copies of the same kind beyond the kept
    number are deleted. Raises WorkspaceError when the copy cannot be made or checked.
    """
    now = now or datetime.now(UTC)
    folder = backup_folder(workspace_path)
    final = folder / f"{kind}-{now:{_STAMP}}.botdesk"
    temporary = folder / f".{final.name}.{os.getpid()}.tmp"
    try:
        folder.mkdir(exist_ok=True)
        temporary.unlink(missing_ok=True)
        conn.execute("vacuum into ?", (str(temporary),))
        _check(temporary)
        os.replace(temporary, final)
    except (OSError, apsw.Error) as exc:
        temporary.unlink(missing_ok=True)
        raise WorkspaceError(f"Could not back up the workspace to {folder}: {exc}.") from exc
    _prune(workspace_path, kind)
    return Backup(final, now, _reason(kind))


def _reason(kind: str) -> str:
    return {"daily": "daily copy", "manual": "copy made on request"}.get(
        kind, kind.replace("-", " ")
    )


def _check(path: Path) -> None:
    copy = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        result = [str(row[0]) for row in copy.execute("pragma quick_check")]
    finally:
        copy.close()
    if result != ["ok"]:
        raise WorkspaceError(f"the copy failed its integrity check ({'; '.join(result[:3])})")


def _prune(workspace_path: Path | str, kind: str) -> None:
    daily = kind == "daily"
    keep = KEEP_DAILY if daily else KEEP_MIGRATION
    same = [b for b in list_backups(workspace_path) if (b.reason == "daily copy") == daily]
    for old in same[keep:]:  # newest first
        old.path.unlink(missing_ok=True)


def daily_backup_due(workspace_path: Path | str, now: datetime | None = None) -> bool:
    """No daily copy made today (UTC) yet."""
    today = (now or datetime.now(UTC)).strftime("%Y%m%d")
    folder = backup_folder(workspace_path)
    return not any(folder.glob(f"daily-{today}-*.botdesk")) if folder.is_dir() else True


def restore_backup(workspace_path: Path | str, backup: Path | str) -> Path:
    """Put a backup in the workspace's place; the file it replaces is kept beside it as
    `NAME.botdesk.replaced-STAMP` (nothing is lost). Returns that kept file's path (or the
    workspace path when there was no file). Call with the workspace lock held and no
    connection open."""
    workspace_path, backup = Path(workspace_path), Path(backup)
    if not backup.is_file():
        raise WorkspaceError(f"No backup at {backup}.", hint="List them with --list.")
    _check(backup)
    stamp = datetime.now(UTC).strftime(_STAMP)
    kept = workspace_path.with_name(f"{workspace_path.name}.replaced-{stamp}")
    temporary = workspace_path.with_name(f".{workspace_path.name}.restore-{os.getpid()}.tmp")
    try:
        shutil.copyfile(backup, temporary)
        if workspace_path.exists():
            os.replace(workspace_path, kept)
            # The old file's journal belongs to it: a stale -wal would be replayed onto
            # the restored copy.
            for suffix in ("-wal", "-shm"):
                side = workspace_path.with_name(workspace_path.name + suffix)
                if side.exists():
                    os.replace(side, kept.with_name(kept.name + suffix))
        os.replace(temporary, workspace_path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise WorkspaceError(f"Could not restore {backup}: {exc.strerror or exc}.") from exc
    return kept if kept.exists() else workspace_path
