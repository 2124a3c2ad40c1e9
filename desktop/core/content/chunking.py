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
from functools import cached_property
from typing import Any

from desktop.core.content.models import ChunkSettings
from desktop.core.errors import ConfigError
from desktop.core.ingest.types import PageSpan
from desktop.core.text import count_tokens

_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_LIST_ITEM = re.compile(r"^ {0,3}([-*+]|\d{1,9}[.)])\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
MAX_HEADING_CHARS = 200  # a heading path names sections; a longer "heading" is content
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)  # as count_tokens counts them


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

    @cached_property
    def tokens(self) -> int:  # a piece's text never changes once cut
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
    if count_tokens(whole) <= target:
        return [_Piece(start, end, whole, kind, heading_path, section)]
    if kind == "heading":  # a "heading" of a whole page's length: cut as a paragraph
        kind = "para"
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
    # A single long paragraph line: sentences, then words.
    return _cut_line(
        start, end, markdown, kind=kind, heading_path=heading_path, section=section, target=target
    )


def _cut_line(
    start: int,
    end: int,
    markdown: str,
    *,
    kind: str,
    heading_path: str,
    section: int,
    target: int,
    prefix: str = "",
) -> list[_Piece]:
    """A line too big for the target as pieces within it, joined by a space."""
    budget = max(1, target - count_tokens(prefix))
    pieces = [
        _Piece(
            s,
            e,
            f"{prefix}\n{markdown[s:e]}" if prefix else markdown[s:e],
            kind,
            heading_path,
            section,
            " ",
        )
        for s, e in _cut_spans(markdown, start, end, budget)
    ]
    pieces[0].joiner = "\n\n"
    return pieces


def _cut_spans(text: str, start: int, end: int, target: int) -> list[tuple[int, int]]:
    """Spans of text[start:end], each within `target` tokens: cut at sentence ends, a
    sentence too long at spaces, a word too long (a run with no space at all) between
    tokens. Sizes are summed per unit, so a 5 MB line costs one pass, not one per cut."""
    units: list[tuple[int, int, int]] = []  # (start, end, tokens)
    for s_start, s_end in _between(text, start, end, _SENTENCE_END):
        tokens = count_tokens(text[s_start:s_end])
        if tokens <= target:
            units.append((s_start, s_end, tokens))
            continue
        units.extend(_word_units(text, s_start, s_end, target))
    spans: list[tuple[int, int]] = []
    cur_start, cur_end, cur_tokens = units[0]
    for u_start, u_end, tokens in units[1:]:
        if cur_tokens + tokens > target:
            spans.append((cur_start, cur_end))
            cur_start, cur_tokens = u_start, 0
        cur_end = u_end
        cur_tokens += tokens
    spans.append((cur_start, cur_end))
    return spans


def _word_units(text: str, start: int, end: int, target: int) -> list[tuple[int, int, int]]:
    """(start, end, tokens) spans of one over-long sentence, each within `target`: cut at
    the last space before the limit, or between tokens when a stretch has no space; a run
    of letters longer than the target is sliced. One pass over the tokens."""
    units: list[tuple[int, int, int]] = []
    cur_start, cur_tokens, prev_end = start, 0, start
    gap: tuple[int, int, int] | None = None  # (end before, start after, tokens before)
    step = max(1, (target - 1) * 6 + 1)  # letters per slice: count_tokens gives 1 per 6
    for match in _TOKEN.finditer(text, start, end):
        t_start, t_end = match.start(), match.end()
        if t_start > prev_end and cur_tokens:
            gap = (prev_end, t_start, cur_tokens)
        pieces = [(t_start, t_end)]
        if t_end - t_start > step:
            pieces = [(p, min(p + step, t_end)) for p in range(t_start, t_end, step)]
        for p_start, p_end in pieces:
            n = 1 + (p_end - p_start - 1) // 6
            if cur_tokens and cur_tokens + n > target:
                if gap is not None and cur_tokens - gap[2] + n <= target:
                    units.append((cur_start, gap[0], gap[2]))
                    cur_start, cur_tokens = gap[1], cur_tokens - gap[2]
                else:
                    units.append((cur_start, prev_end, cur_tokens))
                    cur_start, cur_tokens = p_start, 0
                gap = None
            cur_tokens += n
            prev_end = p_end
    if cur_tokens:
        units.append((cur_start, prev_end, cur_tokens))
    return units or [(start, end, 0)]


