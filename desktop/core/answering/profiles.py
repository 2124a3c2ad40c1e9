"""Answer profiles saved in the workspace; `default` exists from first use on."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from desktop.core.answering.prompt import default_system_prompt
from desktop.core.answering.types import (
    DEFAULT_GENERATOR,
    DEFAULT_PROFILE,
    MODES,
    AnswerProfile,
)
from desktop.core.errors import ConfigError
from desktop.core.store.db import Row
from desktop.core.store.workspace import Workspace, utc_now

_COLUMNS = (
    "name, generator, system_prompt, retrieval_mode, k, min_score, temperature, max_tokens, refusal"
)


def _from_row(row: Row) -> AnswerProfile:
    return AnswerProfile(
        name=row["name"],
        generator=row["generator"],
        system_prompt=row["system_prompt"],
        mode=row["retrieval_mode"],
        k=int(row["k"]),
        min_score=row["min_score"],
        temperature=float(row["temperature"]),
        max_tokens=int(row["max_tokens"]),
        refusal=row["refusal"],
    )


def default_profile() -> AnswerProfile:
    return AnswerProfile(
        name=DEFAULT_PROFILE, generator=DEFAULT_GENERATOR, system_prompt=default_system_prompt()
    )


def ensure_default(ws: Workspace) -> None:
    """A workspace starts with a profile named `default` holding the shipped prompt."""
    if ws.scalar("select 1 from answer_profiles limit 1") is None:
        save_profile(ws, default_profile())


def list_profiles(ws: Workspace) -> list[AnswerProfile]:
    if ws.readonly:  # nothing may be written: the default is shown, not stored
        rows = ws.fetch_all(
            f"select {_COLUMNS} from answer_profiles order by name = ? desc, name",
            (DEFAULT_PROFILE,),
        )
        return [_from_row(r) for r in rows] or [default_profile()]
    ensure_default(ws)
    rows = ws.fetch_all(
        f"select {_COLUMNS} from answer_profiles order by name = ? desc, name", (DEFAULT_PROFILE,)
    )
    return [_from_row(r) for r in rows]


def get_profile(ws: Workspace, name: str) -> AnswerProfile:
    if not ws.readonly:
        ensure_default(ws)
    row = ws.fetch_one(f"select {_COLUMNS} from answer_profiles where name = ?", (name,))
    if row is None and ws.readonly and name == DEFAULT_PROFILE:
        return default_profile()
    if row is None:
        known = ", ".join(p.name for p in list_profiles(ws))
        raise ConfigError(
            f"No answer profile named {name!r}.",
            hint=f"Known profiles: {known}. Create one with `botdesk profile set`.",
        )
    return _from_row(row)


def validate_profile(profile: AnswerProfile) -> AnswerProfile:
    """Refuse settings a model call would fail on later, with the reason."""
    name = profile.name.strip()
    if not name:
        raise ConfigError("A profile needs a name.")
    provider, _, model = profile.generator.partition(":")
    if provider not in ("ollama", "mistral") or not model.strip():
        raise ConfigError(
            f"Unknown generator {profile.generator!r}.",
            hint="Write ollama:MODEL or mistral:MODEL, e.g. ollama:llama3.2.",
        )
    if profile.mode not in MODES:
        raise ConfigError(
            f"Unknown retrieval mode {profile.mode!r}.", hint="Use hybrid, vector or keyword."
        )
    if not 1 <= profile.k <= 50:
        raise ConfigError(f"k must be between 1 and 50 (got {profile.k}).")
    if profile.min_score is not None and not math.isfinite(profile.min_score):
        raise ConfigError("The minimum score must be a number.")
    if not 0.0 <= profile.temperature <= 2.0:
        raise ConfigError(f"The temperature must be between 0 and 2 (got {profile.temperature}).")
    if not 1 <= profile.max_tokens <= 32_768:
        raise ConfigError(f"max tokens must be between 1 and 32768 (got {profile.max_tokens}).")
    if not profile.system_prompt.strip():
        raise ConfigError("The system prompt is empty.", hint="Leave it out to use the default.")
    if not profile.refusal.strip():
        raise ConfigError("The refusal message is empty.")
    return replace(profile, name=name)


def save_profile(ws: Workspace, profile: AnswerProfile) -> AnswerProfile:
    """Create or replace the profile with this name."""
    profile = validate_profile(profile)
    now = utc_now()
    ws.execute(
        f"insert into answer_profiles({_COLUMNS}, created_at, updated_at)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " on conflict(name) do update set generator = excluded.generator,"
        " system_prompt = excluded.system_prompt, retrieval_mode = excluded.retrieval_mode,"
        " k = excluded.k, min_score = excluded.min_score, temperature = excluded.temperature,"
        " max_tokens = excluded.max_tokens, refusal = excluded.refusal,"
        " updated_at = excluded.updated_at",
        (
            profile.name,
            profile.generator,
            profile.system_prompt,
            profile.mode,
            profile.k,
            profile.min_score,
            profile.temperature,
            profile.max_tokens,
            profile.refusal,
            now,
            now,
        ),
    )
    return profile


def update_profile(ws: Workspace, name: str, **changes: Any) -> AnswerProfile:
    """Change some settings of a profile, creating it from the defaults when it is new.

    A new profile needs a generator unless it is `default`.
    """
    ensure_default(ws)
    row = ws.fetch_one(f"select {_COLUMNS} from answer_profiles where name = ?", (name,))
    if row is None:
        if "generator" not in changes:
            raise ConfigError(
                f"The new profile {name!r} needs a generator.",
                hint="Add --generator ollama:MODEL or mistral:MODEL.",
            )
        base = replace(default_profile(), name=name)
    else:
        base = _from_row(row)
    unknown = set(changes) - set(base.settings())
    if unknown:
        raise ConfigError(f"Unknown profile setting(s): {', '.join(sorted(unknown))}.")
    return save_profile(ws, replace(base, **changes))


def create_profile(ws: Workspace, profile: AnswerProfile) -> AnswerProfile:
    """Save a new profile; refuses a name that is taken (saving never replaces one here)."""
    profile = validate_profile(profile)
    ensure_default(ws)
    if ws.scalar("select 1 from answer_profiles where name = ?", (profile.name,)):
        raise ConfigError(f"There is already a profile named {profile.name!r}.")
    return save_profile(ws, profile)


def rename_profile(ws: Workspace, old: str, new: str) -> AnswerProfile:
    """Give a profile another name; `default` keeps its name (other tools rely on it)."""
    if old == DEFAULT_PROFILE:
        raise ConfigError("The default profile cannot be renamed.", hint="Copy it instead.")
    with ws.transaction():
        profile = get_profile(ws, old)
        renamed = create_profile(ws, replace(profile, name=new))
        ws.execute("delete from answer_profiles where name = ?", (old,))
    return renamed


def delete_profile(ws: Workspace, name: str) -> AnswerProfile:
    """Delete a profile and return it (to put it back); `default` cannot be deleted."""
    if name == DEFAULT_PROFILE:
        raise ConfigError("The default profile cannot be deleted.", hint="Change it instead.")
    profile = get_profile(ws, name)
    ws.execute("delete from answer_profiles where name = ?", (name,))
    return profile
