"""Gaps: the visitors' failed questions grouped by meaning, largest group first.

Questions become unit vectors — the workspace embedder's when it has one (cached by text
hash like passages), otherwise TF-IDF over stemmed content words hashed into a few hundred
dimensions ("keyword overlap"). Grouping is single-pass leader clustering on cosine
similarity (each question joins the nearest group centroid above a threshold, else starts
a group) followed by one pass that moves each question to its nearest final centroid:
O(questions x groups), no n x n matrix, so 5,000 questions group in well under a second.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from desktop.core.conversations.store import FailedQuestion

KEYWORD_DIMENSIONS = 1024
# Cosine thresholds, tuned on bench/conversations.py's labelled paraphrases.
KEYWORD_THRESHOLD = 0.3
EMBEDDING_THRESHOLD = 0.5
LABEL_WORDS = 3

Matrix = np.ndarray[Any, np.dtype[np.float32]]

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "get",
        "got",
        "had",
        "has",
        "have",
        "hello",
        "hi",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "me",
        "my",
        "no",
        "not",
        "now",
        "of",
        "on",
        "or",
        "our",
        "please",
        "so",
        "some",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "too",
        "us",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "hey",
        "thanks",
        "thank",
        "ok",
        "okay",
        "also",
        "about",
        "there",
        "im",
        "dont",
        "cant",
        "want",
        "need",
        "like",
        "know",
        "tell",
    ]
)
_SUFFIXES = ("ingly", "edly", "ings", "ing", "ies", "ied", "ed", "es", "ly", "s")


def stem(word: str) -> str:
    """A crude suffix stripper: "shipping"/"ships"/"shipped" meet at "ship"."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # shipp -> ship
    return word


def content_words(text: str) -> list[tuple[str, str]]:
    """(stem, word as written, lower-cased) for each content word of `text`."""
    found = []
    for word in _WORD.findall(text.lower()):
        if word not in STOP_WORDS and len(word) > 1:
            found.append((stem(word), word))
    return found


def _slot(term: str) -> int:
    # A stable hash (Python's str hash changes per process).
    value = 2166136261
    for byte in term.encode("utf-8"):
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value % KEYWORD_DIMENSIONS


def keyword_vectors(texts: Sequence[str]) -> Matrix:
    """TF-IDF of stemmed content words, hashed into KEYWORD_DIMENSIONS, unit length."""
    stems = [[s for s, _ in content_words(t)] for t in texts]
    documents = Counter(s for words in stems for s in set(words))
    total = max(1, len(texts))
    matrix = np.zeros((len(texts), KEYWORD_DIMENSIONS), dtype=np.float32)
    for row, words in enumerate(stems):
        for term, count in Counter(words).items():
            idf = math.log((1 + total) / (1 + documents[term])) + 1.0
            matrix[row, _slot(term)] += count * idf
    return normalise(matrix)


def normalise(matrix: np.ndarray[Any, Any]) -> Matrix:
    array = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    result: Matrix = array / norms
    return result


def group_vectors(vectors: Matrix, threshold: float) -> list[list[int]]:
    """Indices grouped by cosine similarity (unit vectors in), largest group first."""
    count = len(vectors)
    if count == 0:
        return []
    dims = vectors.shape[1]
    sums = np.zeros((min(count, 256), dims), dtype=np.float32)
    centroids = np.zeros_like(sums)
    sizes: list[int] = []
    for index in range(count):
        vector = vectors[index]
        groups = len(sizes)
        best = -1
        if groups:
            similarity = centroids[:groups] @ vector
            best = int(np.argmax(similarity))
            if similarity[best] < threshold:
                best = -1
        if best < 0:
            if groups == len(sums):
                sums = np.vstack([sums, np.zeros_like(sums)])
                centroids = np.vstack([centroids, np.zeros_like(centroids)])
            best = groups
            sizes.append(0)
        sums[best] += vector
        sizes[best] += 1
        norm = float(np.linalg.norm(sums[best]))
        centroids[best] = sums[best] / norm if norm else sums[best]
    # One refinement pass: each question to its nearest final centroid.
    final = centroids[: len(sizes)]
    nearest = np.empty(count, dtype=np.int64)
    for start in range(0, count, 2048):
        nearest[start : start + 2048] = np.argmax(vectors[start : start + 2048] @ final.T, axis=1)
    members: dict[int, list[int]] = {}
    for index, group in enumerate(nearest.tolist()):
        members.setdefault(int(group), []).append(index)
    return sorted(members.values(), key=lambda m: (-len(m), m[0]))


@dataclass(frozen=True)
class Gap:
    """A group of failed questions about one thing."""

    label: str  # proposed: its most telling words
    keywords: tuple[str, ...]
    representative: str  # the question nearest the group's centre
    questions: tuple[FailedQuestion, ...] = field(default_factory=tuple)

    @property
    def declined(self) -> int:
        return sum(q.declined for q in self.questions)

    @property
    def down(self) -> int:
        return sum(q.down for q in self.questions)

    def line(self) -> str:
        parts = [f"{len(self.questions)} question(s)"]
        if self.declined:
            parts.append(f"{self.declined} declined")
        if self.down:
            parts.append(f"{self.down} thumbs down")
        return f"{self.label}: " + ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "keywords": list(self.keywords),
            "representative": self.representative,
            "count": len(self.questions),
            "declined": self.declined,
            "down": self.down,
            "questions": [q.to_json() for q in self.questions],
        }


def label_for(texts: Sequence[str], *, total: int, documents: Counter[str]) -> tuple[str, ...]:
    """The group's most telling words: frequent in it, rarer in all failed questions."""
    score: dict[str, float] = {}
    spelled: dict[str, Counter[str]] = {}
    for text in texts:
        for term, word in set(content_words(text)):
            weight = 1.0 / (1.0 + math.log(1 + documents[term] / max(1, total) * 10))
            score[term] = score.get(term, 0.0) + weight
            spelled.setdefault(term, Counter())[word] += 1
    best = sorted(score, key=lambda term: (-score[term], term))[:LABEL_WORDS]
    return tuple(spelled[t].most_common(1)[0][0] for t in best)


def find_gaps(
    questions: Sequence[FailedQuestion],
    vectors: Matrix | None = None,
    *,
    threshold: float | None = None,
) -> list[Gap]:
    """Group `questions` (vectors: one unit row each, or None for keyword overlap)."""
    if not questions:
        return []
    texts = [q.text for q in questions]
    if vectors is None:
        vectors = keyword_vectors(texts)
        threshold = KEYWORD_THRESHOLD if threshold is None else threshold
    else:
        vectors = normalise(vectors)
        threshold = EMBEDDING_THRESHOLD if threshold is None else threshold
    documents = Counter(term for t in texts for term in {s for s, _ in content_words(t)})
    gaps: list[Gap] = []
    for members in group_vectors(vectors, threshold):
        member_texts = [texts[i] for i in members]
        keywords = label_for(member_texts, total=len(texts), documents=documents)
        centre = normalise(vectors[members].sum(axis=0, keepdims=True))[0]
        nearest = members[int(np.argmax(vectors[members] @ centre))]
        label = " · ".join(keywords).capitalize() if keywords else texts[nearest][:60]
        gaps.append(Gap(label, keywords, texts[nearest], tuple(questions[i] for i in members)))
    return gaps
