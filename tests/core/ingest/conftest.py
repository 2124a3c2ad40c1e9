"""Fixtures for the ingestion tests: the loopback website."""

from tests.helpers.site_server import empty_site, site_server

__all__ = ["empty_site", "site_server"]
