"""End to end: services.answers.ask with the real providers factory, the real `ollama` and
`mistralai` clients, and the loopback stand-ins; the model's bad days end in a result.

Most tests inject the search (Backends(search=FakeSearch)) to isolate the model
side; the last ones run the whole `botdesk` command line: init with an embedder, add
files, sync (embedding through the stand-in), profile, ask --json, on the real index.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from desktop.cli import main
from desktop.core.answering.prices import PriceTable
from desktop.core.store.workspace import Workspace
from desktop.services import answers
from desktop.services.backends import Backends
from tests.core.answering.support import FakeSearch, hits
from tests.helpers.backends import with_changes
from tests.helpers.fake_embeddings import token_count
from tests.helpers.fake_mistral import FakeMistral
from tests.helpers.fake_ollama import FakeOllama
from tests.helpers.model_script import Scripted


def real_backends(search: FakeSearch, *, backends: Backends) -> Backends:
    """The providers' own factories at the test's stand-ins, an injected search, shipped
    prices."""
    prices = PriceTable.load(override=Path("/nonexistent"))
    return with_changes(backends, search=search, prices=prices)


def grounded_answer(messages: Sequence[dict[str, Any]]) -> str:
    """Answers from the first passage it was given, as a well-behaved model would."""
    prompt = messages[-1]["content"]
    assert '<passage n="1"' in prompt or "<passage n=1" in prompt, prompt[:300]
    return "The shop opens at 8 o'clock [1]."


def test_ask_with_an_ollama_generator(
    workspace: Workspace, fake_ollama: FakeOllama, backends: Backends
) -> None:
    fake_ollama.chat_answer = grounded_answer
    answers.set_profile(workspace, "default", generator="ollama:llama3.2", k=3)
    deltas: list[str] = []
    result = asyncio.run(
        answers.ask(
            workspace,
            "When does the shop open?",
            on_delta=deltas.append,
            backends=real_backends(FakeSearch(hits(5)), backends=backends),
        )
    )
    assert not result.error, result.error
    assert result.answer == "The shop opens at 8 o'clock [1]." == "".join(deltas)
    assert len(deltas) == 7  # streamed word by word
    assert [c.chunk_id for c in result.citations] == [100]
    assert not result.declined and result.invalid_citations == []
    body = fake_ollama.calls("/api/chat")[0]
    prompt_tokens = sum(token_count(m["content"]) for m in body["messages"])
    assert (result.prompt_tokens, result.completion_tokens) == (prompt_tokens, 7)
    assert result.cost == 0.0  # local models are free in the shipped price table
    assert result.first_token_s is not None and result.total_s >= result.first_token_s
    assert body["model"] == "llama3.2" and len(result.passages) == 3


def test_ask_with_a_mistral_generator(
    workspace: Workspace, fake_mistral: FakeMistral, backends: Backends
) -> None:
    fake_mistral.chat_answer = grounded_answer
    answers.set_profile(workspace, "cloud", generator="mistral:mistral-small-latest", k=2)
    result = asyncio.run(
        answers.ask(
            workspace,
            "When does the shop open?",
            profile="cloud",
            backends=real_backends(FakeSearch(hits(5)), backends=backends),
        )
    )
    assert not result.error, result.error
    assert result.answer == "The shop opens at 8 o'clock [1]."
    assert result.citations[0].source.url == "https://acme.test/page0"
    assert result.prompt_tokens and result.completion_tokens == 7
    assert result.cost is not None and result.cost > 0
    data = result.to_json()
    assert data["tokens"]["prompt"] == result.prompt_tokens


def test_ask_pair_ollama_against_mistral(
    workspace: Workspace, fake_ollama: FakeOllama, fake_mistral: FakeMistral, backends: Backends
) -> None:
    fake_ollama.chat_answer = "Eight o'clock [1]."
    fake_mistral.chat_answer = "At 8 [1]."
    answers.set_profile(workspace, "local", generator="ollama:llama3.2")
    answers.set_profile(workspace, "cloud", generator="mistral:mistral-small-latest")
    seen: dict[str, str] = {"a": "", "b": ""}

    def on_delta(side: str, text: str) -> None:
        seen[side] += text

    first, second = asyncio.run(
        answers.ask_pair(
            workspace,
            "When?",
            "local",
            "cloud",
            on_delta,
            backends=real_backends(FakeSearch(hits(3)), backends=backends),
        )
    )
    assert (first.answer, second.answer) == ("Eight o'clock [1].", "At 8 [1].")
    assert seen == {"a": first.answer, "b": second.answer}
    assert first.generator == "ollama:llama3.2"
    assert second.generator == "mistral:mistral-small-latest"


@pytest.mark.parametrize(
    ("generator", "expected"),
    [
        ("ollama:phi4", "ollama pull phi4"),
        ("mistral:mistral-large-latest", "rate-limiting"),
    ],
)
@pytest.mark.usefixtures("fake_ollama")  # `backends` points at both stand-ins
def test_bad_days_end_in_a_result_with_a_clear_error(
    workspace: Workspace,
    fake_mistral: FakeMistral,
    generator: str,
    expected: str,
    backends: Backends,
) -> None:
    busy = Scripted(status=429, body={"message": "Requests rate limit exceeded"})
    fake_mistral.script("/v1/chat/completions", busy, busy, busy)
    answers.set_profile(workspace, "default", generator=generator)
    result = asyncio.run(
        answers.ask(
            workspace, "When?", backends=real_backends(FakeSearch(hits(2)), backends=backends)
        )
    )
    assert expected in result.error
    assert result.answer == "" and result.model_called


def test_server_down_says_ollama_serve(workspace: Workspace, backends: Backends) -> None:
    # `backends` points at a closed port: no Ollama answers there.
    answers.set_profile(workspace, "default", generator="ollama:llama3.2")
    result = asyncio.run(
        answers.ask(
            workspace, "When?", backends=real_backends(FakeSearch(hits(2)), backends=backends)
        )
    )
    assert "`ollama serve`" in result.error


def test_context_overflow_from_the_server_gives_fewer_passages(
    workspace: Workspace, fake_mistral: FakeMistral, backends: Backends
) -> None:
    answers.set_profile(workspace, "default", generator="mistral:mistral-small-latest", k=1)
    search = FakeSearch(hits(4))
    one = asyncio.run(
        answers.ask(workspace, "When?", backends=real_backends(search, backends=backends))
    )
    assert one.prompt_tokens is not None
    # The server now takes one passage's prompt and no more; the model's advertised
    # context is larger, so the first try sends all four and is refused.
    fake_mistral.chat_context = one.prompt_tokens + 5
    answers.set_profile(workspace, "default", k=4)
    result = asyncio.run(
        answers.ask(workspace, "When?", backends=real_backends(search, backends=backends))
    )
    assert not result.error, result.error
    assert len(result.passages) == 1
    assert "used 1 of 4 passages: context limit" in result.notes
    sent = [len(b["messages"][-1]["content"]) for b in fake_mistral.calls("/v1/chat/completions")]
    assert len(sent) == 4 and sent[1] > sent[2] > sent[3]  # 4, then 2, then 1 passage


# -- the whole command line on the real index --------------------------------------------
PAGES = {
    "hours.md": "# Opening hours\n\nThe shop opens at nine and closes at six on weekdays.\n",
    "refunds.md": "# Refunds\n\nRefunds are paid back to the card used for the order.\n",
    "shipping.md": "# Shipping\n\nShipping abroad costs twelve euros and takes a week.\n",
}
_PASSAGE = re.compile(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', re.S)


def cite_the_passage_about(word: str) -> Any:
    """A model that answers from the passage containing `word`, or says it does not know."""

    def answer(messages: Sequence[dict[str, Any]]) -> str:
        for number, text in _PASSAGE.findall(messages[-1]["content"]):
            if word in text:
                return f"It opens at {word} [{number}]."
        return "I don't know."

    return answer


@pytest.mark.parametrize(
    "models",
    [
        ("ollama:all-minilm", "ollama:llama3.2"),
        ("mistral:mistral-embed", "mistral:mistral-small-latest"),
    ],
)
@pytest.mark.usefixtures("cli_environment")
def test_botdesk_ask_on_the_real_index(
    tmp_path: Path,
    fake_ollama: FakeOllama,
    fake_mistral: FakeMistral,
    capsys: pytest.CaptureFixture[str],
    models: tuple[str, str],
) -> None:
    embedder, generator = models
    folder = tmp_path / "site"
    folder.mkdir()
    for name, text in PAGES.items():
        (folder / name).write_text(text, encoding="utf-8")
    ws = str(tmp_path / "shop.botdesk")
    fake_ollama.chat_answer = fake_mistral.chat_answer = cite_the_passage_about("nine")
    for argv in (
        ["init", ws, "--name", "Shop", "--embedder", embedder],
        ["add", "files", ws, str(folder)],
        ["sync", ws],
        ["profile", "set", ws, "default", "--generator", generator, "--k", "2"],
    ):
        assert main(argv) == 0, capsys.readouterr().err
    embedded = fake_ollama.embedded_texts + fake_mistral.embedded_texts
    assert any("opens at nine" in text for text in embedded)
    capsys.readouterr()
    assert main(["ask", ws, "When does the shop open?", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answer"].startswith("It opens at nine ["), data
    assert data["declined"] is False and data["invalid_citations"] == []
    assert data["citations"][0]["source"]["path"].endswith("hours.md")
    assert data["tokens"]["prompt"] > 0 and data["tokens"]["completion"] == 5
    chats = fake_ollama.calls("/api/chat") + fake_mistral.calls("/v1/chat/completions")
    assert len(chats) == 1 and chats[0]["model"] == generator.split(":", 1)[1]
