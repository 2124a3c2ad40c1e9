"""Index services (UI and CLI call these): embed, search a workspace or a bundle, why-not,
the embedder and its cost, and the index's status.

`search(target, query, ...)` takes a Workspace or what `open_bundle(path)` returns and
runs the same search code on either. The question is embedded with the target's embedder:
the workspace's (its `embedder` setting), or the one named in the bundle's manifest, made
by the `Backends` the caller passes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.core import index as core_index
from desktop.core.answering.prices import PriceTable
from desktop.core.bundle import read as bundle_format
from desktop.core.content.curation import INCLUDED_WHERE
from desktop.core.errors import ConfigError, ProviderTimeoutError, ProviderUnavailableError
from desktop.core.index import store
from desktop.core.index.bundle_corpus import BundleCorpus
from desktop.core.index.corpus import NO_FILTERS, Corpus, Filters, Mode
from desktop.core.index.embed import EmbedEstimate, EmbedReport, truncate_to_tokens
from desktop.core.index.prefixes import prefixes_for
from desktop.core.index.ranking import check_mode
from desktop.core.index.search import SearchHit, SearchResults, WhyNot
from desktop.core.index.store import Vector
from desktop.core.index.workspace_corpus import WorkspaceCorpus
from desktop.core.jobs import Job
from desktop.core.model_specs import ModelSpec
from desktop.core.store.workspace import Workspace
from desktop.providers.base import Embedder
from desktop.services.backends import Backends

__all__ = [
    "BundleTarget",
    "EmbedEstimate",
    "EmbedReport",
    "Filters",
    "IndexStatus",
    "SearchHit",
    "SearchResults",
    "WhyNot",
    "embed_pending",
    "estimate_embedder",
    "index_status",
    "open_bundle",
    "search",
    "set_embedder",
    "why_not",
]


@dataclass(frozen=True)
class IndexStatus:
    """How far the index is: for the status bar, `botdesk sync` and the search page."""

    embedder: str  # "ollama:all-minilm" or "none"
    dimensions: int | None
    included: int  # included passages
    embedded: int  # of those, with a vector of their current text
    pending: int  # included, non-empty, not embedded yet
    empty: int  # empty or whitespace-only (never embedded)

    def line(self) -> str:
        if self.embedder == "none":
            return f"{self.included} passages, keyword search only (no embedder)"
        dims = f", {self.dimensions} dimensions" if self.dimensions else ""
        pending = f", {self.pending} waiting (sync)" if self.pending else ""
        return (
            f"{self.embedded}/{self.included} passages embedded by {self.embedder}{dims}{pending}"
        )


class BundleTarget:
    """A built bundle opened for search (read-only); close() when done."""

    def __init__(self, path: Path) -> None:
        self.path = path
        conn = bundle_format.open_bundle(path)
        try:
            self.manifest = bundle_format.read_manifest(conn)
            self.corpus = BundleCorpus(conn, self.manifest)
        except BaseException:
            conn.close()
            raise

    @property
    def embedder(self) -> ModelSpec | None:
        return self.corpus.embedder

    def close(self) -> None:
        self.corpus.close()

    def __enter__(self) -> BundleTarget:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_bundle(path: Path | str) -> BundleTarget:
    """Open a bundle file so `search` can run on it exactly as on the workspace."""
    return BundleTarget(Path(path))


# -- embedders -----------------------------------------------------------------------------------
def _embedder(
    backends: Backends, wanted: ModelSpec, dimensions: int | None, *, interactive: bool = False
) -> Embedder:
    """The target's embedder as the backends make it; a factory that hands back another
    model than the index was made with is refused (its vectors would mean nothing here)."""
    made = backends.embedder(wanted, dimensions=dimensions, interactive=interactive)
    if made.spec != wanted:
        raise ConfigError(
            f"The embedder given is {made.spec}, but the index was made with {wanted}.",
        )
    return made


async def embed_query(embedder: Embedder, query: str) -> Vector:
    """The question's vector, with the query prefix its model wants (core.index.prefixes)."""
    prefix = prefixes_for(embedder.spec.model).query
    text, _ = truncate_to_tokens(prefix + query, embedder.max_input_tokens)
    vectors = await embedder.embed_batch([text])
    ident = embedder.spec
    if len(vectors) != 1:
        raise ConfigError(f"{ident} returned {len(vectors)} vectors for one question.")
    return store.check_vector(vectors[0], None, ident)


# -- embedding -----------------------------------------------------------------------------------
async def embed_pending(
    ws: Workspace,
    job: Job,
    *,
    backends: Backends,
    concurrency: int = core_index.embed.DEFAULT_CONCURRENCY,
) -> EmbedReport:
    """Embed the included passages whose text has no vector yet (nothing if no embedder)."""
    wanted = store.workspace_embedder(ws)
    if wanted is None:
        job.stage("embed: none (keyword search only)", total=0)
        return EmbedReport()
    dimensions = store.recorded_dimensions(ws, wanted)
    return await core_index.embed_pending(
        ws, _embedder(backends, wanted, dimensions), job, concurrency=concurrency
    )


def _price(embedder: ModelSpec) -> float | None:
    try:
        price = PriceTable.load().price(str(embedder))
    except ConfigError:
        price = None
    return None if price is None else price.input_per_million


def estimate_embedder(ws: Workspace, spec: str) -> EmbedEstimate | None:
    """What switching to `spec` would embed and cost (None for "none"), before anything starts."""
    embedder = store.parse_embedder(spec)
    if embedder is None:
        return None
    return core_index.estimate(ws, embedder, price_per_million=_price(embedder))


