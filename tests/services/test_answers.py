"""The answers service: profiles in the workspace, ask, ask_pair, test runs and files."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from desktop.core.answering.prompt import default_system_prompt
from desktop.core.errors import ConfigError
from desktop.core.jobs import Job
from desktop.core.store.workspace import Workspace
from desktop.services import answers
from tests.core.answering.support import FakeSearch, backends, hits
from tests.helpers.fake_generator import FakeGenerator


def test_workspace_starts_with_the_default_profile(workspace: Workspace) -> None:
    profiles = answers.list_profiles(workspace)
    assert [p.name for p in profiles] == ["default"]
    assert profiles[0].system_prompt == default_system_prompt()
    assert profiles[0].generator.startswith("ollama:")


def test_profiles_are_created_changed_and_validated(workspace: Workspace) -> None:
    created = answers.set_profile(workspace, "mistral", generator="mistral:mistral-small-latest")
    assert created.k == 5 and created.mode == "hybrid"
    changed = answers.set_profile(workspace, "mistral", k=3, min_score=0.2, temperature=0.0)
    assert (changed.k, changed.min_score, changed.temperature) == (3, 0.2, 0.0)
    assert changed.generator == "mistral:mistral-small-latest"
    assert [p.name for p in answers.list_profiles(workspace)] == ["default", "mistral"]
    with pytest.raises(ConfigError, match="needs a generator"):
        answers.set_profile(workspace, "new", k=3)
    for bad, message in (
        ({"generator": "openai:gpt"}, "Unknown generator"),
        ({"k": 0}, "between 1 and 50"),
        ({"mode": "semantic"}, "Unknown retrieval mode"),
        ({"temperature": 3.0}, "temperature"),
        ({"refusal": "  "}, "refusal"),
        ({"system_prompt": ""}, "system prompt"),
    ):
        with pytest.raises(ConfigError, match=message):
            answers.set_profile(workspace, "mistral", **bad)
    assert answers.get_profile(workspace, "mistral").k == 3  # nothing saved was lost
    with pytest.raises(ConfigError, match="No answer profile named 'nope'"):
        answers.get_profile(workspace, "nope")
    with pytest.raises(ConfigError, match="cannot be deleted"):
        answers.delete_profile(workspace, "default")


def test_ask_uses_the_profile_and_streams(workspace: Workspace) -> None:
    answers.set_profile(workspace, "default", k=2, mode="keyword", temperature=0.7)
    generator = FakeGenerator(replies=["Eight [1]."])
    search = FakeSearch(hits(5))
    deltas: list[str] = []
    result = asyncio.run(
        answers.ask(
            workspace, " When? ", on_delta=deltas.append, backends=backends(generator, search)
        )
    )
    assert search.calls == [("When?", 2, "keyword", None)]
    assert generator.settings_seen[0].temperature == 0.7
    assert "".join(deltas) == "Eight [1]." and result.citations[0].chunk_id == 100
    data = result.to_json()
    assert set(data) >= {
        "answer",
        "declined",
        "citations",
        "invalid_citations",
        "passages",
        "tokens",
        "latency",
        "cost",
        "notes",
    }
    assert data["citations"][0] == {
        "n": 1,
        "chunk_id": 100,
        "source": {"url": "https://acme.test/page0", "title": "Page 0", "page": None},
    }
    with pytest.raises(ConfigError, match="Type a question"):
        asyncio.run(answers.ask(workspace, "  ", backends=backends(generator, search)))


def test_ask_pair_runs_both_profiles_at_once(workspace: Workspace) -> None:
    answers.set_profile(workspace, "b", generator="ollama:other", k=1)
    generator = FakeGenerator(delay_s=0.05, default=lambda m: "One two three four [1].")
    search = FakeSearch(hits(3))
    seen: list[tuple[str, str]] = []
    a, b = asyncio.run(
        answers.ask_pair(
            workspace,
            "When?",
            "default",
            "b",
            lambda side, text: seen.append((side, text)),
            backends=backends(generator, search),
        )
    )
    assert generator.max_in_flight == 2  # concurrent, not one after the other
    assert (a.profile, b.profile) == ("default", "b")
    assert len(a.passages) == 3 and len(b.passages) == 1
    assert "".join(t for s, t in seen if s == "a") == a.answer
    assert "".join(t for s, t in seen if s == "b") == b.answer
    # Whether the two streams' pieces interleave depends on scheduling under load;
    # max_in_flight above is what shows they ran at once.


def test_run_tests_against_profiles_and_compare(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(
        '{"question": "When?", "expected_source": "page0", "must_include": "eight"}\n'
        '{"question": "Tell me a joke", "should_decline": true}\n'
    )
    assert answers.import_test_set(workspace, path).added == 2
    generator = FakeGenerator(
        default=lambda m: "I don't know." if "joke" in m[-1].content else "Eight [1]."
    )
    back = backends(generator, FakeSearch(hits(3)))
    report = asyncio.run(answers.run_tests(workspace, Job("t"), ["default"], backends=back))
    assert report.totals["default"].passed == 2
    assert report.totals["default"].valid_citations == 1
    assert answers.compare_last_runs(workspace) is None
    asyncio.run(answers.run_tests(workspace, Job("t"), ["default"], backends=back))
    comparison = answers.compare_last_runs(workspace)
    assert comparison is not None and comparison.counts["same"] == 2
    exported = tmp_path / "out.csv"
    assert answers.export_test_set(workspace, exported) == 2
    assert exported.read_text().startswith("question,expected_source")


def test_bundle_target_missing_file_is_clear(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="No bundle file"):
        answers.open_bundle_target(tmp_path / "missing.bundle")


def test_without_an_embedder_keyword_search_is_used_and_said(workspace: Workspace) -> None:
    assert workspace.setting("embedder") == "none"
    search = FakeSearch(hits(2))
    result = asyncio.run(
        answers.ask(workspace, "When?", backends=backends(FakeGenerator(), search))
    )
    assert search.calls[0][2] == "keyword"
    assert result.notes[0] == "the workspace has no embedder: keyword search was used"
    workspace.set_setting("embedder", "ollama:all-minilm")
    asyncio.run(answers.ask(workspace, "When?", backends=backends(FakeGenerator(), search)))
    assert search.calls[1][2] == "hybrid"
