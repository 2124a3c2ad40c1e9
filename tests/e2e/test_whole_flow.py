"""The whole product through the command line, as a consultant would script it: a website
on loopback, Ollama and the hosted endpoint stood in for, every real client library in
between. Each stage reads what the previous one wrote to the workspace file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop.cli import main
from tests.helpers.receiver import Receiver
from tests.helpers.site_server import SiteServer

# The command line builds its Backends from the environment: point it at the stand-ins.
pytestmark = pytest.mark.usefixtures("cli_environment")

TOKEN = "test-token-123"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert code == 0, (args, err)
    return json.loads(out) if "--json" in args else out


def test_site_to_published_bot(
    tmp_path: Path,
    fake_ollama: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ws = str(tmp_path / "lumen.botdesk")
    _run(capsys, "init", ws, "--name", "Lumen", "--embedder", "ollama:all-minilm")
    with SiteServer() as site:
        _run(capsys, "add", "site", ws, site.url + "/", "--max-pages", "50")
        summary = _run(capsys, "sync", ws, "--json")
    assert summary["fetched"] >= 5, summary
    assert "robots" in json.dumps(summary["skipped"])  # /private/ is disallowed

    chunks = _run(capsys, "chunks", ws, "--json")
    assert any("40 euros" in c["text"] for c in chunks)
    assert not any("Staff only" in c["text"] for c in chunks)

    # Hybrid search (the default with an embedder) finds the price on the pricing page.
    found = _run(capsys, "search", ws, "How much is rye flour?", "-k", "3", "--json")
    top = found["results"][0]
    assert "40" in top["text"] and top["source"]["url"].endswith(("/pricing", "/sheet.pdf"))

    fake_ollama.chat_answer = "Rye flour costs 40 euros a sack [1]."
    _run(capsys, "profile", "set", ws, "default", "--generator", "ollama:llama3.2", "--k", "3")
    answer = _run(capsys, "ask", ws, "How much is rye flour?", "--json")
    assert answer["declined"] is False
    assert "40 euros" in answer["answer"]
    cited = answer["citations"][0]
    given = {p["chunk_id"]: p["text"] for p in answer["passages"]}
    assert "40" in given[cited["chunk_id"]]

    # What is tested is what goes live: the same test set against the bundle file.
    bundle = tmp_path / "lumen-bundle.sqlite"
    _run(capsys, "bundle", ws, "-o", str(bundle))
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        json.dumps(
            {
                "question": "How much is rye flour?",
                "must_include": "40 euros",
                "expected_source": "/pricing",
            }
        )
        + "\n"
    )
    _run(capsys, "test", "import", ws, str(questions))
    on_bundle = _run(capsys, "test", ws, "--bundle", str(bundle), "--json")
    assert on_bundle["totals"]["default"]["passed"] == 1, on_bundle["results"]
    # Both the pricing page and the product sheet state the price; the stand-in model cites [1].
    cited_url = on_bundle["results"][0]["citations"][0]["source"]["url"]
    assert cited_url.endswith(("/pricing", "/sheet.pdf")), cited_url

    monkeypatch.setenv("BOTDESK_PUBLISH_TOKEN", TOKEN)
    _run(capsys, "widget", ws, "--set", 'allowed_origins=["https://lumen.example"]')
    # The widget's question embedder follows the workspace's (the bundle's vectors must
    # match it); a dry run passes and warns that the hosted service embeds with another.
    dry_run = ["publish", ws, "--endpoint", "http://127.0.0.1:9", "--bot-id", "lumen", "--dry-run"]
    assert main(dry_run) == 0
    dry_out = capsys.readouterr().out
    assert "ollama:all-minilm" in dry_out, dry_out
    with Receiver(bots=("lumen",)) as receiver:
        _run(capsys, "publish", ws, "--endpoint", receiver.url, "--bot-id", "lumen")
        live = receiver.live("lumen")
    assert live is not None and live.manifest["embedding"]["model"] == "all-minilm"
