"""Cutting a document's Markdown into passages along its structure, toward a token target.

Blocks are headings, paragraphs, lists, tables and fenced code. A block larger than the
target is split at its natural joints (list items, table rows with the header repeated,
sentences, code lines). Blocks are then packed into chunks that never cross a heading
(unless the chunk is still smaller than min_tokens), with a block-level overlap.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from desktop.core.content.models import ChunkSettings
from desktop.core.errors import ConfigError
from desktop.core.ingest.types import PageSpan
from desktop.core.text import count_tokens

_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_LIST_ITEM = re.compile(r"^ {0,3}([-*+]|\d{1,9}[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")


@dataclass(frozen=True)
class Chunk:
    """One passage the chunker produced: text, where it came from, and its size."""

    text: str
    heading_path: str
    page: int | None
    char_start: int
    char_end: int
    tokens: int


@dataclass
class _Piece:
    start: int
    end: int
    text: str
    kind: str  # heading, para, list, table, code
    heading_path: str
    section: int  # index of the heading section the piece belongs to
    joiner: str = "\n\n"  # how it joins the previous piece of the same chunk
    page: int | None = None

    @property
    def tokens(self) -> int:
        return count_tokens(self.text)


def settings_from(
    raw: Mapping[str, Any] | None, base: ChunkSettings | None = None
) -> ChunkSettings:
    """Chunk settings from a JSON mapping over defaults; ConfigError for nonsense values."""
    base = base or ChunkSettings()
    raw = raw or {}
    values = {}
    for name in ("target_tokens", "overlap_tokens", "min_tokens"):
        value = raw.get(name, getattr(base, name))
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"Chunk setting {name} must be a whole number, not {value!r}.")
        values[name] = value
    if not 20 <= values["target_tokens"] <= 4000:
        raise ConfigError("target_tokens must be between 20 and 4000.")
    # Inherited values follow a smaller target rather than refusing it.
    if "overlap_tokens" not in raw:
        values["overlap_tokens"] = min(values["overlap_tokens"], values["target_tokens"] // 4)
    if "min_tokens" not in raw:
        values["min_tokens"] = min(values["min_tokens"], values["target_tokens"] // 2)
    if not 0 <= values["overlap_tokens"] < values["target_tokens"] // 2:
        raise ConfigError("overlap_tokens must be at least 0 and under half of target_tokens.")
    if not 0 <= values["min_tokens"] <= values["target_tokens"]:
        raise ConfigError("min_tokens must be between 0 and target_tokens.")
    return ChunkSettings(**values)


# -- blocks ----------------------------------------------------------------------------
def _lines(markdown: str) -> list[tuple[int, int, str]]:
    """(start, end-without-newline, text) of each line."""
    out: list[tuple[int, int, str]] = []
    pos = 0
    for line in markdown.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        out.append((pos, pos + len(body), body))
        pos += len(line)
    return out


def _blocks(markdown: str) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """Group lines into (kind, lines) blocks: heading, code, table, list, para."""
    blocks: list[tuple[str, list[tuple[int, int, str]]]] = []
    lines = _lines(markdown)
    i = 0
    while i < len(lines):
        _start, _end, text = lines[i]
        if not text.strip():
            i += 1
            continue
        fence = _FENCE.match(text)
        if fence:
            marker = fence.group(1)
            group = [lines[i]]
            i += 1
            while i < len(lines):
                group.append(lines[i])
                i += 1
                if lines[i - 1][2].strip().startswith(marker):
                    break
            blocks.append(("code", group))
            continue
        if _HEADING.match(text):
            blocks.append(("heading", [lines[i]]))
            i += 1
            continue
        if text.lstrip().startswith("|"):
            group = []
            while i < len(lines) and lines[i][2].lstrip().startswith("|"):
                group.append(lines[i])
                i += 1
            blocks.append(("table", group))
            continue
        kind = "list" if _LIST_ITEM.match(text) else "para"
        group = []
        while i < len(lines):
            line = lines[i][2]
            if not line.strip() or _HEADING.match(line) or _FENCE.match(line):
                break
            if line.lstrip().startswith("|") and kind == "para":
                break
            group.append(lines[i])
            i += 1
        blocks.append((kind, group))
    return blocks


def _split_big(
    kind: str,
    lines: list[tuple[int, int, str]],
    markdown: str,
    *,
    target: int,
    heading_path: str,
    section: int,
) -> list[_Piece]:
    """One block as pieces no bigger than the target where a natural joint allows."""
    start, end = lines[0][0], lines[-1][1]
    whole = markdown[start:end]
    if count_tokens(whole) <= target or kind == "heading":
        return [_Piece(start, end, whole, kind, heading_path, section)]
    if kind == "table":
        # Header row + separator repeat in every piece so each row keeps its column names.
        header = (
            lines[:2] if len(lines) > 1 and set(lines[1][2].strip()) <= set("|-: ") else lines[:1]
        )
        head_text = "\n".join(line[2] for line in header)
        rows = lines[len(header) :] or lines
        return _group_lines(
            rows,
            markdown,
            target=target,
            heading_path=heading_path,
            section=section,
            kind=kind,
            prefix=head_text,
        )
    if kind in ("list", "code") or len(lines) > 1:
        if kind == "code" and count_tokens(whole) <= target * 2:
            return [_Piece(start, end, whole, kind, heading_path, section)]
        return _group_lines(
            lines, markdown, target=target, heading_path=heading_path, section=section, kind=kind
        )
    # A single long paragraph line: sentences.
    pieces: list[_Piece] = []
    pos = start
    sentences: list[tuple[int, int]] = []
    for match in _SENTENCE_END.finditer(whole):
        sentences.append((pos, start + match.start()))
        pos = start + match.end()
    sentences.append((pos, end))
    cur_start, cur_end = sentences[0]
    for s_start, s_end in sentences[1:]:
        if count_tokens(markdown[cur_start:s_end]) > target:
            pieces.append(
                _Piece(
                    cur_start,
                    cur_end,
                    markdown[cur_start:cur_end],
                    kind,
                    heading_path,
                    section,
                    " ",
                )
            )
            cur_start = s_start
        cur_end = s_end
    pieces.append(
        _Piece(cur_start, cur_end, markdown[cur_start:cur_end], kind, heading_path, section, " ")
    )
    pieces[0].joiner = "\n\n"
    return pieces


def _group_lines(
    lines: list[tuple[int, int, str]],
    markdown: str,
    *,
    target: int,
    heading_path: str,
    section: int,
    kind: str,
    prefix: str = "",
) -> list[_Piece]:
    pieces: list[_Piece] = []
    budget = target - count_tokens(prefix)
    group: list[tuple[int, int, str]] = []
    for line in lines:
        if group and count_tokens(markdown[group[0][0] : line[1]]) > budget:
            pieces.append(_line_piece(group, markdown, (heading_path, section, kind), prefix))
            group = []
        group.append(line)
    if group:
        pieces.append(_line_piece(group, markdown, (heading_path, section, kind), prefix))
    for piece in pieces[1:]:
        piece.joiner = "\n"  # a continued list/table/code joins line-wise if packed together
    return pieces


def _line_piece(
    group: list[tuple[int, int, str]],
    markdown: str,
    where: tuple[str, int, str],
    prefix: str,
) -> _Piece:
    heading_path, section, kind = where
    start, end = group[0][0], group[-1][1]
    body = markdown[start:end]
    text = f"{prefix}\n{body}" if prefix else body
    return _Piece(start, end, text, kind, heading_path, section)


def _pieces(markdown: str, target: int, pages: Sequence[PageSpan]) -> list[_Piece]:
    pieces: list[_Piece] = []
    stack: list[tuple[int, str]] = []
    section = 0
    page: int | None = None
    for kind, lines in _blocks(markdown):
        block_page = _page_of(lines[0][0], pages)
        if block_page != page:
            # A PDF page is a hard boundary: a citation names one page.
            page = block_page
            section += 1
        if kind == "heading":
            match = _HEADING.match(lines[0][2])
            assert match is not None
            level, title = len(match.group(1)), match.group(2).strip()
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, title))
            section += 1
        path = " > ".join(title for _, title in stack if title)
        for piece in _split_big(
            kind, lines, markdown, target=target, heading_path=path, section=section
        ):
            piece.page = page
            pieces.append(piece)
    return pieces


# -- packing ---------------------------------------------------------------------------
def _page_of(start: int, pages: Sequence[PageSpan]) -> int | None:
    for span in pages:
        if span.start <= start < span.end:
            return span.page
    if pages and start >= pages[-1].end:
        return pages[-1].page
    return None


def chunk_markdown(
    markdown: str, *, pages: Sequence[PageSpan] = (), settings: ChunkSettings | None = None
) -> list[Chunk]:
    """Cut Markdown into chunks; spans index `markdown`, pages come from the PDF spans."""
    settings = settings or ChunkSettings()
    target = settings.target_tokens
    pieces = _pieces(markdown, target, pages)
    groups: list[list[_Piece]] = []
    current: list[_Piece] = []

    def tokens_of(group: list[_Piece]) -> int:
        return count_tokens(_join(group))

    for piece in pieces:
        if current:
            only_headings = all(p.kind == "heading" for p in current)
            new_section = piece.section != current[-1].section
            too_big = tokens_of([*current, piece]) > target
            small = tokens_of(current) < settings.min_tokens and piece.page == current[-1].page
            if (
                (new_section and not (only_headings or small) and not too_big)
                or (too_big and not only_headings)
                or (new_section and too_big)
            ):
                # Headings at the end of a chunk belong to what follows them.
                trailing: list[_Piece] = []
                while current and current[-1].kind == "heading":
                    trailing.insert(0, current.pop())
                if current:
                    groups.append(current)
                    current = trailing or _overlap(current, settings.overlap_tokens, piece)
                else:
                    current = trailing
        current.append(piece)
    if current:
        groups.append(current)
    # A tiny last group joins the one before it when both share the section.
    if (
        len(groups) > 1
        and tokens_of(groups[-1]) < settings.min_tokens
        and groups[-1][0].section == groups[-2][-1].section
        and tokens_of(groups[-2] + groups[-1]) <= target * 1.25
    ):
        tail = [p for p in groups.pop() if p not in groups[-1]]
        groups[-1].extend(tail)

    chunks: list[Chunk] = []
    for group in groups:
        text = _join(group).strip()
        if not text:
            continue
        content = [p for p in group if p.kind != "heading"] or group
        heading = content[0].heading_path
        start = group[0].start
        chunks.append(
            Chunk(
                text=text,
                heading_path=heading,
                page=_page_of(start, pages),
                char_start=start,
                char_end=max(p.end for p in group),
                tokens=count_tokens(text),
            )
        )
    return chunks


def _join(group: list[_Piece]) -> str:
    parts: list[str] = []
    for i, piece in enumerate(group):
        if i:
            parts.append(piece.joiner if piece.joiner != "\n" or piece.kind != "table" else "\n\n")
        parts.append(piece.text)
    return "".join(parts)


def _overlap(previous: list[_Piece], overlap: int, upcoming: _Piece) -> list[_Piece]:
    """The trailing pieces of the previous chunk (same section, within budget) to repeat."""
    if overlap <= 0:
        return []
    carried: list[_Piece] = []
    total = 0
    for piece in reversed(previous):
        if piece.section != upcoming.section or piece.kind in ("heading", "table", "code"):
            break
        total += piece.tokens
        if total > overlap:
            break
        carried.insert(0, piece)
    return carried
