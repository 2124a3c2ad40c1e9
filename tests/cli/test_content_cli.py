"""The content commands: each verb, JSON shapes, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.cli import main


@pytest.fixture
def ws(tmp_path: Path) -> str:
    path = tmp_path / "acme.botdesk"
    assert main(["init", str(path), "--name", "Acme"]) == 0
    return str(path)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    (root / "pricing.md").write_text(
        "# Pricing\n\n| Plan | Price |\n|---|---|\n| Basic | 10 EUR |\n\n"
        "Prices exclude VAT and are billed monthly to the account holder.\n",
        encoding="utf-8",
    )
    (root / "faq.md").write_text("# FAQ\n\nWe deliver on weekdays only.\n", encoding="utf-8")
    return root


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> object:
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_add_sync_docs_chunks_and_curate(
    ws: str, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["add", "files", ws, str(folder)]) == 0
    assert main(["add", "text", ws, "--title", "Hours", "--text", "Open 7 to 17."]) == 0
    note = tmp_path / "note.txt"
    note.write_text("Closed in August.", encoding="utf-8")
    assert main(["add", "text", ws, "--title", "Holidays", "--file", str(note)]) == 0
    assert main(["add", "qa", ws, "--question", "Sundays?", "--answer", "Closed."]) == 0
    assert (
        main(
            ["add", "site", ws, "https://example.com/", "--include", "/docs/*", "--max-pages", "5"]
        )
        == 0
    )
    sources = _json(capsys, ["sources", ws, "--json"])
    assert isinstance(sources, list)
    assert [s["kind"] for s in sources] == ["files", "text", "text", "qa", "site"]
    assert sources[4]["settings"]["include"] == ["/docs/*"]

    capsys.readouterr()
    # Sync only the local sources: the site is not reachable from a test.
    ids = [str(s["id"]) for s in sources[:4]]
    argv = ["sync", ws, "--json"]
    for source_id in ids:
        argv += ["--source", source_id]
    assert main(argv) == 0
    out = capsys.readouterr()
    summary = json.loads(out.out)
    assert summary["fetched"] == 5 and summary["failed"] == {}
    assert set(summary["passages"]) >= {"added", "changed", "removed", "needs_review"}
    assert "[read]" in out.err  # progress on stderr

    docs = _json(capsys, ["docs", ws, "--json", "--text"])
    assert isinstance(docs, list)
    pricing = next(d for d in docs if d["uri"].endswith("pricing.md"))
    assert pricing["status"] == "ok" and "| Basic | 10 EUR |" in pricing["markdown"]

    chunks = _json(capsys, ["chunks", ws, "--json"])
    assert isinstance(chunks, list)
    keys = {"id", "uri", "title", "heading_path", "page", "state", "tokens", "text"}
    assert keys <= set(chunks[0])
    first = chunks[0]["id"]
    assert main(["chunk", "exclude", ws, str(first)]) == 0
    excluded = _json(capsys, ["chunks", ws, "--json", "--state", "excluded"])
    assert [c["id"] for c in excluded] == [first]  # type: ignore[index]
    assert main(["chunk", "include", ws, str(first)]) == 0
    new_text = tmp_path / "edit.txt"
    new_text.write_text("Basic plan: 10 EUR a month.", encoding="utf-8")
    assert main(["chunk", "edit", ws, str(first), "--text-file", str(new_text)]) == 0
    edited = _json(capsys, ["chunks", ws, "--json", "--state", "edited"])
    assert [c["text"] for c in edited] == ["Basic plan: 10 EUR a month."]  # type: ignore[index]
    assert (
        main(["chunk", "add", ws, "--document", str(pricing["id"]), "--text-file", str(new_text)])
        == 0
    )
    found = _json(capsys, ["chunks", ws, "--json", "--search", "VAT"])
    assert [c["title"] for c in found] == ["Pricing"]  # type: ignore[index]
    capsys.readouterr()
    assert main(["chunks", ws]) == 0
    assert "heading" in capsys.readouterr().out
    assert main(["docs", ws]) == 0
    assert main(["boilerplate", ws, "--json"]) == 0


def test_failures_exit_1_with_one_line(
    ws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["add", "files", ws, str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert "No such file or folder" in err and err.count("\n") == 1
    assert main(["chunk", "exclude", ws, "42"]) == 1
    assert main(["chunk", "edit", ws, "1", "--text-file", str(tmp_path / "nope.txt")]) == 1
    assert main(["boilerplate", ws, "--exclude", "nokey"]) == 1
    assert main(["add", "site", ws, "not a url"]) == 1
    bogus = tmp_path / "bogus.botdesk"
    bogus.write_text("hello")
    capsys.readouterr()
    assert main(["sources", str(bogus)]) == 1
    assert "not a Botdesk workspace" in capsys.readouterr().err
    assert main(["docs", str(tmp_path / "absent.botdesk")]) == 1


def test_usage_errors_exit_2(ws: str) -> None:
    for argv in (
        ["chunks"],
        ["add", "text", ws, "--title", "T"],  # neither --text nor --file
        ["chunk", "exclude", ws, "abc"],
        ["add", "qa", ws, "--question", "Q"],
        ["chunk", "resolve", ws, "1", "--keep", "both"],
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2, argv


def test_demo_builds_without_gui(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "demo.botdesk"
    assert main(["demo", "--no-gui", "--path", str(path)]) == 0
    assert capsys.readouterr().out.strip() == str(path)
    docs = _json(capsys, ["docs", str(path), "--json"])
    assert isinstance(docs, list)
    names = {Path(d["uri"]).name for d in docs}
    assert {"pricing.html", "faq.html", "product-sheet.pdf"} <= names
    assert all(d["status"] == "ok" for d in docs)
    chunks = _json(capsys, ["chunks", str(path), "--json", "--search", "Enterprise"])
    assert chunks
    pdf = _json(capsys, ["chunks", str(path), "--json"])
    assert {c["page"] for c in pdf if c["uri"].endswith(".pdf")} == {1, 2, 3}  # type: ignore[index]
    # Building again reuses it: everything unchanged.
    assert main(["demo", "--no-gui", "--path", str(path)]) == 0
