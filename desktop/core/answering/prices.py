"""What an answer cost: the editable price table (USD per million tokens) per model.

Shipped in resources/prices.json. Entries can be overridden per machine without touching
the install: $BOTDESK_PRICES names a JSON file, else $XDG_CONFIG_HOME/botdesk/prices.json
(~/.config/botdesk/prices.json) is read when present. Keys are "provider:model";
"provider:*" matches every model of a provider (Ollama runs locally and costs 0).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.core.errors import ConfigError
from desktop.core.paths import resource_path

SHIPPED_PRICES = resource_path("prices.json")


@dataclass(frozen=True)
class Price:
    input_per_million: float
    output_per_million: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million
        ) / 1_000_000


def override_path() -> Path:
    explicit = os.environ.get("BOTDESK_PRICES")
    if explicit:
        return Path(explicit)
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "botdesk" / "prices.json"


def _read_models(path: Path) -> dict[str, Price]:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        models = data["models"]
        return {
            str(key): Price(float(value["input"]), float(value["output"]))
            for key, value in models.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"The price table {path} cannot be read ({exc}).",
            hint='Expected {"models": {"provider:model": {"input": 0.1, "output": 0.3}}}.',
        ) from exc


class PriceTable:
    """Prices by model spec, with provider-wide wildcards."""

    def __init__(self, models: dict[str, Price]) -> None:
        self.models = models

    @classmethod
    def load(cls, *, override: Path | None = None) -> PriceTable:
        models = _read_models(SHIPPED_PRICES)
        extra = override or override_path()
        if extra.is_file():
            models.update(_read_models(extra))
        return cls(models)

    def price(self, spec: str) -> Price | None:
        if spec in self.models:
            return self.models[spec]
        provider = spec.split(":", 1)[0]
        return self.models.get(f"{provider}:*")

    def cost(
        self, spec: str, prompt_tokens: int | None, completion_tokens: int | None
    ) -> float | None:
        """The answer's cost in USD, or None when the model has no price or counts are missing."""
        price = self.price(spec)
        if price is None or prompt_tokens is None or completion_tokens is None:
            return None
        return round(price.cost(prompt_tokens, completion_tokens), 8)
