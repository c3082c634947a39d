"""revise: generate and repair audio with a draft-then-revise pair of recurrent networks.

The public API is loaded on first use, so `import revise` (and `revise --help`) stays fast and
imports no torch: `inpaint`, `find_dropouts`, `Concealer`, `generate`, `load_model`, `export_model`,
`load_inference_model` and `MAX_GAP_SECONDS`. Inpainting and generation run the networks in numpy
(`revise.runtime`) and import no torch either; `load_model` and `export_model` are torch's.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["MAX_GAP_SECONDS", "Concealer", "export_model", "find_dropouts", "generate", "inpaint", "load_inference_model",
           "load_model"]
__version__ = "0.1.0"

_HOMES = {
    "MAX_GAP_SECONDS": "revise.config",
    "Concealer": "revise.conceal",
    "inpaint": "revise.inpainting",
    "find_dropouts": "revise.detect",
    "generate": "revise.generation",
    "load_model": "revise.checkpoint",
    "export_model": "revise.checkpoint",
    "load_inference_model": "revise.runtime.model",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'revise' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
