"""Refresh schedules: when (daily or weekly at a local time), and the command that runs.

Each platform's module (linux, macos, windows) turns a schedule into its own scheduler's
entry: the files to write and the commands to run (a `Plan`), and reads an installed entry
back. Nothing here runs a command or writes a file: services.schedule carries plans out,
so every platform's output can be checked on any platform.

One entry per workspace, named from a hash of the workspace's absolute path, so several
workspaces each keep their own schedule.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from desktop.core.errors import ConfigError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")

Platform = Literal["linux", "macos", "windows"]


@dataclass(frozen=True)
class Schedule:
    """Daily (weekday None) or weekly on `weekday` (0 = Monday), at hour:minute local time."""

    hour: int
    minute: int
    weekday: int | None = None

    @property
    def time_text(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"

    def describe(self) -> str:
        if self.weekday is None:
            return f"daily at {self.time_text}"
        return f"weekly on {WEEKDAY_NAMES[self.weekday]} at {self.time_text}"

    def to_json(self) -> dict[str, Any]:
        return {
            "every": "day" if self.weekday is None else "week",
            "weekday": None if self.weekday is None else WEEKDAYS[self.weekday],
            "time": self.time_text,
        }


def parse_time(text: str) -> tuple[int, int]:
    match = _TIME.match(text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ConfigError(
            f"Not a time of day: {text!r}.", hint="Write it as HH:MM, 24-hour, e.g. 03:00."
        )
    return int(match.group(1)), int(match.group(2))


def parse_weekday(text: str) -> int:
    key = text.strip().lower()[:3]
    if key not in WEEKDAYS or not WEEKDAY_NAMES[WEEKDAYS.index(key)].lower().startswith(
        text.strip().lower()
    ):
        raise ConfigError(f"Not a day of the week: {text!r}.", hint="Use mon, tue, … sun.")
    return WEEKDAYS.index(key)


def parse_schedule(*, at: str, weekday: str | None = None) -> Schedule:
    hour, minute = parse_time(at)
    return Schedule(hour, minute, None if weekday is None else parse_weekday(weekday))


def entry_id(workspace: Path) -> str:
    """A short stable name for a workspace's entry (from its absolute path)."""
    return hashlib.sha256(str(workspace).encode("utf-8")).hexdigest()[:12]


def botdesk_command() -> list[str]:
    """How to run this very `botdesk`: the frozen executable, or this Python with -m."""
    if getattr(sys, "frozen", False):
        return [str(Path(sys.executable).resolve())]
    return [str(Path(sys.executable).absolute()), "-m", "desktop"]


# Settings a scheduled run needs to reach the same servers as the user's own runs; the
# scheduler does not start it from the user's shell. Never a secret: keys and the publish
# token stay in the keyring.
CARRIED_ENV = (
    "OLLAMA_HOST",
    "BOTDESK_MISTRAL_URL",
    "BOTDESK_PROVIDER_ATTEMPTS",
    "BOTDESK_PROVIDER_BACKOFF_S",
    "BOTDESK_PROVIDER_TIMEOUT_S",
    "BOTDESK_PROVIDER_MAX_RETRY_AFTER_S",
)


def carried_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The CARRIED_ENV variables set in `env` (and only those)."""
    return {key: env[key] for key in CARRIED_ENV if env.get(key)}


def refresh_command(
    workspace: Path, *, publish: bool, botdesk: Sequence[str] | None = None
) -> list[str]:
    """The argv a scheduler entry runs (absolute paths throughout)."""
    argv = [*(botdesk or botdesk_command()), "refresh", str(workspace)]
    return argv + (["--publish"] if publish else [])


@dataclass
class Plan:
    """What installing or removing an entry does: files written/removed, commands run.

    A command in `optional` may fail without failing the plan (e.g. unloading an agent
    that was not loaded).
    """

    platform: Platform
    kind: str  # "systemd timer", "crontab line", "launchd agent", "scheduled task"
    name: str  # the unit, label or task name
    location: str  # where it lives, for the user
    write: dict[Path, str] = field(default_factory=dict)
    remove: list[Path] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)
    optional: list[list[str]] = field(default_factory=list)
    crontab: str | None = None  # Linux without systemd: the whole new crontab to install
    encoding: str = "utf-8"  # of the files written (Task Scheduler's XML is UTF-16)
    argv: list[str] = field(default_factory=list)  # what the entry runs (installs only)

    def describe(self) -> str:
        return f"a {self.kind} {self.name} ({self.location})"


@dataclass(frozen=True)
class Installed:
    """An entry read back from the scheduler."""

    platform: Platform
    kind: str
    name: str
    location: str
    schedule: Schedule
    command: list[str]
    workspace: str

    def describe(self) -> str:
        return (
            f"Refresh {self.schedule.describe()} (local time) by a {self.kind} {self.name} "
            f"in {self.location}; it runs: {' '.join(self.command)}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "kind": self.kind,
            "name": self.name,
            "location": self.location,
            "schedule": self.schedule.to_json(),
            "command": list(self.command),
            "workspace": self.workspace,
        }
