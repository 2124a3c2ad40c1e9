"""Start Qt with the qasync event loop and open the main window."""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSettings
from PySide6.QtGui import QFileOpenEvent, QIcon
from PySide6.QtWidgets import QApplication, QWidget

from desktop.core.errors import BotdeskError
from desktop.core.logs import install_file_log
from desktop.core.paths import resource_path
from desktop.core.tls import shared_ssl_context
from desktop.services.backends import Backends
from desktop.ui.collector import GuiThreadCollector
from desktop.ui.main_window import MainWindow

FIRST_PAINT_TIMEOUT_S = 30.0


class FileOpenHandler(QObject):
    """macOS hands a double-clicked document to the running app as a FileOpen event, not
    as an argument: open it in the window like `botdesk app FILE` would."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            path = event.file()
            if path:
                self.window.open_path(path)
                return True
        return False


class FirstPaint(QObject):
    """Sets `painted` at the first paint event of any widget in the window."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.painted = asyncio.Event()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Paint
            and isinstance(watched, QWidget)
            and watched.window() is self.window
        ):
            self.painted.set()
        return False


def _application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Botdesk")
    app.setOrganizationName("Botdesk")
    # Ties the window to the installed botdesk.desktop entry (its icon and name in the
    # Wayland and X11 task bars); the icon also stands in where there is no such entry.
    app.setDesktopFileName("botdesk")
    app.setWindowIcon(QIcon(str(resource_path("icons", "botdesk.svg"))))
    return app


# What httpx imports at its first request (about 150 modules: httpcore's connection pool,
# anyio's asyncio backend, h11, trio via httpcore's optional import, IDNA): imported on the
# event loop, that was a 100+ ms stall at the start of the first sync.
HTTP_FIRST_REQUEST_MODULES = (
    "httpcore._async.connection_pool",
    "httpcore._async.http11",
    "httpcore._backends.auto",
    "httpcore._backends.anyio",
    "anyio._backends._asyncio",
    "anyio.streams.tls",
    "encodings.idna",
)


def warm_up_http() -> None:
    """Off the GUI thread, before the first sync: the CA bundle (40-100+ ms to read) and
    the modules of httpx's first request."""
    shared_ssl_context()
    for name in HTTP_FIRST_REQUEST_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # another httpcore or anyio layout: the first request imports it
            continue


def run(*, workspace_path: str | None = None) -> int:
    """Run the app until its window closes; returns the exit status."""
    import qasync

    app = _application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    log_path = install_file_log()  # rotating, in the user data folder, secrets redacted
    logging.getLogger("botdesk").info("Botdesk starting; log at %s", log_path)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    # The CA bundle and the modules of httpx's first request, off the GUI thread.
    threading.Thread(target=warm_up_http, name="http-warm-up", daemon=True).start()
    # The one place the window's addresses and tuning knobs are read from the environment.
    window = MainWindow(backends=Backends.from_environment())
    window.messages.install_excepthook()
    app.installEventFilter(FileOpenHandler(window))
    if workspace_path:
        window.open_path(workspace_path)
    window.show()
    if not workspace_path:
        window.start_first_run_if_new()  # a new user: the first-run guide
    # Start-up objects (Qt wrappers, imported modules) never die: keep them out of the
    # collector's generations, so its pauses on the GUI thread stay short (up to ~200 ms
    # was measured during a sync without this).
    gc.freeze()
    collector = GuiThreadCollector(app)  # cycles holding Qt objects die on the GUI thread
    collector.start()
    with loop:
        loop.run_until_complete(closed.wait())
    collector.stop()
    return 0


def check_window(
    workspace_path: Path,
    probe: Callable[[MainWindow], Awaitable[str]],
    *,
    settings_path: Path,
) -> str:
    """Open the real window on a workspace, wait for its first paint, run `probe` on the
    app's event loop, close it; returns the probe's line. For `botdesk demo --check`.

    The window's settings (recent files, geometry) go to `settings_path`, not the user's.
    Raises BotdeskError when the window does not open the workspace or never paints.
    """
    import qasync

    app = _application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    window = MainWindow(
        backends=Backends.from_environment(),
        settings=QSettings(str(settings_path), QSettings.Format.IniFormat),
    )
    first_paint = FirstPaint(window)
    app.installEventFilter(first_paint)
    # An exception in a slot (a module missing from a frozen build, say) reaches only the
    # excepthook: collect them, so the check fails on them.
    raised: list[BaseException] = []
    previous_hook = sys.excepthook
    sys.excepthook = lambda _type, exc, _tb: raised.append(exc)

    async def check() -> str:
        if not window.open_path(str(workspace_path)):
            raise BotdeskError(f"The window could not open {workspace_path}.")
        window.show()
        try:
            await asyncio.wait_for(first_paint.painted.wait(), FIRST_PAINT_TIMEOUT_S)
        except TimeoutError:
            raise BotdeskError(
                f"The window did not paint within {FIRST_PAINT_TIMEOUT_S:.0f} s."
            ) from None
        line = await probe(window)
        if raised:
            first = raised[0]
            raise BotdeskError(f"The window raised {type(first).__name__}: {first}")
        return line

    collector = GuiThreadCollector(app)
    collector.start()
    with loop:
        try:
            line: str = loop.run_until_complete(check())
            return line
        finally:
            collector.stop()
            sys.excepthook = previous_hook
            app.removeEventFilter(first_paint)
            window.close()
