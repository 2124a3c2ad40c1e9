"""Start Qt with the qasync event loop and open the main window."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading

from PySide6.QtWidgets import QApplication

from desktop.core.logs import install_file_log
from desktop.core.tls import shared_ssl_context
from desktop.ui.main_window import MainWindow


def run(*, workspace_path: str | None = None) -> int:
    """Run the app until its window closes; returns the exit status."""
    import qasync

    app = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(app, QApplication)
    app.setApplicationName("Botdesk")
    app.setOrganizationName("Botdesk")
    log_path = install_file_log()  # rotating, in the user data folder, secrets redacted
    logging.getLogger("botdesk").info("Botdesk starting; log at %s", log_path)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    # Reading the CA bundle takes 40-100+ ms: do it off the GUI thread before the first sync.
    threading.Thread(target=shared_ssl_context, name="tls-warm-up", daemon=True).start()
    window = MainWindow()
    window.messages.install_excepthook()
    if workspace_path:
        window.open_path(workspace_path)
    window.show()
    if not workspace_path:
        window.start_first_run_if_new()  # a new user: the first-run guide
    # Start-up objects (Qt wrappers, imported modules) never die: keep them out of the
    # collector's generations, so its pauses on the GUI thread stay short (up to ~200 ms
    # was measured during a sync without this).
    gc.freeze()
    with loop:
        loop.run_until_complete(closed.wait())
    return 0
