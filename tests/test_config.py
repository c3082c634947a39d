"""Config files: the shipped YAMLs load with what they state, the shipped model starts their runs,
and a bad key, type or file is refused with its name."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
import yaml

from revise.checkpoint import load_model
from revise.config import Config, load_config, to_dict
from revise.train import run as train_run

REPO = Path(__file__).resolve().parent.parent


def write_yaml(path: Path, values: dict) -> Path:
    path.write_text(yaml.safe_dump(values))
    return path


@pytest.mark.parametrize("name", ["tiny", "default", "default_stage2", "drafter", "reviser_janssen", "large",
                                  "finetune"])
def test_shipped_configs_load_with_every_value_they_state(name):
    path = REPO / "configs" / f"{name}.yaml"
    config, stated = to_dict(load_config(path)), yaml.safe_load(path.read_text())
    for section, values in stated.items():
        for key, value in values.items():
            assert config[section][key] == value, f"{section}.{key}"
    assert "revision" not in stated, "the revision defaults live in revise.config, not in each YAML"


@pytest.mark.parametrize("name", ["default", "default_stage2", "drafter", "reviser_janssen", "finetune"])
def test_the_shipped_model_can_start_a_run_of_these_configs(name):
    config, shipped = load_config(REPO / "configs" / f"{name}.yaml"), load_model(None)
    start = train_run.initial_model("default", config)
    assert all(getattr(shipped, part) == getattr(config, part) for part in ("frame", "model", "match"))
    # the stages before the last trained on the plain Burg hint; a fine-tune keeps the shipped Janssen-refined one
    refinement = 0 if name in ("default", "default_stage2", "drafter") else shipped.ar.janssen_iterations
    assert config.ar == dataclasses.replace(shipped.ar, janssen_iterations=refinement)
    assert all(torch.equal(a, b) for a, b in zip(start.state_dict().values(), shipped.state_dict().values()))


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"model": {"hidden_sise": 8}}, "model.hidden_sise"),
        ({"trainer": {"max_steps": 3}}, "config.trainer"),
        ({"train": {"batch_size": "four"}}, "train.batch_size"),
        ({"train": {"batch_size": 4.5}}, "train.batch_size"),
        ({"train": {"learning_rate": True}}, "train.learning_rate"),
        ({"train": {"max_minutes": "ten"}}, "train.max_minutes"),
        ({"frame": {"encoding": "wav"}}, "frame.encoding"),
        ({"model": {"rnn": "transformer"}}, "model.rnn"),
        ({"data": {"root": 3}}, "data.root"),
        ({"train": {"num_nodes": "two"}}, "train.num_nodes"),
        ({"train": {"num_nodes": 0}}, "train.num_nodes"),
        ({"model": 8}, "model"),
    ],
)
def test_bad_config_key_or_type_is_named(tmp_path, values, key):
    path = write_yaml(tmp_path / "bad.yaml", values)
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [("[1, 2]", "must"), ("model: {hidden_size: [", "not valid YAML")],
)
def test_config_that_is_not_a_mapping_or_not_yaml(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_config(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_config(tmp_path / "none.yaml")


def test_good_config_values_are_read_and_missing_ones_keep_defaults(tmp_path):
    path = write_yaml(tmp_path / "ok.yaml", {"train": {"learning_rate": 1, "max_minutes": 2}, "model": {"rnn": "lstm"}})
    config = load_config(path)
    assert config.train.learning_rate == 1.0 and isinstance(config.train.learning_rate, float)
    assert config.train.max_minutes == 2.0 and config.model.rnn == "lstm"
    assert config.frame == Config().frame and config.train.batch_size == Config().train.batch_size


def test_num_nodes_reaches_the_lightning_trainer(tmp_path):
    """Training across machines is Lightning's: the config's train.num_nodes must be what the Trainer runs with."""
    path = write_yaml(tmp_path / "nodes.yaml", {"train": {"num_nodes": 3, "accelerator": "cpu", "devices": 1,
                                                         "output_dir": str(tmp_path / "run")}})
    trainer = train_run.build_trainer(load_config(path), tmp_path / "run" / "checkpoints")
    assert trainer.num_nodes == 3 and trainer.strategy.num_nodes == 3
    default = write_yaml(tmp_path / "one.yaml", {"train": {"accelerator": "cpu", "output_dir": str(tmp_path / "run")}})
    assert train_run.build_trainer(load_config(default), tmp_path / "run" / "checkpoints").num_nodes == 1
