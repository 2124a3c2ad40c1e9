"""What a double-click means to the windowed executable, and `botdesk demo --check`."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.cli import main
from desktop.cli.gui import window_argv


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], ["app"]),
        (["-psn_0_12345"], ["app"]),  # older macOS adds a process serial number
        (["/home/ann/Acme.botdesk"], ["app", "/home/ann/Acme.botdesk"]),
        (["C:\\Users\\Ann\\Acme.botdesk"], ["app", "C:\\Users\\Ann\\Acme.botdesk"]),
        (["D:\\ACME.BOTDESK"], ["app", "D:\\ACME.BOTDESK"]),  # Windows keeps any case
        (["sync", "acme.botdesk"], ["sync", "acme.botdesk"]),
        (["--version"], ["--version"]),
        (["notes.txt"], ["notes.txt"]),  # not a workspace: the command line says so
    ],
)
def test_window_argv(argv: list[str], expected: list[str]) -> None:
    assert window_argv(argv) == expected


def test_demo_check_passes_from_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], qapp: object
) -> None:
    path = tmp_path / "demo.botdesk"
    assert main(["demo", "--check", "--path", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("demo check passed:")
    assert "3 hits" in out
    assert path.exists()  # --path keeps the demo it checked


def test_demo_check_fails_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], qapp: object
) -> None:
    not_a_workspace = tmp_path / "demo.botdesk"
    not_a_workspace.write_text("not a database")
    assert main(["demo", "--check", "--path", str(not_a_workspace)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("botdesk: demo check failed:")
    assert "\n" not in err
