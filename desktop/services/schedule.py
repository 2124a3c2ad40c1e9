"""Refresh schedules as the UI and the CLI use them: install, remove, show, preview.

Carries out the platform plans of desktop.core.schedule on a `SchedulerHost`: the platform,
the folders, and how commands are run. The default host is this machine; tests pass one
with another platform, folders under a temporary directory, or a recording runner.
Nothing here keeps running: the system's scheduler starts `botdesk refresh` when it is due.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from desktop.core.errors import BotdeskError, WorkspaceError
from desktop.core.paths import user_data_dir
from desktop.core.schedule import (
    Installed,
    Plan,
    Platform,
    Schedule,
    botdesk_command,
    carried_environment,
    linux,
    macos,
    parse_schedule,
    refresh_command,
    windows,
)

__all__ = [
    "CommandResult",
    "Installed",
    "Plan",
    "Removed",
    "Schedule",
    "ScheduleError",
    "SchedulerHost",
    "install",
    "parse_schedule",
    "preview",
    "remove",
    "show",
]

COMMAND_TIMEOUT_S = 30


class ScheduleError(BotdeskError):
    """The system's scheduler refused or failed."""


@dataclass(frozen=True)
class CommandResult:
    returncode: int
    stdout: str = ""
    stderr: str = ""


Runner = Callable[[Sequence[str], str | None], CommandResult]


def run_command(argv: Sequence[str], stdin: str | None = None) -> CommandResult:
    """Run a scheduler command (systemctl, crontab, launchctl, schtasks) with a timeout."""
    try:
        done = subprocess.run(  # noqa: S603 (our argv: scheduler tools, no shell)
            list(argv),
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError:
        return CommandResult(127, "", f"{argv[0]}: command not found")
    except subprocess.TimeoutExpired:
        return CommandResult(124, "", f"{argv[0]} did not answer in {COMMAND_TIMEOUT_S} s")
    return CommandResult(done.returncode, done.stdout or "", done.stderr or "")


def _this_platform() -> Platform:
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    return "linux"


def _uid() -> int:
    getuid = getattr(os, "getuid", None)
    return int(getuid()) if getuid is not None else 0


@dataclass
class SchedulerHost:
    """Where and how schedules are installed; the defaults describe this machine."""

    platform: Platform = field(default_factory=_this_platform)
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    home: Path = field(default_factory=Path.home)
    uid: int = field(default_factory=_uid)
    data_dir: Path = field(default_factory=user_data_dir)
    runner: Runner = run_command
    botdesk: list[str] = field(default_factory=botdesk_command)

    def run(self, argv: Sequence[str], stdin: str | None = None) -> CommandResult:
        return self.runner(argv, stdin)

    def systemd_session(self) -> bool:
        """Whether a systemd user session answers (none in most containers and CI)."""
        return self.run(["systemctl", "--user", "show-environment"]).returncode == 0

    def crontab(self) -> str:
        result = self.run(["crontab", "-l"])
        if result.returncode == 127:
            raise ScheduleError(
                "This system has neither a systemd user session nor crontab.",
                hint="Install cron, or schedule `botdesk refresh WS --publish` another way.",
            )
        return result.stdout if result.returncode == 0 else ""  # 1: "no crontab for user"


@dataclass(frozen=True)
class Removed:
    removed: list[str]

    def describe(self) -> str:
        if not self.removed:
            return "No refresh schedule was installed for this workspace."
        return "Removed the refresh schedule: " + "; ".join(self.removed) + "."


def _workspace(path: Path | str) -> Path:
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_file():
        raise WorkspaceError(f"No workspace at {resolved}.", hint="Check the path.")
    return resolved


def _carry_out(host: SchedulerHost, plan: Plan) -> None:
    for argv in plan.optional:
        host.run(argv)  # e.g. unloading an agent that was not loaded: fine
    for path, text in plan.write.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding=plan.encoding)
    for path in plan.remove:
        path.unlink(missing_ok=True)
    for argv in plan.commands:
        stdin = plan.crontab if argv[:2] == ["crontab", "-"] else None
        result = host.run(argv, stdin)
        if result.returncode != 0:
            why = (result.stderr or result.stdout).strip() or f"exit status {result.returncode}"
            raise ScheduleError(
                f"`{' '.join(argv)}` failed: {why}",
                hint=f"The {plan.kind} was not (fully) installed; see the message above.",
            )


