"""`botdesk search`, `why-not` and `embedder`: the JSON contract, --queries, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop.cli import main

# The command line builds its Backends from the environment: point it at the stand-ins.
pytestmark = pytest.mark.usefixtures("cli_environment")

RESULT_KEYS = {"rank", "score", "chunk_id", "text", "heading", "source"}


def _site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "returns.md").write_text(
        "# Returns\n\n## Refunds\n\nRefunds are paid to your card within five days.\n",
        encoding="utf-8",
    )
    (folder / "shipping.md").write_text(
        "# Shipping\n\nShipping abroad costs twelve euros and takes a week.\n", encoding="utf-8"
    )
    (folder / "hours.md").write_text(
        "# Hours\n\nThe shop opens at nine and closes at six.\n", encoding="utf-8"
    )
    return folder


def _ws(tmp_path: Path, embedder: str) -> str:
    path = str(tmp_path / "shop.botdesk")
    assert main(["init", path, "--name", "Shop", "--embedder", embedder]) == 0
    assert main(["add", "files", path, str(_site(tmp_path))]) == 0
    assert main(["sync", path]) == 0
    return path


def _check_result(result: dict[str, Any], rank: int) -> None:
    assert set(result) == RESULT_KEYS
    assert result["rank"] == rank
    assert isinstance(result["score"], float) and isinstance(result["chunk_id"], int)
    assert set(result["source"]) == {"path", "title", "page"}


def test_search_json_with_an_embedder(
    fake_ollama: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _ws(tmp_path, "ollama:all-minilm")
    capsys.readouterr()
    assert main(["search", ws, "how are refunds paid", "--json", "-k", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"query", "results"} and out["query"] == "how are refunds paid"
    assert len(out["results"]) == 2
    for rank, result in enumerate(out["results"], 1):
        _check_result(result, rank)
    assert "Refunds are paid" in out["results"][0]["text"]
    assert out["results"][0]["heading"] == "Returns > Refunds"
    for mode in ("keyword", "vector", "hybrid"):
        assert main(["search", ws, "refunds card", "--mode", mode, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["results"]

    assert main(["search", ws, "refunds card"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("RANK") and "returns.md" in table


def test_search_queries_file_prints_one_json_line_per_query(
    fake_ollama: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _ws(tmp_path, "ollama:all-minilm")
    queries = tmp_path / "queries.txt"
    queries.write_text("refunds to my card\n\nwhen does the shop open\nshipping abroad\n")
    capsys.readouterr()
    assert main(["search", ws, "--queries", str(queries), "--json", "-k", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    parsed = [json.loads(line) for line in lines]
    assert [p["query"] for p in parsed] == [
        "refunds to my card",
        "when does the shop open",
        "shipping abroad",
    ]
    assert "open" in parsed[1]["results"][0]["text"]
    for p in parsed:
        _check_result(p["results"][0], 1)


def test_keyword_only_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = _ws(tmp_path, "none")
    capsys.readouterr()
    assert main(["search", ws, "refunds", "--json"]) == 0
    captured = capsys.readouterr()
    assert "Refunds are paid" in json.loads(captured.out)["results"][0]["text"]
    assert main(["search", ws, "refunds", "--mode", "hybrid", "--json"]) == 0
    assert "keyword search was used" in capsys.readouterr().err
    assert main(["search", ws, "refunds", "--mode", "vector"]) == 1
    assert "Vector search is not possible" in capsys.readouterr().err
    assert main(["search", ws, "zebra unicorn", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"query": "zebra unicorn", "results": []}


def test_usage_errors_and_not_a_workspace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _ws(tmp_path, "none")
    assert main(["search", ws]) == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["search", ws, "q", "--mode", "fuzzy"])
    assert exit_info.value.code == 2
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    assert main(["search", str(other), "q"]) == 1
    assert main(["search", ws, "--queries", str(tmp_path / "missing.txt"), "--json"]) == 1
    assert "Cannot read the queries file" in capsys.readouterr().err
    assert main(["search", ws, "q", "-k", "0"]) == 1


def test_why_not_and_embedder_commands(
    fake_ollama: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _ws(tmp_path, "ollama:all-minilm")
    capsys.readouterr()
    assert main(["search", ws, "shop opening hours", "--json"]) == 0
    hours = next(
        r["chunk_id"]
        for r in json.loads(capsys.readouterr().out)["results"]
        if "opens" in r["text"]
    )
    assert main(["chunk", "exclude", ws, str(hours)]) == 0
    capsys.readouterr()
    assert main(["why-not", ws, "shop opening hours", str(hours), "--json"]) == 0
    why = json.loads(capsys.readouterr().out)
    assert why["included"] is False
    assert set(why["modes"]) == {"keyword", "vector", "hybrid"}
    assert "excluded" in why["modes"]["hybrid"]["cut_by"]
    assert main(["why-not", ws, "shop opening hours", str(hours)]) == 0
    assert "Not retrieved" in capsys.readouterr().out

    assert main(["embedder", ws]) == 0
    assert "embedded by ollama:all-minilm, 384 dimensions" in capsys.readouterr().out
    assert main(["embedder", ws, "mistral:mistral-embed"]) == 0
    shown = capsys.readouterr().out
    assert "to embed" in shown and "--yes" in shown
    assert main(["embedder", ws, "ollama:nomic-embed-text", "--yes", "--json"]) == 0
    switched = json.loads(capsys.readouterr().out)
    assert switched["switched"] is True and switched["estimate"]["to_embed"] > 0
    assert main(["embedder", ws, "bogus"]) == 1
