"""Embedding the included passages that have no cached vector yet, batch by batch.

Only included passages whose (text hash, provider, model) is not cached are sent, each after
the document prefix its model wants (prefixes.py: "search_document: " for nomic-embed-text); texts
that are the same are sent once; empty or whitespace-only passages are skipped; a text over
the model's input limit is truncated to it and reported. Batches of `embedder.max_batch`
run a few at a time, and each batch commits with its vec0 rows, so a cancel (or a failure)
keeps every vector already received and the next run resumes with the rest.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from desktop.core.content.curation import INCLUDED_WHERE
from desktop.core.errors import BadResponseError, ProviderError
from desktop.core.index import store
from desktop.core.index.prefixes import prefixes_for
from desktop.core.index.store import EmbedderLike, Vector
from desktop.core.jobs import Job
from desktop.core.model_specs import ModelSpec
from desktop.core.store.workspace import Workspace
from desktop.core.text import count_tokens, is_blank

DEFAULT_CONCURRENCY = 2
# count_tokens is within about 10% of real tokenisers: keep a margin under the limit.
TRUNCATION_MARGIN = 0.9
# USD per million input tokens for embedders the price table does not list.
EMBEDDING_PRICES = {"mistral:mistral-embed": 0.1, "ollama:*": 0.0}

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


@dataclass
class EmbedReport:
    """What one embed run did."""

    embedder: str = ""
    pending: int = 0  # distinct texts that needed a vector at the start
    embedded: int = 0  # texts embedded now (calls' inputs)
    calls: int = 0  # embed_batch requests made
    cached: int = 0  # included passages whose vector was already cached
    skipped_empty: int = 0  # empty or whitespace-only passages (never embedded)
    truncated: list[int] = field(default_factory=list)  # passage ids cut to the input limit
    dimensions: int | None = None

    def line(self) -> str:
        if not self.embedder:
            return "no embedder (keyword search only)"
        parts = [f"embedded {self.embedded} passage(s) in {self.calls} call(s)"]
        parts.append(f"{self.cached} already embedded")
        if self.skipped_empty:
            parts.append(f"{self.skipped_empty} empty skipped")
        if self.truncated:
            parts.append(f"{len(self.truncated)} truncated to the model's input limit")
        return ", ".join(parts)


@dataclass(frozen=True)
class EmbedEstimate:
    """What embedding the workspace with an embedder would cost, before it starts."""

    embedder: str
    passages: int  # included, non-empty passages
    to_embed: int  # distinct texts with no cached vector for this embedder
    tokens: int  # estimated input tokens of those
    cost_usd: float | None  # None when the price is unknown

    def line(self) -> str:
        cost = "unknown cost" if self.cost_usd is None else f"about ${self.cost_usd:.4f}"
        return (
            f"{self.embedder}: {self.to_embed} of {self.passages} passage(s) to embed, "
            f"~{self.tokens:,} tokens, {cost}"
        )


def truncate_to_tokens(text: str, max_tokens: int) -> tuple[str, bool]:
    """Cut `text` so its estimated tokens stay under the limit (with a margin)."""
    budget = max(1, int(max_tokens * TRUNCATION_MARGIN))
    if count_tokens(text) <= budget:
        return text, False
    total = 0
    end = 0
    for match in _TOKEN.finditer(text):
        length = match.end() - match.start()
        total += 1 + (length - 1) // 6
        if total > budget:
            break
        end = match.end()
    return text[:end], True


def _pending_rows(
    ws: Workspace, embedder: ModelSpec
) -> tuple[dict[str, str], dict[str, list[int]], int, int]:
    """(hash -> text to embed, hash -> passage ids, cached count, empty count)."""
    cached = store.cached_hashes(ws, embedder)
    texts: dict[str, str] = {}
    ids: dict[str, list[int]] = {}
    n_cached = n_empty = 0
    for pid, text, text_hash in ws.conn.execute(
        "select p.id, p.text, p.text_hash from passages p join documents d"
        f" on d.id = p.document_id where {INCLUDED_WHERE} order by p.id"
    ):
        if is_blank(text):
            n_empty += 1
            continue
        if text_hash in cached:
            n_cached += 1
            continue
        texts.setdefault(str(text_hash), str(text))
        ids.setdefault(str(text_hash), []).append(int(pid))
    return texts, ids, n_cached, n_empty


def estimate(
    ws: Workspace, embedder: ModelSpec, *, price_per_million: float | None = None
) -> EmbedEstimate:
    """The passages and tokens `embedder` would have to embed now, and the cost if known."""
    texts, _, n_cached, _ = _pending_rows(ws, embedder)
    tokens = sum(count_tokens(t) for t in texts.values())
    price = price_per_million
    if price is None:
        price = EMBEDDING_PRICES.get(str(embedder), EMBEDDING_PRICES.get(f"{embedder.provider}:*"))
    cost = None if price is None else round(tokens * price / 1_000_000, 6)
    return EmbedEstimate(str(embedder), n_cached + len(texts), len(texts), tokens, cost)


async def embed_pending(
    ws: Workspace,
    embedder: EmbedderLike,
    job: Job,
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> EmbedReport:
    """Embed every included passage whose text has no cached vector for `embedder`."""
    ident = embedder.spec
    report = EmbedReport(embedder=str(ident))
    texts, ids, report.cached, report.skipped_empty = _pending_rows(ws, ident)
    report.pending = len(texts)
    dimensions = store.recorded_dimensions(ws, ident)
    report.dimensions = dimensions
    job.stage("embed", total=len(texts))
    if dimensions is not None:
        store.ensure_vector_table(ws, ident, dimensions)
        with ws.transaction():
            store.sync_vector_table(ws, ident)
    if not texts:
        return report

    run = _EmbedRun(
        ws,
        embedder,
        job,
        report,
        texts,
        ids,
        # The model's document prefix (prefixes.py); the cache key includes it (store.cache_model).
        prefix=prefixes_for(ident.model).document,
        dimensions=dimensions,
        semaphore=asyncio.Semaphore(max(1, concurrency)),
    )
    max_batch = max(1, int(embedder.max_batch))
    hashes = list(texts)
    batches = [hashes[i : i + max_batch] for i in range(0, len(hashes), max_batch)]
    error = await _first_failure([asyncio.ensure_future(run.batch(b)) for b in batches])
    if error is not None:
        if isinstance(error, ProviderError):
            # The passages are saved whatever the model does: say so, and what is left.
            error.hint = (
                f"{error.hint} Embedded {report.embedded} of {report.pending} passage "
                "text(s); the passages are saved and the next sync embeds the rest."
            ).strip()
        raise error
    return report


@dataclass
class _EmbedRun:
    """One embed run: what its batches, running a few at a time, read and update."""

    ws: Workspace
    embedder: EmbedderLike
    job: Job
    report: EmbedReport
    texts: dict[str, str]  # text hash -> the text to embed
    ids: dict[str, list[int]]  # text hash -> the passages with that text
    prefix: str  # the model's document prefix
    dimensions: int | None  # as recorded, then as the first vector received says
    semaphore: asyncio.Semaphore  # how many batches are in flight at once

    async def batch(self, batch: Sequence[str]) -> None:
        """Embed one batch of text hashes and commit its vectors with their vec0 rows."""
        async with self.semaphore:
            self.job.check()
            inputs, cut = self._inputs(batch)
            self.report.calls += 1
            vectors = await self.embedder.embed_batch(inputs)
            checked = self._checked(vectors, len(inputs))
            ident = self.embedder.spec
            dims = int(checked[0].size)
            store.ensure_vector_table(self.ws, ident, dims)
            with self.ws.transaction():  # one batch: its vectors and their vec0 rows, together
                store.store_vectors(self.ws, ident, zip(batch, checked, cut, strict=True))
                store.sync_vector_table(self.ws, ident, batch)
            self.report.dimensions = dims
            self.report.embedded += len(batch)
            self._report_truncated(batch, cut)
            self.job.advance(len(batch))

    def _inputs(self, batch: Sequence[str]) -> tuple[list[str], list[bool]]:
        """The texts to send, prefixed and cut to the input limit, and which were cut."""
        inputs: list[str] = []
        cut: list[bool] = []
        for text_hash in batch:
            text, truncated = truncate_to_tokens(
                self.prefix + self.texts[text_hash], self.embedder.max_input_tokens
            )
            inputs.append(text)
            cut.append(truncated)
        return inputs, cut

    def _checked(self, vectors: Sequence[Sequence[float]], sent: int) -> list[Vector]:
        """One vector per input, each of the run's dimensions (the first one sets them)."""
        ident = self.embedder.spec
        if len(vectors) != sent:
            raise BadResponseError(f"{ident} returned {len(vectors)} vectors for {sent} texts.")
        checked: list[Vector] = []
        for vector in vectors:
            array = store.check_vector(vector, self.dimensions, ident)
            self.dimensions = int(array.size)
            checked.append(array)
        return checked

    def _report_truncated(self, batch: Sequence[str], cut: Sequence[bool]) -> None:
        for text_hash, truncated in zip(batch, cut, strict=True):
            if truncated:
                self.report.truncated.extend(self.ids[text_hash])
                for pid in self.ids[text_hash]:
                    self.job.item_error(
                        f"passage {pid}",
                        f"longer than {self.embedder.spec}'s input limit of "
                        f"{self.embedder.max_input_tokens} tokens: embedded its beginning only",
                    )


async def _first_failure(tasks: Sequence[asyncio.Future[None]]) -> BaseException | None:
    """Wait for the batches; at the first failure cancel the rest. The first failure in
    batch order, or None. Cancelled from outside, every batch is stopped."""
    try:
        _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except BaseException:  # the caller was cancelled: stop the batches in flight
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            return task.exception()
    return None