def _install_plan(host: SchedulerHost, workspace: Path, schedule: Schedule, publish: bool) -> Plan:
    command = refresh_command(workspace, publish=publish, botdesk=host.botdesk)
    environment = carried_environment(host.env)
    if host.platform == "macos":
        logs = host.home / "Library" / "Logs" / "Botdesk"
        plan = macos.install(
            workspace,
            schedule,
            command,
            home=host.home,
            uid=host.uid,
            logs=logs,
            environment=environment,
        )
    elif host.platform == "windows":
        # A task runs with the user's own environment variables (set in Windows' settings).
        plan = windows.install(workspace, schedule, command, folder=host.data_dir / "schedules")
    elif host.systemd_session():
        folder = linux.unit_dir(host.env)
        plan = linux.systemd_install(workspace, schedule, command, folder, environment)
    else:
        plan = linux.cron_install(workspace, schedule, command, host.crontab(), environment)
    plan.argv = command
    return plan


def preview(
    workspace: Path | str,
    schedule: Schedule,
    *,
    publish: bool = True,
    host: SchedulerHost | None = None,
) -> Plan:
    """What `install` would write and run, changing nothing."""
    host = host or SchedulerHost()
    return _install_plan(host, _workspace(workspace), schedule, publish)


def install(
    workspace: Path | str,
    schedule: Schedule,
    *,
    publish: bool = True,
    host: SchedulerHost | None = None,
) -> Installed:
    """Install (or replace) the workspace's entry in the system's scheduler."""
    host = host or SchedulerHost()
    path = _workspace(workspace)
    plan = _install_plan(host, path, schedule, publish)
    if host.platform == "macos":
        (host.home / "Library" / "Logs" / "Botdesk").mkdir(parents=True, exist_ok=True)
    elif host.platform == "linux":
        remove(path, host=host)  # a timer replacing a crontab line (or back): never both
    _carry_out(host, plan)
    installed = show(path, host=host)
    if installed is None:
        raise ScheduleError(f"The {plan.kind} was installed but cannot be read back.")
    return installed


def remove(workspace: Path | str, *, host: SchedulerHost | None = None) -> Removed:
    """Remove the workspace's entry (wherever it was installed); nothing there is fine."""
    host = host or SchedulerHost()
    path = Path(workspace).expanduser().resolve()  # a deleted workspace's entry can go too
    removed: list[str] = []
    if host.platform == "macos":
        plan = macos.remove(path, home=host.home, uid=host.uid)
        if plan.remove:
            _carry_out(host, plan)
            removed.append(plan.describe())
    elif host.platform == "windows":
        if show(path, host=host) is not None:
            plan = windows.remove(path, folder=host.data_dir / "schedules")
            plan.commands, plan.optional = plan.optional, []  # the delete must work
            _carry_out(host, plan)
            removed.append(plan.describe())
    else:
        plan = linux.systemd_remove(path, linux.unit_dir(host.env))
        if plan.remove:
            if not host.systemd_session():
                plan.optional, plan.commands = [], []  # no session: only the files to delete
            _carry_out(host, plan)
            removed.append(plan.describe())
        if host.run(["crontab", "-l"]).returncode != 127:
            cron_plan = linux.cron_remove(path, host.crontab())
            if cron_plan is not None:
                _carry_out(host, cron_plan)
                removed.append(cron_plan.describe())
    return Removed(removed)


def show(workspace: Path | str, *, host: SchedulerHost | None = None) -> Installed | None:
    """The workspace's installed entry, read back from the scheduler's own files."""
    host = host or SchedulerHost()
    path = Path(workspace).expanduser().resolve()
    if host.platform == "macos":
        return macos.read(path, home=host.home)
    if host.platform == "windows":
        result = host.run(windows.query_command(path))
        return windows.read(path, result.stdout) if result.returncode == 0 else None
    found = linux.systemd_read(path, linux.unit_dir(host.env))
    if found is not None:
        return found
    result = host.run(["crontab", "-l"])
    return linux.cron_read(path, result.stdout) if result.returncode == 0 else None