def set_embedder(ws: Workspace, spec: str) -> EmbedEstimate | None:
    """Record the workspace's embedder ("none" for keyword only) and return the cost of
    embedding with it, to show before the next sync embeds. Vectors of earlier embedders
    stay cached (switching back costs nothing); their vec0 tables are dropped."""
    new = store.parse_embedder(spec)
    old = store.workspace_embedder(ws)
    cost = estimate_embedder(ws, spec)
    if new == old:
        return cost
    if old is not None:
        store.drop_vector_table(ws, old)
    with ws.transaction():
        ws.set_setting(store.EMBEDDER_SETTING, "none" if new is None else str(new))
        dims = store.recorded_dimensions(ws, new) if new is not None else None
        ws.set_setting(store.DIMENSIONS_SETTING, dims)
    if new is not None and dims is not None:
        # Vectors already cached for this embedder go straight back into its vec0 table.
        store.ensure_vector_table(ws, new, dims)
        with ws.transaction():
            store.sync_vector_table(ws, new)
    return cost


def index_status(ws: Workspace) -> IndexStatus:
    """Counted in SQL: the search page and the status bar ask after every sync and edit, and
    reading every passage's text for it took ~60 ms at 4,000 passages on the GUI thread."""
    embedder = store.workspace_embedder(ws)
    base = f"from passages p join documents d on d.id = p.document_id where {INCLUDED_WHERE}"
    blank = "is_blank(p.text)"  # core.text.is_blank, as the embedder and the bundle decide
    included = int(ws.scalar(f"select count(*) {base}") or 0)
    empty = int(ws.scalar(f"select count(*) {base} and {blank}") or 0)
    if embedder is None:
        return IndexStatus("none", None, included, 0, 0, empty)
    embedded = int(
        ws.scalar(
            f"select count(*) {base} and not {blank}"
            " and exists (select 1 from embeddings e where e.provider = ? and e.model = ?"
            " and e.text_hash = p.text_hash)",
            (embedder.provider, store.cache_model(embedder)),
        )
        or 0
    )
    return IndexStatus(
        str(embedder),
        store.recorded_dimensions(ws, embedder),
        included,
        embedded,
        included - embedded - empty,
        empty,
    )


# -- search ----------------------------------------------------------------------------------------
def _corpus(target: Any) -> Corpus:
    if isinstance(target, Workspace):
        return WorkspaceCorpus(target)
    if isinstance(target, BundleTarget):
        return target.corpus
    if isinstance(target, Corpus):
        return target
    raise ConfigError(f"Cannot search {target!r}: give a workspace or an opened bundle.")


def _filters(filters: Filters | None, source_ids: Sequence[int], url_prefix: str) -> Filters:
    if filters is not None:
        return filters
    if not source_ids and not url_prefix:
        return NO_FILTERS
    return Filters(tuple(int(s) for s in source_ids), url_prefix.strip())


async def _prepare(
    corpus: Corpus, query: str, mode: str | None, backends: Backends
) -> tuple[Mode, Vector | None, list[str]]:
    if not query.strip():
        raise ConfigError("Type a question first.")
    chosen, notes = check_mode(mode, corpus)
    vector = None
    if chosen != "keyword":
        assert corpus.embedder is not None
        used = _embedder(backends, corpus.embedder, corpus.dimensions, interactive=True)
        try:
            vector = await embed_query(used, query)
        except (ProviderUnavailableError, ProviderTimeoutError) as exc:
            if chosen == "vector":
                raise  # asked for vectors only: nothing to fall back on
            # The embedding model is down or silent: the passages can still be found by
            # their words, and the results say how they were found.
            notes = [*notes, f"{exc.message} Keyword search was used instead. {exc.hint}".strip()]
            return "keyword", None, notes
        if corpus.dimensions is not None and vector.size != corpus.dimensions:
            raise ConfigError(
                f"{corpus.embedder} now gives {vector.size} dimensions; the index has "
                f"{corpus.dimensions}.",
                hint="The model changed on the server: set the embedder again to re-embed.",
            )
    return chosen, vector, notes


async def search(
    target: Any,
    query: str,
    *,
    k: int = 10,
    mode: str | None = None,
    min_score: float | None = None,
    filters: Filters | None = None,
    source_ids: Sequence[int] = (),
    url_prefix: str = "",
    backends: Backends,
) -> SearchResults:
    """The k passages the bot would be given for `query`, best first.

    `mode` None means hybrid when the target has vectors, else keyword; hybrid without
    vectors falls back to keyword and says so in `results.notes`.
    """
    corpus = _corpus(target)
    chosen, vector, notes = await _prepare(corpus, query, mode, backends)
    return core_index.run_search(
        corpus,
        query,
        vector,
        k=k,
        mode=chosen,
        min_score=min_score,
        filters=_filters(filters, source_ids, url_prefix),
        notes=notes,
    )


async def why_not(
    target: Any,
    query: str,
    passage_id: int,
    *,
    k: int = 10,
    mode: str | None = None,
    min_score: float | None = None,
    filters: Filters | None = None,
    backends: Backends,
) -> WhyNot:
    """Why `passage_id` is not among the results: its rank and score per mode, what cut it."""
    corpus = _corpus(target)
    chosen, vector, _ = await _prepare(corpus, query, mode, backends)
    if vector is None and corpus.embedder is not None and corpus.has_vectors():
        with contextlib.suppress(ProviderUnavailableError, ProviderTimeoutError):
            used = _embedder(backends, corpus.embedder, corpus.dimensions, interactive=True)
            vector = await embed_query(used, query)
    return core_index.why_not(
        corpus,
        query,
        vector,
        passage_id,
        k=k,
        mode=chosen,
        min_score=min_score,
        filters=filters or NO_FILTERS,
    )
