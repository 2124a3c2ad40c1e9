"""Is this text fit for the bot: binary data, garbled text, and passages that address the model.

One place for the thresholds and patterns that the sync (refusing a file as an item error)
and the publish checks (flagging passages for review) both use.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from charset_normalizer.md import mess_ratio

# A sync refuses a document only when it is clearly not text; the publish check flags
# passages at a lower bar, for a person to look at.
REFUSE_BAD_SHARE = 0.10  # unreadable characters among the non-space ones
REFUSE_MESS = 1.0  # charset-normalizer's mess ratio (0 for clean prose, 2-4 for noise)
FLAG_BAD_SHARE = 0.02
FLAG_MESS = 0.2
SAMPLE_CHARS = 4000  # the mess ratio is measured on a bounded sample
BINARY_SCAN_BYTES = 64 * 1024
_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")

# Text that speaks to the model rather than to a visitor: the shapes prompt injection takes.
# Each is matched case-insensitively; matches are shown to the user, who may accept them.
MODEL_ADDRESS_PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "ignore instructions",
        r"\b(ignore|disregard|forget)\b[^.\n]{0,40}\b(previous|prior|above|earlier|all|your)\b"
        r"[^.\n]{0,30}\b(instructions?|prompts?|rules|directions)\b",
    ),
    ("new instructions", r"\bnew (system )?instructions?\b\s*:"),
    (
        "system prompt",
        r"\b(reveal|print|show|repeat|output)\b[^.\n]{0,40}"
        r"\b(system prompt|your prompt|your instructions)\b",
    ),
    (
        "role change",
        r"\byou are (now|no longer)\b|\bfrom now on,? you\b"
        r"|\bact as (an?|the) (unrestricted|different|new)\b",
    ),
    (
        "to the model",
        r"\b(as an ai( language model)?|dear (ai|assistant|chatbot|llm)"
        r"|attention (ai|assistant|llm|chatbot))\b",
    ),
    (
        "prompt markup",
        r"</?\s*(system|assistant|user|passage|instructions?)\b[^<>\n]{0,40}>"
        r"|\[/?(INST|SYS)\]|<\|im_(start|end)\|>",
    ),
)
_MODEL_ADDRESS = [(name, re.compile(pattern, re.I)) for name, pattern in MODEL_ADDRESS_PATTERNS]
# A word every pattern above needs: most passages have none, and skip the patterns.
_TRIGGER = re.compile(
    r"ignor|disregard|forget|instruction|prompt|you are|from now on|act as|as an ai|dear |"
    r"attention|<|\[/?(?:inst|sys)",
    re.I,
)


def binary_reason(data: bytes) -> str | None:
    """Why these bytes are not a text file (NUL bytes outside UTF-16/32), or None."""
    if data.startswith(_BOMS):
        return None  # UTF-16/32 text is full of NUL bytes
    if b"\x00" in data[:BINARY_SCAN_BYTES]:
        return "the file holds binary data (NUL bytes), not text"
    return None


_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# What ordinary ASCII prose, lists, tables and links are made of: such a text skips the
# (slower) mess ratio unless it is mostly symbols.
_UNUSUAL_ASCII = re.compile(r"[^A-Za-z0-9\s.,;:!?'\"()\-/%$&@#*+=\[\]|_<>]")
ORDINARY_SHARE = 0.97


def _bad_share(text: str) -> float:
    """Share of unreadable characters (controls, U+FFFD, unassigned, private use) among
    the non-space ones."""
    if text.isascii():  # the common case, without a loop in Python
        total = len("".join(text.split()))
        return len(_ASCII_CONTROL.findall(text)) / total if total else 0.0
    bad = total = 0
    for char in text:
        if char.isspace():
            continue
        total += 1
        if char == "\ufffd" or unicodedata.category(char) in ("Cc", "Cn", "Co", "Cs"):
            bad += 1
    return bad / total if total else 0.0


def _sample(text: str) -> str:
    if len(text) <= SAMPLE_CHARS:
        return text
    half = SAMPLE_CHARS // 2
    middle = len(text) // 2
    return text[:half] + "\n" + text[middle : middle + half]


def garbage_reason(text: str, *, strict: bool = True) -> str | None:
    """Why a text looks like garbage (binary decoded as text, mojibake), or None.

    strict: the sync's bar (refuse only what is clearly not text); otherwise the publish
    check's lower bar (flag for review).
    """
    sample = _sample(text)
    if not sample.strip():
        return None
    bad_limit, mess_limit = (
        (REFUSE_BAD_SHARE, REFUSE_MESS) if strict else (FLAG_BAD_SHARE, FLAG_MESS)
    )
    bad = _bad_share(sample)
    if bad > bad_limit:
        return f"unreadable characters ({bad:.0%} of the text): binary data, or the wrong encoding"
    unusual = len(_UNUSUAL_ASCII.findall(sample)) if sample.isascii() else len(sample)
    if unusual <= (1 - ORDINARY_SHARE) * len(sample):
        return None  # plain ASCII prose: nothing for the mess ratio to find
    mess = mess_ratio(sample, maximum_threshold=max(mess_limit * 2, 1.0))
    if mess >= mess_limit:
        return "garbled text (mixed-up characters, as from a wrong encoding or binary data)"
    return None


@dataclass(frozen=True)
class ModelAddress:
    """One place where a text speaks to the model: which pattern, and the words matched."""

    pattern: str
    matched: str


def model_addresses(text: str) -> list[ModelAddress]:
    """The passages' phrases that address the model (prompt injection), in text order."""
    if not _TRIGGER.search(text):
        return []
    found: list[tuple[int, ModelAddress]] = []
    for name, pattern in _MODEL_ADDRESS:
        for match in pattern.finditer(text):
            found.append((match.start(), ModelAddress(name, " ".join(match.group(0).split()))))
    return [address for _, address in sorted(found, key=lambda item: item[0])]
