"""Small text utilities shared by every stage: content hashes, token estimates, sizes."""

from __future__ import annotations

import hashlib
import re

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def is_blank(text: object) -> bool:
    """No visible text: None, or only whitespace as Unicode defines it (`str.strip`: also NBSP,
    U+2003 EM SPACE, U+3000...). The one rule for a passage with nothing to embed or publish;
    SQL asks the same function as `is_blank(text)` (registered by `store.db.connect`)."""
    return text is None or (isinstance(text, str) and not text.strip())


def sha256_hex(data: str | bytes) -> str:
    """The content hash used everywhere (documents, passages, the embedding cache, bundles)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def count_tokens(text: str) -> int:
    """Estimate model tokens: words and punctuation, long words counted as several pieces.

    Within about 10% of BPE tokenisers on English prose; used for sizing passages and
    prompts, never for billing (billing uses the back-end's own counts).
    """
    total = 0
    for match in _TOKEN.finditer(text):
        length = match.end() - match.start()
        total += 1 + (length - 1) // 6
    return total


def size_text(size: int) -> str:
    """Bytes as people read them: "12.7 KB" under a megabyte, else "1.6 MB"."""
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
