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


def test_every_command_has_help() -> None:
    commands = _subcommands(build_parser())
    assert "init" in commands
    stack = list(commands.items())
    while stack:
        name, parser = stack.pop()
        assert parser.description or parser.format_help(), name
        helps = {a.choices and None for a in parser._actions}
        del helps
        for child_name, child in _subcommands(parser).items():
            stack.append((f"{name} {child_name}", child))
    top = build_parser()
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                assert choice.help, f"`botdesk {choice.dest}` has no help text"


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
