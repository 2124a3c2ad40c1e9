"""The index: embedding included passages into the cache and vec0, and searching them.

`embed_pending` (embed.py) fills the embedding cache; `run_search` and `why_not`
(search.py) retrieve from a workspace or a bundle through one code path; `bundle_vectors`
hands the bundle builder the vectors of the passages it packs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from desktop.core.index import store
from desktop.core.index.bundle_corpus import BundleCorpus
from desktop.core.index.corpus import Corpus, Filters, Mode
from desktop.core.index.embed import EmbedEstimate, EmbedReport, embed_pending, estimate
from desktop.core.index.search import SearchHit, SearchResults, WhyNot, run_search
from desktop.core.index.why_not import why_not
from desktop.core.index.workspace_corpus import WorkspaceCorpus
from desktop.core.store.workspace import Workspace

__all__ = [
    "BundleCorpus",
    "BundleVectors",
    "Corpus",
    "EmbedEstimate",
    "EmbedReport",
    "Filters",
    "Mode",
    "SearchHit",
    "SearchResults",
    "WhyNot",
    "WorkspaceCorpus",
    "bundle_vectors",
    "embed_pending",
    "estimate",
    "run_search",
    "why_not",
]


@dataclass(frozen=True)
class BundleVectors:
    """The vectors of the included passages and the embedder that made them."""

    provider: str
    model: str
    dimensions: int
    vectors: Mapping[int, Sequence[float] | np.ndarray[Any, Any]]  # passage id -> vector
    distance: Literal["cosine", "l2"] = "cosine"


def bundle_vectors(ws: Workspace, passages: Sequence[tuple[int, str]]) -> BundleVectors | None:
    """The cached vectors of these (passage id, text hash) pairs for the workspace's embedder.

    None when the workspace has no embedder (a keyword-only bundle). A passage whose text
    has no vector yet is left out: the bundle builder refuses it and says to sync.
    """
    embedder = store.workspace_embedder(ws)
    if embedder is None:
        return None
    dimensions = store.recorded_dimensions(ws, embedder)
    if dimensions is None:
        if not passages:
            return None
        dimensions = 0  # nothing embedded yet: the builder reports the missing vectors
    found = store.cached_vectors(ws, embedder, (h for _, h in passages))
    vectors = {pid: found[h] for pid, h in passages if h in found}
    return BundleVectors(embedder.provider, embedder.model, dimensions, vectors, "cosine")
