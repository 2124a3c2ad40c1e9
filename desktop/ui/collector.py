"""Python's cyclic garbage collector, run on the GUI thread only (qutebrowser does the same).

With automatic collection, a collection runs in whichever thread happens to allocate when a
generation fills up: a worker of `asyncio.to_thread`, the keyring look-up, the bundle build.
A reference cycle holding Qt objects (a widget and a lambda connected to its signal) is then
freed in that thread, and Qt destroys widgets off the GUI thread: at best the warning "Timers
cannot be stopped from another thread", at worst a segmentation fault inside the next event
processing (seen in the test suite). So automatic collection is switched off and a timer on
the GUI thread collects whichever generation is due, as the automatic collector would have.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_INTERVAL_MS = 1000


def collect_due_generation() -> int | None:
    """Collect the oldest generation whose count passed its threshold; which one, or None."""
    thresholds, counts = gc.get_threshold(), gc.get_count()
    if counts[0] <= thresholds[0]:
        return None
    if counts[2] > thresholds[2]:
        generation = 2
    elif counts[1] > thresholds[1]:
        generation = 1
    else:
        generation = 0
    gc.collect(generation)
    return generation


class GuiThreadCollector(QObject):
    """Owns the switch: `start()` disables automatic collection and collects on a timer."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_INTERVAL_MS)
        self._timer.timeout.connect(collect_due_generation)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()
