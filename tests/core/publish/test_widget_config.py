"""The widget config: defaults valid, errors name the field and say why, origins rule."""

from __future__ import annotations

import json

import pytest

from desktop.core.errors import ConfigError
from desktop.core.publish import widget_config as wc
from desktop.core.store.workspace import Workspace


def test_defaults_are_valid_and_use_the_workspace(workspace: Workspace) -> None:
    config = wc.default_config(workspace)
    assert wc.validate(config) == []
    assert config["bot_name"] == "Test bot"
    # The default answer profile's prompt and refusal are carried over when the part exists.
    assert config["answering"]["system_prompt"]
    assert wc.load(workspace) == config  # nothing saved yet: the defaults


@pytest.mark.parametrize(
    ("key", "value", "field", "why"),
    [
        ("theme.primary_color", "red", "theme.primary_color", "#RRGGBB"),
        ("theme.position", "top", "theme.position", "bottom-right or bottom-left"),
        ("answering.k", 0, "answering.k", "1 to 20"),
        ("answering.temperature", 3, "answering.temperature", "0 to 1.5"),
        ("answering.model", "gpt-4", "answering.model", "Mistral model"),
        ("bot_name", "", "bot_name", "1 to 60"),
        ("limits.messages_per_day", "many", "limits.messages_per_day", "1 to 1,000,000"),
        ("allowed_origins", ["example.com"], "allowed_origins[0]", "https://www.example.com"),
        ("lead_capture.fields", ["email", "shoe size"], "lead_capture.fields[1]", "email, phone"),
        ("colour", "red", "(the config)", "colour"),
    ],
)
def test_invalid_values_are_refused_naming_the_field(
    workspace: Workspace, key: str, value: object, field: str, why: str
) -> None:
    before = wc.save(workspace, {**wc.default_config(workspace), "greeting": "Kept"})
    broken = wc.set_value(before, key, value)
    problems = wc.validate(broken)
    assert problems and problems[0].field == field, problems
    assert why in problems[0].message
    with pytest.raises(ConfigError) as exc:
        wc.save(workspace, broken)
    assert field in str(exc.value)
    assert wc.load(workspace)["greeting"] == "Kept"  # the saved config is untouched


def test_missing_required_field_is_named(workspace: Workspace) -> None:
    config = wc.default_config(workspace)
    del config["theme"]["primary_color"]
    assert [str(p) for p in wc.validate(config)] == [
        "theme.primary_color: is required but missing."
    ]


def test_empty_origins_refused_for_publish_unless_any_site_chosen(workspace: Workspace) -> None:
    config = wc.default_config(workspace)
    assert wc.validate(config) == []  # saving is fine: it is publishing that needs origins
    problems = wc.publish_problems(config)
    assert [p.field for p in problems] == ["allowed_origins"]
    assert "is empty" in problems[0].message
    star = wc.set_value(config, "allowed_origins", ["*"])
    assert "allow_any_origin=true" in wc.publish_problems(star)[0].message
    assert wc.publish_problems(wc.set_value(star, "allow_any_origin", True)) == []
    listed = wc.set_value(config, "allowed_origins", ["https://www.example.com"])
    assert wc.publish_problems(listed) == []


def test_dotted_get_set_and_values(workspace: Workspace) -> None:
    config = wc.default_config(workspace)
    assert wc.parse_value('["https://a.example"]') == ["https://a.example"]
    assert wc.parse_value("7") == 7 and wc.parse_value("#00ff00") == "#00ff00"
    assert wc.parse_value("hello there") == "hello there"
    updated = wc.set_value(config, "theme.primary_color", "#00ff00")
    assert wc.get_value(updated, "theme.primary_color") == "#00ff00"
    assert config["theme"]["primary_color"] == "#1a73e8"  # a copy was changed
    with pytest.raises(ConfigError, match=r"no setting 'theme\.colour'"):
        wc.get_value(config, "theme.colour")
    with pytest.raises(ConfigError, match="not a group"):
        wc.set_value(config, "bot_name.x", 1)


def test_schema_file_is_valid_draft_2020_12() -> None:
    loaded = json.loads(wc.SCHEMA_PATH.read_text())
    assert loaded["$schema"].endswith("2020-12/schema")
    assert "allowed_origins" in loaded["required"]
