"""The command line's contract: every command has help, exit codes 0/1/2."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from desktop.cli import build_parser, main


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _commands_with_help(
    parser: argparse.ArgumentParser, path: str
) -> list[tuple[str, str | None, argparse.ArgumentParser, argparse.ArgumentParser]]:
    """(path, help line, parser, parent parser) of every sub-command, at every level."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                if name not in helps:
                    continue  # an alias: the same parser is listed under its own name
                found.append((f"{path} {name}", helps[name], child, parser))
                found.extend(_commands_with_help(child, f"{path} {name}"))
    return found


def test_every_command_has_help() -> None:
    commands = _commands_with_help(build_parser(), "botdesk")
    names = {path for path, _, _, _ in commands}
    assert {
        "botdesk init",
        "botdesk add site",
        "botdesk chunk exclude",
        "botdesk profile set",
    } <= names
    for path, help_line, parser, parent in commands:
        assert help_line and help_line.strip(), f"`{path}` has no help text"
        # The one-line help is what the parent's --help lists next to the command's name.
        assert help_line.split()[0] in parent.format_help(), path
        assert path in parser.format_usage(), path


def test_init_then_refuse_existing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "acme.botdesk"
    assert main(["init", str(path), "--name", "Acme"]) == 0
    assert path.exists()
    assert main(["init", str(path), "--name", "Acme"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("botdesk: ") and "already exists" in err and err.count("\n") == 1


def test_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["init"])
    assert exc.value.code == 2


def test_init_refuses_an_unknown_embedder_before_making_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "acme.botdesk"
    assert main(["init", str(path), "--name", "Acme", "--embedder", "bogus"]) == 1
    err = capsys.readouterr().err
    assert "Unknown embedder 'bogus'" in err and err.count("\n") == 1
    assert not path.exists()
