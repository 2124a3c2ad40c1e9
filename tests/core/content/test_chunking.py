"""Chunking along Markdown structure: headings, paragraphs, lists, tables, code, pages."""

from __future__ import annotations

import pytest

from desktop.core.content.chunking import chunk_markdown, settings_from
from desktop.core.content.models import ChunkSettings
from desktop.core.errors import ConfigError
from desktop.core.ingest.types import PageSpan
from desktop.core.text import count_tokens

SMALL = ChunkSettings(target_tokens=60, overlap_tokens=10, min_tokens=5)


def _para(word: str, n: int) -> str:
    return " ".join(f"{word}{i}" for i in range(n)) + "."


def test_heading_paths_follow_nesting() -> None:
    md = (
        "# Pricing\n\n"
        + _para("intro", 30)
        + "\n\n## Enterprise\n\n"
        + _para("ent", 30)
        + "\n\n### Support\n\n"
        + _para("sup", 30)
        + "\n\n## Starter\n\n"
        + _para("st", 30)
    )
    chunks = chunk_markdown(md, settings=SMALL)
    paths = [c.heading_path for c in chunks]
    assert paths == [
        "Pricing",
        "Pricing > Enterprise",
        "Pricing > Enterprise > Support",
        "Pricing > Starter",
    ]
    # Each heading starts its own chunk, together with its content.
    assert chunks[1].text.startswith("## Enterprise\n\nent0")


def test_spans_point_into_the_markdown() -> None:
    md = "# A\n\n" + _para("alpha", 40) + "\n\n## B\n\n" + _para("beta", 40)
    for chunk in chunk_markdown(md, settings=SMALL):
        assert chunk.char_start < chunk.char_end <= len(md)
        span = md[chunk.char_start : chunk.char_end]
        assert chunk.text.split()[0] in span
        assert chunk.tokens == count_tokens(chunk.text)


def test_long_table_repeats_its_header_in_every_chunk() -> None:
    rows = "\n".join(f"| Plan {i} | {i * 10} EUR |" for i in range(40))
    md = "## Plans\n\n| Plan | Price |\n|---|---|\n" + rows + "\n"
    chunks = chunk_markdown(md, settings=SMALL)
    assert len(chunks) > 2
    for chunk in chunks:
        lines = [line for line in chunk.text.splitlines() if line.startswith("|")]
        assert lines[0] == "| Plan | Price |"
        assert lines[1] == "|---|---|"
        assert chunk.heading_path == "Plans"
    all_rows = [line for c in chunks for line in c.text.splitlines() if "EUR" in line]
    assert all_rows == [f"| Plan {i} | {i * 10} EUR |" for i in range(40)]


def test_long_list_splits_between_items_and_code_stays_whole() -> None:
    items = "\n".join(f"- item {i} with a few words" for i in range(40))
    code = "```python\n" + "\n".join(f"x{i} = {i}" for i in range(12)) + "\n```"
    md = "# Steps\n\n" + items + "\n\n## Code\n\n" + code + "\n"
    chunks = chunk_markdown(md, settings=SMALL)
    for chunk in chunks:
        for line in chunk.text.splitlines():
            assert not line.startswith("- item") or line.endswith("a few words")
    code_chunks = [c for c in chunks if "```python" in c.text]
    assert len(code_chunks) == 1
    assert code_chunks[0].text.count("```") == 2


def test_overlap_repeats_the_previous_paragraph_within_a_section() -> None:
    paras = [_para(f"p{i}w", 8) for i in range(12)]
    md = "# Long\n\n" + "\n\n".join(paras)
    chunks = chunk_markdown(md, settings=ChunkSettings(60, 12, 5))
    assert len(chunks) > 1
    first_tail = chunks[0].text.split("\n\n")[-1]
    assert chunks[1].text.startswith(first_tail)


def test_a_long_paragraph_splits_at_sentences() -> None:
    sentence = "This sentence has exactly nine words in it here."
    md = " ".join([sentence] * 30)
    chunks = chunk_markdown(md, settings=SMALL)
    assert len(chunks) > 2
    assert all(c.text.endswith(".") for c in chunks)
    assert all(c.tokens <= SMALL.target_tokens * 1.25 for c in chunks)


def test_pdf_pages_are_kept_and_never_crossed() -> None:
    page1 = "Page one text about ovens."
    page2 = "Page two text about flour."
    md = page1 + "\n\n" + page2
    pages = [PageSpan(1, 0, len(page1)), PageSpan(2, len(page1) + 2, len(md))]
    chunks = chunk_markdown(md, pages=pages, settings=ChunkSettings())
    assert [(c.page, c.text) for c in chunks] == [(1, page1), (2, page2)]


def test_empty_markdown_gives_no_chunks() -> None:
    assert chunk_markdown("   \n\n") == []


def test_settings_validation() -> None:
    assert settings_from({"target_tokens": 200}).target_tokens == 200
    with pytest.raises(ConfigError, match="target_tokens"):
        settings_from({"target_tokens": 5})
    with pytest.raises(ConfigError, match="overlap"):
        settings_from({"target_tokens": 100, "overlap_tokens": 80})
    with pytest.raises(ConfigError, match="whole number"):
        settings_from({"min_tokens": "ten"})
