"""`botdesk preview-widget` (alias `preview-site`): serves until interrupted; clear failures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from desktop.cli import main
from desktop.services.workspaces import create_workspace


@pytest.fixture
def workspace_path(tmp_path: Path) -> Path:
    path = tmp_path / "acme.botdesk"
    create_workspace(path, name="Acme").close()
    return path


def test_it_serves_the_widget_until_interrupted(workspace_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "desktop", "preview-site", str(workspace_path), "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Preview at http://127.0.0.1:"), line
        url = line.split()[2]
        with httpx.Client(trust_env=False) as client:
            config = client.get(url + "v1/bots/preview/widget-config").json()
            page = client.get(url).text
        assert config["bot_name"] == "Acme"
        assert f'src="{url}widget.js" data-bot-id="preview"' in page
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Preview stopped" in out + err


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (["--profile", "nope"], "No answer profile named 'nope'"),
        (["ftp://example.com/"], "Not a page address"),
        (["https://a.example/", "--url", "https://b.example/"], "Give the page once"),
        (["--port", "70000"], "--port must be 0 to 65535"),
    ],
)
def test_bad_input_fails_with_one_line(
    workspace_path: Path, extra: list[str], reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["preview-widget", str(workspace_path), *extra, "--no-browser"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("botdesk: ") and reason in err and err.count("\n") == 1
