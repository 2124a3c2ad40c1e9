"""What the widget receives of the config, and the consent text the schema gained."""

from __future__ import annotations

import copy

from desktop.core.publish.widget_config import default_config, public_config, validate


def test_configs_saved_before_consent_text_existed_stay_valid() -> None:
    config = default_config()
    del config["lead_capture"]["consent_text"]
    assert validate(config) == []
    assert public_config(config)["lead_capture"]["consent_text"] == ""


def test_a_too_long_consent_text_names_the_field() -> None:
    config = default_config()
    config["lead_capture"]["consent_text"] = "x" * 501
    (problem,) = validate(config)
    assert problem.field == "lead_capture.consent_text" and "500" in problem.message


def test_the_public_part_keeps_the_model_prompt_and_origins_on_the_server() -> None:
    config = copy.deepcopy(default_config())
    config["answering"]["system_prompt"] = "SECRET PROMPT"
    config["allowed_origins"] = ["https://shop.example"]
    config["theme"].pop("launcher_label")
    public = public_config(config)
    assert set(public) == {
        "bot_name",
        "greeting",
        "suggested_questions",
        "theme",
        "lead_capture",
        "refusal_message",
        "limits",
    }
    assert "SECRET PROMPT" not in str(public) and "shop.example" not in str(public)
    assert public["theme"]["launcher_label"] == "Chat with us"  # a default fills the gap
    assert public["refusal_message"] == config["answering"]["refusal_message"]
