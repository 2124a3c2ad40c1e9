"""One TLS context for every HTTP client (crawler, publish client, model back-ends).

Building one reads the CA bundle: ~40 ms, and over 100 ms on a loaded machine, on the
event loop each time a client is made otherwise (seen as a GUI stall at each sync start).
"""

from __future__ import annotations

import functools
import ssl


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
