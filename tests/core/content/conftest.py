"""Fixtures for the content tests: the loopback website."""

from tests.helpers.site_server import site_server

__all__ = ["site_server"]
