"""The price table: shipped prices, wildcards, and a per-machine override file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.core.answering.prices import PriceTable, override_path
from desktop.core.errors import ConfigError


def test_shipped_table_prices_mistral_and_makes_ollama_free() -> None:
    table = PriceTable.load(override=Path("/nonexistent.json"))
    assert table.cost("ollama:anything", 1_000_000, 1_000_000) == 0.0
    assert table.cost("mistral:mistral-small-latest", 2_000_000, 1_000_000) == pytest.approx(0.5)
    assert table.cost("mistral:nope", 10, 10) is None
    assert table.cost("mistral:mistral-small-latest", None, 10) is None


def test_override_file_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    override = tmp_path / "config" / "botdesk" / "prices.json"
    assert override_path() == override  # XDG_CONFIG_HOME is set per test
    override.parent.mkdir(parents=True)
    override.write_text(json.dumps({"models": {"mistral:custom": {"input": 1, "output": 2}}}))
    table = PriceTable.load()
    assert table.cost("mistral:custom", 1_000_000, 1_000_000) == pytest.approx(3.0)
    assert table.price("mistral:mistral-small-latest") is not None  # shipped entries stay
    monkeypatch.setenv("BOTDESK_PRICES", str(tmp_path / "elsewhere.json"))
    assert override_path() == tmp_path / "elsewhere.json"


def test_broken_override_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "prices.json"
    bad.write_text('{"models": {"x:y": {"input": "free"}}}')
    with pytest.raises(ConfigError, match="cannot be read"):
        PriceTable.load(override=bad)
