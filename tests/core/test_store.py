"""The workspace file: creation, migrations, refusal of foreign and newer files."""

from __future__ import annotations

from pathlib import Path

import apsw
import pytest

from desktop.core.content import queries
from desktop.core.errors import NotAWorkspaceError, WorkspaceError, WorkspaceTooNewError
from desktop.core.store.migrations import latest_version
from desktop.core.store.workspace import Workspace
from tests.core.test_workspace_state import read_only


def test_create_and_reopen_keeps_settings(tmp_path: Path) -> None:
    path = tmp_path / "acme.botdesk"
    with Workspace.create(path, name="Acme") as ws:
        ws.set_setting("embedder", "none")
        assert ws.scalar("pragma journal_mode") == "wal"
        assert ws.scalar("select vec_version()").startswith("v")
    with Workspace.open(path) as ws:
        assert ws.name == "Acme"
        assert ws.setting("embedder") == "none"
        assert ws.scalar("pragma user_version") == latest_version()
        names = [r["name"] for r in ws.fetch_all("select name from schema_migrations")]
        assert names[0] == "m0001_content"


def test_create_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "acme.botdesk"
    path.write_text("precious")
    with pytest.raises(WorkspaceError, match="already exists"):
        Workspace.create(path, name="Acme")
    assert path.read_text() == "precious"


@pytest.mark.parametrize("content", [b"", b"hello world" * 100, b"\x00\xff" * 3000])
def test_not_a_workspace(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.botdesk"
    path.write_bytes(content)
    with pytest.raises(NotAWorkspaceError):
        Workspace.open(path)
    assert path.read_bytes() == content


def test_other_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = apsw.Connection(str(path))
    conn.execute("create table t(x)")
    conn.close()
    with pytest.raises(NotAWorkspaceError, match="not a Botdesk workspace"):
        Workspace.open(path)


def test_newer_workspace_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "future.botdesk"
    Workspace.create(path, name="Future").close()
    conn = apsw.Connection(str(path))
    conn.execute(f"pragma user_version = {latest_version() + 1}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(WorkspaceTooNewError, match="newer Botdesk"):
        Workspace.open(path)
    assert path.read_bytes() == before


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="No workspace"):
        Workspace.open(tmp_path / "nope.botdesk")


def test_fts_follows_passage_text(workspace: Workspace) -> None:
    ws = workspace
    now = "2026-01-01T00:00:00+00:00"
    ws.execute("insert into sources(kind, location, created_at) values ('text', '', ?)", (now,))
    ws.execute("insert into documents(source_id, uri, updated_at) values (1, 'text:1', ?)", (now,))
    ws.execute(
        "insert into passages(document_id, ordinal, source_text, source_hash, text, text_hash,"
        " tokens, created_at, updated_at) values (1, 0, 'Our prices', 'h', 'Our prices', 'h',"
        " 2, ?, ?)",
        (now, now),
    )
    match = "select rowid from passages_fts where passages_fts match ?"
    assert ws.fetch_all(match, ("pricing",)) == [{"rowid": 1}]  # porter stemming
    ws.execute("update passages set text = 'Opening hours' where id = 1")
    assert ws.fetch_all(match, ("price",)) == []
    assert ws.fetch_all(match, ("hours",)) == [{"rowid": 1}]


def test_packed_fetch_returns_what_fetch_all_does(workspace: Workspace) -> None:
    """The documents list is read in one SQLite step (JSON-packed): same rows, same order,
    NULLs and non-ASCII text kept."""
    ws = workspace
    ws.execute(
        "insert into sources(kind, location, created_at) values ('files', '/s', '2026-01-01')"
    )
    source_id = ws.last_insert_id()
    for uri, title in (("/s/b.md", "Ünïcode “quotes” \\ \n"), ("/s/a.md", ""), ("/s/c.md", "x")):
        ws.execute(
            "insert into documents(source_id, uri, title, status, excluded, updated_at)"
            " values (?, ?, ?, 'ok', 0, '2026-01-01')",
            (source_id, uri, title),
        )
    plain = ws.fetch_all(queries.DOCUMENT_SQL + " order by d.uri")
    packed = ws.fetch_all_packed(queries.DOCUMENT_COLUMNS, "from documents d", order_by="d.uri")
    assert packed == plain and [r["uri"] for r in packed] == ["/s/a.md", "/s/b.md", "/s/c.md"]
    assert packed[0]["fetched_at"] is None and packed[1]["title"] == "Ünïcode “quotes” \\ \n"
    assert queries.documents(ws, source_id=source_id + 1) == []


def test_open_again_gives_a_second_connection_of_the_same_kind(tmp_path: Path) -> None:
    path = tmp_path / "acme.botdesk"
    with Workspace.create(path, name="Acme") as ws:
        other = ws.open_again()
        try:
            with other.transaction():
                other.set_setting("from-the-other", 1)
            assert other.conn is not ws.conn and ws.setting("from-the-other") == 1
        finally:
            other.close()
    with read_only(path), Workspace.open(path) as ws:
        other = ws.open_again()
        try:
            assert other.readonly and other.setting("from-the-other") == 1
        finally:
            other.close()
