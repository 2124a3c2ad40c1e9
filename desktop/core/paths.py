"""Where things live: the shipped resources, and the user's data folder.

The resources (prompts, schemas, sample, prices, user guide, widget):

One function answers it for every way Botdesk runs: from a checkout or an editable install
(`resources/` beside the `desktop` package) and from a PyInstaller build (collected into the
bundle's data folder, `sys._MEIPASS`). Nothing else computes resource paths from `__file__`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def resources_root() -> Path:
    """The folder that holds `prompts/`, `schemas/`, `sample/`, `prices.json`..."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    """A shipped resource, e.g. `resource_path("schemas", "widget-config.schema.json")`."""
    return resources_root().joinpath(*parts)


def user_data_dir() -> Path:
    """The user's Botdesk data folder (demo workspace, logs): the platform's usual place."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "Botdesk"
