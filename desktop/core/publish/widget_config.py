"""The chat widget's config: defaults, validation against the shipped JSON Schema, storage.

The schema (resources/schemas/widget-config.schema.json, draft 2020-12) is the contract the
hosted service reads. Every error names the field (dotted, e.g. `theme.primary_color`) and
says why, using the schema's own description of what is expected.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desktop.core.errors import ConfigError
from desktop.core.index.store import workspace_embedder
from desktop.core.paths import resource_path
from desktop.core.store.workspace import Workspace, utc_now

if TYPE_CHECKING:
    import jsonschema

SCHEMA_PATH = resource_path("schemas", "widget-config.schema.json")
HOSTED_MODEL = "mistral-small-latest"
# The hosted service embeds questions with this one; a bundle embedded otherwise cannot match.
HOSTED_EMBEDDER = "mistral:mistral-embed"
ANY_ORIGIN = "*"

# What the Publish page's widget form calls each setting: checks and problems name these,
# so a fix text points at a field the user can see (the key stays for the command line).
FIELD_LABELS: dict[str, str] = {
    "bot_name": "Bot name",
    "greeting": "Greeting",
    "suggested_questions": "Suggested questions",
    "theme.primary_color": "Primary colour",
    "theme.mode": "Light / dark",
    "theme.position": "Position",
    "theme.launcher_label": "Launcher label",
    "answering.model": "Mistral model",
    "answering.embedding_model": "Question embedder",
    "answering.system_prompt": "System prompt",
    "answering.k": "Passages (k)",
    "answering.min_score": "Minimum score",
    "answering.temperature": "Temperature",
    "answering.refusal_message": "Refusal message",
    "lead_capture.enabled": "Lead capture",
    "lead_capture.fields": "Lead fields",
    "lead_capture.when": "Ask when",
    "lead_capture.consent_text": "Consent text",
    "allowed_origins": "Allowed websites",
    "allow_any_origin": "Any website",
    "limits.messages_per_session": "Messages per session",
    "limits.messages_per_day": "Messages per day",
}


def field_label(key: str) -> str:
    """The form's label for a dotted key ("allowed_origins[1]" -> "Allowed websites, line 2")."""
    base, _, index = key.partition("[")
    label = FIELD_LABELS.get(base, key)
    if index.rstrip("]").isdigit():
        return f"{label}, line {int(index.rstrip(']')) + 1}"
    return label


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with the config: which field, and why."""

    field: str
    message: str
    form_message: str = ""  # the same in the widget form's words, where they differ

    @property
    def label(self) -> str:
        """The field as the widget form names it."""
        return field_label(self.field)

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@functools.cache
def schema() -> dict[str, Any]:
    # jsonschema is imported where it is used: it adds about 0.1 s to the window's start.
    import jsonschema

    with SCHEMA_PATH.open(encoding="utf-8") as file:
        loaded: dict[str, Any] = json.load(file)
    jsonschema.Draft202012Validator.check_schema(loaded)
    return loaded


def default_config(ws: Workspace | None = None) -> dict[str, Any]:
    """Sensible defaults: the workspace's name and embedder, and the `default` answer profile
    if any. Questions are embedded as the passages were (the hosted one when there is none)."""
    name = (ws.name if ws is not None else "") or "Assistant"
    answering: dict[str, Any] = {
        "model": HOSTED_MODEL,
        "embedding_model": _workspace_embedder(ws) or HOSTED_EMBEDDER,
        "system_prompt": "Answer only from the passages given. Cite them. Say so when they do "
        "not answer the question.",
        "k": 5,
        "min_score": None,
        "temperature": 0.2,
        "refusal_message": "Sorry, I don't know that. Please contact us directly.",
    }
    profile = _default_profile(ws)
    if profile is not None:
        answering.update(
            system_prompt=profile.system_prompt,
            k=min(max(int(profile.k), 1), 20),
            min_score=profile.min_score,
            temperature=min(max(float(profile.temperature), 0.0), 1.5),
            refusal_message=profile.refusal,
        )
        provider, _, model = profile.generator.partition(":")
        if provider == "mistral" and model:
            answering["model"] = model
    return {
        "bot_name": name[:60],
        "greeting": f"Hi! I'm the {name[:40]} assistant. How can I help?",
        "suggested_questions": [],
        "theme": {
            "primary_color": "#1a73e8",
            "mode": "auto",
            "position": "bottom-right",
            "launcher_label": "Chat with us",
        },
        "answering": answering,
        "lead_capture": {
            "enabled": False,
            "fields": ["email"],
            "when": "on_refusal",
            "consent_text": "",
        },
        "allowed_origins": [],
        "allow_any_origin": False,
        "limits": {"messages_per_session": 30, "messages_per_day": 2000},
    }


def _workspace_embedder(ws: Workspace | None) -> str:
    """The workspace's embedder ("ollama:all-minilm"), or "" for none (keyword only)."""
    if ws is None:
        return ""
    try:
        embedder = workspace_embedder(ws)
    except ConfigError:
        return ""
    return str(embedder) if embedder is not None else ""


def _default_profile(ws: Workspace | None) -> Any:
    if ws is None:
        return None
    try:
        from desktop.core.answering import profiles
    except ImportError:  # the answers part is optional for publishing
        return None
    if ws.scalar("select 1 from sqlite_master where name = 'answer_profiles'") is None:
        return None
    try:
        return profiles.get_profile(ws, "default")
    except ConfigError:
        return None


