"""Deterministic, meaningful embeddings for the Ollama and Mistral stand-ins.

A hashed bag of stemmed, lower-cased words (stop words dropped) projected onto N
dimensions with a signed hash, then L2-normalised: texts sharing words are near, texts
sharing none are near-orthogonal. Tests compute expected vectors with `embed_text`.
"""

from __future__ import annotations

import hashlib
import math
import re

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOP = (
    "a an and are as at be but by can do does for from has have how i if in is it its me my "
    "of on or our so that the their them there these they this to was we what when where "
    "which who why will with you your"
)
STOP_WORDS = frozenset(_STOP.split(" "))
_SUFFIXES = ("ingly", "edly", "ings", "ing", "ies", "ied", "ed", "es", "ly", "s")


def stem(word: str) -> str:
    """A crude suffix stripper: enough for "delivers"/"delivery"/"delivered" to meet."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("y") and len(word) > 3:
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    """The stemmed content words of `text`, in order."""
    return [stem(w) for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]


def embed_text(text: str, dimensions: int) -> list[float]:
    """The stand-ins' embedding of `text`: unit length, deterministic across runs."""
    vector = [0.0] * dimensions
    for word in words(text):
        digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
        slot = int.from_bytes(digest[:4], "little") % dimensions
        vector[slot] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:
        # No content words: a fixed unit vector, as a real model returns *something*.
        return [1.0 / math.sqrt(dimensions)] * dimensions
    return [v / norm for v in vector]


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def token_count(text: str) -> int:
    """What the stand-ins count as tokens (words and punctuation)."""
    return len(re.findall(r"\w+|[^\w\s]", text))
