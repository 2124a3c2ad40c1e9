"""The small part of HTTP/1.1 a browser needs, for the local widget preview (preview_server.py).

Plain asyncio streams, no web framework: read one request (bounded headers and body), write
one response and close the connection, or open a server-sent-events stream for the chat.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from desktop.core.publish.chat_protocol import ProtocolError

MAX_BODY_BYTES = 64 * 1024
MAX_HEADER_LINES = 100
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ProtocolError(400, "The body is not JSON.") from None


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request on the connection, None when the browser closed it first."""
    line = await reader.readline()
    if not line:
        return None
    try:
        method, target, _version = line.decode("latin-1").split()
    except ValueError:
        raise ProtocolError(400, "Not an HTTP request.") from None
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADER_LINES):
        raw = await reader.readline()
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    else:
        raise ProtocolError(400, "Too many headers.")
    length_text = headers.get("content-length", "0") or "0"
    if not length_text.isdigit():
        raise ProtocolError(400, "Bad Content-Length.")
    length = int(length_text)
    if length > MAX_BODY_BYTES:
        raise ProtocolError(413, f"The body is larger than {MAX_BODY_BYTES} bytes.")
    body = await reader.readexactly(length) if length else b""
    return Request(method.upper(), target, headers, body)


def _head(status: int, content_type: str, headers: Mapping[str, str], length: int | None) -> bytes:
    lines = [f"HTTP/1.1 {status} {STATUS_TEXT.get(status, 'Status')}"]
    lines.append(f"Content-Type: {content_type}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines += ["Connection: close", "X-Content-Type-Options: nosniff"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def write(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)
    await writer.drain()


async def send(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    content_type: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    await write(writer, _head(status, content_type, headers or {}, len(body)) + body)


async def send_json(
    writer: asyncio.StreamWriter, status: int, value: Any, headers: Mapping[str, str] | None = None
) -> None:
    body = json.dumps(value, ensure_ascii=False).encode("utf-8")
    await send(writer, status, body, "application/json", headers)


async def start_stream(writer: asyncio.StreamWriter, headers: Mapping[str, str]) -> None:
    # No Content-Length: the stream ends when the connection closes (Connection: close).
    await write(writer, _head(200, "text/event-stream; charset=utf-8", headers, None))
