"""Reading an answer: its [n] citations resolved to passages, and whether it declined."""

from __future__ import annotations

import re
from collections.abc import Sequence

from desktop.core.answering.types import Citation, GivenPassage

# [1], [1, 2], [1; 3], [2-4]; [1][2] is two matches.
CITATION_PATTERN = _CITATION = re.compile(r"\[\s*(\d{1,3}(?:\s*(?:[,;]|[-–])\s*\d{1,3})*)\s*\]")
_RANGE_LIMIT = 50  # "[1-999]" is not a citation we expand


def cited_numbers(answer: str) -> list[int]:
    """The passage numbers the answer cites, in order of first appearance, without repeats."""
    seen: dict[int, None] = {}
    for match in _CITATION.finditer(answer):
        for part in re.split(r"\s*[,;]\s*", match.group(1)):
            bounds = re.split(r"\s*[-–]\s*", part)
            if len(bounds) == 2:
                low, high = int(bounds[0]), int(bounds[1])
                if low <= high and high - low <= _RANGE_LIMIT:
                    for n in range(low, high + 1):
                        seen.setdefault(n, None)
                    continue
            for bound in bounds:
                seen.setdefault(int(bound), None)
    return list(seen)


def resolve_citations(
    answer: str, passages: Sequence[GivenPassage]
) -> tuple[list[Citation], list[int]]:
    """(citations of passages that were given, numbers cited that were not given)."""
    by_number = {p.n: p for p in passages}
    valid: list[Citation] = []
    invalid: list[int] = []
    for n in cited_numbers(answer):
        passage = by_number.get(n)
        if passage is None:
            invalid.append(n)
        else:
            valid.append(Citation(n, passage.chunk_id, passage.source))
    return valid, invalid


_DONT_KNOW = re.compile(
    r"\bi\s+(?:do\s+not|don't|dont)\s+know\b"
    r"|\bi\s+(?:do\s+not|don't|cannot|can't|could\s+not|couldn't)\s+(?:have|find|see)\b"
    r"[^.]{0,40}\b(?:information|details|answer|mention)"
    r"|\b(?:passages?|information\s+(?:provided|given|i\s+have)|context|sources?)\b[^.]{0,30}"
    r"\b(?:do(?:es)?\s+not|don't|doesn't)\s+(?:contain|cover|mention|say|include|provide|answer)"
    r"|\bnot\s+(?:covered|mentioned|addressed)\s+in\s+the\s+(?:passages|information|context)"
    r"|\bi(?:'m|\s+am)\s+(?:not\s+able|unable)\s+to\s+(?:answer|find)"
    r"|\bno\s+information\s+(?:about|on|regarding)\b",
    re.IGNORECASE,
)


def _normalise(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'")
    return " ".join(text.split()).strip().lower()


def is_declined(answer: str, refusal: str, *, has_valid_citations: bool) -> bool:
    """True when the answer is the refusal, or says it does not know and cites nothing."""
    said = _normalise(answer)
    if not said:
        return False
    refused = _normalise(refusal)
    if refused and (said == refused or (len(refused) >= 12 and refused in said)):
        return True
    return not has_valid_citations and _DONT_KNOW.search(said) is not None
