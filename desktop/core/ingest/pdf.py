"""PDF text per page, parsed with pypdf in a child process with a time and memory limit.

pypdf has looped forever on crafted files and raises far more than its own errors on
real malformed ones, so files are parsed in a child process (a reusable worker, so the
start-up cost is paid once) that is killed and replaced when a file runs over its time
or memory limit. Every failure comes back as an ExtractionError with a one-line reason.
"""

from __future__ import annotations

import contextlib
import io
import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from desktop.core.children import die_with_parent
from desktop.core.errors import ExtractionError, NoTextError
from desktop.core.ingest.types import ExtractedDocument, PageSpan

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MEMORY_MB = 1024
MAX_TITLE_CHARS = 200
_PAGE_SEPARATOR = "\n\n"

# spawn works the same on Linux, macOS and Windows and is safe in a threaded (Qt) process;
# its start-up cost is paid once per worker, which then parses file after file.
_CONTEXT: Any = multiprocessing.get_context("spawn")
MAX_IDLE_WORKERS = 2
# Parses at once: each is a process; more than the cores only adds memory.
MAX_WORKERS = max(1, min(4, os.cpu_count() or 1))


def _limit_memory(memory_mb: int) -> None:
    """Cap the child's address space (Linux enforces it; elsewhere the timeout still holds)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return
    base = 0
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    base = int(line.split()[1]) * 1024
    except OSError:
        pass
    limit = base + memory_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _parse(data: bytes) -> tuple[str, list[str], list[str]]:
    """In the child: (metadata title, text per page, warnings). Raises on failure."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except DependencyError as exc:
            raise _Failure("PDF is AES-encrypted and the cryptography package is missing") from exc
        if not opened:
            raise _Failure("PDF is encrypted with a password")
    title = ""
    try:
        meta = reader.metadata
        title = str(meta.title or "").strip() if meta is not None else ""
    except FileNotDecryptedError as exc:
        raise _Failure("PDF is encrypted with a password") from exc
    except Exception:  # a broken info dictionary costs only the title
        title = ""
    texts: list[str] = []
    warnings: list[str] = []
    pages = reader.pages
    for number in range(len(pages)):
        try:
            texts.append(pages[number].extract_text() or "")
        except FileNotDecryptedError as exc:
            raise _Failure("PDF is encrypted with a password") from exc
        except (MemoryError, RecursionError):
            raise
        except Exception as exc:  # one bad page must not lose the others
            texts.append("")
            warnings.append(f"page {number + 1}: text unreadable ({type(exc).__name__})")
    return title, texts, warnings


class _Failure(Exception):
    """A failure the child already phrased for the user."""


def _describe(exc: BaseException) -> str:
    from pypdf.errors import LimitReachedError, PdfReadError

    detail = " ".join(str(exc).split())[:200] or type(exc).__name__
    if isinstance(exc, _Failure):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "PDF needs more memory to parse than allowed"
    if isinstance(exc, RecursionError):
        return "PDF is damaged: its structure nests too deeply"
    if isinstance(exc, LimitReachedError):
        return f"PDF is too large or complex to parse: {detail}"
    if isinstance(exc, PdfReadError):
        return f"PDF is damaged: {detail}"
    return f"PDF is damaged: {type(exc).__name__}: {detail}"


def _serve(conn: Connection, memory_mb: int) -> None:
    """The worker's loop: one request (data, hook) in, one (status, payload) out."""
    die_with_parent()  # a killed sync must not leave parsers running for hours
    _limit_memory(memory_mb)
    sys.setrecursionlimit(5000)
    # pypdf logs every repair it makes; the one-line error we send back is what users see,
    # and the worker's stderr is the CLI's progress stream.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        data, hook = request
        poisoned = False
        try:
            if hook is not None:
                hook()  # tests: make the worker slow or greedy
            result: tuple[str, Any] = ("ok", _parse(data))
        except BaseException as exc:  # everything goes back as one line
            poisoned = isinstance(exc, MemoryError | RecursionError)
            try:
                result = ("error", _describe(exc))
            except BaseException:  # describing may fail when memory is out
                result = ("error", "PDF could not be parsed")
        try:
            conn.send(result)
        except BaseException:  # a result too big to send under the memory cap
            conn.send(("error", "PDF text is too large to return"))
            poisoned = True
        if poisoned:
            return  # a fresh worker for the next file, not one with a fragmented heap


