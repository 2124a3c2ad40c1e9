"""Hybrid search on a catalogue of near-duplicate product pages: an exact, rare product
code in the question wins; parallel hybrid search gives the same results as serial."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from desktop.core.index import workspace_corpus as workspace_corpus_module
from desktop.core.index.corpus import Filters
from desktop.core.index.ranking import RRF, Fusion, exact_matches, fuse, identifier_words
from desktop.core.index.search import SearchHit, run_search
from desktop.core.index.store import Vector
from desktop.core.index.workspace_corpus import WorkspaceCorpus
from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace
from desktop.services import content, content_sources
from tests.core.index.support import CountingEmbedder, hashed_vector, new_workspace
from tests.helpers.backends import test_backends
from tests.helpers.catalogue import Product, identifier_questions, write_catalogue

_HAS_DIGIT = re.compile(r"\S*\d\S*")


class CodeBlindEmbedder(CountingEmbedder):
    """Like a small sentence model, it does not tell QX0004 from QX0005: words with digits
    are left out of its vectors, so near-duplicate pages come out nearly the same."""

    async def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        self.batches.append(list(texts))
        return [hashed_vector(_HAS_DIGIT.sub(" ", t), self.dimensions) for t in texts]


@pytest.fixture(scope="module")
def catalogue(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Workspace, list[Product]]]:
    folder = tmp_path_factory.mktemp("catalogue")
    products = write_catalogue(folder / "site", count=40)
    ws = new_workspace(folder / "catalogue.botdesk")
    content_sources.add_files(ws, [folder / "site"])
    embedded_blind = test_backends(embedder=CodeBlindEmbedder())  # type: ignore[arg-type]
    asyncio.run(content.sync(ws, Job("Sync"), backends=embedded_blind))
    yield ws, products
    ws.close()


def _pages(ws: Workspace, hits: Sequence[SearchHit]) -> list[str]:
    names = []
    for hit in hits:
        uri = str(ws.scalar("select uri from documents where id = ?", (hit.document_id,)))
        names.append(uri.replace("\\", "/").rsplit("/", 1)[-1])
    return names


def _vector(text: str) -> Vector:
    return np.asarray(hashed_vector(_HAS_DIGIT.sub(" ", text), 64), dtype=np.float32)


def test_identifier_words_are_the_words_with_digits() -> None:
    assert identifier_words("What does product code QX0005 weigh?") == ["qx0005"]
    assert identifier_words("Is SKU TRA-4435-C the 2 kg one, 2024 model?") == ["4435", "2024"]
    assert identifier_words("How heavy is the lamp?") == []


def test_a_product_code_ranks_its_page_first_in_hybrid(
    catalogue: tuple[Workspace, list[Product]],
) -> None:
    ws, _ = catalogue
    corpus = WorkspaceCorpus(ws)
    question = "What does product code QX0005 weigh?"
    vector = _vector(question)
    keyword = _pages(ws, run_search(corpus, question, None, k=10, mode="keyword"))
    by_vector = _pages(ws, run_search(corpus, question, vector, k=10, mode="vector"))
    assert keyword[0] == "qx0005.md"
    # The pages are near-duplicates to the vectors: the right one is not their first.
    assert by_vector[0] != "qx0005.md"
    # Plain reciprocal rank fusion lets a neighbour with middling ranks in both lists win.
    rrf = _pages(ws, run_search(corpus, question, vector, k=10, mode="hybrid", fusion=RRF))
    assert rrf[0] != "qx0005.md"
    hybrid = run_search(corpus, question, vector, k=10, mode="hybrid")
    assert _pages(ws, hybrid)[0] == "qx0005.md"
    assert 0.0 < hybrid[0].score <= 1.0 and hybrid[0].ranks["keyword"] == 1


def test_every_identifier_question_finds_its_page_first(
    catalogue: tuple[Workspace, list[Product]],
) -> None:
    ws, products = catalogue
    corpus = WorkspaceCorpus(ws)
    for question, page in identifier_questions(products):
        hits = run_search(corpus, question, _vector(question), k=5, mode="hybrid")
        assert _pages(ws, hits)[0] == page, question


def test_the_exact_match_counts_only_rare_identifiers(
    catalogue: tuple[Workspace, list[Product]],
) -> None:
    ws, _ = catalogue
    corpus = WorkspaceCorpus(ws)
    every = [int(r[0]) for r in ws.conn.execute("select id from passages")]
    held = exact_matches(corpus, "What does QX0005 weigh?", every)
    assert held is not None and all(share == 1.0 for share in held.values())
    pages = {
        str(
            ws.scalar(
                "select d.uri from passages p join documents d on d.id = p.document_id"
                " where p.id = ?",
                (pid,),
            )
        ).rsplit("/", 1)[-1]
        for pid in held
    }
    assert pages == {"qx0004.md", "qx0005.md", "qx0006.md"}  # its page and two that name it
    # "kg" is on every page and has no digit; "2" (a lone digit) is not an identifier.
    assert exact_matches(corpus, "Which lamp weighs 2 kg?", every) is None
    # Plain RRF never looks for identifiers.
    assert exact_matches(corpus, "What does QX0005 weigh?", every, RRF) is None


def test_the_convex_combination_of_normalised_scores() -> None:
    lists = {"keyword": [(1, 9.0), (2, 4.5)], "vector": [(2, 0.8), (3, 0.6)]}
    half = Fusion(keyword_weight=0.5, vector_norm="max", missing="min")
    fused = {pid: score for pid, score, _ in fuse(lists, half)}
    # keyword / 9, cosine / 0.8; a passage missing from a list gets that list's lowest.
    assert fused[1] == pytest.approx(0.5 * 1.0 + 0.5 * 0.75)
    assert fused[2] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)
    assert fused[3] == pytest.approx(0.5 * 0.5 + 0.5 * 0.75)
    # First in both lists is 1.0; an exact identifier match adds its share of the boost.
    both = fuse({"keyword": [(1, 3.0)], "vector": [(1, 0.5)]}, half)
    assert both[0][1] == pytest.approx(1.0)
    boosted = {pid: s for pid, s, _ in fuse(lists, Fusion(exact_boost=0.5), {3: 1.0})}
    assert max(boosted, key=lambda pid: boosted[pid]) == 3


@pytest.mark.parametrize("part_rows", [3, workspace_corpus_module.PART_ROWS])
@pytest.mark.parametrize("filters", [Filters(), Filters(url_prefix="/")])
def test_parallel_hybrid_search_gives_the_same_results_as_serial(
    catalogue: tuple[Workspace, list[Product]],
    filters: Filters,
    part_rows: int,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # Scored in parts of 3 rows, the worker and the searching thread share the vectors.
    monkeypatch.setattr(workspace_corpus_module, "PART_ROWS", part_rows)
    ws, products = catalogue
    corpus = WorkspaceCorpus(ws)
    questions = [q for q, _ in identifier_questions(products)]
    questions += ["which bag keeps things dry", "stainless steel stove", "warranty years"]
    if filters.url_prefix:  # a prefix that keeps some pages: the first page's folder
        first = str(ws.scalar("select uri from documents order by id limit 1"))
        filters = Filters(url_prefix=first.rsplit("/", 1)[0] + "/qx000")
    for question in questions:
        vector = _vector(question)
        together = run_search(corpus, question, vector, k=10, mode="hybrid", filters=filters)
        serial = run_search(
            corpus, question, vector, k=10, mode="hybrid", filters=filters, parallel=False
        )
        assert together, question
        assert [(h.chunk_id, h.score, h.scores, h.ranks) for h in together] == [
            (h.chunk_id, h.score, h.scores, h.ranks) for h in serial
        ], question
