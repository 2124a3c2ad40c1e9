"""Hostile files through the command line: one item error each, the sync goes on, no traceback."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from desktop.cli import main

# A name as Windows tools and zip archives write it: Latin-1 'é', not valid UTF-8.
LATIN1_NAME = b"caf\xe9.md"


@pytest.fixture
def ws(tmp_path: Path) -> str:
    path = tmp_path / "acme.botdesk"
    assert main(["init", str(path), "--name", "Acme"]) == 0
    return str(path)


def _docs(ws: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["docs", ws, "--json"]) == 0
    docs = json.loads(capsys.readouterr().out)
    assert isinstance(docs, list)
    return docs


def test_a_file_name_that_is_not_utf8_is_one_item_error_and_the_sync_goes_on(
    ws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# Alpha\n\nAlpha opens at nine.\n", encoding="utf-8")
    with open(os.path.join(os.fsencode(folder), LATIN1_NAME), "wb") as file:
        file.write(b"# Cafe\n\nThe cafe opens at ten.\n")
    (folder / "z.md").write_text("# Zulu\n\nZulu closes at five.\n", encoding="utf-8")
    assert main(["add", "files", ws, str(folder)]) == 0
    capsys.readouterr()
    for _ in range(2):  # every run, not only the first
        assert main(["sync", ws]) == 0
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        assert "caf\ufffd.md: the file name is not valid UTF-8" in out
        assert "1 failed" in out
    by_title = {d["title"]: d["status"] for d in _docs(ws, capsys)}
    assert by_title["Alpha"] in ("ok", "unchanged") and by_title["Zulu"] in ("ok", "unchanged")
    failed = [d for d in _docs(ws, capsys) if d["status"] == "failed"]
    assert len(failed) == 1 and "rename the file" in str(failed[0]["status_reason"])


def test_init_with_a_name_that_is_not_utf8_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"caf\xe9.botdesk"))
    assert main(["init", path, "--name", "Cafe"]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert "is not valid UTF-8" in err and "Rename the file" in err
    assert not any(tmp_path.iterdir())  # nothing half-created


def test_random_bytes_named_md_are_refused_as_an_item_error(
    ws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    rng = random.Random(7)
    (folder / "noise.md").write_bytes(bytes(rng.randrange(256) for _ in range(20_000)))
    # Random bytes without a NUL: only the decoding gives them away.
    (folder / "noise2.md").write_bytes(bytes(rng.randrange(1, 256) for _ in range(20_000)))
    (folder / "real.md").write_text("# Real\n\nReal text about returns.\n", encoding="utf-8")
    assert main(["add", "files", ws, str(folder)]) == 0
    capsys.readouterr()
    assert main(["sync", ws]) == 0
    out = capsys.readouterr().out
    assert "noise.md: Not a text document: the file holds binary data (NUL bytes)" in out
    assert "noise2.md: Not readable text: unreadable characters" in out
    capsys.readouterr()
    assert main(["chunks", ws, "--json"]) == 0
    passages = json.loads(capsys.readouterr().out)
    assert [p["text"] for p in passages] == ["# Real\n\nReal text about returns."]


def test_adding_a_folder_whose_name_is_not_utf8_says_so_in_one_line(
    ws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = os.path.join(os.fsencode(tmp_path), b"docs-\xe9")
    os.mkdir(folder)
    capsys.readouterr()
    assert main(["add", "files", ws, os.fsdecode(folder)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert "docs-\ufffd is not valid UTF-8" in err
    capsys.readouterr()
    assert main(["sources", ws, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # nothing half-added
