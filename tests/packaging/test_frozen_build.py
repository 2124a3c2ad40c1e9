"""The Linux build: packaging/build-linux.sh freezes the app, and the BUILT binary works.

One build per run (about 1.5-2 minutes on two cores), then the frozen `botdesk`, not the
source, is asked for its version, checks itself on the demo (the window offscreen, a sync
with the PDF parser's child process, a search), writes a bundle with vectors from a
stand-in Ollama (sqlite-vec's vec0 loads from the bundle, the Ollama client and httpx
work), and its folder installs with a menu entry and the .botdesk file type.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import apsw
import pytest
import sqlite_vec

from desktop import __version__
from desktop.core.paths import resource_path

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="build-linux.sh builds the Linux artefact"),
    pytest.mark.timeout(900),  # the build is part of the first test's setup
]

CHECKOUT = Path(__file__).resolve().parents[2]


def run(
    command: list[str], *, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


class FrozenBuild:
    def __init__(self, dist: Path, log: str) -> None:
        self.dist = dist
        self.folder = dist / "botdesk"
        self.binary = self.folder / "botdesk"
        self.log = log

    def run(self, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return run([str(self.binary), *args], env=env)


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FrozenBuild]:
    scratch = tmp_path_factory.mktemp("frozen")
    build = CHECKOUT / "packaging" / "build-linux.sh"
    dist, work = str(scratch / "dist"), str(scratch / "work")
    env = dict(os.environ, PYTHON=sys.executable)  # the interpreter running the tests
    result = run(["bash", str(build), "--dist", dist, "--work", work], env=env, timeout=840)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"build-linux.sh failed:\n{log[-4000:]}"
    yield FrozenBuild(scratch / "dist", log)
    shutil.rmtree(scratch, ignore_errors=True)  # about 300 MB


@pytest.fixture
def frozen_env(tmp_path: Path) -> dict[str, str]:
    """A user with an empty home: nothing from this machine's settings or data."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BOTDESK_", "OLLAMA_", "MISTRAL_", "PYTHON"))
    }
    home = tmp_path / "home"
    home.mkdir()
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        QT_QPA_PLATFORM="offscreen",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        NO_PROXY="127.0.0.1,localhost",
    )
    return env


def test_the_build_makes_a_folder_and_a_tarball(frozen: FrozenBuild) -> None:
    assert frozen.binary.is_file() and os.access(frozen.binary, os.X_OK)
    internal = frozen.folder / "_internal"
    # What the spec must add by hand: vec0 where sqlite_vec looks, the resources, the
    # extractor's data files, Qt's offscreen and X11 plugins.
    assert (internal / "sqlite_vec" / "vec0.so").is_file()
    assert (internal / "resources" / "prompts" / "grounded_system.md").is_file()
    assert (internal / "resources" / "icons" / "botdesk.svg").is_file()
    assert (internal / "trafilatura" / "settings.cfg").is_file()
    assert list((internal / "justext" / "stoplists").glob("English.txt"))
    platforms = internal / "PySide6" / "Qt" / "plugins" / "platforms"
    assert (platforms / "libqoffscreen.so").is_file()
    assert (platforms / "libqxcb.so").is_file()
    tarballs = list(frozen.dist.glob(f"botdesk-{__version__}-linux-*.tar.gz"))
    assert len(tarballs) == 1
    with tarfile.open(tarballs[0]) as tar:
        names = set(tar.getnames())
    assert {"botdesk/botdesk", "botdesk/install.sh", "botdesk/share/botdesk.desktop"} <= names


