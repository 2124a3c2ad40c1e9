"""`botdesk profile`, `ask`, `test`, `runs`: the command-line contract and its JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop.cli import main
from desktop.services.backends import Backends
from tests.core.answering.support import FakeSearch, hits
from tests.helpers.backends import test_backends
from tests.helpers.fake_generator import FakeGenerator


@pytest.fixture
def ws(tmp_path: Path) -> str:
    path = tmp_path / "acme.botdesk"
    assert main(["init", str(path), "--name", "Acme"]) == 0
    return str(path)


@pytest.fixture
def fake_backends(monkeypatch: pytest.MonkeyPatch) -> FakeGenerator:
    """The command builds its Backends from the environment: the Backends it builds answer
    from a fake generator and a fixed search instead."""
    generator = FakeGenerator(
        default=lambda m: "I don't know." if "joke" in m[-1].content else "Eight o'clock [1] [7]."
    )
    made = test_backends(generator=generator, search=FakeSearch(hits(3)))  # type: ignore[arg-type]
    monkeypatch.setattr(Backends, "from_environment", classmethod(lambda cls: made))
    return generator


def out_json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


def test_profile_set_and_list(ws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prompt = tmp_path / "prompt.md"
    prompt.write_text("Answer like a pirate, from the passages only.")
    assert main(["profile", "list", ws, "--json"]) == 0
    assert [p["name"] for p in out_json(capsys)] == ["default"]
    args = ["profile", "set", ws, "pirate", "--generator", "mistral:mistral-small-latest"]
    args += ["--k", "3", "--min-score", "0.4", "--mode", "keyword", "--prompt-file", str(prompt)]
    args += ["--temperature", "0.5", "--max-tokens", "300", "--refusal", "Arr, no idea."]
    assert main(args) == 0
    capsys.readouterr()
    assert main(["profile", "list", ws, "--json"]) == 0
    pirate = out_json(capsys)[1]
    assert pirate == {
        "name": "pirate",
        "generator": "mistral:mistral-small-latest",
        "system_prompt": "Answer like a pirate, from the passages only.",
        "mode": "keyword",
        "k": 3,
        "min_score": 0.4,
        "temperature": 0.5,
        "max_tokens": 300,
        "refusal": "Arr, no idea.",
    }
    assert main(["profile", "set", ws, "pirate", "--min-score", "none"]) == 0
    assert main(["profile", "list", ws]) == 0
    assert "pirate" in capsys.readouterr().out


def test_profile_set_errors(ws: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "set", ws, "x", "--k", "3"]) == 1
    assert "needs a generator" in capsys.readouterr().err
    assert main(["profile", "set", ws, "x", "--generator", "gpt:4"]) == 1
    assert "Unknown generator" in capsys.readouterr().err
    assert main(["profile", "set", ws, "default", "--min-score", "high"]) == 1
    assert "--min-score must be a number" in capsys.readouterr().err
    assert main(["profile", "set", ws, "default", "--prompt-file", "/nonexistent"]) == 1
    assert "Cannot read the prompt file" in capsys.readouterr().err


def test_ask_json_contract(
    ws: str, fake_backends: FakeGenerator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", ws, "When do you open?", "--json"]) == 0
    data = out_json(capsys)
    assert data["answer"] == "Eight o'clock [1] [7]."
    assert data["declined"] is False
    assert data["citations"] == [
        {
            "n": 1,
            "chunk_id": 100,
            "source": {"url": "https://acme.test/page0", "title": "Page 0", "page": None},
        }
    ]
    assert data["invalid_citations"] == [7]
    assert [p["n"] for p in data["passages"]] == [1, 2, 3]
    assert set(data["tokens"]) == {"prompt", "completion"} and data["tokens"]["prompt"] > 0
    assert data["latency"]["first_token_s"] is not None and data["latency"]["total_s"] is not None
    assert data["cost"] == 0.0
    assert "cites passages that were not given: [7]" in data["notes"]


def test_ask_streams_text_and_prints_sources(
    ws: str, fake_backends: FakeGenerator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", ws, "When do you open?"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("Eight o'clock [1] [7].")
    assert "[1] Page 0 — https://acme.test/page0" in captured.out
    assert "not given: [7]" in captured.out
    assert "default (ollama:llama3.2)" in captured.err


def test_ask_with_a_model_down_exits_1_with_the_reason(
    ws: str, fake_backends: FakeGenerator, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.core.errors import ProviderUnavailableError

    fake_backends.replies.append(
        ProviderUnavailableError("Ollama is not running.", hint="Start it with `ollama serve`.")
    )
    assert main(["ask", ws, "When?", "--json"]) == 1
    captured = capsys.readouterr()
    assert (
        json.loads(captured.out)["error"] == "Ollama is not running. Start it with `ollama serve`."
    )
    assert captured.err.startswith("botdesk: Ollama is not running.")
    assert main(["ask", ws, "When?", "--profile", "nope"]) == 1
    assert "No answer profile named 'nope'" in capsys.readouterr().err


def test_test_import_run_export_and_runs(
    ws: str, tmp_path: Path, fake_backends: FakeGenerator, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_file = tmp_path / "set.csv"
    csv_file.write_text(
        "question,expected_source,must_include,should_decline\n"
        "When do you open?,page1,eight,false\n"
        "Tell me a joke,,,true\n"
    )
    assert main(["test", "import", ws, str(csv_file)]) == 0
    assert "Imported 2 new" in capsys.readouterr().out
    assert main(["test", ws, "--json", "--concurrency", "2"]) == 0
    first = out_json(capsys)
    assert [r["passed"] for r in first["results"]] == [True, True]
    assert first["results"][0]["checks"] == {
        "retrieval": True,
        "must_include": True,
        "decline": True,
    }
    totals = first["totals"]["default"]
    assert totals["retrieval_hit_rate"] == 1.0 and totals["correct_declines"] == 1
    assert totals["valid_citations"] == 0  # it cited [7], which was not given
    assert first["compared_with_previous"] is None
    assert main(["profile", "set", ws, "b", "--generator", "ollama:other"]) == 0
    capsys.readouterr()
    assert main(["test", ws, "--profile", "default", "--profile", "b"]) == 0
    text = capsys.readouterr().out
    assert "PASS  b: When do you open?" in text and "Compared with run 1" in text
    assert main(["runs", ws, "--json"]) == 0
    runs = out_json(capsys)
    assert [r["id"] for r in runs["runs"]] == [2, 1]
    assert runs["compare_last_two"]["counts"]["new"] == 2  # profile b is new in run 2
    assert main(["runs", ws]) == 0
    assert "finished" in capsys.readouterr().out
    out = tmp_path / "out.jsonl"
    assert main(["test", "export", ws, str(out)]) == 0
    assert json.loads(out.read_text().splitlines()[1]) == {
        "question": "Tell me a joke",
        "should_decline": True,
    }


def test_test_import_errors_and_usage(
    ws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": ""}\n{"question": "ok", "should_decline": "perhaps"}\n')
    assert main(["test", "import", ws, str(bad)]) == 1
    err = capsys.readouterr().err
    assert "row 1: question is missing or empty" in err and "row 2: should_decline" in err
    assert main(["test", "import", ws]) == 2
    assert main(["test", ws]) == 1
    assert "The test set is empty" in capsys.readouterr().err
    assert main(["test", ws, "--bundle", str(tmp_path / "nope.bundle")]) == 1
    assert "No bundle file" in capsys.readouterr().err


def test_test_and_runs_json_keep_their_shape(
    ws: str, tmp_path: Path, fake_backends: FakeGenerator, capsys: pytest.CaptureFixture[str]
) -> None:
    """Runs are typed inside (RunResult, ProfileTotals, RunChange); the JSON is unchanged."""
    csv_file = tmp_path / "set.csv"
    csv_file.write_text("question,expected_source,must_include\nWhen do you open?,page0,eight\n")
    assert main(["test", "import", ws, str(csv_file)]) == 0
    assert main(["test", ws, "--json"]) == 0
    capsys.readouterr()
    assert main(["test", ws, "--json"]) == 0
    second = out_json(capsys)
    assert list(second) == ["run_id", "status", "results", "totals", "compared_with_previous"]
    assert list(second["results"][0]) == [
        "question", "profile", "expected", "passed", "checks", "answer", "declined",
        "citations", "invalid_citations", "passages", "tokens", "latency", "cost", "notes",
        "error",
    ]  # fmt: skip
    assert second["results"][0]["expected"] == {
        "question": "When do you open?",
        "expected_source": "page0",
        "must_include": ["eight"],
    }
    assert list(second["totals"]["default"]) == [
        "questions", "passed", "errors", "retrieval_hits", "retrieval_checked",
        "retrieval_hit_rate", "answered", "valid_citations", "valid_citation_rate",
        "correct_declines", "should_decline", "decline_checked", "decline_checks_passed",
        "prompt_tokens", "completion_tokens", "cost", "first_token_s_median",
        "total_s_median", "total_s_max",
    ]  # fmt: skip
    compared = second["compared_with_previous"]
    assert list(compared) == ["previous", "current", "counts", "changes"]
    assert compared["counts"] == {"better": 0, "worse": 0, "same": 1, "new": 0, "gone": 0}
    assert compared["changes"][0] == {
        "question": "When do you open?",
        "profile": "default",
        "change": "same",
        "before": True,
        "after": True,
        "checks_changed": {},
        "answer_changed": False,
    }
    assert main(["runs", ws, "--json"]) == 0
    runs = out_json(capsys)
    assert list(runs) == ["runs", "compare_last_two"]
    assert list(runs["runs"][0]) == [
        "id", "started_at", "finished_at", "status", "target", "profiles", "totals",
    ]  # fmt: skip
    assert runs["runs"][0]["totals"]["default"] == second["totals"]["default"]
