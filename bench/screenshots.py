"""Screenshots of every page of the window, on the demo workspace, at 1024x640 and 1920x1080.

Not a benchmark: the way to look at what a change did to the window (the layout test checks
sizes; only a person sees whether a page reads well). Runs offscreen, no server needed:

    python bench/screenshots.py [--out DIR]      # PNGs: DIR/<page>-<width>.png

Also prints each page's minimum size hint, which must fit 1024x640.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from desktop.services.backends import Backends
from desktop.services.demo import build_demo
from desktop.ui.main_window import MainWindow

SIZES = ((1024, 640), (1920, 1080))


async def shoot(window: MainWindow, folder: Path, out: Path) -> None:
    demo = await build_demo(folder / "demo.botdesk")
    assert window.open_path(str(demo)), "the demo workspace did not open"
    for page in window.pages:
        window.show_page(page.title)
        for width, height in SIZES:
            window.resize(width, height)
            await asyncio.sleep(0.3)  # layouts settle, jobs started by the page report
            path = out / f"{page.title.lower().replace(' ', '-')}-{width}.png"
            window.grab().save(str(path))
            hint = page.minimumSizeHint()
            print(f"{path}  (page minimum {hint.width()}x{hint.height()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "botdesk-shots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as tmp:
        settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
        # The demo needs no model: no server is reached, whatever the environment says.
        window = MainWindow(backends=Backends(), settings=settings)
        window.messages.modal_dialogs = False
        window.show()
        with loop:
            loop.run_until_complete(shoot(window, Path(tmp), args.out))
        window.close()


if __name__ == "__main__":
    main()
