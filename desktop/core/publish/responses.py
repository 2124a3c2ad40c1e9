"""The publish endpoint's responses read: releases from good answers, PublishErrors from the rest.

A good answer's JSON is checked before it is believed (a release needs its id and version).
A refusal (an answer the publish client does not retry: 400, 401/403, 404, 409, 413...) says
what to do next; the endpoint's own one-line reason is added when it sent one, bounded.
Messages are named by the step that failed ("Upload bundle failed: ...").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from desktop.core.errors import PublishError
from desktop.core.text import size_text


@dataclass(frozen=True)
class RemoteRelease:
    """A release as the endpoint lists it."""

    release_id: str
    version: int
    bundle_sha256: str
    created_at: str = ""
    notes: str = ""
    active: bool = False
    manifest: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CreatedRelease:
    release_id: str
    version: int


def json_answer(response: httpx.Response) -> Any:
    """A good answer's JSON body; a PublishError when it is not JSON."""
    try:
        return response.json()
    except ValueError as exc:
        raise PublishError(
            f"The endpoint answered HTTP {response.status_code} with something that is not JSON."
        ) from exc


def created_release(response: httpx.Response) -> CreatedRelease:
    """The release a POST made live (the endpoint accepted it: the release may be live)."""
    data = json_answer(response)
    try:
        return CreatedRelease(str(data["release_id"]), int(data["version"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise PublishError(
            "The endpoint accepted the release but its answer lacks release_id/version.",
            hint="Check `botdesk releases WS`; the release may be live.",
        ) from exc


def remote_releases(response: httpx.Response) -> list[RemoteRelease]:
    """The endpoint's release list, every row with its id and version."""
    data = json_answer(response)
    rows = data.get("releases") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise PublishError("The endpoint's release list is not in the expected form.")
    releases: list[RemoteRelease] = []
    for row in rows:
        try:
            releases.append(
                RemoteRelease(
                    release_id=str(row["release_id"]),
                    version=int(row["version"]),
                    bundle_sha256=str(row.get("bundle_sha256", "")),
                    created_at=str(row.get("created_at", "")),
                    notes=str(row.get("notes", "")),
                    active=bool(row.get("active", False)),
                    manifest=dict(row.get("manifest") or {}),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PublishError("The endpoint listed a release without id or version.") from exc
    return releases


def refusal(
    response: httpx.Response, *, method: str, size: int | None, bot_id: str, token_hint: str
) -> PublishError:
    """The error for an answer that is neither good nor worth retrying.

    `size`: the bytes sent (for a 413); `token_hint`: how to store a valid token (for 401/403).
    """
    status = response.status_code
    reason = _server_reason(response)
    detail = f" ({reason})" if reason else ""
    if status in (401, 403):
        return PublishError(
            f"The endpoint rejected the publish token (HTTP {status}){detail}.",
            hint=token_hint,
            status=status,
        )
    if status == 404:
        return PublishError(
            f"The endpoint has no bot {bot_id!r} (or no such release){detail}.",
            hint="Check the bot id (--bot-id) and the endpoint URL.",
            status=status,
        )
    if status == 409:
        return PublishError(
            f"The endpoint refused: conflict{detail}.",
            hint="Another publish may be under way; look at `botdesk releases WS` and retry.",
            status=status,
        )
    if status == 413:
        limit = _limit_bytes(response)
        limit_text = f", the limit is {size_text(limit)}" if limit else ""
        sent = size_text(size) if size is not None else "the request"
        return PublishError(
            f"The bundle is too large for the endpoint: {sent}{limit_text}.",
            hint="Exclude passages you do not need, or build with --quantize int8 or binary.",
            status=status,
        )
    if status == 400 and method == "PUT":
        return PublishError(
            f"The endpoint received a bundle whose sha256 does not match{detail}.",
            hint="The upload was damaged on the way; publish again.",
            status=status,
        )
    return PublishError(f"The endpoint refused the request (HTTP {status}){detail}.", status=status)


def named(step: str, error: PublishError) -> PublishError:
    """The same refusal, its message starting with the step: "Upload bundle failed: ..."."""
    message = error.message[:1].lower() + error.message[1:]
    return PublishError(
        f"{step.capitalize()} failed: {message}", hint=error.hint, status=error.status, step=step
    )


def failure_hint(url: str) -> str:
    """What to do when a call still failed after every attempt."""
    if "/conversations" in url:
        return "Pages already pulled are kept; pull again later to go on from there."
    return (
        "Nothing changed on the live bot. Try again later; an upload that got through is not "
        "sent twice."
    )


def _server_reason(response: httpx.Response) -> str:
    """The endpoint's one-line error, if it sent one (bounded, single line)."""
    try:
        data = response.json()
    except ValueError:
        return ""
    reason = data.get("error") if isinstance(data, dict) else None
    return " ".join(str(reason).split())[:200] if reason else ""


def _limit_bytes(response: httpx.Response) -> int | None:
    try:
        data = response.json()
        return int(data["limit_bytes"])
    except (ValueError, KeyError, TypeError):
        header = response.headers.get("X-Max-Bundle-Bytes")
        return int(header) if header and header.isdigit() else None