def _between(text: str, start: int, end: int, separator: re.Pattern[str]) -> list[tuple[int, int]]:
    """The spans of text[start:end] between matches of `separator` (never empty)."""
    spans: list[tuple[int, int]] = []
    pos = start
    for match in separator.finditer(text, start, end):
        if match.start() > pos:
            spans.append((pos, match.start()))
        pos = match.end()
    if end > pos or not spans:
        spans.append((pos, end))
    return spans


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
    where = (heading_path, section, kind)
    for line in lines:
        if count_tokens(line[2]) > budget:
            # One line alone over the target (a minified page, a table row of a book): cut.
            if group:
                pieces.append(_line_piece(group, markdown, where, prefix))
                group = []
            cut = _cut_line(
                line[0],
                line[1],
                markdown,
                kind=kind,
                heading_path=heading_path,
                section=section,
                target=target,
                prefix=prefix,
            )
            cut[0].joiner = "\n"
            pieces.extend(cut)
            continue
        if group and count_tokens(markdown[group[0][0] : line[1]]) > budget:
            pieces.append(_line_piece(group, markdown, where, prefix))
            group = []
        group.append(line)
    if group:
        pieces.append(_line_piece(group, markdown, where, prefix))
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
    # A continued list/table/code joins line-wise if packed together.
    return _Piece(start, end, text, kind, heading_path, section, "\n")


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
            level, title = len(match.group(1)), match.group(2).strip()[:MAX_HEADING_CHARS]
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
    groups = _group(_pieces(markdown, settings.target_tokens, pages), settings)
    _merge_tiny_tail(groups, settings)
    chunks: list[Chunk] = []
    for group in groups:
        chunk = _chunk_of(group, pages)
        if chunk is not None:
            chunks.append(chunk)
    return chunks


def _tokens_of(group: list[_Piece]) -> int:
    # count_tokens(_join(group)), without joining and counting the group again for every
    # piece it considers: pieces join with whitespace only, which no token crosses, so a
    # group's count is the sum of its pieces' (a 1,000-page sync spent 1.5 s recounting).
    return sum(piece.tokens for piece in group)


def _group(pieces: Sequence[_Piece], settings: ChunkSettings) -> list[list[_Piece]]:
    """Gather the pieces into groups of about the target size, cut where sections change."""
    groups: list[list[_Piece]] = []
    current: list[_Piece] = []
    for piece in pieces:
        if current and _closes_group(current, piece, settings):
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
    return groups


def _closes_group(current: list[_Piece], piece: _Piece, settings: ChunkSettings) -> bool:
    """Whether `piece` starts a new group rather than joining `current`."""
    only_headings = all(p.kind == "heading" for p in current)
    new_section = piece.section != current[-1].section
    too_big = _tokens_of([*current, piece]) > settings.target_tokens
    small = _tokens_of(current) < settings.min_tokens and piece.page == current[-1].page
    return (
        (new_section and not (only_headings or small) and not too_big)
        or (too_big and not only_headings)
        or (new_section and too_big)
    )


def _merge_tiny_tail(groups: list[list[_Piece]], settings: ChunkSettings) -> None:
    """A tiny last group joins the one before it when both share the section."""
    if (
        len(groups) > 1
        and _tokens_of(groups[-1]) < settings.min_tokens
        and groups[-1][0].section == groups[-2][-1].section
        and _tokens_of(groups[-2] + groups[-1]) <= settings.target_tokens * 1.25
    ):
        tail = [p for p in groups.pop() if p not in groups[-1]]
        groups[-1].extend(tail)


def _chunk_of(group: list[_Piece], pages: Sequence[PageSpan]) -> Chunk | None:
    """The group's chunk, headed by its first content piece's heading path; None if blank."""
    text = _join(group).strip()
    if not text:
        return None
    content = [p for p in group if p.kind != "heading"] or group
    start = group[0].start
    return Chunk(
        text=text,
        heading_path=content[0].heading_path,
        page=_page_of(start, pages),
        char_start=start,
        char_end=max(p.end for p in group),
        tokens=count_tokens(text),
    )


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
