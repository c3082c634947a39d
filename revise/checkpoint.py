"""Export and load trained torch models: safetensors weights plus a JSON config with a format version.

An exported model is a folder holding `model.safetensors` and `config.json` (read through
`revise.model_files`, which has no torch). Loading never executes code from a file: weights come
from safetensors (training checkpoints are read by `revise.train.checkpoints` with
`weights_only=True`), and every tensor name and shape must match the architecture the JSON
describes (strict loading). A checksum in the JSON catches corrupted weights. Format 2 files
(from before the causal drafter) still load: their reviser as trained, with an untrained causal
drafter, which drafts the one-sided AR fill exactly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from revise.model_files import (
    CONFIG_NAME,
    FORMAT_VERSION,
    WEIGHTS_NAME,
    ModelFileError,
    check_weights,
    model_sections,
    model_settings,
    read_model_folder,
)
from revise.nn.drafter import Drafter
from revise.nn.model import RevisionModel

log = logging.getLogger(__name__)

def export_model(model: RevisionModel, directory: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write `model` into `directory` (created; replaced whole, never left half-written)."""
    directory = Path(directory)
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    weights = save_safetensors(state)
    config = {
        "format_version": FORMAT_VERSION,
        **model_settings(model),
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        "info": extra or {},
    }
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.tmp-", dir=directory.parent))
    staging.chmod(0o755)  # mkdtemp makes it owner-only; a model folder is for everyone to read
    try:
        (staging / WEIGHTS_NAME).write_bytes(weights)
        (staging / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return directory


def load_model(path: str | Path | None = None) -> RevisionModel:
    """Load an exported model folder (or its `model.safetensors`); None loads the shipped default."""
    directory, config, weights = read_model_folder(path)
    try:
        state = load_safetensors(weights)
    except (SafetensorError, ValueError, RuntimeError) as error:
        raise ModelFileError(f"{directory / WEIGHTS_NAME} is not a readable safetensors file ({error}); "
                             "export it again.") from None
    model = model_from_config(config, source=str(directory))
    if config["format_version"] < 3:
        state = _with_untrained_drafter(model, state, directory)
    load_state_strict(model, state, source=str(directory / WEIGHTS_NAME))
    return model.eval()


def _with_untrained_drafter(model: RevisionModel, state: dict[str, torch.Tensor], directory: Path) -> dict:
    """A format 2 state with its drafter (a next-frame predictor the causal drafter replaced) swapped
    for `model`'s untrained one, whose zero-initialised heads draft the one-sided AR fill exactly."""
    log.warning("%s predates the causal drafter (format 2): its draft is the one-sided AR fill until the drafter is "
                "trained (revise train --config configs/drafter.yaml --init %s)", directory, directory)
    with torch.random.fork_rng(devices=[]):  # the same file loads as the same model every time
        torch.manual_seed(0)
        fresh = Drafter(model.frame.feature_size, model.model).state_dict()
    kept = {name: tensor for name, tensor in state.items() if not name.startswith("drafter.")}
    return {**kept, **{f"drafter.{name}": tensor for name, tensor in fresh.items()}}


def model_from_config(config: dict[str, Any], source: str) -> RevisionModel:
    """Build an untrained `RevisionModel` from the JSON (or checkpoint) config sections."""
    sections = model_sections(config, source)
    try:
        return RevisionModel(*sections)
    except ValueError as error:
        raise ModelFileError(f"{source} describes a model this revise cannot build: {error}") from None


def load_state_strict(model: torch.nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load `state` into `model`, refusing any missing, extra or differently shaped tensor."""
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    finite = all(bool(torch.isfinite(t).all()) for t in state.values() if t.is_floating_point())
    check_weights({name: tuple(t.shape) for name, t in state.items()}, expected, finite, source)
    model.load_state_dict(state, strict=True)
