"""The first hour: the first-run guide and the model set-up, in the real window, against the
Ollama stand-in (no model server of any other kind)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from desktop.services import answers, content_sources, index
from desktop.ui.first_run.model_step import ModelSetupDialog
from desktop.ui.first_run.name_step import file_name_for
from desktop.ui.first_run.wizard import FirstRunWizard
from desktop.ui.main_window import MainWindow
from tests.helpers.backends import test_backends
from tests.helpers.site_server import SiteServer

PAGES = {
    "bread.md": "# Bread\n\nOur sourdough is baked every morning at six.\n",
    "hours.md": "# Hours\n\nThe bakery opens at seven and closes at two on Sundays.\n",
}


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in PAGES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _guide(window: MainWindow, tmp_path: Path, name: str = "Acme Bakery") -> FirstRunWizard:
    wizard = window.start_first_run_if_new()
    assert isinstance(wizard, FirstRunWizard)
    wizard.name_page.name_edit.setText(name)
    wizard.name_page.folder_edit.setText(str(tmp_path / "bots"))
    return wizard


def test_first_start_guides_from_a_name_to_a_first_answer(
    window: MainWindow, tmp_path: Path, qloop: Any, fake_ollama: Any
) -> None:
    asked: list[str] = []
    wizard = _guide(window, tmp_path)

    def ask(question: str) -> None:  # observes, then asks as the window does
        asked.append(question)
        window.ask_first_question(question)

    wizard._ask = ask
    assert wizard.isVisible() and wizard.currentPage() is wizard.name_page
    expected = tmp_path / "bots" / "acme-bakery.botdesk"
    assert str(expected) in wizard.name_page.path_label.text()

    wizard.next()  # creates the workspace
    ws = window.workspace
    assert ws is not None and ws.name == "Acme Bakery" and expected.exists()
    assert window.windowTitle() == "Botdesk — acme-bakery.botdesk"

    wizard.sources_page.add_paths([str(_folder(tmp_path))])
    wizard.next()  # adds the files and starts the first sync
    assert wizard.currentPage() is wizard.models_page
    assert wizard.sync_job is not None
    assert [s.kind for s in content_sources.list_sources(ws)] == ["files"]

    panel = wizard.models_page.panel
    qloop.run(panel.wait_idle())
    assert panel.ollama_status.text().startswith(f"✓ Ollama at {fake_ollama.url}")
    assert panel.pull_edit.text() == ""  # both suggested models are there already
    qloop.run(window.jobs.wait_all())
    panel.embedder_combo.setCurrentText("ollama:all-minilm")
    assert "2 of 2 passage(s) to embed" in panel.cost_label.text()
    panel.generator_combo.setCurrentText("ollama:llama3.2")
    wizard.next()  # records the models
    assert index.index_status(ws).embedder == "ollama:all-minilm"
    assert answers.get_profile(ws, "default").generator == "ollama:llama3.2"

    assert "Sync finished" in wizard.ready_page.sync_label.text()
    wizard.ready_page.question_edit.setText("When do you open on Sunday?")
    wizard.accept()
    qloop.wait_until(lambda: bool(asked))
    qloop.run(window.jobs.wait_all())
    assert asked == ["When do you open on Sunday?"]
    assert index.index_status(ws).pending == 0  # embedded before asking
    bench: Any = window.pages[window.nav.currentRow()]
    assert bench.title == "Test bench"
    qloop.run(bench.wait_idle())  # the answer to the first question


def test_the_guide_only_opens_for_a_new_user(
    window: MainWindow, tmp_path: Path, qloop: Any
) -> None:
    wizard = _guide(window, tmp_path)
    wizard.next()
    wizard.close()
    assert window.start_first_run_if_new() is None  # a workspace is open
    window.close_workspace()
    qloop.wait_until(lambda: window.workspace is None)
    assert window.recent_workspaces()
    assert window.start_first_run_if_new() is None  # not new: recent workspaces exist


def test_an_existing_file_is_not_overwritten(
    window: MainWindow, tmp_path: Path, qloop: Any
) -> None:
    (tmp_path / "bots").mkdir()
    taken = tmp_path / "bots" / file_name_for("Acme Bakery")
    taken.write_text("someone's notes")
    wizard = _guide(window, tmp_path)
    assert "exists already" in wizard.name_page.path_label.text()
    wizard.next()
    assert wizard.currentPage() is wizard.name_page and window.workspace is None
    assert taken.read_text() == "someone's notes"


def test_a_bad_source_keeps_the_step_and_adds_nothing(
    window: MainWindow, tmp_path: Path, qloop: Any
) -> None:
    wizard = _guide(window, tmp_path)
    wizard.next()
    ws = window.workspace
    assert ws is not None
    wizard.sources_page.url_edit.setText("https://www.example.com/")
    wizard.sources_page.add_paths([str(tmp_path / "missing.pdf")])
    wizard.next()
    assert wizard.currentPage() is wizard.sources_page and wizard.sync_job is None
    assert "No such file or folder" in wizard.sources_page.result_label.text()
    assert content_sources.list_sources(ws) == []  # not the site either


def test_the_website_step_uses_the_crawl_preview(
    window: MainWindow, tmp_path: Path, qloop: Any
) -> None:
    wizard = _guide(window, tmp_path)
    wizard.next()
    with SiteServer() as site:
        wizard.sources_page.url_edit.setText(site.url + "/")
        dialog = wizard.sources_page.open_preview()
        qloop.run(window.jobs.wait_all())
        assert dialog.preview is not None and dialog.tree_rows()
        dialog.exclude_edit.setPlainText("*/blog/*")
        dialog.add_button.click()
        assert wizard.sources_page.site_settings["exclude"] == ["*/blog/*"]
        assert "not */blog/*" in wizard.sources_page.site_label.text()
        wizard.next()
        ws = window.workspace
        assert ws is not None
        [source] = content_sources.list_sources(ws)
        assert source.kind == "site" and source.location == site.url + "/"
        window.jobs_dock.controller.cancel(wizard.sync_job.job_id if wizard.sync_job else -1)
        qloop.run(window.jobs.wait_all())


def test_a_missing_model_is_downloaded_with_progress(
    window: MainWindow, tmp_path: Path, qloop: Any, fake_ollama: Any
) -> None:
    fake_ollama.remove_model("llama3.2")
    assert window.create_path(str(tmp_path / "shop.botdesk"), "Shop")
    dialog = window.open_model_setup()
    panel = dialog.panel
    qloop.run(panel.wait_idle())
    assert panel.pull_edit.text() == "llama3.2"
    assert "ollama:llama3.2" not in [
        panel.generator_combo.itemText(i) for i in range(panel.generator_combo.count())
    ]
    seen: list[str] = []
    handle = panel.start_download()
    assert handle is not None
    handle.changed.connect(lambda _event: seen.append(panel.pull_bar.format()))
    qloop.run(window.jobs.wait_all())
    qloop.run(panel.wait_idle())
    assert panel.pull_result.text() == "✓ Downloaded llama3.2."
    assert any(text.endswith(" of 1925.8 MB") for text in seen), seen
    assert "ollama:llama3.2" in [
        panel.generator_combo.itemText(i) for i in range(panel.generator_combo.count())
    ]


def test_no_ollama_says_how_to_start_it(
    window: MainWindow, tmp_path: Path, qloop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    window.context.backends = test_backends(ollama=f"http://127.0.0.1:{port}")
    dialog = window.open_model_setup()
    qloop.run(dialog.panel.wait_idle())
    assert "ollama serve" in dialog.panel.ollama_status.text()
    assert not dialog.panel.pull_button.isEnabled()
    assert not dialog.apply_button.isEnabled()  # no workspace open
    # Without a keyring (the tests' backend refuses) the key field says what to do instead.
    assert not dialog.panel.key_edit.isEnabled()
    assert "MISTRAL_API_KEY" in dialog.panel.key_status.text()


def test_ollama_on_another_computer_is_found_and_remembered(
    window: MainWindow, qloop: Any, tmp_path: Path
) -> None:
    from tests.helpers.fake_ollama import FakeOllama

    dialog = window.open_model_setup()
    panel = dialog.panel
    qloop.run(panel.wait_idle())
    assert "✗" in panel.ollama_status.text()  # nothing at the default address in tests
    panel.server_edit.setText("http://box:port")  # a typo: said, nothing changes
    panel.check_button.click()
    assert "not a server address" in panel.ollama_status.text()
    before = window.context.backends.ollama_host
    assert before != "http://box:port"
    with FakeOllama() as elsewhere:
        typed = elsewhere.url.removeprefix("http://")  # typed without the scheme
        panel.server_edit.setText(typed)
        panel.server_edit.returnPressed.emit()
        qloop.run(panel.wait_idle())
        assert panel.ollama_status.text().startswith(f"✓ Ollama at {elsewhere.url}")
        assert panel.server_edit.text() == elsewhere.url
        assert window.context.backends.ollama_host == elsewhere.url
        # Remembered in the window's settings: the next start uses it.
        assert window.settings.value("models/ollama_host") == elsewhere.url


def test_pages_asking_for_a_model_open_the_model_set_up(window: MainWindow) -> None:
    asking = [p for p in window.pages if hasattr(p, "model_setup_requested")]
    if not asking:
        pytest.skip("no page emits model_setup_requested yet (the Test bench adds it)")
    asking[0].model_setup_requested.emit()
    assert [d for d in window.findChildren(ModelSetupDialog) if d.isVisible()]
