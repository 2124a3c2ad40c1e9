"""A small shop site on loopback and a workspace synced from it, for the widget's tests.

The home page has a real layout, hostile CSS and scripts (which the preview must strip);
the other pages hold the facts the Ollama stand-in's answers cite.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.core.jobs import Job
from desktop.services import answers, content, content_sources
from desktop.services.workspaces import create_workspace
from tests.helpers.backends import OFFLINE
from tests.helpers.site_server import Page, SiteServer

HOSTILE_CSS = """
* { all: unset; }
html, body { display: block; }
body { transform: translateZ(0); min-height: 3000px; }
div { display: flex !important; }
button { width: 100% !important; background: red !important; }
p, span { color: red !important; font-size: 40px !important; }
.p, .l, .m, .g, .h, .q, .w { position: static; border: 9px solid orange; }
"""
HOST_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lumen Bakery</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{HOSTILE_CSS}</style>
<script>document.title = "scripts ran";</script>
</head><body onload="document.title = 'onload ran'">
<header><h1>Lumen Bakery Supplies</h1>
<a href="/delivery">Delivery</a> <a href="/pricing">Prices</a></header>
<main><div class="p">Host element with class p: must not become the widget's panel.</div>
<p>Flour, ovens and advice since 1990. We deliver to bakeries across the region.</p>
<a href="javascript:document.title='link ran'">Offers</a>
<iframe src="/pricing"></iframe>
<button type="button">A host button</button></main>
<footer>Lumen Bakery Supplies</footer>
</body></html>
"""


def shop_site() -> SiteServer:
    server = SiteServer(
        {
            "/": Page(HOST_PAGE.encode()),
            "/delivery": Page.html(
                "Delivery", "We deliver Monday to Friday between 6 and 10 in the morning."
            ),
            "/pricing": Page.html("Pricing", "Rye flour costs 40 euros a sack."),
        }
    )
    server.sitemap = ["/", "/delivery", "/pricing"]
    return server


def build_shop_workspace(path: Path, site_url: str) -> Path:
    """Create, crawl and sync the shop into a workspace (keyword search, no embedder)."""
    with create_workspace(path, name="Lumen Bakery", embedder="none") as ws:
        content_sources.add_site(ws, site_url + "/")
        # Local site, no embedder: no model server to reach.
        asyncio.run(content.sync(ws, Job("sync"), backends=OFFLINE))
        answers.set_profile(ws, "default", generator="ollama:llama3.2", k=3)
    return path


@dataclass(frozen=True)
class Shop:
    """The shop site being served, and the workspace synced from it."""

    site: SiteServer
    path: Path

    @property
    def url(self) -> str:
        return self.site.url


@contextmanager
def synced_shop(folder: Path) -> Iterator[Shop]:
    """Serve the shop site and sync it into `folder`/shop.botdesk while inside."""
    site = shop_site()
    with site:
        yield Shop(site, build_shop_workspace(folder / "shop.botdesk", site.url))


def model_answer(messages: Sequence[dict[str, Any]]) -> str:
    """The stand-in model: an answer citing [1], or an HTML one when asked for it."""
    prompt = str(messages[-1]["content"])
    if "HTML please" in prompt:
        return '<img src=x onerror="window.__pwned = 1"><b>not bold</b> We deliver daily [1].'
    return "We deliver Monday to Friday, never on Sundays [1]."
