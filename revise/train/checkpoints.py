"""Reading `revise train`'s Lightning checkpoints safely, without Lightning.

A checkpoint is read with `torch.load(weights_only=True)`, so no code in it ever runs, and its
weights are loaded strictly into the model its stored config describes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from revise.checkpoint import ModelFileError, load_state_strict, model_from_config
from revise.nn.model import RevisionModel


def model_from_lightning_checkpoint(path: str | Path) -> tuple[RevisionModel, dict[str, Any]]:
    """Read a training checkpoint safely (weights_only) into a `RevisionModel` and its metadata."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(
            f"checkpoint {path} does not exist or is not a file; give a .ckpt file written by `revise train`."
        )
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # torch raises many types for a bad file; all mean "unreadable"
        raise ModelFileError(
            f"checkpoint {path} cannot be read (corrupted, or not a training checkpoint); give a .ckpt file "
            "written by `revise train`."
        ) from None
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise ModelFileError(f"checkpoint {path} is not a revise training checkpoint.")
    config = checkpoint.get("hyper_parameters", {}).get("config")
    if not isinstance(config, dict):
        raise ModelFileError(f"checkpoint {path} carries no revise config.")
    model = model_from_config(config, source=str(path))
    prefix = "model."
    state = {k[len(prefix) :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)}
    load_state_strict(model, state, source=str(path))
    info = {"global_step": checkpoint.get("global_step"), "epoch": checkpoint.get("epoch")}
    return model.eval(), info

