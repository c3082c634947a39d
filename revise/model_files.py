"""Reading an exported model folder without torch: its config, its checked weights bytes, its settings.

An exported model is a folder holding `model.safetensors` and `config.json` (`revise.checkpoint`
writes it). Loading never executes code from a file: weights come from safetensors, and a checksum
in the JSON catches corrupted weights. Both the torch model (`revise.checkpoint.load_model`) and the
numpy inference model (`revise.runtime.model.load_inference_model`) read a folder through here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from revise.config import ARConfig, FrameConfig, MatchConfig, ModelConfig, RevisionConfig, from_dict, to_dict

FORMAT_VERSION = 4  # 2: the reviser reads the similarity hint; 3: the drafter reads the causal hints;
# 4: the reviser's hint may be the AR fill refined by Janssen iterations (ar.janssen_iterations; 0 before)
OLDEST_READABLE = 2
WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
DEFAULT_MODEL_DIR = Path(__file__).parent / "assets" / "default"
MODEL_SECTIONS = ("frame", "model", "revision", "ar", "match")  # the settings a model carries


class ModelFileError(ValueError):
    """A model file that cannot be used: missing, corrupted, of another architecture or format."""


def read_model_folder(path: str | Path | None) -> tuple[Path, dict[str, Any], bytes]:
    """The folder of the model at `path` (None: the shipped default), its config and its checked weights bytes."""
    directory = model_directory(path)
    config = read_config(directory)
    weights_path = directory / WEIGHTS_NAME
    if not weights_path.is_file():
        raise ModelFileError(f"{directory} has no {WEIGHTS_NAME}; export the model again with `revise export`.")
    weights = weights_path.read_bytes()
    if hashlib.sha256(weights).hexdigest() != config.get("weights_sha256"):
        raise ModelFileError(f"{weights_path} is corrupted (its checksum does not match); export it again.")
    return directory, config, weights


def check_weights(shapes: Mapping[str, tuple[int, ...]], expected: Mapping[str, tuple[int, ...]], finite: bool,
                  source: str) -> None:
    """Refuse weights whose names and shapes (`shapes`) are not the architecture's (`expected`), or
    that are not all `finite`, naming `source`: the one strict check of both loaders."""
    missing = sorted(set(expected) - set(shapes))
    extra = sorted(set(shapes) - set(expected))
    wrong = sorted(k for k in set(expected) & set(shapes) if tuple(shapes[k]) != tuple(expected[k]))
    if missing or extra or wrong:
        detail = (missing and f"missing {missing[0]}") or (extra and f"unexpected {extra[0]}") or f"shape of {wrong[0]}"
        raise ModelFileError(f"{source} holds weights of another architecture ({detail}).")
    if not finite:
        raise ModelFileError(f"{source} holds NaN or infinite weights; it cannot be used.")


def model_settings(model) -> dict[str, Any]:
    """The settings a model (`RevisionModel` or `InferenceModel`) carries (MODEL_SECTIONS), as plain dicts."""
    return {name: to_dict(getattr(model, name)) for name in MODEL_SECTIONS}


def model_sections(config: dict[str, Any], source: str) -> tuple:
    """The settings (frame, model, revision, ar, match) a model's config describes, validated."""
    try:
        return (
            from_dict(FrameConfig, config.get("frame"), "frame"),
            from_dict(ModelConfig, config.get("model"), "model"),
            from_dict(RevisionConfig, config.get("revision", {}), "revision"),
            from_dict(ARConfig, config.get("ar", {}), "ar"),
            from_dict(MatchConfig, config.get("match", {}), "match"),
        )
    except ValueError as error:
        raise ModelFileError(f"{source} describes a model this revise cannot build: {error}") from None


def model_directory(path: str | Path | None) -> Path:
    if path is None:
        if not (DEFAULT_MODEL_DIR / CONFIG_NAME).is_file():
            raise ModelFileError(
                "no default model is shipped with this install; pass --model with a model made by `revise export`."
            )
        return DEFAULT_MODEL_DIR
    path = Path(path)
    if path.is_file() and path.name == WEIGHTS_NAME:
        path = path.parent
    if not path.exists():
        raise ModelFileError(f"model {path} does not exist; pass a folder written by `revise export`.")
    if not path.is_dir():
        raise ModelFileError(f"model {path} is not a model folder; pass a folder written by `revise export`.")
    return path


def read_config(directory: Path) -> dict[str, Any]:
    config_path = directory / CONFIG_NAME
    if not config_path.is_file():
        raise ModelFileError(f"{directory} has no {CONFIG_NAME}; pass a folder written by `revise export`.")
    try:
        config = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelFileError(f"{config_path} is corrupted (not valid JSON); export the model again.") from None
    if not isinstance(config, dict) or not isinstance(config.get("format_version"), int):
        raise ModelFileError(f"{config_path} has no format version; it was not written by `revise export`.")
    if config["format_version"] > FORMAT_VERSION:
        raise ModelFileError(
            f"{config_path} has format version {config['format_version']}, newer than this revise reads "
            f"({FORMAT_VERSION}); upgrade revise."
        )
    if config["format_version"] < OLDEST_READABLE:
        raise ModelFileError(
            f"{config_path} has format version {config['format_version']}, from before the reviser read the "
            f"similarity hint; this revise reads versions {OLDEST_READABLE} to {FORMAT_VERSION}: retrain and export "
            "the model again."
        )
    return config
