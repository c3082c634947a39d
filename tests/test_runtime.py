"""revise.runtime: the numpy inference path gives the torch modules' outputs, loads model files
as strictly as `load_model`, and `revise inpaint` runs without importing torch."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch
from safetensors.torch import save as save_safetensors

from revise.checkpoint import CONFIG_NAME, WEIGHTS_NAME, ModelFileError, export_model, model_from_config
from revise.config import FrameConfig, ModelConfig, to_dict
from revise.dsp import framing
from revise.nn.model import RevisionModel
from revise.revision.loops import draft, first_estimate, revise
from revise.runtime import framing as np_framing
from revise.runtime.model import InferenceModel, expected_shapes, load_inference_model


def randomised(model: RevisionModel, seed: int = 0) -> RevisionModel:
    """`model` with every weight drawn at random, heads included, so every path of the networks counts."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(0.3 * torch.randn(parameter.shape, generator=generator))
    return model.eval()


def inputs(model: RevisionModel, batch: int = 2, frames: int = 14, seed: int = 1):
    generator = torch.Generator().manual_seed(seed)
    known, hint, match = (torch.randn(batch, frames, model.frame.feature_size, generator=generator) for _ in range(3))
    to_fill = torch.zeros(batch, frames, dtype=torch.bool)
    to_fill[:, 3:9] = True
    to_fill[1, 11:13] = True
    return known, hint, match, to_fill


ARCHITECTURES = [
    (FrameConfig(frame_length=16, hop_length=8), ModelConfig(hidden_size=12, drafter_layers=2, reviser_layers=2)),
    (FrameConfig(frame_length=16, hop_length=4, encoding="fourier"),
     ModelConfig(rnn="lstm", hidden_size=10, drafter_layers=1, reviser_layers=3)),
]


@pytest.mark.parametrize(("frame", "config"), ARCHITECTURES)
def test_expected_shapes_are_the_torch_state_dict(frame, config):
    model = RevisionModel(frame, config)
    assert expected_shapes(frame, config) == {k: tuple(v.shape) for k, v in model.state_dict().items()}


@pytest.mark.parametrize(("frame", "config"), ARCHITECTURES)
@pytest.mark.parametrize("passes", [1, 3])
def test_numpy_revision_matches_torch(frame, config, passes):
    model = randomised(RevisionModel(frame, config))
    known, hint, match, to_fill = inputs(model)
    with torch.no_grad():
        expected = revise(model.reviser, first_estimate(known, to_fill), to_fill, passes, "shrink", hint, match)
    twin = InferenceModel.from_torch(model)
    got = twin.revise(known.numpy(), to_fill.numpy(), passes, "shrink", hint.numpy(), match.numpy())
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(got[~to_fill.numpy()], known.numpy()[~to_fill.numpy()])  # known frames untouched


