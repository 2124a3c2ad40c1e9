"""How a bundle's vectors may be shrunk: the names the bundle writer, the CLI and the UI share.

Its own module, with no imports, so that the command line can offer the choices without
loading the bundle writer (numpy, apsw) to print `--help`.
"""

from __future__ import annotations

from typing import Literal

Quantization = Literal["none", "int8", "binary"]
QUANTIZATIONS: tuple[Quantization, ...] = ("none", "int8", "binary")
