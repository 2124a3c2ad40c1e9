"""The Test bench page: answers side by side, test sets, runs (see page.py for the wiring)."""

from desktop.ui.testbench.page import TestBenchPage

__all__ = ["TestBenchPage"]
