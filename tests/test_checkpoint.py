"""revise.checkpoint: export then load is exact; every bad model file gives a clear ModelFileError."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from torch import nn

from revise import model_files
from revise.checkpoint import (
    CONFIG_NAME,
    FORMAT_VERSION,
    WEIGHTS_NAME,
    ModelFileError,
    export_model,
    load_model,
    model_from_config,
    model_settings,
)
from revise.config import to_dict
from revise.nn.model import RevisionModel
from revise.revision.loops import draft, revise
from revise.runtime.model import load_inference_model
from revise.train.checkpoints import model_from_lightning_checkpoint


@pytest.fixture
def trained_like(tiny_model) -> RevisionModel:
    """The tiny model with a non-zero correction head, so the reviser's output depends on its weights."""
    torch.manual_seed(1)
    nn.init.normal_(tiny_model.reviser.correction[1].weight, std=0.3)
    nn.init.normal_(tiny_model.reviser.correction[1].bias, std=0.3)
    return tiny_model


@pytest.fixture
def exported(trained_like, tmp_path) -> Path:
    return export_model(trained_like, tmp_path / "model", extra={"note": "test"})


def read_config(folder: Path) -> dict:
    return json.loads((folder / CONFIG_NAME).read_text())


def write_config(folder: Path, config: dict) -> None:
    (folder / CONFIG_NAME).write_text(json.dumps(config))


def write_weights(folder: Path, data: bytes, fix_checksum: bool) -> None:
    (folder / WEIGHTS_NAME).write_bytes(data)
    if fix_checksum:
        config = read_config(folder)
        config["weights_sha256"] = hashlib.sha256(data).hexdigest()
        write_config(folder, config)


def outputs(model: RevisionModel) -> tuple[torch.Tensor, ...]:
    """Drafter and reviser outputs, and a draft + 2 revision passes, on fixed inputs."""
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(2, 30, model.frame.feature_size, generator=generator)
    hint = torch.randn(2, 30, model.frame.feature_size, generator=generator)
    match = torch.randn(2, 30, model.frame.feature_size, generator=generator)
    mask = torch.zeros(2, 30, dtype=torch.bool)
    mask[:, 10:20] = True
    with torch.no_grad():
        drafted = draft(model.drafter, x, mask, hint, match)
        revised = revise(model.reviser, drafted, mask, 2, "shrink", hint)
        return model.drafter(hint, match, mask), model.reviser(x, mask, hint), drafted, revised


# --- export then load -----------------------------------------------------------------------------


def test_export_then_load_gives_identical_outputs(trained_like, exported):
    loaded = load_model(exported)
    assert not loaded.training
    assert (loaded.frame, loaded.model, loaded.revision, loaded.ar) == (
        trained_like.frame, trained_like.model, trained_like.revision, trained_like.ar)
    original_state, loaded_state = trained_like.state_dict(), loaded.state_dict()
    assert original_state.keys() == loaded_state.keys()
    assert all(torch.equal(original_state[k], loaded_state[k]) for k in original_state)
    for a, b in zip(outputs(trained_like), outputs(loaded)):
        assert torch.equal(a, b)
    # a fresh model of the same shape really differs, so the comparison above means something
    assert not torch.equal(outputs(RevisionModel(trained_like.frame, trained_like.model))[1], outputs(loaded)[1])


def test_load_accepts_the_weights_file_path(exported, trained_like):
    loaded = load_model(exported / WEIGHTS_NAME)
    assert torch.equal(outputs(loaded)[0], outputs(trained_like)[0])


def test_config_json_has_a_format_version_checksum_and_the_settings(trained_like, exported):
    config = read_config(exported)
    assert config["format_version"] == FORMAT_VERSION and isinstance(config["format_version"], int)
    assert config["weights_sha256"] == hashlib.sha256((exported / WEIGHTS_NAME).read_bytes()).hexdigest()
    assert config["model"] == to_dict(trained_like.model) and config["frame"] == to_dict(trained_like.frame)
    assert config["info"] == {"note": "test"}
    assert sorted(p.name for p in exported.iterdir()) == sorted([CONFIG_NAME, WEIGHTS_NAME])


