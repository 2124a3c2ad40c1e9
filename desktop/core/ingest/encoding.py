"""Turning fetched or read bytes into text: BOM, declared charset, <meta charset>, detection.

httpx ignores ``<meta charset>``, and sites declare charsets that do not exist, so the
order is: byte-order mark > HTTP header > meta tag in the first bytes > charset-normalizer
on a bounded prefix > UTF-8 with replacement characters. A name Python does not know
falls through to the next step instead of failing.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

META_SCAN_BYTES = 4096  # the HTML spec's prescan looks at the first 1024; be lenient
DETECT_BYTES = 64 * 1024  # detection on a prefix keeps a 20 MB page from costing seconds

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)


def _codec(name: str | None) -> str | None:
    """Python's codec name for a declared charset, or None if it is bogus."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    # Browsers treat these labels as windows-1252 / UTF-8 (WHATWG encoding spec).
    if name in ("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii"):
        name = "cp1252"
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    return info.name


def _bom(data: bytes) -> tuple[str, int] | None:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    return None


def meta_charset(data: bytes) -> str | None:
    """The charset a ``<meta charset>`` or http-equiv Content-Type declares near the start."""
    match = _META_CHARSET.search(data[:META_SCAN_BYTES])
    return match.group(1).decode("ascii", "replace") if match else None


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_text(data: bytes, *, declared_charset: str | None = None, is_html: bool = False) -> str:
    """Decode bytes to text: BOM > declared (HTTP) charset > meta tag > detection > UTF-8."""
    bom = _bom(data)
    if bom is not None:
        codec, size = bom
        return data[size:].decode(codec, errors="replace")
    # Valid UTF-8 with non-ASCII bytes is almost never another charset, while servers often
    # declare ISO-8859-1 for UTF-8 pages: decoding those as declared would give mojibake.
    utf8 = _strict(data, "utf-8")
    if utf8 is not None:
        return utf8
    candidates: list[str] = []
    declared = _codec(declared_charset)
    if declared:
        candidates.append(declared)
    if is_html:
        meta = _codec(meta_charset(data))
        # An ASCII-readable meta tag cannot be telling the truth about UTF-16/32.
        if meta and not meta.startswith(("utf-16", "utf-32")):
            candidates.append(meta)
    for codec in candidates:
        text = _strict(data, codec)
        if text is not None:
            return text
    if candidates:
        # The bytes fit no declaration exactly (a stray byte); the first one is still the
        # best guess, better than detection on a prefix.
        return data.decode(candidates[0], errors="replace")
    best = from_bytes(data[:DETECT_BYTES]).best()
    if best is not None and best.encoding:
        return data.decode(best.encoding, errors="replace")
    return data.decode("utf-8", errors="replace")
