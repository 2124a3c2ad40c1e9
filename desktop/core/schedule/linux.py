"""Linux: a systemd user timer and service; a crontab line where there is no user session."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from desktop.core.schedule import WEEKDAYS, Installed, Plan, Schedule, entry_id

PREFIX = "botdesk-refresh-"
CRON_MARKER = "# botdesk-refresh-"
_ON_CALENDAR = re.compile(
    r"^OnCalendar=(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?\*-\*-\* (\d{2}):(\d{2}):00$", re.M
)


def unit_dir(env: dict[str, str] | None = None) -> Path:
    """`$XDG_CONFIG_HOME/systemd/user` (default ~/.config/systemd/user)."""
    env = dict(os.environ) if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "systemd" / "user"


def unit_name(workspace: Path) -> str:
    return PREFIX + entry_id(workspace)


# -- systemd -------------------------------------------------------------------------------
def systemd_quote(arg: str) -> str:
    """One ExecStart argument: double-quoted, with systemd's specifiers and variables
    (% and $) doubled so a path holding them is taken literally."""
    if "\n" in arg:
        raise ValueError("a command argument cannot hold a line break")
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("%", "%%").replace("$", "$$") + '"'


def systemd_unquote(line: str) -> list[str]:
    """The arguments of an ExecStart= line written by `systemd_quote`."""
    args: list[str] = []
    for match in re.finditer(r'"((?:[^"\\]|\\.)*)"|(\S+)', line):
        raw = match.group(1) if match.group(1) is not None else match.group(2)
        text = re.sub(r"\\(.)", r"\1", raw)
        args.append(text.replace("%%", "%").replace("$$", "$"))
    return args


def on_calendar(schedule: Schedule) -> str:
    day = "" if schedule.weekday is None else WEEKDAYS[schedule.weekday].title() + " "
    return f"{day}*-*-* {schedule.time_text}:00"


def _environment_lines(environment: Mapping[str, str]) -> str:
    lines = []
    for key, value in environment.items():
        text = f"{key}={value}".replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%")
        lines.append(f'Environment="{text}"\n')
    return "".join(lines)


def service_text(
    workspace: Path, command: Sequence[str], environment: Mapping[str, str] | None = None
) -> str:
    return (
        "# Written by Botdesk (botdesk schedule); remove with `botdesk schedule WS --off`.\n"
        f"# Workspace: {workspace}\n"
        "[Unit]\n"
        f"Description=Botdesk refresh of {workspace.name}\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"{_environment_lines(environment or {})}"
        f"ExecStart={' '.join(systemd_quote(a) for a in command)}\n"
    )


def timer_text(workspace: Path, schedule: Schedule) -> str:
    return (
        "# Written by Botdesk (botdesk schedule); remove with `botdesk schedule WS --off`.\n"
        f"# Workspace: {workspace}\n"
        "[Unit]\n"
        f"Description=Botdesk refresh of {workspace.name}, {schedule.describe()}\n"
        "\n"
        "[Timer]\n"
        f"OnCalendar={on_calendar(schedule)}\n"
        # A run missed while the computer was off happens at the next start-up.
        "Persistent=true\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )


def systemd_install(
    workspace: Path,
    schedule: Schedule,
    command: Sequence[str],
    folder: Path,
    environment: Mapping[str, str] | None = None,
) -> Plan:
    name = unit_name(workspace)
    return Plan(
        platform="linux",
        kind="systemd user timer",
        name=f"{name}.timer",
        location=str(folder),
        write={
            folder / f"{name}.service": service_text(workspace, command, environment),
            folder / f"{name}.timer": timer_text(workspace, schedule),
        },
        commands=[
            ["systemctl", "--user", "daemon-reload"],
            ["systemctl", "--user", "enable", "--now", f"{name}.timer"],
        ],
    )


def systemd_remove(workspace: Path, folder: Path) -> Plan:
    name = unit_name(workspace)
    files = [folder / f"{name}.timer", folder / f"{name}.service"]
    return Plan(
        platform="linux",
        kind="systemd user timer",
        name=f"{name}.timer",
        location=str(folder),
        remove=[f for f in files if f.exists()],
        optional=[["systemctl", "--user", "disable", "--now", f"{name}.timer"]],
        commands=[["systemctl", "--user", "daemon-reload"]],
    )


def systemd_read(workspace: Path, folder: Path) -> Installed | None:
    name = unit_name(workspace)
    timer, service = folder / f"{name}.timer", folder / f"{name}.service"
    if not timer.is_file() or not service.is_file():
        return None
    match = _ON_CALENDAR.search(timer.read_text(encoding="utf-8"))
    exec_line = re.search(r"^ExecStart=(.*)$", service.read_text(encoding="utf-8"), re.M)
    if match is None or exec_line is None:
        return None
    day = match.group(1)
    schedule = Schedule(
        int(match.group(2)),
        int(match.group(3)),
        None if day is None else WEEKDAYS.index(day.lower()),
    )
    return Installed(
        platform="linux",
        kind="systemd user timer",
        name=f"{name}.timer",
        location=str(folder),
        schedule=schedule,
        command=systemd_unquote(exec_line.group(1)),
        workspace=str(workspace),
    )


# -- cron ----------------------------------------------------------------------------------
def cron_marker(workspace: Path) -> str:
    return CRON_MARKER + entry_id(workspace)


def cron_line(
    workspace: Path,
    schedule: Schedule,
    command: Sequence[str],
    environment: Mapping[str, str] | None = None,
) -> str:
    # cron's day of week counts from Sunday = 0; ours from Monday = 0.
    day = "*" if schedule.weekday is None else str((schedule.weekday + 1) % 7)
    assignments = [f"{key}={shlex.quote(value)}" for key, value in (environment or {}).items()]
    # cron hands the line to /bin/sh; an unescaped % would end the command there.
    shell = " ".join([*assignments, *(shlex.quote(a) for a in command)]).replace("%", "\\%")
    return f"{schedule.minute} {schedule.hour} * * {day} {shell} {cron_marker(workspace)}"


def _without_entry(crontab: str, workspace: Path) -> list[str]:
    marker = cron_marker(workspace)
    return [line for line in crontab.splitlines() if not line.rstrip().endswith(marker)]


def cron_install(
    workspace: Path,
    schedule: Schedule,
    command: Sequence[str],
    current: str,
    environment: Mapping[str, str] | None = None,
) -> Plan:
    line = cron_line(workspace, schedule, command, environment)
    lines = [*_without_entry(current, workspace), line]
    return Plan(
        platform="linux",
        kind="crontab line",
        name=cron_marker(workspace).lstrip("# "),
        location="your crontab (crontab -l)",
        crontab="\n".join(lines) + "\n",
        commands=[["crontab", "-"]],
    )


def cron_remove(workspace: Path, current: str) -> Plan | None:
    kept = _without_entry(current, workspace)
    if len(kept) == len(current.splitlines()):
        return None
    return Plan(
        platform="linux",
        kind="crontab line",
        name=cron_marker(workspace).lstrip("# "),
        location="your crontab (crontab -l)",
        crontab="\n".join(kept) + ("\n" if kept else ""),
        commands=[["crontab", "-"]],
    )


def _without_assignments(words: list[str]) -> list[str]:
    """The command of `VAR=value ... command args`: the leading assignments dropped."""
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        words = words[1:]
    return words


def cron_read(workspace: Path, current: str) -> Installed | None:
    marker = cron_marker(workspace)
    for line in current.splitlines():
        if not line.rstrip().endswith(marker):
            continue
        fields = line.rstrip()[: -len(marker)].split(None, 5)
        if len(fields) < 6 or not (fields[0].isdigit() and fields[1].isdigit()):
            return None
        day = None if fields[4] == "*" else (int(fields[4]) - 1) % 7
        return Installed(
            platform="linux",
            kind="crontab line",
            name=marker.lstrip("# "),
            location="your crontab (crontab -l)",
            schedule=Schedule(int(fields[1]), int(fields[0]), day),
            command=_without_assignments(shlex.split(fields[5].replace("\\%", "%"))),
            workspace=str(workspace),
        )
    return None
