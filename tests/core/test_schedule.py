"""Refresh schedules on all three platforms: the files and commands each one produces.

Linux writes real unit files into a temporary XDG_CONFIG_HOME and runs `systemctl`
and `crontab` stand-ins put first on PATH (CI has no user session), which record their
arguments. macOS and Windows are checked by the plist, XML and commands they produce.
"""

from __future__ import annotations

import json
import plistlib
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from desktop.core.errors import ConfigError
from desktop.core.schedule import Schedule, entry_id, linux, parse_schedule, windows
from desktop.services import schedule
from desktop.services.schedule import CommandResult, SchedulerHost
from tests.helpers.scheduler_stubs import calls, make_workspace, stubs

__all__ = ["stubs"]  # the fixture

# Every character the quoting must survive: spaces, quotes, a backslash, % and $.
AWKWARD = 'my shop 100% $HOME "best" it\'s \\ ok'
# Stands in for botdesk: prints the OLLAMA_HOST it sees, then its arguments.
ECHO_ARGV = [
    sys.executable,
    "-c",
    "import json, os, sys; print(json.dumps([os.environ.get('OLLAMA_HOST'), *sys.argv[1:]]))",
]
OLLAMA = "http://10.0.0.5:11434"


def test_parse_schedule() -> None:
    assert parse_schedule(at="03:00") == Schedule(3, 0)
    assert parse_schedule(at="3:05", weekday="Monday") == Schedule(3, 5, 0)
    assert parse_schedule(at="23:59", weekday="sun").describe() == "weekly on Sunday at 23:59"
    for bad_time in ("24:00", "3pm", "03:60", ""):
        with pytest.raises(ConfigError, match="HH:MM"):
            parse_schedule(at=bad_time)
    with pytest.raises(ConfigError, match="mon, tue"):
        parse_schedule(at="03:00", weekday="funday")


