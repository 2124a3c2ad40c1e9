"""Text with no breaks is cut to the target whatever its shape: sentences, then words,
then between tokens (a 5 MB one-line page became one 1M-token passage)."""

from __future__ import annotations

import random

import pytest

from desktop.core.content.chunking import chunk_markdown
from desktop.core.content.models import ChunkSettings
from desktop.core.text import count_tokens

SETTINGS = ChunkSettings(target_tokens=100, overlap_tokens=0, min_tokens=10)


def _words(n: int, seed: int = 3) -> str:
    rng = random.Random(seed)
    return " ".join(
        "".join(rng.choice("abcdefgh") for _ in range(rng.randint(2, 9))) for _ in range(n)
    )


@pytest.mark.parametrize(
    ("shape", "markdown"),
    [
        ("one line of words, no sentence end", _words(60_000)),
        ("sentences on one line", " ".join(f"Shoe {i} fits well." for i in range(20_000))),
        ("no space at all", "x" * 400_000),
        ("punctuation only", ".-" * 50_000),
        ("a list item", "- " + _words(5_000) + "\n- short item"),
        ("a table row", "| a | b |\n|---|---|\n| " + _words(5_000) + " | x |"),
        ("a heading line", "# " + _words(5_000) + "\n\nBody text."),
    ],
    ids=lambda value: value[:30] if len(value) < 40 else "",
)
def test_every_passage_fits_the_target_and_no_text_is_lost(shape: str, markdown: str) -> None:
    chunks = chunk_markdown(markdown, settings=SETTINGS)
    assert len(chunks) > 1, shape
    # A tiny last piece may join the one before it (up to 1.25 x the target, by design).
    assert max(c.tokens for c in chunks[:-2]) <= SETTINGS.target_tokens, shape
    assert max(c.tokens for c in chunks) <= SETTINGS.target_tokens * 1.25, shape
    assert all(c.tokens == count_tokens(c.text) for c in chunks)
    # Every word of the source is in some passage (no overlap here, so in order).
    source = "".join(markdown.split()).replace("|", "").replace("#", "").replace("-", "")
    kept = "".join("".join(c.text.split()) for c in chunks)
    kept = kept.replace("|", "").replace("#", "").replace("-", "")
    if shape != "a table row":  # table pieces repeat the header row
        assert kept == source, shape


def test_sentence_ends_are_preferred_to_word_cuts() -> None:
    markdown = " ".join(f"Sentence number {i} is about delivery times." for i in range(200))
    chunks = chunk_markdown(markdown, settings=SETTINGS)
    assert all(c.text.endswith("times.") for c in chunks)


def test_a_one_line_html_page_becomes_passages_of_the_target_size() -> None:
    """The probe's shape, at 400 kB: a page whose text is one paragraph with no sentence end
    became one passage of millions of characters."""
    from desktop.core.ingest.files import extract_bytes

    body = _words(60_000, seed=2)
    html = f"<html><head><title>Catalogue</title></head><body><p>{body}</p></body></html>"
    document = extract_bytes(html.encode(), filename="catalogue.html")
    chunks = chunk_markdown(document.markdown)
    assert len(chunks) > 40
    assert max(c.tokens for c in chunks) <= 350 * 1.25
    assert sum(len(c.text.split()) for c in chunks) == len(body.split())
