"""Checks every embedder applies to its inputs and to the vectors a back-end returns.

A back-end that answers with the wrong number of vectors, vectors of a size other than
the model's, or NaNs would silently poison the index: each becomes BadResponseError.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence

from desktop.core.errors import BadResponseError, InputTooLongError, ProviderError

_INDEX_ATTR = "input_index"


def with_input_index(error: ProviderError, index: int) -> ProviderError:
    """Mark which input of an embed_batch call failed (read it back with `input_index`)."""
    setattr(error, _INDEX_ATTR, index)
    if f"input {index + 1}" not in error.message:
        error.message = f"{error.message} (input {index + 1} of the batch)"
    return error


def input_index(error: BaseException) -> int | None:
    """The position in `texts` of the input an embed_batch error is about, if known."""
    value = getattr(error, _INDEX_ATTR, None)
    return value if isinstance(value, int) else None


def reject_empty_inputs(texts: Sequence[str]) -> None:
    """Back-ends answer an empty text with an error or a meaningless vector: refuse it here."""
    for i, text in enumerate(texts):
        if not text.strip():
            raise with_input_index(
                ProviderError(
                    "Cannot embed an empty or whitespace-only passage.",
                    hint="Empty passages have nothing to find; leave them out of the index.",
                ),
                i,
            )


def check_vectors(
    vectors: Sequence[Sequence[float]], expected_count: int, dimensions: int | None, provider: str
) -> int:
    """Validate a response's vectors; returns their dimensions (learnt from the first)."""
    if len(vectors) != expected_count:
        raise BadResponseError(
            f"{provider} returned {len(vectors)} vectors for {expected_count} inputs.",
            hint="The server misbehaved; try again, or update it.",
        )
    for vector in vectors:
        size = len(vector)
        if size == 0:
            raise BadResponseError(
                f"{provider} returned an empty vector.",
                hint="Is this an embedding model? Chat models cannot embed.",
            )
        if dimensions is None:
            dimensions = size
        if size != dimensions:
            error = BadResponseError(
                f"{provider} returned vectors of {size} dimensions, expected {dimensions}.",
                hint="The model behind this name changed: choose the embedder again "
                "to re-embed everything with one model.",
            )
            error.vector_size = size  # type: ignore[attr-defined]
            raise error
        if not math.isfinite(sum(vector)):  # NaN and inf survive a sum; cheaper than a scan
            raise BadResponseError(
                f"{provider} returned a vector with NaN or infinite values.",
                hint="The model misbehaved on this input; try again or use another model.",
            )
    assert dimensions is not None
    return dimensions


async def embed_in_batches(
    texts: Sequence[str],
    max_batch: int,
    request: Callable[[list[str]], Awaitable[list[list[float]]]],
) -> list[list[float]]:
    """Embed `texts` with `request` (one HTTP call per batch of at most `max_batch`).

    A batch the server rejects as a whole (an input over the context, a token budget per
    request, Ollama's deterministic 500 for one bad input) is retried item by item, so the
    error names the input: it then carries `input_index` (its position in `texts`).
    """
    if not texts:
        return []
    reject_empty_inputs(texts)
    vectors: list[list[float]] = []
    for start in range(0, len(texts), max_batch):
        chunk = list(texts[start : start + max_batch])
        try:
            vectors.extend(await request(chunk))
            continue
        except (InputTooLongError, BadResponseError) as exc:
            if len(chunk) == 1:
                with_input_index(exc, start)
                raise
            if getattr(exc, "vector_size", False):
                raise  # a wrong vector size is the model's, not one input's
        for i, text in enumerate(chunk):
            try:
                vectors.extend(await request([text]))
            except (InputTooLongError, BadResponseError) as exc:
                with_input_index(exc, start + i)
                raise
    return vectors
