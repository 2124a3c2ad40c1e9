"""Grouping failed questions: keyword overlap, vectors, labels, largest first."""

from __future__ import annotations

import numpy as np

from desktop.core.conversations.gaps import find_gaps, group_vectors, keyword_vectors, stem
from desktop.core.conversations.store import FailedQuestion


def question(text: str, n: int, *, declined: bool = True) -> FailedQuestion:
    return FailedQuestion(f"c{n}", f"m{n}", text, declined, not declined, "rel-1")


def test_stems_meet() -> None:
    assert stem("shipping") == stem("ships") == stem("shipped") == "ship"


def test_keyword_groups_paraphrases_and_puts_the_largest_first() -> None:
    texts = [
        "Do you ship to Norway?",
        "Shipping to Norway possible?",
        "Can I get delivery to Norway?",
        "Do you sell gift cards?",
        "Gift card options?",
        "Is the store open on Sunday?",
    ]
    gaps = find_gaps([question(t, i, declined=i != 1) for i, t in enumerate(texts)])
    assert [len(g.questions) for g in gaps] == [3, 2, 1]
    assert gaps[0].label.lower().startswith("norway") and gaps[0].declined == 2
    assert gaps[0].down == 1 and "3 question(s), 2 declined, 1 thumbs down" in gaps[0].line()
    assert "gift" in gaps[1].keywords and gaps[1].representative in texts


def test_vectors_group_by_cosine() -> None:
    base = np.eye(4, dtype=np.float32)
    vectors = np.vstack([base[0], base[0] * 0.9 + base[1] * 0.1, base[2], base[0]])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert group_vectors(vectors, 0.8) == [[0, 1, 3], [2]]
    assert group_vectors(keyword_vectors([]), 0.5) == []


def test_no_questions_no_gaps_and_wordless_questions_still_land() -> None:
    assert find_gaps([]) == []
    gaps = find_gaps([question("???", 0), question("!!!", 1)])
    assert sum(len(g.questions) for g in gaps) == 2
