"""`InferenceModel`: an exported model's settings and weights as numpy arrays, run without torch.

`load_inference_model` reads a model folder (`revise.model_files`) and its safetensors weights with
safetensors' numpy reader; every tensor name and shape must be the architecture's
(`expected_shapes`, held to the torch modules' state dict by the tests), and no weight may be NaN.
`InferenceModel.from_torch` takes the weights of a `RevisionModel` in memory (an untrained or
just-trained one). The draft and the revision loop are `revise.revision.loops`' in numpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as load_safetensors

from revise.blas import one_blas_thread
from revise.config import ARConfig, FrameConfig, MatchConfig, ModelConfig, RevisionConfig, ScheduleName
from revise.model_files import WEIGHTS_NAME, ModelFileError, check_weights, model_sections, read_model_folder
from revise.revision.schedules import revision_masks
from revise.runtime import networks


@dataclass(frozen=True, eq=False)
class InferenceModel:
    """A drafter and a reviser as float32 numpy weights, with the settings they were trained under
    (the same attributes `RevisionModel` carries for inference)."""

    frame: FrameConfig
    model: ModelConfig
    revision: RevisionConfig
    ar: ARConfig
    match: MatchConfig
    weights: Mapping[str, np.ndarray]

    @property
    def sample_rate(self) -> int:
        return self.frame.sample_rate

    @classmethod
    def from_torch(cls, model) -> InferenceModel:
        """The numpy twin of a `revise.nn.model.RevisionModel`."""
        weights = {name: t.detach().cpu().float().numpy() for name, t in model.state_dict().items()}
        return cls(model.frame, model.model, model.revision, model.ar, model.match, weights)

    def draft(self, features: np.ndarray, to_fill: np.ndarray, hint: np.ndarray, match: np.ndarray) -> np.ndarray:
        """`revise.revision.loops.draft`: features, hint, match [B, T, F]; to_fill bool [B, T] -> [B, T, F]."""
        where = to_fill[..., None]
        with one_blas_thread():
            return networks.drafter(self.weights, self.model, np.where(where, hint, features),
                                    np.where(where, match, features), to_fill)

    def revise(self, features: np.ndarray, to_fill: np.ndarray, passes: int, schedule: ScheduleName,
               hint: np.ndarray, match: np.ndarray) -> np.ndarray:
        """`revise.revision.loops.revise` from the silent gap (`first_estimate`), at one pass or more. [B, T, F]"""
        if passes < 1:
            raise ValueError(f"revision needs at least one pass, got {passes}; zero passes is the draft.")
        features = np.where(to_fill[..., None], np.float32(0.0), features)
        with one_blas_thread():
            for mask in revision_masks(to_fill, passes, schedule):
                features = networks.reviser(self.weights, self.model, features, mask, hint, match)
        return features



def as_inference_model(model) -> InferenceModel:
    """`model` for the numpy path: None loads the shipped default; a `RevisionModel` is converted."""
    if model is None:
        return load_inference_model()
    if isinstance(model, InferenceModel):
        return model
    return InferenceModel.from_torch(model)


def load_inference_model(path: str | Path | None = None) -> InferenceModel:
    """Load an exported model folder (or its `model.safetensors`) without torch; None: the shipped default."""
    directory, config, raw = read_model_folder(path)
    source = str(directory / WEIGHTS_NAME)
    try:
        weights = load_safetensors(raw)
    except (SafetensorError, ValueError, RuntimeError) as error:
        raise ModelFileError(f"{source} is not a readable safetensors file ({error}); export it again.") from None
    frame, model, revision, ar, match = model_sections(config, str(directory))
    expected = expected_shapes(frame, model)
    if config["format_version"] < 3:
        # the next-frame drafter of format 2 is replaced by an untrained causal one: zero heads draft the hint exactly
        weights = {name: w for name, w in weights.items() if not name.startswith("drafter.")}
        weights.update({name: np.zeros(shape, np.float32) for name, shape in expected.items()
                        if name.startswith("drafter.")})
    finite = all(bool(np.isfinite(w).all()) for w in weights.values())
    check_weights({name: w.shape for name, w in weights.items()}, expected, finite, source)
    return InferenceModel(frame, model, revision, ar, match, {k: v.astype(np.float32) for k, v in weights.items()})


def expected_shapes(frame: FrameConfig, model: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every weight of `revise.nn.model.RevisionModel` with these settings."""
    hidden, features = model.hidden_size, frame.feature_size
    gates = {"gru": 3, "lstm": 4}[model.rnn]
    shapes: dict[str, tuple[int, ...]] = {}
    for net, inputs, heads, layers, bidirectional in (
        ("drafter", 2 * features + 1, 2, model.drafter_layers, False),
        ("reviser", 3 * features + 1, 3, model.reviser_layers, True),
    ):
        width = hidden // 2 if bidirectional else hidden
        shapes[f"{net}.input.weight"], shapes[f"{net}.input.bias"] = (hidden, inputs), (hidden,)
        for k in range(layers):
            for suffix in ("", "_reverse") if bidirectional else ("",):
                layer = f"{net}.rnn.layers.{k}"
                shapes[f"{layer}.weight_ih_l0{suffix}"] = (gates * width, hidden)
                shapes[f"{layer}.weight_hh_l0{suffix}"] = (gates * width, width)
                shapes[f"{layer}.bias_ih_l0{suffix}"] = shapes[f"{layer}.bias_hh_l0{suffix}"] = (gates * width,)
            shapes[f"{net}.rnn.norms.{k}.weight"] = shapes[f"{net}.rnn.norms.{k}.bias"] = (hidden,)
        for head, size in (("correction", features), ("gates", heads)):
            shapes[f"{net}.{head}.0.weight"] = shapes[f"{net}.{head}.0.bias"] = (hidden,)
            shapes[f"{net}.{head}.1.weight"], shapes[f"{net}.{head}.1.bias"] = (size, hidden), (size,)
    return shapes
