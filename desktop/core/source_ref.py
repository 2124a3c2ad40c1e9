"""Where a passage comes from, as search hits, prompts, citations and test runs carry it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SourceRef:
    """A web page (`url`) or a file (`path`), with its title and, for PDFs, the page.

    Exactly one of `url` and `path` is set. As JSON it keeps the shape the command line,
    the bundle's readers and stored test runs have always used:
    `{"url": ...}` or `{"path": ...}`, plus `"title"` and `"page"`.
    """

    url: str | None = None
    path: str | None = None
    title: str = ""
    page: int | None = None

    @classmethod
    def from_uri(cls, uri: str, *, title: str = "", page: int | None = None) -> SourceRef:
        """A document's uri: http(s) addresses are pages, anything else a file path."""
        if uri.startswith(("http://", "https://")):
            return cls(url=uri, title=title, page=page)
        return cls(path=uri, title=title, page=page)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SourceRef:
        page = data.get("page")
        return cls(
            url=str(data["url"]) if data.get("url") else None,
            path=str(data["path"]) if data.get("path") else None,
            title=str(data.get("title") or ""),
            page=int(page) if isinstance(page, int | str) and str(page).isdigit() else None,
        )

    @property
    def location(self) -> str:
        """The address or file path, whichever this source has."""
        return self.url or self.path or ""

    def label(self) -> str:
        """'Title — location, page N', for people (lists, citations, the command line)."""
        page = f", page {self.page}" if self.page else ""
        return f"{self.title} — {self.location}{page}" if self.title else f"{self.location}{page}"

    def to_json(self) -> dict[str, Any]:
        place: dict[str, Any] = {"url": self.url} if self.url else {"path": self.path or ""}
        return {**place, "title": self.title, "page": self.page}