def test_export_replaces_a_previous_model_whole_and_leaves_no_temporary_files(trained_like, tiny_config, tmp_path):
    target = tmp_path / "model"
    export_model(trained_like, target)
    (target / "stray.txt").write_text("from an older export")
    other = RevisionModel(tiny_config.frame, dataclasses.replace(tiny_config.model, hidden_size=8))
    export_model(other, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert sorted(p.name for p in target.iterdir()) == sorted([CONFIG_NAME, WEIGHTS_NAME])
    assert load_model(target).model.hidden_size == 8


def test_model_settings_rebuild_the_model(tiny_model, tiny_config):
    sections = model_settings(tiny_model)
    assert set(sections) == {"frame", "model", "revision", "ar", "match"}
    model = model_from_config(sections, source="test")
    c = tiny_config
    assert (model.frame, model.model, model.revision, model.ar, model.match) == (c.frame, c.model, c.revision, c.ar, c.match)


# --- bad model files ------------------------------------------------------------------------------


def test_model_file_error_is_a_value_error():
    assert issubclass(ModelFileError, ValueError)


def test_missing_folder(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "nowhere")


def test_a_file_that_is_not_a_model_folder(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"\0" * 10)
    with pytest.raises(ModelFileError, match="not a model folder"):
        load_model(path)


def test_folder_without_config(exported):
    (exported / CONFIG_NAME).unlink()
    with pytest.raises(ModelFileError, match=f"has no {CONFIG_NAME}"):
        load_model(exported)


def test_folder_without_weights(exported):
    (exported / WEIGHTS_NAME).unlink()
    with pytest.raises(ModelFileError, match=f"has no {WEIGHTS_NAME}"):
        load_model(exported)


@pytest.mark.parametrize("text", ['{"format_version": 1, "frame": ', "", "\xff\xfe garbage", "nan nan"])
def test_corrupted_json(exported, text):
    (exported / CONFIG_NAME).write_text(text, encoding="latin-1")
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_model(exported)


@pytest.mark.parametrize("content", [[1, 2], {"frame": {}}, {"format_version": "1"}])
def test_json_without_a_format_version(exported, content):
    write_config(exported, content)
    with pytest.raises(ModelFileError, match="no format version"):
        load_model(exported)


def test_newer_format_version(exported):
    config = read_config(exported)
    config["format_version"] = FORMAT_VERSION + 1
    write_config(exported, config)
    with pytest.raises(ModelFileError, match=f"format version {FORMAT_VERSION + 1}.*upgrade revise"):
        load_model(exported)


def test_older_format_version_asks_for_a_new_export(exported):
    config = read_config(exported)
    config["format_version"] = 1
    write_config(exported, config)
    with pytest.raises(ModelFileError, match="format version 1.*export the model again"):
        load_model(exported)


def test_a_format_2_model_keeps_its_reviser_and_drafts_the_causal_hint(trained_like, exported, caplog):
    """Format 2 held a next-frame drafter; its reviser loads as trained, beside an untrained causal drafter."""
    state = {name: t for name, t in trained_like.state_dict().items() if not name.startswith("drafter.")}
    state |= {"drafter.start": torch.zeros(7), "drafter.output.1.weight": torch.ones(7, 3)}  # the old drafter's shapes
    write_weights(exported, save_safetensors(state), fix_checksum=True)
    config = read_config(exported)
    config["format_version"] = 2
    write_config(exported, config)
    loaded = load_model(exported)
    assert "predates the causal drafter" in caplog.text
    for name, tensor in state.items():
        if name.startswith("reviser."):
            assert torch.equal(loaded.state_dict()[name], tensor)
    generator = torch.Generator().manual_seed(4)
    known, hint, match = (torch.randn(1, 12, loaded.frame.feature_size, generator=generator) for _ in range(3))
    mask = torch.zeros(1, 12, dtype=torch.bool)
    mask[:, 3:8] = True
    with torch.no_grad():
        assert torch.equal(draft(loaded.drafter, known, mask, hint, match)[mask], hint[mask])


def test_weights_with_a_flipped_byte_fail_the_checksum(exported):
    data = bytearray((exported / WEIGHTS_NAME).read_bytes())
    data[len(data) // 2] ^= 0x01
    write_weights(exported, bytes(data), fix_checksum=False)
    with pytest.raises(ModelFileError, match="corrupted.*checksum"):
        load_model(exported)


@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_truncated_safetensors(exported, keep):
    data = (exported / WEIGHTS_NAME).read_bytes()
    write_weights(exported, data[: int(len(data) * keep)], fix_checksum=True)  # past the checksum, to the parser
    with pytest.raises(ModelFileError, match="not a readable safetensors file"):
        load_model(exported)


def test_weights_that_are_not_safetensors(exported):
    write_weights(exported, b"PK\x03\x04 this is a zip, not safetensors" * 10, fix_checksum=True)
    with pytest.raises(ModelFileError, match="not a readable safetensors file"):
        load_model(exported)


def test_weights_of_another_architecture(trained_like, exported, tmp_path):
    """A config.json from a wider model (checksum made to match) next to these weights."""
    other_model = RevisionModel(trained_like.frame, dataclasses.replace(trained_like.model, hidden_size=32))
    other = export_model(other_model, tmp_path / "other")
    config = read_config(other)
    config["weights_sha256"] = read_config(exported)["weights_sha256"]
    write_config(exported, config)
    with pytest.raises(ModelFileError, match="another architecture"):
        load_model(exported)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [("model", "rnn", "lstm"), ("model", "drafter_layers", 2), ("frame", "encoding", "fourier"),
     ("frame", "frame_length", 256)],
)
def test_config_describing_another_architecture(exported, section, key, value):
    config = read_config(exported)
    config[section][key] = value
    write_config(exported, config)
    with pytest.raises(ModelFileError, match="another architecture"):
        load_model(exported)


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [("frame", "hop_length", 100, "must be a multiple"), ("model", "hiden_size", 16, "unknown key model.hiden_size"),
     ("model", "hidden_size", "16", "model.hidden_size has the wrong type")],
)
def test_config_this_revise_cannot_build(exported, section, key, value, message):
    config = read_config(exported)
    config[section][key] = value
    write_config(exported, config)
    with pytest.raises(ModelFileError, match=f"cannot build.*{message}"):
        load_model(exported)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_weights(exported, bad):
    state = load_safetensors((exported / WEIGHTS_NAME).read_bytes())
    name = sorted(state)[0]
    state[name] = state[name].clone()
    state[name].view(-1)[0] = bad
    write_weights(exported, save_safetensors(state), fix_checksum=True)
    with pytest.raises(ModelFileError, match="NaN or infinite"):
        load_model(exported)


