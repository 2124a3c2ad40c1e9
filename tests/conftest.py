"""Shared fixtures: an isolated environment, workspaces, and a qasync loop per GUI test."""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Set before Qt is imported anywhere.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No test may touch the developer's real keyring: this backend refuses everything.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

from desktop.core.store.workspace import Workspace
from desktop.services.workspaces import create_workspace
from desktop.ui.collector import collect_due_generation


def pytest_configure(config: pytest.Config) -> None:
    # As in the app (desktop/ui/collector.py): no automatic collection, which could run in a
    # worker thread and free Qt objects there; each test's teardown collects on this thread.
    gc.disable()


@pytest.fixture(autouse=True)
def _collect_on_the_main_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "qapp" in request.fixturenames:
        gc.collect()  # the window, pages and loop of a GUI test die here, on the GUI thread
    else:
        collect_due_generation()


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in (
        "MISTRAL_API_KEY",
        "BOTDESK_PUBLISH_TOKEN",
        "OLLAMA_HOST",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))  # the log, the demo


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A new, empty workspace (keyword search only)."""
    ws = create_workspace(tmp_path / "test.botdesk", name="Test bot")
    yield ws
    ws.close()


class QtAsyncDriver:
    """Drives a qasync loop from a test: asyncio tasks and Qt events both run meanwhile.

    pytest-qt's waitUntil only processes Qt events; asyncio tasks on a qasync loop run
    only while the loop itself runs, so tests wait through here.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def run(self, awaitable: Any, timeout: float = 30.0) -> Any:
        # Not loop.run_until_complete: qasync 0.28 processes Qt events once more after it
        # has cleared the running loop, so a task step due then fails with "no running
        # event loop" (seen as a flaky job test). run_forever leaves such events queued.
        future = asyncio.ensure_future(asyncio.wait_for(awaitable, timeout), loop=self.loop)
        future.add_done_callback(lambda _: self.loop.stop())
        self.loop.run_forever()
        return future.result()

    def wait_until(self, predicate: Any, timeout: float = 10.0) -> None:
        async def poll() -> None:
            while not predicate():
                await asyncio.sleep(0.01)

        try:
            self.run(poll(), timeout)
        except TimeoutError:
            raise AssertionError(f"condition not met within {timeout} s") from None


@pytest.fixture
def qloop(qapp: Any) -> Iterator[QtAsyncDriver]:
    """A qasync event loop for one test; task exceptions are re-raised at teardown."""
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    yield QtAsyncDriver(loop)
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
    asyncio.set_event_loop(None)
    if errors:
        raise AssertionError(f"unhandled errors in the event loop: {errors}")


# -- model back-end stand-ins (tests/helpers/fake_ollama.py, fake_mistral.py) -------------
# Services reach them only through the `backends` fixture below (tests/helpers/backends.py):
# no environment variable names a server. The providers' own tests, which check the
# providers' environment defaults, set the variables in tests/providers/conftest.py.
@pytest.fixture
def fake_ollama() -> Iterator[Any]:
    """A stand-in Ollama server (FakeOllama); `backends` points at it when a test uses both."""
    from desktop.providers.ollama import forget_model_limits
    from tests.helpers.fake_ollama import FakeOllama

    forget_model_limits()  # a port may be reused: nothing learnt about an earlier server
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def fake_mistral(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A stand-in Mistral API (FakeMistral), its key in MISTRAL_API_KEY (where the key lives
    without a keyring); `backends` points at it when a test uses both."""
    from tests.helpers.fake_mistral import FakeMistral

    with FakeMistral() as fake:
        monkeypatch.setenv("MISTRAL_API_KEY", fake.key)
        yield fake


@pytest.fixture
def backends(request: pytest.FixtureRequest) -> Any:
    """Backends with fast retries, pointing at the stand-ins this test uses (fake_ollama,
    fake_mistral); a server the test does not use is a closed port."""
    from tests.helpers.backends import test_backends

    used = request.fixturenames
    ollama = request.getfixturevalue("fake_ollama") if "fake_ollama" in used else None
    mistral = request.getfixturevalue("fake_mistral") if "fake_mistral" in used else None
    return test_backends(ollama=ollama, mistral=mistral)


@pytest.fixture
def cli_environment(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment a user sets for the command line (which builds its Backends from
    it), pointing at the stand-ins this test uses, with fast retries."""
    used = request.fixturenames
    if "fake_ollama" in used:
        monkeypatch.setenv("OLLAMA_HOST", request.getfixturevalue("fake_ollama").url)
    if "fake_mistral" in used:
        monkeypatch.setenv("BOTDESK_MISTRAL_URL", request.getfixturevalue("fake_mistral").url)
    monkeypatch.setenv("BOTDESK_PROVIDER_ATTEMPTS", "3")
    monkeypatch.setenv("BOTDESK_PROVIDER_BACKOFF_S", "0.01")
    monkeypatch.setenv("BOTDESK_PROVIDER_MAX_RETRY_AFTER_S", "2")
    monkeypatch.setenv("BOTDESK_PROVIDER_TIMEOUT_S", "5")
