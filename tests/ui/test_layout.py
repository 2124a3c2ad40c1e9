"""Every page holds its layout on a 13-inch laptop (1024x640) and on a large screen
(1920x1080): no visible input, button or table narrower or shorter than its minimum size
hint, no page needing more room than the window has, and a window that never resizes
itself (after a sync, with long job summaries).

Built on the demo's content (resources/sample, synced offline, no model server).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTextEdit,
    QWidget,
)

from desktop.services.demo import build_demo
from desktop.ui.main_window import MainWindow

SIZES = (QSize(1024, 640), QSize(1920, 1080))
CHECKED_TYPES = (
    QLineEdit,
    QAbstractButton,
    QComboBox,
    QAbstractSpinBox,
    QAbstractItemView,
    QPlainTextEdit,
    QTextEdit,
)
# Parts of Qt's own composite widgets, sized by their owner, not by our layouts.
QT_INTERNALS = ("QTableCornerButton", "QDockWidgetTitleButton", "QToolBarExtension")


@pytest.fixture
def demo_window(window: MainWindow, tmp_path: Path, qloop: Any) -> MainWindow:
    path = qloop.run(build_demo(tmp_path / "demo.botdesk"), timeout=120)
    assert window.open_path(str(path))
    return window


def _settle(qloop: Any) -> None:
    """Let posted layout requests and resize events run."""
    qloop.run(asyncio.sleep(0.05))


def _checked(widget: QWidget) -> bool:
    if not isinstance(widget, CHECKED_TYPES) or isinstance(widget, QHeaderView):
        return False
    if type(widget).__name__ in QT_INTERNALS:
        return False
    parent = widget.parentWidget()
    # The editor inside a combo or spin box, a tab bar's scroll arrows: Qt sizes those.
    return not isinstance(parent, QComboBox | QAbstractSpinBox) and (
        parent is None or type(parent).__name__ != "QTabBar"
    )


def _describe(widget: QWidget) -> str:
    name = widget.objectName() or ""
    text = getattr(widget, "text", None)
    label = text() if callable(text) else ""
    return (
        f"{type(widget).__name__}{'#' + name if name else ''}{' ' + repr(label) if label else ''}"
    )


def squeezed_widgets(root: QWidget) -> list[str]:
    """Visible inputs, buttons and tables smaller than their minimum size hint."""
    found = []
    for widget in root.findChildren(QWidget):
        if not _checked(widget) or not widget.isVisibleTo(root) or not widget.isVisible():
            continue
        hint = widget.minimumSizeHint()
        size = widget.size()
        if not hint.isValid():
            continue
        if size.width() < hint.width() or size.height() < hint.height():
            found.append(
                f"{_describe(widget)}: {size.width()}x{size.height()} "
                f"< minimum {hint.width()}x{hint.height()}"
            )
    return found


def layout_problems(window: MainWindow, size: QSize, qloop: Any) -> dict[str, list[str]]:
    """For each page shown at `size`: what does not fit (empty lists when all is well)."""
    problems: dict[str, list[str]] = {}
    for row, page in enumerate(window.pages):
        window.show_page_at(row)
        with only_this_page_counts(window, page):
            window.resize(size)
            _settle(qloop)
            found = _page_problems(window, page, size)
        problems[page.title] = found
    return problems


@contextlib.contextmanager
def only_this_page_counts(window: MainWindow, shown: QWidget) -> Iterator[None]:
    """The window's minimum size is the largest page's (so that switching pages never
    resizes it): to see each page at the size asked for, the hidden pages stop counting."""
    saved = {page: page.sizePolicy() for page in window.pages if page is not shown}
    ignored = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
    for page in saved:
        page.setSizePolicy(ignored)
    try:
        yield
    finally:
        for page, policy in saved.items():
            page.setSizePolicy(policy)


def _page_problems(window: MainWindow, page: QWidget, size: QSize) -> list[str]:
    found = []
    if window.size() != size:
        found.append(f"the window could not take {size.width()}x{size.height()}: {window.size()}")
    chrome = window.size() - window.page_stack.size()
    room = size - chrome
    need = page.minimumSizeHint()
    if need.width() > room.width() or need.height() > room.height():
        found.append(
            f"the page needs at least {need.width()}x{need.height()}, "
            f"the window has {room.width()}x{room.height()} for it"
        )
    return found + squeezed_widgets(page)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s.width()}x{s.height()}")
def test_every_page_fits(demo_window: MainWindow, size: QSize, qloop: Any) -> None:
    assert len(demo_window.pages) >= 4  # every registered page is checked
    problems = layout_problems(demo_window, size, qloop)
    report = "\n".join(
        f"{title}:\n  " + "\n  ".join(found) for title, found in problems.items() if found
    )
    assert not report, f"layout problems at {size.width()}x{size.height()}:\n{report}"
    window_min = demo_window.minimumSizeHint()
    assert window_min.width() <= size.width() and window_min.height() <= size.height()


def test_the_start_screen_fits_a_laptop(window: MainWindow, qloop: Any) -> None:
    window.resize(SIZES[0])
    _settle(qloop)
    assert squeezed_widgets(window.start_screen) == []
    # The hidden pages count too: the window must not open taller than the laptop's screen.
    needs = [
        f"{page.title} {page.minimumSizeHint().width()}x{page.minimumSizeHint().height()}"
        for page in window.pages
    ]
    assert window.size() == SIZES[0], (
        f"the window became {window.size()}; the pages' minimum sizes: {', '.join(needs)}"
    )


def test_the_window_never_resizes_itself_after_a_sync(demo_window: MainWindow, qloop: Any) -> None:
    window = demo_window
    for size in SIZES:
        for row in range(len(window.pages)):
            window.show_page_at(row)
            window.resize(size)
            _settle(qloop)
            before = window.size()
            window.sync_content()  # Workspace ▸ Sync (F5), as a job in the dock
            qloop.run(window.jobs.wait_all(), timeout=120)
            window.jobs_dock.finished_header.toggle.setChecked(True)  # long summaries shown
            _settle(qloop)
            title = window.pages[row].title
            assert window.size() == before, f"{title}: {before} became {window.size()}"


def test_the_checker_sees_a_squeezed_button(qtbot: Any) -> None:
    """The check itself: a button cut below its minimum is reported, a roomy one is not."""
    root = QWidget()
    qtbot.addWidget(root)
    roomy = QPushButton("Fits", root)
    roomy.resize(roomy.minimumSizeHint() + QSize(20, 4))
    squeezed = QPushButton("A button with a long label", root)
    squeezed.setObjectName("squeezed")
    squeezed.setGeometry(0, 40, 30, 12)
    root.resize(400, 100)
    root.show()
    [found] = squeezed_widgets(root)
    assert found.startswith("QPushButton#squeezed 'A button with a long label': 30x12 < minimum")
