"""One TLS context for every HTTP client (crawler, publish client, model back-ends).

Building one reads the CA bundle: ~40 ms, and over 100 ms on a loaded machine, on the
event loop each time a client is made otherwise (seen as a GUI stall at each sync start).
"""

from __future__ import annotations

import functools
import ipaddress
import ssl
from urllib.parse import urlsplit

from desktop.core.errors import ConfigError


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def is_loopback_host(host: str | None) -> bool:
    """localhost, 127.0.0.0/8 or ::1: traffic that never leaves this computer."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refuse_plain_http(url: str, *, what: str, setting: str) -> None:
    """ConfigError unless `url` is https, or http to this computer (a test stand-in): a
    secret sent over plain http elsewhere can be read on the way."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.hostname)):
        return
    raise ConfigError(
        f"{url} uses {parts.scheme or 'no'}:// — {what} would travel unencrypted.",
        hint=f"Use an https:// address in {setting} (plain http only to this computer).",
    )
