"""Windows: a Task Scheduler task, registered from an XML definition with `schtasks /Create`.

XML rather than `/TR`: a /TR command is limited to 261 characters and has a quoting of
its own; the XML keeps the program and its arguments apart, and sets what /SC cannot
(run a missed start as soon as possible, never two at once, on battery too).
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring

from desktop.core.schedule import WEEKDAY_NAMES, Installed, Plan, Schedule, entry_id

TASK_FOLDER = "Botdesk"
NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"
_Q = f"{{{NS}}}"


def task_name(workspace: Path) -> str:
    return f"{TASK_FOLDER}\\Refresh {entry_id(workspace)}"


def join_arguments(args: Sequence[str]) -> str:
    """Arguments quoted the way Windows programs (the C runtime) split them back."""
    return subprocess.list2cmdline(list(args))


def split_arguments(line: str) -> list[str]:
    """The C runtime's splitting of a command line (the inverse of `join_arguments`)."""
    args: list[str] = []
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i] in " \t":
            i += 1
        if i >= n:
            break
        buf: list[str] = []
        quoted = False
        while i < n and (quoted or line[i] not in " \t"):
            char = line[i]
            if char == "\\":
                j = i
                while j < n and line[j] == "\\":
                    j += 1
                count = j - i
                if j < n and line[j] == '"':
                    buf.append("\\" * (count // 2))
                    if count % 2:
                        buf.append('"')
                        j += 1
                    i = j
                else:
                    buf.append("\\" * count)
                    i = j
            elif char == '"':
                if quoted and i + 1 < n and line[i + 1] == '"':
                    buf.append('"')
                    i += 2
                else:
                    quoted = not quoted
                    i += 1
            else:
                buf.append(char)
                i += 1
        args.append("".join(buf))
    return args


def task_xml(workspace: Path, schedule: Schedule, command: Sequence[str]) -> str:
    ET.register_namespace("", NS)
    task = ET.Element(f"{_Q}Task", {"version": "1.2"})
    info = ET.SubElement(task, f"{_Q}RegistrationInfo")
    ET.SubElement(info, f"{_Q}Description").text = f"Botdesk refresh of {workspace}"
    triggers = ET.SubElement(task, f"{_Q}Triggers")
    trigger = ET.SubElement(triggers, f"{_Q}CalendarTrigger")
    # A past date: the trigger's time of day is what counts; local time (no zone suffix).
    ET.SubElement(trigger, f"{_Q}StartBoundary").text = f"2026-01-05T{schedule.time_text}:00"
    ET.SubElement(trigger, f"{_Q}Enabled").text = "true"
    if schedule.weekday is None:
        by_day = ET.SubElement(trigger, f"{_Q}ScheduleByDay")
        ET.SubElement(by_day, f"{_Q}DaysInterval").text = "1"
    else:
        by_week = ET.SubElement(trigger, f"{_Q}ScheduleByWeek")
        days = ET.SubElement(by_week, f"{_Q}DaysOfWeek")
        ET.SubElement(days, f"{_Q}{WEEKDAY_NAMES[schedule.weekday]}")
        ET.SubElement(by_week, f"{_Q}WeeksInterval").text = "1"
    principals = ET.SubElement(task, f"{_Q}Principals")
    principal = ET.SubElement(principals, f"{_Q}Principal", {"id": "Author"})
    # Runs as the user when they are logged on: no password stored, no elevation.
    ET.SubElement(principal, f"{_Q}LogonType").text = "InteractiveToken"
    ET.SubElement(principal, f"{_Q}RunLevel").text = "LeastPrivilege"
    settings = ET.SubElement(task, f"{_Q}Settings")
    for key, value in (
        ("MultipleInstancesPolicy", "IgnoreNew"),
        ("DisallowStartIfOnBatteries", "false"),
        ("StopIfGoingOnBatteries", "false"),
        ("StartWhenAvailable", "true"),
        ("ExecutionTimeLimit", "PT4H"),
        ("Enabled", "true"),
    ):
        ET.SubElement(settings, f"{_Q}{key}").text = value
    actions = ET.SubElement(task, f"{_Q}Actions", {"Context": "Author"})
    run = ET.SubElement(actions, f"{_Q}Exec")
    ET.SubElement(run, f"{_Q}Command").text = command[0]
    ET.SubElement(run, f"{_Q}Arguments").text = join_arguments(command[1:])
    ET.indent(task)
    body = ET.tostring(task, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-16"?>\n' + body + "\n"


def install(workspace: Path, schedule: Schedule, command: Sequence[str], *, folder: Path) -> Plan:
    path = folder / f"refresh-{entry_id(workspace)}.xml"
    name = task_name(workspace)
    return Plan(
        platform="windows",
        kind="scheduled task",
        name=name,
        location="Task Scheduler, folder \\Botdesk",
        write={path: task_xml(workspace, schedule, command)},
        commands=[["schtasks", "/Create", "/F", "/TN", name, "/XML", str(path)]],
        encoding="utf-16",
    )


def remove(workspace: Path, *, folder: Path) -> Plan:
    path = folder / f"refresh-{entry_id(workspace)}.xml"
    return Plan(
        platform="windows",
        kind="scheduled task",
        name=task_name(workspace),
        location="Task Scheduler, folder \\Botdesk",
        remove=[path] if path.exists() else [],
        optional=[["schtasks", "/Delete", "/F", "/TN", task_name(workspace)]],
    )


def query_command(workspace: Path) -> list[str]:
    return ["schtasks", "/Query", "/TN", task_name(workspace), "/XML", "ONE"]


def read(workspace: Path, xml_text: str) -> Installed | None:
    """An installed task from `schtasks /Query /XML` output."""
    try:
        # ElementTree refuses a str whose declaration names another encoding.
        body = xml_text.split("?>", 1)[-1] if xml_text.lstrip().startswith("<?") else xml_text
        root = defused_fromstring(body.strip())
    except (ET.ParseError, DefusedXmlException):
        return None
    boundary = root.findtext(f".//{_Q}CalendarTrigger/{_Q}StartBoundary") or ""
    program = root.findtext(f".//{_Q}Exec/{_Q}Command")
    if "T" not in boundary or not program:
        return None
    hour, minute = (int(x) for x in boundary.split("T", 1)[1].split(":")[:2])
    days = root.find(f".//{_Q}ScheduleByWeek/{_Q}DaysOfWeek")
    weekday = None
    if days is not None and len(days):
        weekday = WEEKDAY_NAMES.index(days[0].tag.removeprefix(_Q))
    arguments = root.findtext(f".//{_Q}Exec/{_Q}Arguments") or ""
    return Installed(
        platform="windows",
        kind="scheduled task",
        name=task_name(workspace),
        location="Task Scheduler, folder \\Botdesk",
        schedule=Schedule(hour, minute, weekday),
        command=[program, *split_arguments(arguments)],
        workspace=str(workspace),
    )
