"""Browser tests: headless Chromium (Debian's) against the preview server on loopback.

They skip, saying why, only when Chromium is absent outside CI; under CI=true a missing
browser fails them (`.ci/run` installs it).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from desktop.services.backends import Backends
from tests.helpers.webdriver import Browser, Chromedriver, chromium_missing_reason


def _require_chromium() -> None:
    reason = chromium_missing_reason()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI must run the browser tests: {reason}. .ci/run installs them.")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromedriver() -> Iterator[Chromedriver]:
    _require_chromium()
    with Chromedriver() as driver:
        yield driver


@pytest.fixture
def browser(chromedriver: Chromedriver) -> Iterator[Browser]:
    with chromedriver.browser(width=1280, height=800) as opened:
        yield opened


class ThreadedPreview:
    """A PreviewServer on its own event loop in a thread (the browser blocks this one).

    The workspace is opened in that thread, as the app opens it on the loop's thread.
    `config` is read at each request: a test changes it in place.
    """

    def __init__(
        self,
        workspace_path: Path,
        config: dict[str, Any],
        *,
        backends: Backends,
        page_url: str | None = None,
        profile: str = "default",
    ) -> None:
        self.workspace_path = workspace_path
        self.backends = backends
        self.config = config
        self.page_url = page_url
        self.profile = profile
        self.url = ""
        self.server: Any = None
        self.problems: list[tuple[str, str]] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        from desktop.services.preview_server import PreviewServer
        from desktop.services.workspaces import open_workspace

        self._stop = asyncio.Event()
        try:
            with open_workspace(self.workspace_path) as ws:
                config_source: Callable[[], Mapping[str, Any]] = lambda: self.config  # noqa: E731
                self.server = PreviewServer(
                    ws,
                    page_url=self.page_url,
                    profile=self.profile,
                    config=config_source,
                    backends=self.backends,
                    on_problem=lambda item, reason: self.problems.append((item, reason)),
                )
                async with self.server:
                    self.url = self.server.url
                    self._ready.set()
                    await self._stop.wait()
        except BaseException as exc:  # reported to the test by start()
            self._error = exc
            self._ready.set()

    def start(self) -> ThreadedPreview:
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> ThreadedPreview:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
