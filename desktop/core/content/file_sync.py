"""The sync of a folder source: each file read, skipped when its bytes are unchanged,
extracted and stored; a stored file no longer there is marked removed."""

from __future__ import annotations

import os
from pathlib import Path

from desktop.core.content.source_sync import SourceSync
from desktop.core.errors import ExtractionError, NoTextError, SourceError
from desktop.core.ingest.types import ExtractedDocument
from desktop.core.text import sha256_hex

NOT_UTF8_NAME = (
    "the file name is not valid UTF-8 (as names from Windows or zip archives can be): "
    "rename the file to sync it"
)


def readable_path(path: Path) -> str:
    """The path as text a database and a terminal accept: an undecodable byte in a name
    (kept by Python as a lone surrogate) becomes U+FFFD."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", errors="replace")
    return text


async def sync_files(state: SourceSync) -> None:
    from desktop.core.ingest.files import list_files

    ws, job, source = state.ws, state.job, state.source
    root = Path(source["location"])
    try:
        files = list_files([root])
    except SourceError as exc:
        state.summary.failed[str(root)] = exc.message
        job.item_error(str(root), exc.message)
        return
    job.stage("read", len(files))
    present = {readable_path(path.resolve()) for path in files}
    for path in files:
        job.check()
        await _sync_file(state, path)
    for row in ws.fetch_all(
        "select uri from documents where source_id = ? and status != 'removed'", (source["id"],)
    ):
        if row["uri"] not in present:
            state.removed(row["uri"], "file no longer there")


async def _sync_file(state: SourceSync, path: Path) -> None:
    """One file: stored, marked unchanged, or failed with the reason; progress advances."""
    job = state.job
    uri = readable_path(path.resolve())
    if uri != str(path.resolve()):
        state.failed(uri, NOT_UTF8_NAME)
        job.advance(1)
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        state.failed(uri, f"cannot read the file: {exc.strerror or exc}")
        job.advance(1)
        return
    content_hash = sha256_hex(data)
    if state.is_unchanged(uri, content_hash):
        state.unchanged(uri)
        job.advance(1, path.name)
        return
    try:
        extracted = await state.extractor.extract(data, filename=path.name)
    except NoTextError:
        extracted = ExtractedDocument(title=path.name, markdown="")
    except ExtractionError as exc:
        state.failed(uri, exc.message)
        job.advance(1)
        return
    if not extracted.title:
        extracted.title = path.name
    await state.store_async(
        uri,
        content_hash=content_hash,
        extracted=extracted,
        content_type=path.suffix.lower().lstrip("."),
    )
    job.advance(1, path.name)