def test_linux_systemd_timer_written_enabled_and_read_back(
    tmp_path: Path, stubs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    ws = make_workspace(tmp_path / AWKWARD, "acme")
    monkeypatch.setenv("OLLAMA_HOST", OLLAMA)
    monkeypatch.setenv("MISTRAL_API_KEY", "secret-key")
    host = SchedulerHost(platform="linux")
    installed = schedule.install(ws, parse_schedule(at="03:00", weekday="mon"), host=host)
    units = tmp_path / "xdg" / "systemd" / "user"
    name = f"botdesk-refresh-{entry_id(ws)}"
    timer = (units / f"{name}.timer").read_text()
    service = (units / f"{name}.service").read_text()
    assert "OnCalendar=Mon *-*-* 03:00:00" in timer and "Persistent=true" in timer
    assert "WantedBy=timers.target" in timer
    assert "Type=oneshot" in service
    # The scheduled run reaches the same Ollama; a secret is never written down.
    assert f'Environment="OLLAMA_HOST={OLLAMA}"' in service and "secret-key" not in service
    # The command: this Python, -m desktop, the absolute workspace path, --publish.
    assert installed.command == [sys.executable, "-m", "desktop", "refresh", str(ws), "--publish"]
    assert "100%% $$HOME" in service  # systemd would expand % and $ otherwise
    assert installed.schedule == Schedule(3, 0, 0) and installed.kind == "systemd user timer"
    assert calls(stubs)[-2:] == [
        "systemctl --user daemon-reload",
        f"systemctl --user enable --now {name}.timer",
    ]
    shown = schedule.show(ws, host=host)
    assert shown == installed
    if shutil.which("systemd-analyze"):  # systemd's own parser accepts both units
        checked = subprocess.run(
            [
                "systemd-analyze",
                "verify",
                str(units / f"{name}.service"),
                str(units / f"{name}.timer"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stderr


def test_several_workspaces_keep_their_own_timers(
    tmp_path: Path, stubs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    first, second = make_workspace(tmp_path, "one"), make_workspace(tmp_path, "two")
    host = SchedulerHost(platform="linux")
    schedule.install(first, parse_schedule(at="03:00"), host=host)
    schedule.install(second, parse_schedule(at="04:30"), host=host, publish=False)
    units = tmp_path / "xdg" / "systemd" / "user"
    assert len(list(units.glob("botdesk-refresh-*.timer"))) == 2
    shown = schedule.show(second, host=host)
    assert (
        shown is not None and shown.schedule == Schedule(4, 30) and "--publish" not in shown.command
    )
    removed = schedule.remove(first, host=host)
    assert "systemd user timer" in removed.describe()
    assert f"systemctl --user disable --now botdesk-refresh-{entry_id(first)}.timer" in calls(stubs)
    assert schedule.show(first, host=host) is None
    assert schedule.show(second, host=host) is not None
    assert schedule.remove(first, host=host).removed == []  # nothing left: says so


def test_linux_without_a_user_session_uses_a_crontab_line(
    tmp_path: Path, stubs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("STUB_SESSION_EXIT", "1")
    monkeypatch.setenv("OLLAMA_HOST", OLLAMA)
    crontab = tmp_path / "crontab.txt"
    crontab.write_text("# the user's own\n0 1 * * * /usr/bin/backup\n")
    ws = make_workspace(tmp_path / AWKWARD, "acme")
    host = SchedulerHost(platform="linux", botdesk=ECHO_ARGV)
    installed = schedule.install(ws, parse_schedule(at="03:15", weekday="sun"), host=host)
    assert installed.kind == "crontab line" and installed.schedule == Schedule(3, 15, 6)
    lines = crontab.read_text().splitlines()
    assert lines[:2] == ["# the user's own", "0 1 * * * /usr/bin/backup"]  # kept
    ours = lines[2]
    assert ours.startswith("15 3 * * 0 ") and ours.endswith(f"# botdesk-refresh-{entry_id(ws)}")
    assert "\\%" in ours  # cron would cut the command at a bare %
    assert not (tmp_path / "xdg" / "systemd").exists()
    # What cron hands to /bin/sh (after taking the backslash off \\%) runs our argv exactly.
    command = ours.split(" ", 5)[5].replace("\\%", "%")
    ran = subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True)
    assert json.loads(ran.stdout) == [OLLAMA, "refresh", str(ws), "--publish"]
    assert installed.command == [*ECHO_ARGV, "refresh", str(ws), "--publish"]
    # Installing again replaces the line; --off removes only ours.
    schedule.install(ws, parse_schedule(at="05:00"), host=host)
    assert sum("botdesk-refresh" in line for line in crontab.read_text().splitlines()) == 1
    schedule.remove(ws, host=host)
    assert crontab.read_text().splitlines() == lines[:2]
    assert schedule.show(ws, host=host) is None


class Recorder:
    """A runner that records commands and answers from a script (macOS, Windows)."""

    def __init__(self) -> None:
        self.commands: list[list[str]] = []
        self.answers: dict[str, CommandResult] = {}

    def __call__(self, argv: Sequence[str], stdin: str | None = None) -> CommandResult:
        self.commands.append(list(argv))
        return self.answers.get(" ".join(argv[:2]), CommandResult(0))


def test_macos_launch_agent_plist_and_launchctl(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / AWKWARD, "acme")
    runner = Recorder()
    env = {"OLLAMA_HOST": OLLAMA, "MISTRAL_API_KEY": "secret-key", "HOME": "/Users/ann"}
    host = SchedulerHost(platform="macos", home=tmp_path / "home", uid=501, runner=runner, env=env)
    installed = schedule.install(ws, parse_schedule(at="03:00", weekday="sun"), host=host)
    label = f"com.botdesk.refresh.{entry_id(ws)}"
    path = tmp_path / "home" / "Library" / "LaunchAgents" / f"{label}.plist"
    agent = plistlib.loads(path.read_bytes())
    assert agent["Label"] == label
    assert agent["EnvironmentVariables"] == {"OLLAMA_HOST": OLLAMA}
    assert agent["ProgramArguments"] == [
        sys.executable,
        "-m",
        "desktop",
        "refresh",
        str(ws),
        "--publish",
    ]
    assert agent["StartCalendarInterval"] == {"Hour": 3, "Minute": 0, "Weekday": 0}  # Sunday
    assert runner.commands == [
        ["launchctl", "bootout", f"gui/501/{label}"],
        ["launchctl", "bootstrap", "gui/501", str(path)],
    ]
    assert installed.schedule == Schedule(3, 0, 6) and installed.kind == "launchd agent"
    schedule.remove(ws, host=host)
    assert not path.exists() and runner.commands[-1] == ["launchctl", "bootout", f"gui/501/{label}"]


def test_windows_task_xml_and_schtasks(tmp_path: Path) -> None:
    ws = Path("C:\\Users\\Ann Lee\\My shops\\acme 100%.botdesk")
    command = [
        "C:\\Program Files\\Botdesk\\botdesk.exe",
        "refresh",
        str(ws),
        "--publish",
    ]
    plan = windows.install(ws, parse_schedule(at="03:00", weekday="wed"), command, folder=tmp_path)
    xml_path = tmp_path / f"refresh-{entry_id(ws)}.xml"
    text = plan.write[xml_path]
    assert plan.encoding == "utf-16" and text.startswith('<?xml version="1.0" encoding="UTF-16"?>')
    assert "<Wednesday />" in text and "T03:00:00</StartBoundary>" in text
    assert "<Command>C:\\Program Files\\Botdesk\\botdesk.exe</Command>" in text
    assert '<Arguments>refresh "C:\\Users\\Ann Lee\\My shops\\acme 100%.botdesk" --publish' in text
    assert plan.commands == [
        [
            "schtasks",
            "/Create",
            "/F",
            "/TN",
            f"Botdesk\\Refresh {entry_id(ws)}",
            "/XML",
            str(xml_path),
        ]
    ]
    read = windows.read(ws, text)
    assert read is not None and read.command == command and read.schedule == Schedule(3, 0, 2)
    daily = windows.task_xml(ws, parse_schedule(at="22:45"), command)
    assert "<DaysInterval>1</DaysInterval>" in daily
    assert windows.read(ws, daily) is not None


def test_windows_through_the_service_reads_back_what_schtasks_holds(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, "acme")
    runner = Recorder()
    host = SchedulerHost(platform="windows", data_dir=tmp_path / "data", runner=runner)
    xml_file = tmp_path / "data" / "schedules" / f"refresh-{entry_id(ws)}.xml"

    def query(argv: Sequence[str], stdin: str | None = None) -> CommandResult:
        runner.commands.append(list(argv))
        if argv[:2] == ["schtasks", "/Query"]:
            if not xml_file.exists():
                return CommandResult(1, "", "ERROR: The system cannot find the file specified.")
            return CommandResult(0, xml_file.read_text(encoding="utf-16"))
        return CommandResult(0)

    host.runner = query
    installed = schedule.install(ws, parse_schedule(at="03:00"), host=host)
    assert installed.schedule == Schedule(3, 0) and installed.platform == "windows"
    assert runner.commands[0][:2] == ["schtasks", "/Create"]
    schedule.remove(ws, host=host)
    assert ["schtasks", "/Delete", "/F", "/TN", installed.name] in runner.commands
    assert schedule.show(ws, host=host) is None


@pytest.mark.parametrize(
    "args",
    [
        ["a b", 'say "hi"', "back\\slash", "end\\", "", "100%", "tab\there"],
        ["C:\\Program Files\\x.exe", "-m", "desktop"],
    ],
)
def test_windows_arguments_round_trip(args: list[str]) -> None:
    assert windows.split_arguments(windows.join_arguments(args)) == args


def test_systemd_quoting_round_trip() -> None:
    args = [AWKWARD, "/opt/x y/python3", "%h", "$USER"]
    line = " ".join(linux.systemd_quote(a) for a in args)
    assert linux.systemd_unquote(line) == args
