"""Headless Chromium driven over W3C WebDriver, with httpx: Debian's `chromium` and
`chromium-driver`, never a browser downloaded at run time, and no new dependency.

    with Chromedriver() as driver, driver.browser(width=1280, height=800) as browser:
        browser.get(url)
        browser.run("return document.title")
        browser.press("\\ue004")          # Tab (W3C key codes: KEYS below)

Why not Selenium: it would be a new dependency whose Selenium Manager may download a
browser or driver when it cannot find one; the handful of WebDriver calls the tests need
are plain HTTP, and chromedriver's CDP bridge covers emulation (dark mode, a 320 px phone).
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Self

import httpx

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--no-default-browser-check",
)
KEYS = {"tab": "\ue004", "enter": "\ue007", "escape": "\ue00c", "shift": "\ue008"}
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


def chromium_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if not missing:
        return None
    return f"{', '.join(missing)} not installed (Debian: apt-get install chromium chromium-driver)"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class WebDriverError(AssertionError):
    pass


class Chromedriver:
    """The chromedriver process on a free loopback port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(timeout=60.0, trust_env=False)

    def start(self) -> Self:
        self.process = subprocess.Popen(
            [CHROMEDRIVER, f"--port={self.port}", "--allowed-ips=127.0.0.1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if self.http.get(self.url + "/status").json()["value"]["ready"]:
                    return self
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            time.sleep(0.05)
        self.stop()
        raise WebDriverError("chromedriver did not start within 20 s")

    def stop(self) -> None:
        self.http.close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def browser(self, *, width: int = 1280, height: int = 800) -> Browser:
        return Browser(self, width=width, height=height)


class Browser:
    """One Chromium session with a fresh profile folder."""

    def __init__(self, driver: Chromedriver, *, width: int, height: int) -> None:
        self.driver = driver
        self.profile = tempfile.mkdtemp(prefix="botdesk-chromium-")
        args = [
            *CHROMIUM_ARGS,
            f"--user-data-dir={self.profile}",
            f"--window-size={width},{height}",
        ]
        capabilities = {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }
        answer = self._call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})
        self.session = str(answer["sessionId"])
        self.viewport(width, height)

    # -- plumbing --------------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self.driver.http.request(method, self.driver.url + path, json=body)
        value = response.json().get("value")
        if response.status_code >= 400:
            raise WebDriverError(f"{method} {path}: {value}")
        return value

    def command(self, method: str, path: str, body: Any = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}", body)

    def cdp(self, cmd: str, **params: Any) -> Any:
        return self.command("POST", "/goog/cdp/execute", {"cmd": cmd, "params": params})

    def close(self) -> None:
        try:
            self._call("DELETE", f"/session/{self.session}")
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what tests use ----------------------------------------------------------------------
    def viewport(self, width: int, height: int, *, mobile: bool | None = None) -> None:
        """Emulate a viewport this size (a 320 px phone is narrower than any window)."""
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=width < 600 if mobile is None else mobile,
        )

    def color_scheme(self, scheme: str, *, reduced_motion: bool = False) -> None:
        features = [{"name": "prefers-color-scheme", "value": scheme}]
        features.append(
            {"name": "prefers-reduced-motion", "value": "reduce" if reduced_motion else ""}
        )
        self.cdp("Emulation.setEmulatedMedia", features=features)

    def before_load(self, source: str) -> None:
        """Run `source` in every document before its own scripts (observers, error traps)."""
        self.cdp("Page.addScriptToEvaluateOnNewDocument", source=source)

    def get(self, url: str) -> None:
        self.command("POST", "/url", {"url": url})

    def run(self, script: str, *args: Any) -> Any:
        return self.command("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait_for(self, script: str, *args: Any, timeout: float = 15.0) -> Any:
        """Poll `script` until it returns something truthy; that value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.run(script, *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise WebDriverError(f"timed out after {timeout} s waiting for: {script}")
            time.sleep(0.03)

    def press(self, *keys: str) -> None:
        """Real key presses sent to whatever has the focus."""
        actions: list[dict[str, str]] = []
        for key in keys:
            actions += [{"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]
        self.command(
            "POST", "/actions", {"actions": [{"type": "key", "id": "keyboard", "actions": actions}]}
        )
        self.command("DELETE", "/actions")

    def type_text(self, text: str) -> None:
        self.press(*text)

    def click(self, element: dict[str, str]) -> None:
        self.command("POST", f"/element/{element[ELEMENT]}/click")

    def console_errors(self) -> list[str]:
        entries = self.command("POST", "/se/log", {"type": "browser"}) or []
        return [str(e.get("message")) for e in entries if e.get("level") == "SEVERE"]

    def screenshot(self, path: Path | str) -> Path:
        target = Path(path)
        target.write_bytes(base64.b64decode(self.command("GET", "/screenshot")))
        return target
