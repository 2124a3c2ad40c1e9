"""Citations in an answer resolved to the passages given, and declines recognised."""

from __future__ import annotations

import pytest

from desktop.core.answering.citations import cited_numbers, is_declined, resolve_citations
from desktop.core.answering.types import GivenPassage

REFUSAL = "Sorry, I can't help with that from our pages."


def given(n: int) -> list[GivenPassage]:
    return [
        GivenPassage(i, 10 + i, "text", "", 1.0, {"url": f"https://x.test/{i}", "title": "T"})
        for i in range(1, n + 1)
    ]


@pytest.mark.parametrize(
    ("answer", "numbers"),
    [
        ("Open at 9 [1].", [1]),
        ("Open at 9 [1][2].", [1, 2]),
        ("Open at 9 [1, 2] and closed Sunday [3; 1].", [1, 2, 3]),
        ("See [2-4].", [2, 3, 4]),
        ("See [ 2 ].", [2]),
        ("No citations here, [a] or [] or [1.5].", []),
    ],
)
def test_cited_numbers(answer: str, numbers: list[int]) -> None:
    assert cited_numbers(answer) == numbers


def test_citations_map_to_passages_and_unknown_numbers_are_flagged() -> None:
    valid, invalid = resolve_citations("Yes [1], and [3][7]. Also [2, 9].", given(3))
    assert [(c.n, c.chunk_id) for c in valid] == [(1, 11), (3, 13), (2, 12)]
    assert valid[0].source == {"url": "https://x.test/1", "title": "T"}
    assert invalid == [7, 9]


@pytest.mark.parametrize(
    "answer",
    [
        REFUSAL,
        "  sorry, I can’t help with that from our pages. ",
        "I don't know.",
        "I do not know the answer to that.",
        "The passages do not contain information about parking.",
        "I couldn't find any information about that in the provided passages.",
        "I’m unable to answer that from the information I have.",
    ],
)
def test_declines_are_recognised(answer: str) -> None:
    assert is_declined(answer, REFUSAL, has_valid_citations=False)


@pytest.mark.parametrize(
    ("answer", "cited"),
    [
        ("We open at 9 [1].", True),
        ("We open at 9 [1]. I don't know about holidays.", True),  # partly answered, cited
        ("Our support team knows the answer.", False),
        ("", False),
    ],
)
def test_answers_are_not_declines(answer: str, cited: bool) -> None:
    assert not is_declined(answer, REFUSAL, has_valid_citations=cited)