def test_extra_or_missing_tensors(exported):
    state = load_safetensors((exported / WEIGHTS_NAME).read_bytes())
    with_extra = dict(state, surplus=torch.zeros(3))
    write_weights(exported, save_safetensors(with_extra), fix_checksum=True)
    with pytest.raises(ModelFileError, match="another architecture.*unexpected surplus"):
        load_model(exported)
    missing = dict(state)
    name = sorted(missing)[-1]
    del missing[name]
    write_weights(exported, save_safetensors(missing), fix_checksum=True)
    with pytest.raises(ModelFileError, match=f"another architecture.*missing {name}"):
        load_model(exported)


def test_no_default_model(monkeypatch, tmp_path):
    monkeypatch.setattr(model_files, "DEFAULT_MODEL_DIR", tmp_path / "none")
    with pytest.raises(ModelFileError, match="no default model"):
        load_model(None)
    with pytest.raises(ModelFileError, match="no default model"):
        load_inference_model(None)


# --- Lightning checkpoints ------------------------------------------------------------------------


def lightning_like_checkpoint(model: RevisionModel, config) -> dict:
    """The parts of a Lightning checkpoint that model_from_lightning_checkpoint reads."""
    return {
        "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()} | {"stft_loss.dummy": torch.zeros(1)},
        "hyper_parameters": {"config": to_dict(config)},
        "global_step": 12,
        "epoch": 1,
    }


def test_lightning_checkpoint_round_trip(trained_like, tiny_config, tmp_path):
    path = tmp_path / "last.ckpt"
    torch.save(lightning_like_checkpoint(trained_like, tiny_config), path)
    model, info = model_from_lightning_checkpoint(path)
    assert info == {"global_step": 12, "epoch": 1}
    for a, b in zip(outputs(trained_like), outputs(model)):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"this is not a checkpoint", "cannot be read"), (b"", "cannot be read"),
     (None, "not a revise training checkpoint"),
     ({"state_dict": {}}, "carries no revise config")],
)
def test_lightning_checkpoint_that_is_not_one(tmp_path, content, message):
    path = tmp_path / "bad.ckpt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        torch.save(content if content is not None else [1, 2, 3], path)
    with pytest.raises(ModelFileError, match=message):
        model_from_lightning_checkpoint(path)


def test_lightning_checkpoint_missing_or_a_folder(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist"):
        model_from_lightning_checkpoint(tmp_path / "none.ckpt")
    with pytest.raises(ModelFileError, match="does not exist or is not a file"):
        model_from_lightning_checkpoint(tmp_path)


def test_lightning_checkpoint_of_another_architecture(trained_like, tiny_config, tmp_path):
    wider = dataclasses.replace(tiny_config, model=dataclasses.replace(tiny_config.model, hidden_size=32))
    path = tmp_path / "last.ckpt"
    torch.save(lightning_like_checkpoint(trained_like, wider), path)
    with pytest.raises(ModelFileError, match="another architecture"):
        model_from_lightning_checkpoint(path)


class _Payload:
    """Unpickling this object would create a file: a stand-in for code hidden in a checkpoint."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_lightning_checkpoint_never_runs_code_from_the_file(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "payload": _Payload(marker)}, path)
    with pytest.raises(ModelFileError, match="cannot be read"):
        model_from_lightning_checkpoint(path)
    assert not marker.exists()


def test_a_format_3_model_revises_from_the_plain_ar_fill(trained_like, exported):
    """Format 3 predates the Janssen-refined hint: its reviser loads as trained and starts from the Burg fill."""
    config = read_config(exported)
    config["format_version"] = 3
    config["ar"].pop("janssen_iterations")
    write_config(exported, config)
    loaded = load_model(exported)
    assert loaded.ar.janssen_iterations == 0
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in trained_like.state_dict().items())