def public_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """What the widget itself receives (`GET …/widget-config`, docs/widget-protocol.md).

    The model, system prompt and origins stay on the server; optional settings get their
    defaults so the widget never has to guess.
    """
    defaults = default_config()
    theme = {**defaults["theme"], **dict(config.get("theme") or {})}
    lead = {**defaults["lead_capture"], **dict(config.get("lead_capture") or {})}
    limits = {**defaults["limits"], **dict(config.get("limits") or {})}
    answering = dict(config.get("answering") or {})
    return {
        "bot_name": config.get("bot_name") or defaults["bot_name"],
        "greeting": config.get("greeting") or "",
        "suggested_questions": list(config.get("suggested_questions") or []),
        "theme": theme,
        "lead_capture": lead,
        "refusal_message": answering.get("refusal_message")
        or defaults["answering"]["refusal_message"],
        "limits": limits,
    }


# -- validation -------------------------------------------------------------------------
def _field_name(path: Any) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else str(p) for p in path]
    return ".".join(parts).replace(".[", "[") or "(the config)"


def _describe(error: jsonschema.ValidationError) -> FieldProblem:
    import jsonschema

    path = list(error.absolute_path)
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else ""
        path.append(missing)
        return FieldProblem(_field_name(path), "is required but missing.")
    if error.validator == "additionalProperties":
        return FieldProblem(_field_name(path), f"unknown setting: {error.message}")
    description = error.schema.get("description") if isinstance(error.schema, dict) else None
    if description is None and isinstance(error.parent, jsonschema.ValidationError):
        parent_schema = error.parent.schema
        description = parent_schema.get("description") if isinstance(parent_schema, dict) else None
    got = json.dumps(error.instance, ensure_ascii=False)
    if len(got) > 60:
        got = got[:57] + "…"
    why = f"{description} Got {got}." if description else f"{error.message}."
    return FieldProblem(_field_name(path), why)


def validate(config: Any) -> list[FieldProblem]:
    """Every schema violation, field by field (empty when the config is valid)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path)))
    return [_describe(e) for e in errors]


def publish_problems(config: Any) -> list[FieldProblem]:
    """What stops this config from being published: schema errors and the origins rule."""
    problems = validate(config)
    if not isinstance(config, Mapping):
        return problems
    origins = config.get("allowed_origins")
    if isinstance(origins, list):
        if not origins:
            problems.append(
                FieldProblem(
                    "allowed_origins",
                    "is empty: no website could show the widget. Add your site, e.g. "
                    "allowed_origins='[\"https://www.example.com\"]', or choose any site "
                    "explicitly with allowed_origins='[\"*\"]' and allow_any_origin=true.",
                    "is empty: no website could show the widget. Add your site's address "
                    "(one per line, e.g. https://www.example.com), or tick "
                    f"\u201c{FIELD_LABELS['allow_any_origin']}\u201d.",
                )
            )
        elif ANY_ORIGIN in origins and not config.get("allow_any_origin"):
            problems.append(
                FieldProblem(
                    "allowed_origins",
                    '"*" lets any website embed the bot; confirm it with allow_any_origin=true.',
                    '"*" lets any website embed the bot; confirm it by ticking '
                    f"\u201c{FIELD_LABELS['allow_any_origin']}\u201d.",
                )
            )
        elif ANY_ORIGIN in origins and len(origins) > 1:
            problems.append(
                FieldProblem("allowed_origins", '"*" already allows every site; list it alone.')
            )
    return problems


def raise_problems(problems: list[FieldProblem], *, what: str = "The widget config") -> None:
    if not problems:
        return
    first = problems[0]
    more = f" (and {len(problems) - 1} more: {'; '.join(map(str, problems[1:4]))})"
    raise ConfigError(
        f"{what} is invalid: {first}{more if len(problems) > 1 else ''}",
        hint="Fix the field in the Publish page or with `botdesk widget WS --set KEY=VALUE`.",
    )


# -- storage ----------------------------------------------------------------------------
def _ensure_row(ws: Workspace) -> None:
    ws.execute(
        "insert into publish_settings(id, widget, updated_at) values (1, '{}', ?)"
        " on conflict(id) do nothing",
        (utc_now(),),
    )


def load(ws: Workspace) -> dict[str, Any]:
    """The saved config, or the defaults when none was saved yet."""
    raw = ws.scalar("select widget from publish_settings where id = 1")
    stored = json.loads(raw) if raw else {}
    if not stored:
        return default_config(ws)
    return dict(stored)


def save(ws: Workspace, config: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and save the config; an invalid one is refused and the saved one kept."""
    saved = copy.deepcopy(dict(config))
    raise_problems(validate(saved))
    with ws.transaction():
        _ensure_row(ws)
        ws.execute(
            "update publish_settings set widget = ?, updated_at = ? where id = 1",
            (json.dumps(saved, ensure_ascii=False), utc_now()),
        )
    return saved


# -- dotted keys ------------------------------------------------------------------------
def parse_value(text: str) -> Any:
    """A command-line value: JSON where it parses (lists, numbers, true/null), else a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def get_value(config: Mapping[str, Any], key: str) -> Any:
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise ConfigError(
                f"The widget config has no setting {key!r}.",
                hint=f"Known settings: {', '.join(sorted(_leaf_keys(config)))}.",
            )
        node = node[part]
    return node


def set_value(config: Mapping[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A copy of `config` with the dotted `key` set (not yet validated)."""
    updated = copy.deepcopy(dict(config))
    parts = key.split(".")
    if not all(parts):
        raise ConfigError(f"{key!r} is not a setting name.", hint="Write e.g. theme.primary_color.")
    node: dict[str, Any] = updated
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{part!r} in {key!r} is a value, not a group of settings.")
        node = child
    node[parts[-1]] = value
    return updated


def _leaf_keys(config: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for key, value in config.items():
        if isinstance(value, Mapping):
            keys.extend(_leaf_keys(value, f"{prefix}{key}."))
        else:
            keys.append(f"{prefix}{key}")
    return keys
