"""Checks speak the widget form's language, and the question embedder follows the workspace."""

from __future__ import annotations

import re
from pathlib import Path

from desktop.core.publish import checks, widget_config
from desktop.core.store.workspace import Workspace
from tests.core.publish.factory import sample_workspace

MINILM = {"provider": "ollama", "model": "all-minilm", "dimensions": 384}
# A dotted config key outside the command-line hint (the part in backticks).
DOTTED_KEY = re.compile(r"\b[a-z_]+\.[a-z_]+\b")


def _outside_backticks(text: str) -> str:
    return re.sub(r"`[^`]*`", "", text)


def test_question_embedder_defaults_to_the_workspace_one(workspace: Workspace) -> None:
    assert widget_config.default_config(workspace)["answering"]["embedding_model"] == (
        widget_config.HOSTED_EMBEDDER  # no embedder: keyword only, the hosted one by default
    )
    workspace.set_setting("embedder", "ollama:all-minilm")
    config = widget_config.default_config(workspace)
    assert config["answering"]["embedding_model"] == "ollama:all-minilm"
    assert widget_config.validate(config) == []


def test_a_workspace_embedder_is_explained_not_refused(
    workspace: Workspace, tmp_path: Path
) -> None:
    sample_workspace(workspace, str(tmp_path))
    workspace.set_setting("embedder", "ollama:all-minilm")
    widget = widget_config.set_value(
        widget_config.default_config(workspace), "allowed_origins", ["https://example.com"]
    )
    found = checks.run_checks(workspace, widget, embedding=MINILM)
    assert "embedder-mismatch" not in {c.code for c in found}
    hosted = next(c for c in found if c.code == "hosted-embedder")
    assert hosted.severity == "warning"
    assert "ollama:all-minilm" in hosted.message and "mistral:mistral-embed" in hosted.message
    assert "\u201cQuestion embedder\u201d" in hosted.fix


def test_fix_texts_name_the_form_labels(workspace: Workspace, tmp_path: Path) -> None:
    sample_workspace(workspace, str(tmp_path))
    widget = widget_config.set_value(widget_config.default_config(workspace), "bot_name", "")
    found = checks.run_checks(workspace, widget, embedding=MINILM)
    fixes = {c.code: c.fix for c in found}
    assert "\u201cQuestion embedder\u201d" in fixes["embedder-mismatch"]
    widget_fixes = [c.fix for c in found if c.code == "widget-config"]
    assert any("\u201cAllowed websites\u201d" in fix for fix in widget_fixes)
    assert any("\u201cBot name\u201d" in fix for fix in widget_fixes)
    for check in found:
        assert not DOTTED_KEY.search(_outside_backticks(check.fix)), check.fix


def test_field_labels_cover_indexed_fields() -> None:
    assert widget_config.field_label("allowed_origins[1]") == "Allowed websites, line 2"
    assert widget_config.field_label("theme.primary_color") == "Primary colour"
    assert widget_config.field_label("unknown.key") == "unknown.key"


def test_origin_problems_have_form_words_too(workspace: Workspace) -> None:
    config = widget_config.default_config(workspace)
    [empty] = widget_config.publish_problems(config)
    assert "allow_any_origin=true" in empty.message  # the command line's words stay
    assert empty.label == "Allowed websites" and "\u201cAny website\u201d" in empty.form_message
    assert "allowed_origins" not in empty.form_message
    star = widget_config.set_value(config, "allowed_origins", ["*"])
    [unconfirmed] = widget_config.publish_problems(star)
    assert "ticking \u201cAny website\u201d" in unconfirmed.form_message
