"""File ▸ Settings…: the embedder with its cost before switching, connection tests, the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from desktop.services import answers, content, content_sources, index
from desktop.ui.main_window import MainWindow


def _workspace_with_text(window: MainWindow, tmp_path: Path, qloop: Any) -> None:
    assert window.create_path(str(tmp_path / "acme.botdesk"), "Acme")
    ws = window.context.workspace
    assert ws is not None
    content_sources.add_text(
        ws, "Opening hours", "We open at seven every morning, bread since 1990."
    )
    from desktop.core.jobs import Job

    qloop.run(content.sync(ws, Job("sync"), backends=window.context.backends))


def test_embedder_shows_cost_then_switches(
    window: MainWindow, tmp_path: Path, qloop: Any, fake_ollama: Any
) -> None:
    _workspace_with_text(window, tmp_path, qloop)
    dialog = window.open_settings()
    assert dialog.embedder_combo.currentText() == "none"
    assert "keyword search only" in dialog.embedder_status.text()

    dialog.embedder_combo.setCurrentText("ollama:all-minilm")
    assert "1 of 1 passage(s) to embed" in dialog.embedder_estimate.text()
    assert window.context.workspace is not None
    assert index.index_status(window.context.workspace).embedder == "none"  # nothing yet

    dialog.apply_embedder_button.click()
    assert index.index_status(window.context.workspace).embedder == "ollama:all-minilm"

    dialog.embedder_combo.setCurrentText("nonsense")
    assert "Unknown embedder" in dialog.embedder_estimate.text()
    assert not dialog.apply_embedder_button.isEnabled()


def test_connection_tests_report_success_and_the_fix(
    window: MainWindow, qloop: Any, fake_ollama: Any
) -> None:
    dialog = window.open_settings()
    assert not dialog.embedder_combo.isEnabled()  # no workspace open
    dialog.ollama_model_edit.setText("ollama:llama3.2")
    dialog.ollama_test_button.click()
    qloop.run(dialog.wait_idle())
    assert dialog.ollama_result.text().startswith("✓")

    dialog.ollama_model_edit.setText("ollama:qwen3")
    dialog.ollama_test_button.click()
    qloop.run(dialog.wait_idle())
    assert "ollama pull qwen3" in dialog.ollama_result.text()


def test_mistral_key_without_keyring_says_what_to_do(
    window: MainWindow, qloop: Any, fake_mistral: Any, monkeypatch: Any
) -> None:
    dialog = window.open_settings()
    # The tests' keyring refuses everything: the key fields are off and the label says why.
    assert not dialog.key_edit.isEnabled()
    assert "MISTRAL_API_KEY" in dialog.keyring_label.text()
    dialog.mistral_test_button.click()  # the environment's key (set by the fixture) works
    qloop.run(dialog.wait_idle())
    assert dialog.mistral_result.text().startswith("✓"), dialog.mistral_result.text()

    monkeypatch.setenv("MISTRAL_API_KEY", "wrong")
    dialog.mistral_test_button.click()
    qloop.run(dialog.wait_idle())
    assert "rejected the API key" in dialog.mistral_result.text()


def test_the_model_field_sets_the_generator_of_the_checked_profiles(
    window: MainWindow, tmp_path: Path, qloop: Any
) -> None:
    """The defect: the Settings "Model" field changed no profile's generator."""
    assert window.create_path(str(tmp_path / "acme.botdesk"), "Acme")
    ws = window.context.workspace
    assert ws is not None
    answers.set_profile(ws, "careful", generator="ollama:llama3.2")
    dialog = window.open_settings()
    assert dialog.height() <= 640  # fits a laptop's screen: the body scrolls
    assert any("default if none" in label.text() for label in dialog.findChildren(QLabel))
    names = [dialog.profile_list.item(i).text() for i in range(dialog.profile_list.count())]
    assert sorted(names) == ["careful  (ollama:llama3.2)", "default  (ollama:llama3.2)"]
    careful = next(i for i, name in enumerate(names) if name.startswith("careful"))
    assert dialog.checked_profiles() == ["default"]  # the default profile unless others

    dialog.answer_model_combo.setCurrentText("mistral:mistral-small-latest")
    dialog.apply_model_button.click()
    assert answers.get_profile(ws, "default").generator == "mistral:mistral-small-latest"
    assert answers.get_profile(ws, "careful").generator == "ollama:llama3.2"
    assert "now answers in: default" in dialog.answer_model_result.text()

    dialog.profile_list.item(careful).setCheckState(Qt.CheckState.Checked)
    dialog.answer_model_combo.setCurrentText("ollama:qwen3")
    dialog.apply_model_button.click()
    assert answers.get_profile(ws, "careful").generator == "ollama:qwen3"
    assert answers.get_profile(ws, "default").generator == "ollama:qwen3"

    dialog.answer_model_combo.setCurrentText("none")
    dialog.apply_model_button.click()
    assert dialog.answer_model_result.text().startswith("✗")
    assert answers.get_profile(ws, "default").generator == "ollama:qwen3"


def test_settings_open_the_model_set_up(window: MainWindow, qloop: Any, fake_ollama: Any) -> None:
    dialog = window.open_settings()
    setup = dialog.open_model_setup()
    qloop.run(setup.panel.wait_idle())
    assert setup.isVisible() and "✓ Ollama" in setup.panel.ollama_status.text()
