"""The texts some embedding models want before a question or a passage, in one table.

Models trained with task prefixes embed worse without them: nomic-embed-text expects
"search_query: " / "search_document: ", the e5 family "query: " / "passage: ", and
several models an instruction before the question only. Passages are embedded with the
document prefix (desktop.core.index.embed), questions with the query prefix
(desktop.services.index.embed_query); the embedding cache keys a model's vectors with
its document prefix (store.cache_model), so a change here re-embeds instead of mixing
vectors made with and without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase


@dataclass(frozen=True)
class Prefixes:
    """What goes before a question (`query`) and before a passage (`document`)."""

    query: str = ""
    document: str = ""


NO_PREFIXES = Prefixes()
_SEARCH_INSTRUCTION = "Represent this sentence for searching relevant passages: "

# (pattern on the model's bare name, lower case, without ":tag" or "owner/"), first match
# wins. Sources: each model's card (nomic-ai, intfloat, mixedbread-ai, Snowflake, BAAI,
# Google).
PREFIX_TABLE: tuple[tuple[str, Prefixes], ...] = (
    ("nomic-embed-text*", Prefixes("search_query: ", "search_document: ")),
    ("*multilingual-e5*", Prefixes("query: ", "passage: ")),
    ("e5-*", Prefixes("query: ", "passage: ")),
    ("snowflake-arctic-embed2*", Prefixes("query: ", "")),
    ("snowflake-arctic-embed*", Prefixes(_SEARCH_INSTRUCTION, "")),
    ("mxbai-embed-large*", Prefixes(_SEARCH_INSTRUCTION, "")),
    ("bge-small-en*", Prefixes(_SEARCH_INSTRUCTION, "")),
    ("bge-base-en*", Prefixes(_SEARCH_INSTRUCTION, "")),
    ("bge-large*", Prefixes(_SEARCH_INSTRUCTION, "")),
    ("embeddinggemma*", Prefixes("task: search result | query: ", "title: none | text: ")),
)


def bare_model_name(model: str) -> str:
    """ "library/nomic-embed-text:latest" -> "nomic-embed-text"."""
    name = model.strip().lower().rsplit("/", 1)[-1]
    return name.split(":", 1)[0]


def prefixes_for(model: str) -> Prefixes:
    """The prefixes `model` wants, wherever it runs (none for models not in the table)."""
    name = bare_model_name(model)
    for pattern, prefixes in PREFIX_TABLE:
        if fnmatchcase(name, pattern):
            return prefixes
    return NO_PREFIXES
