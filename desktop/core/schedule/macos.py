"""macOS: a launchd agent in ~/Library/LaunchAgents, loaded with `launchctl bootstrap`."""

from __future__ import annotations

import plistlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from desktop.core.schedule import Installed, Plan, Schedule, entry_id

LABEL_PREFIX = "com.botdesk.refresh."


def agents_dir(home: Path) -> Path:
    return home / "Library" / "LaunchAgents"


def label(workspace: Path) -> str:
    return LABEL_PREFIX + entry_id(workspace)


def plist_text(
    workspace: Path,
    schedule: Schedule,
    command: Sequence[str],
    logs: Path,
    environment: Mapping[str, str] | None = None,
) -> str:
    interval: dict[str, int] = {"Hour": schedule.hour, "Minute": schedule.minute}
    if schedule.weekday is not None:
        interval["Weekday"] = (schedule.weekday + 1) % 7  # launchd: 0 (or 7) is Sunday
    agent: dict[str, Any] = {
        "Label": label(workspace),
        "Comment": f"Botdesk refresh of {workspace}",
        "ProgramArguments": list(command),  # an argv: no shell, no quoting to get wrong
        "StartCalendarInterval": interval,
        "RunAtLoad": False,
        "ProcessType": "Background",
        "StandardOutPath": str(logs / f"{label(workspace)}.log"),
        "StandardErrorPath": str(logs / f"{label(workspace)}.log"),
    }
    if environment:
        agent["EnvironmentVariables"] = dict(environment)
    return plistlib.dumps(agent).decode("utf-8")


def install(
    workspace: Path,
    schedule: Schedule,
    command: Sequence[str],
    *,
    home: Path,
    uid: int,
    logs: Path,
    environment: Mapping[str, str] | None = None,
) -> Plan:
    path = agents_dir(home) / f"{label(workspace)}.plist"
    domain = f"gui/{uid}"
    return Plan(
        platform="macos",
        kind="launchd agent",
        name=label(workspace),
        location=str(path.parent),
        write={path: plist_text(workspace, schedule, command, logs, environment)},
        # A changed agent is only re-read when it is unloaded and loaded again.
        optional=[["launchctl", "bootout", f"{domain}/{label(workspace)}"]],
        commands=[["launchctl", "bootstrap", domain, str(path)]],
    )


def remove(workspace: Path, *, home: Path, uid: int) -> Plan:
    path = agents_dir(home) / f"{label(workspace)}.plist"
    return Plan(
        platform="macos",
        kind="launchd agent",
        name=label(workspace),
        location=str(path.parent),
        remove=[path] if path.exists() else [],
        optional=[["launchctl", "bootout", f"gui/{uid}/{label(workspace)}"]],
    )


def read(workspace: Path, *, home: Path) -> Installed | None:
    path = agents_dir(home) / f"{label(workspace)}.plist"
    if not path.is_file():
        return None
    try:
        agent = plistlib.loads(path.read_bytes())
        interval = agent["StartCalendarInterval"]
        weekday = interval.get("Weekday")
        schedule = Schedule(
            int(interval["Hour"]),
            int(interval["Minute"]),
            None if weekday is None else (int(weekday) - 1) % 7,
        )
        command = [str(a) for a in agent["ProgramArguments"]]
    except (plistlib.InvalidFileException, KeyError, TypeError, ValueError):
        return None
    return Installed(
        platform="macos",
        kind="launchd agent",
        name=label(workspace),
        location=str(path.parent),
        schedule=schedule,
        command=command,
        workspace=str(workspace),
    )