def test_version(frozen: FrozenBuild, frozen_env: dict[str, str]) -> None:
    result = frozen.run("--version", env=frozen_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"botdesk {__version__}"


def test_demo_check(frozen: FrozenBuild, frozen_env: dict[str, str]) -> None:
    result = frozen.run("demo", "--check", env=frozen_env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("demo check passed:"), result.stdout
    assert "offscreen" in result.stdout


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run (Debian: xvfb)")
def test_demo_check_on_an_x_server(frozen: FrozenBuild, frozen_env: dict[str, str]) -> None:
    # The X11 plugin (xcb) as a desktop session uses it, on a virtual X server.
    frozen_env["QT_QPA_PLATFORM"] = "xcb"
    result = run(["xvfb-run", "-a", str(frozen.binary), "demo", "--check"], env=frozen_env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "window painted (xcb)" in result.stdout


def test_demo_check_fails_with_a_reason(frozen: FrozenBuild, frozen_env: dict[str, str]) -> None:
    # A Qt platform plugin that does not exist: Qt cannot start the window.
    frozen_env["QT_QPA_PLATFORM"] = "no-such-platform"
    result = frozen.run("demo", "--check", env=frozen_env)
    assert result.returncode != 0
    assert "demo check passed" not in result.stdout
    assert "no-such-platform" in result.stderr


def test_a_bundle_with_vectors(
    frozen: FrozenBuild, frozen_env: dict[str, str], fake_ollama: Any, tmp_path: Path
) -> None:
    frozen_env["OLLAMA_HOST"] = fake_ollama.url
    workspace = str(tmp_path / "acme.botdesk")
    bundle = tmp_path / "acme-bundle.sqlite"
    steps = [
        ("init", workspace, "--name", "Acme", "--embedder", "ollama:all-minilm"),
        ("add", "files", workspace, str(resource_path("sample"))),
        ("sync", workspace),
        ("bundle", workspace, "-o", str(bundle)),
    ]
    for step in steps:
        result = frozen.run(*step, env=frozen_env)
        assert result.returncode == 0, f"{step[0]}: {result.stderr[-3000:]}"
    assert fake_ollama.calls("/api/embed"), "the frozen app never asked the stand-in to embed"

    # The bundle as any sqlite-vec client reads it: vectors in vec0, one per passage.
    conn = apsw.Connection(str(bundle), flags=apsw.SQLITE_OPEN_READONLY)
    conn.enable_load_extension(True)
    conn.load_extension(sqlite_vec.loadable_path())
    passages = conn.execute("select count(*) from passages").fetchall()[0][0]
    vectors = conn.execute("select count(*) from passages_vec").fetchall()[0][0]
    assert passages > 0
    assert vectors == passages

    # And the frozen app searches by vector: the query is embedded by the stand-in.
    embeds_before = len(fake_ollama.calls("/api/embed"))
    result = frozen.run(
        "search",
        workspace,
        "Do you deliver on Sundays?",
        "--mode",
        "vector",
        "--json",
        env=frozen_env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["results"], "a vector search found nothing"
    assert len(fake_ollama.calls("/api/embed")) == embeds_before + 1


def test_install_registers_the_app_and_the_file_type(
    frozen: FrozenBuild, frozen_env: dict[str, str], tmp_path: Path
) -> None:
    prefix = tmp_path / "prefix"
    result = run(
        ["sh", str(frozen.folder / "install.sh"), "--prefix", str(prefix)],
        env=frozen_env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    app_dir = prefix / "lib" / "botdesk"
    assert (prefix / "bin" / "botdesk").resolve() == (app_dir / "botdesk").resolve()
    desktop_entry = (prefix / "share" / "applications" / "botdesk.desktop").read_text()
    assert f'Exec="{app_dir}/botdesk" app %f' in desktop_entry
    assert "MimeType=application/x-botdesk;" in desktop_entry
    assert (prefix / "share" / "icons" / "hicolor" / "scalable" / "apps" / "botdesk.svg").is_file()
    assert (prefix / "share" / "mime" / "packages" / "botdesk.xml").is_file()
    if shutil.which("update-mime-database"):
        globs = (prefix / "share" / "mime" / "globs2").read_text()
        assert "application/x-botdesk:*.botdesk" in globs
    # The installed copy runs.
    installed = run([str(prefix / "bin" / "botdesk"), "--version"], env=frozen_env, timeout=60)
    assert installed.stdout.strip() == f"botdesk {__version__}"

    removed = run(
        ["sh", str(app_dir / "install.sh"), "--prefix", str(prefix), "--uninstall"],
        env=frozen_env,
        timeout=120,
    )
    assert removed.returncode == 0, removed.stderr
    assert not app_dir.exists()
    assert not (prefix / "share" / "applications" / "botdesk.desktop").exists()
