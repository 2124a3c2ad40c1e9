"""Files and fetched bodies to ExtractedDocument: listing folders, dispatch by type, async.

The one entry point the sync uses for any body (a crawled page, a file on disk): it
picks the extractor by content type, else by suffix, else by sniffing the bytes, and
keeps CPU work off the event loop in the async variant.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from desktop.core.content.quality import binary_reason, garbage_reason
from desktop.core.errors import ExtractionError, SourceError
from desktop.core.ingest.encoding import decode_text
from desktop.core.ingest.html import extract_html
from desktop.core.ingest.pdf import extract_pdf
from desktop.core.ingest.types import ExtractedDocument

SUPPORTED_SUFFIXES = (".pdf", ".html", ".htm", ".md", ".markdown", ".txt")
MAX_FILE_BYTES = 50 * 1024 * 1024  # past this a document is not worth holding in memory

_TYPES = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/plain": "text",
}
_SUFFIX_KINDS = {
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
}
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def list_files(paths: Sequence[Path]) -> list[Path]:
    """The supported files under ``paths`` (folders recursively), sorted, hidden ones skipped.

    Raises SourceError for a path that does not exist or a named file of an unsupported type.
    """
    found: set[Path] = set()
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            raise SourceError(f"No such file or folder: {path}", hint="Check the path.")
        if path.is_dir():
            for candidate in path.rglob("*"):
                relative = candidate.relative_to(path).parts
                if any(part.startswith(".") for part in relative):
                    continue
                if candidate.suffix.lower() in SUPPORTED_SUFFIXES and candidate.is_file():
                    found.add(candidate)
        elif path.suffix.lower() in SUPPORTED_SUFFIXES:
            found.add(path)
        else:
            raise SourceError(
                f"Unsupported file type: {path.name}",
                hint=f"Botdesk reads {', '.join(SUPPORTED_SUFFIXES)} files.",
            )
    return sorted(found)


def _suffix(filename: str | None, url: str | None) -> str:
    if filename:
        return PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if url:
        return PurePosixPath(urlsplit(url).path).suffix.lower()
    return ""


def _kind(data: bytes, content_type: str | None, filename: str | None, url: str | None) -> str:
    media = (content_type or "").split(";")[0].strip().lower()
    if media in _TYPES:
        kind = _TYPES[media]
        # Servers label Markdown and HTML files text/plain; the suffix knows better then.
        if kind == "text" and _suffix(filename, url) in _SUFFIX_KINDS:
            return _SUFFIX_KINDS[_suffix(filename, url)]
        return kind
    suffix = _suffix(filename, url)
    if suffix in _SUFFIX_KINDS:
        return _SUFFIX_KINDS[suffix]
    head = data[:1024].lstrip().lower()
    if head.startswith(b"%pdf-"):
        return "pdf"
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head:
        return "html"
    if media and not media.startswith("text/"):
        raise ExtractionError(f"Unsupported content type: {media}")
    return "text"


def _name(filename: str | None, url: str | None) -> str:
    if filename:
        return PurePosixPath(filename.replace("\\", "/")).name
    if url:
        return PurePosixPath(urlsplit(url).path).name or url
    return ""


def _check_size(data: bytes) -> None:
    if len(data) > MAX_FILE_BYTES:
        raise ExtractionError(
            f"File is too large ({len(data) / 1e6:.0f} MB; the limit is "
            f"{MAX_FILE_BYTES / 1e6:.0f} MB)"
        )


def _plain(text: str, *, markdown: bool, name: str) -> ExtractedDocument:
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").strip()
    title = name
    if markdown:
        heading = _HEADING.search(text)
        if heading:
            title = heading.group(1).strip()
    return ExtractedDocument(title=title, markdown=text, warnings=[] if text else ["no text"])


def extract_bytes(
    data: bytes,
    *,
    content_type: str | None = None,
    filename: str | None = None,
    url: str | None = None,
    charset: str | None = None,
) -> ExtractedDocument:
    """Extract any supported body, by content type, else suffix, else sniffing.

    Blocks (PDFs wait for a child process): call extract_bytes_async from async code.
    Raises ExtractionError (NoTextError for a PDF without a text layer).
    """
    _check_size(data)
    kind = _kind(data, content_type, filename, url)
    if kind == "pdf":
        return extract_pdf(data)
    _refuse_binary(data)
    if kind == "html":
        return extract_html_bytes(data, charset=charset, filename=filename, url=url)
    text = decode_text(data, declared_charset=charset)
    _refuse_garbage(text)
    return _plain(text, markdown=kind == "markdown", name=_name(filename, url))


def _refuse_binary(data: bytes) -> None:
    reason = binary_reason(data)
    if reason:
        raise ExtractionError(f"Not a text document: {reason}.")


def _refuse_garbage(text: str) -> None:
    """A random-bytes file named .md decodes to 'text': refuse it rather than index noise."""
    reason = garbage_reason(text)
    if reason:
        raise ExtractionError(f"Not readable text: {reason}.")


def extract_html_bytes(
    data: bytes, *, charset: str | None, filename: str | None, url: str | None
) -> ExtractedDocument:
    """An HTML body to its document (what extract_bytes does for HTML; the extraction
    pool's workers run it)."""
    _refuse_binary(data)
    document = extract_html(decode_text(data, declared_charset=charset, is_html=True), url=url)
    _refuse_garbage(document.markdown)
    if not document.title:
        document.title = _name(filename, url)
    return document


def html_kind(
    data: bytes,
    *,
    content_type: str | None = None,
    filename: str | None = None,
    url: str | None = None,
) -> bool:
    """Whether extract_bytes would treat this body as HTML (ExtractionError as it would:
    too large, or an unsupported type)."""
    _check_size(data)
    return _kind(data, content_type, filename, url) == "html"


async def extract_bytes_async(
    data: bytes,
    *,
    content_type: str | None = None,
    filename: str | None = None,
    url: str | None = None,
    charset: str | None = None,
) -> ExtractedDocument:
    """extract_bytes off the event loop: a worker thread (which waits on the PDF child)."""
    return await asyncio.to_thread(
        extract_bytes, data, content_type=content_type, filename=filename, url=url, charset=charset
    )