class _Worker:
    """One child process parsing PDFs; killed (and replaced) when a file runs over."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        self.conn, child_conn = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(
            target=_serve, args=(child_conn, memory_mb), name="botdesk-pdf", daemon=True
        )
        self.process.start()
        child_conn.close()

    def alive(self) -> bool:
        return bool(self.process.is_alive())

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


_idle: list[_Worker] = []
_idle_lock = threading.Lock()
_running = threading.BoundedSemaphore(MAX_WORKERS)


def _take_worker(memory_mb: int) -> _Worker:
    with _idle_lock:
        while _idle:
            worker = _idle.pop()
            if worker.memory_mb == memory_mb and worker.alive():
                return worker
            worker.kill()
    return _Worker(memory_mb)


def _give_back(worker: _Worker) -> None:
    with _idle_lock:
        if worker.alive() and len(_idle) < MAX_IDLE_WORKERS:
            _idle.append(worker)
            return
    worker.kill()


def shutdown_workers() -> None:
    """Stop the idle PDF workers (at exit, or in tests)."""
    with _idle_lock:
        workers, _idle[:] = list(_idle), []
    for worker in workers:
        worker.kill()


def _title_from(meta_title: str, texts: list[str]) -> str:
    if meta_title and meta_title.lower() not in ("untitled", "title"):
        return meta_title[:MAX_TITLE_CHARS]
    for text in texts:
        for line in text.splitlines():
            if line.strip():
                return " ".join(line.split())[:MAX_TITLE_CHARS]
    return ""


def _assemble(meta_title: str, texts: list[str], warnings: list[str]) -> ExtractedDocument:
    parts: list[str] = []
    spans: list[PageSpan] = []
    position = 0
    for number, raw in enumerate(texts, start=1):
        text = raw.replace("\x00", "").strip()
        if not text:
            continue
        if parts:
            position += len(_PAGE_SEPARATOR)
        spans.append(PageSpan(page=number, start=position, end=position + len(text)))
        parts.append(text)
        position += len(text)
    if not parts:
        raise NoTextError("no text, scanned?", hint="The PDF has no text layer; OCR it first.")
    return ExtractedDocument(
        title=_title_from(meta_title, texts),
        markdown=_PAGE_SEPARATOR.join(parts),
        pages=spans,
        warnings=warnings,
    )


def _run(
    data: bytes, *, timeout_s: float, memory_mb: int, hook: Callable[[], object] | None
) -> tuple[str, Any]:
    """One request to a worker; the worker is killed on a timeout or a crash."""
    worker = _take_worker(memory_mb)
    result: tuple[str, Any] | None = None
    try:
        worker.conn.send((data, hook))
        if not worker.conn.poll(timeout_s):
            worker.kill()
            raise ExtractionError(f"PDF took longer than {timeout_s:g} s to parse")
        result = worker.conn.recv()
    except (EOFError, OSError, BrokenPipeError):
        worker.process.join(5)
        code = worker.process.exitcode
        worker.kill()
        if code is not None and code < 0:
            raise ExtractionError(f"PDF parser crashed (signal {-code})") from None
        raise ExtractionError("PDF parser crashed or ran out of memory") from None
    except BaseException:
        worker.kill()
        raise
    _give_back(worker)
    assert result is not None
    return result


def extract_pdf(
    data: bytes,
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    memory_mb: int = DEFAULT_MEMORY_MB,
    _hook: Callable[[], object] | None = None,
) -> ExtractedDocument:
    """Text per page (PageSpan per page) and a title; blocks until the child is done.

    Raises ExtractionError with a one-line reason, NoTextError when there is no text layer.
    Call it from a worker thread (asyncio.to_thread) in async code. ``_hook`` runs in
    the worker before parsing (tests use it to make the worker slow or greedy).
    """
    if b"%PDF-" not in data[:1024]:
        raise ExtractionError("Not a PDF file (no %PDF header)")
    with _running:
        result = _run(data, timeout_s=timeout_s, memory_mb=memory_mb, hook=_hook)
    status, payload = result
    if status == "error":
        raise ExtractionError(str(payload))
    meta_title, texts, warnings = payload
    return _assemble(meta_title, texts, warnings)
