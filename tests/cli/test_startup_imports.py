"""`botdesk --help` stays fast: building the parser imports no service, SDK or Qt.

The command modules register their verbs with argparse alone and import what a verb needs
inside its handler. A module-level import of a service (which pulls in the Mistral client,
httpx, numpy, apsw...) would put 0.5+ s back on every `botdesk` call; this catches it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.cli import COMMAND_MODULES

# Heavy third-party packages and our own upper layers that no parser needs.
FORBIDDEN = (
    "mistralai",
    "ollama",
    "httpx",
    "PySide6",
    "qasync",
    "trafilatura",
    "lxml",
    "pypdf",
    "numpy",
    "apsw",
    "sqlite_vec",
    "keyring",
    "jsonschema",
    "desktop.services",
    "desktop.providers",
    "desktop.ui",
    "desktop.app",
)

PROBE = """
import json, sys
from desktop.cli import build_parser
parser = build_parser()
{extra}
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(extra: str = "") -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(extra=extra)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    return set(json.loads(result.stdout.splitlines()[-1]))  # after any help text


def _heavy(modules: set[str]) -> list[str]:
    return sorted(
        name for name in modules if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    )


def test_building_the_parser_imports_nothing_heavy() -> None:
    assert _heavy(_modules_after()) == []


@pytest.mark.parametrize("command", ["sync", "search", "ask", "publish", "app", "demo"])
def test_a_commands_help_imports_nothing_heavy(command: str) -> None:
    # `botdesk COMMAND --help` exits from parse_args, before any handler runs.
    extra = f"try:\n    parser.parse_args([{command!r}, '--help'])\nexcept SystemExit:\n    pass\n"
    assert _heavy(_modules_after(extra)) == []


def test_the_probe_would_see_a_heavy_import() -> None:
    # The check itself works: a handler's import, once run, shows up.
    assert "desktop.services" in set(_heavy(_modules_after("import desktop.services.content")))


def test_every_command_module_is_registered() -> None:
    # A new command module must be light too: it is covered once it is in COMMAND_MODULES.
    modules = _modules_after()
    for name in COMMAND_MODULES:
        assert f"desktop.cli.{name}" in modules