@pytest.mark.parametrize(("frame", "config"), ARCHITECTURES)
def test_numpy_draft_matches_torch(frame, config):
    model = randomised(RevisionModel(frame, config), seed=2)
    known, hint, match, to_fill = inputs(model)
    with torch.no_grad():
        expected = draft(model.drafter, known, to_fill, hint, match)
    got = InferenceModel.from_torch(model).draft(known.numpy(), to_fill.numpy(), hint.numpy(), match.numpy())
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("encoding", ["raw", "fourier"])
@pytest.mark.parametrize("length", [1, 100, 1001])
def test_numpy_framing_matches_torch(encoding, length):
    config = FrameConfig(frame_length=32, hop_length=8, encoding=encoding)
    x = np.random.default_rng(0).standard_normal((2, length))
    features = np_framing.analyse(x, config)
    np.testing.assert_allclose(features, framing.analyse(torch.from_numpy(x).float(), config).numpy(), atol=1e-5)
    np.testing.assert_allclose(np_framing.synthesise(features, length, config), x, atol=1e-5)
    mask = np.zeros(length, dtype=bool)
    mask[length // 3 : length // 2 + 1] = True
    np.testing.assert_array_equal(np_framing.frame_mask(mask, 32, 8), framing.frame_mask(torch.from_numpy(mask), 32, 8))


@pytest.fixture
def exported(tiny_model, tmp_path):
    return export_model(randomised(tiny_model), tmp_path / "model")


def test_loaded_weights_are_the_exported_ones(tiny_model, exported):
    loaded = load_inference_model(exported)
    assert loaded.frame == tiny_model.frame and loaded.ar == tiny_model.ar and loaded.match == tiny_model.match
    for name, tensor in tiny_model.state_dict().items():
        np.testing.assert_array_equal(loaded.weights[name], tensor.numpy())


def rewrite(folder, state=None, format_version=None):
    config = json.loads((folder / CONFIG_NAME).read_text())
    if state is not None:
        data = save_safetensors(state)
        (folder / WEIGHTS_NAME).write_bytes(data)
        config["weights_sha256"] = hashlib.sha256(data).hexdigest()
    if format_version is not None:
        config["format_version"] = format_version
    (folder / CONFIG_NAME).write_text(json.dumps(config))


def test_other_architectures_and_bad_weights_are_refused(tiny_model, exported):
    state = dict(tiny_model.state_dict())
    rewrite(exported, {**state, "reviser.extra": torch.zeros(3)})
    with pytest.raises(ModelFileError, match="another architecture.*unexpected reviser.extra"):
        load_inference_model(exported)
    rewrite(exported, {**state, "reviser.input.bias": torch.zeros(5)})
    with pytest.raises(ModelFileError, match="another architecture.*shape of reviser.input.bias"):
        load_inference_model(exported)
    rewrite(exported, {**state, "reviser.input.bias": torch.full_like(state["reviser.input.bias"], float("nan"))})
    with pytest.raises(ModelFileError, match="NaN or infinite"):
        load_inference_model(exported)
    (exported / WEIGHTS_NAME).write_bytes(b"\x00" * 40)
    with pytest.raises(ModelFileError, match="corrupted"):
        load_inference_model(exported)


def test_revision_needs_a_pass(tiny_model):
    known, hint, match, to_fill = (t.numpy() for t in inputs(tiny_model))
    with pytest.raises(ValueError, match="at least one pass"):
        InferenceModel.from_torch(tiny_model).revise(known, to_fill, 0, "shrink", hint, match)


def test_a_model_that_cannot_be_built_is_a_model_file_error(tiny_model):
    config = {"frame": to_dict(tiny_model.frame), "model": {**to_dict(tiny_model.model), "hidden_size": 15}}
    with pytest.raises(ModelFileError, match="cannot build.*even"):
        model_from_config(config, "that.json")


def test_a_format_2_model_drafts_the_hint(tiny_model, exported):
    state = {name: t for name, t in tiny_model.state_dict().items() if not name.startswith("drafter.")}
    rewrite(exported, state | {"drafter.start": torch.zeros(7)}, format_version=2)
    loaded = load_inference_model(exported)
    known, hint, match, to_fill = (t.numpy() for t in inputs(tiny_model))
    drafted = loaded.draft(known, to_fill, hint, match)
    np.testing.assert_array_equal(drafted[to_fill], hint[to_fill])


def test_inpaint_from_the_command_line_imports_no_torch(tmp_path):
    clip = tmp_path / "clip.wav"
    sf.write(clip, 0.1 * np.random.default_rng(0).standard_normal(32000), 16000)
    script = ("import sys; from revise.cli.main import main; "
              f"code = main(['inpaint', {str(clip)!r}, '-o', {str(tmp_path / 'out.wav')!r}, '--gap', '1.0:1.05']); "
              "import revise.evaluate.benchmark, revise.generation, revise.batch; "
              "sys.exit(10 if 'torch' in sys.modules or 'scipy.signal' in sys.modules else code)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.wav").is_file()
