"""Training: a tiny model overfits one batch, Lightning runs on CPU, runs resume, bad input is refused,
and a NaN loss is skipped without ever reaching a checkpoint."""

from __future__ import annotations

import csv
import dataclasses
import logging
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from revise.checkpoint import ModelFileError, export_model, load_model
from revise.config import Config, to_dict
from revise.dsp.framing import analyse, frame_mask
from revise.train import run as train_run
from revise.train import task as train_task
from revise.train.checkpoints import model_from_lightning_checkpoint
from revise.train.datamodule import RevisionDataModule
from revise.train.run import run_training
from revise.train.task import NonFiniteLossError, RevisionTask

REPO = Path(__file__).resolve().parent.parent



def first_batch(config: Config) -> dict[str, torch.Tensor]:
    datamodule = RevisionDataModule(config)
    datamodule.setup("fit")
    return next(iter(datamodule.train_dataloader()))


def task_losses(task: RevisionTask, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(drafter loss, mean reviser loss over the unrolled passes), as training_step computes them."""
    frame = task.config.frame
    features = analyse(batch["audio"], frame)
    to_fill = frame_mask(batch["gaps"], frame.frame_length, frame.hop_length)
    drafted = task.drafted(batch, features, to_fill)
    drafter = task.fill_loss(batch["audio"], features, drafted, batch["gaps"], to_fill)
    reviser = torch.stack(task.reviser_losses(batch, features, to_fill)).mean()
    return drafter, reviser


def checkpoint_step(path: Path) -> int:
    return torch.load(path, map_location="cpu", weights_only=True)["global_step"]


def assert_finite_checkpoints(folder: Path) -> None:
    for path in folder.glob("*.ckpt"):
        state = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
        assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point()), path


def write_yaml(path: Path, values: dict) -> Path:
    path.write_text(yaml.safe_dump(values))
    return path


def test_examples_carry_both_hints_and_the_match_only_changes_the_gaps_and_their_sides(tiny_config):
    batch = first_batch(tiny_config)
    audio, hint, match, gaps = batch["audio"], batch["hint"], batch["match"], batch["gaps"]
    assert audio.shape == hint.shape == match.shape == gaps.shape and gaps.dtype == torch.bool
    assert torch.equal(hint[~gaps], audio[~gaps])  # the AR fill only writes the gaps
    sides = torch.nn.functional.max_pool1d(gaps[:, None].float(), 2 * tiny_config.match.context + 1, 1,
                                           tiny_config.match.context)[:, 0].bool()
    assert torch.equal(match[~sides], audio[~sides])
    assert not torch.equal(match[gaps], hint[gaps])  # the synthetic tracks repeat: matches are found


def test_examples_carry_the_drafters_causal_hints_which_run_a_frame_past_each_gap(tiny_config):
    batch = first_batch(tiny_config)
    gaps, reach = batch["gaps"], tiny_config.frame.frame_length
    touched = gaps.clone()  # a gap, or less than `reach` samples after one
    for shift in range(1, reach + 1):
        touched[:, shift:] |= gaps[:, :-shift]
    for name in ("causal_hint", "causal_match"):
        hint = batch[name]
        assert hint.shape == batch["audio"].shape
        assert torch.equal(hint[~touched], batch["audio"][~touched]), name
        assert not torch.equal(hint[touched], batch["audio"][touched]), name


@pytest.mark.parametrize(("trainable", "skipped"), [("drafter", {"hint", "match"}),
                                                     ("reviser", {"causal_hint", "causal_match"})])
def test_training_one_network_alone_skips_only_the_others_hints(tiny_config, trainable, skipped):
    alone = dataclasses.replace(tiny_config, train=dataclasses.replace(tiny_config.train, trainable=trainable))
    full, lean = first_batch(tiny_config), first_batch(alone)
    assert set(full) - set(lean) == skipped
    assert all(torch.equal(full[name], lean[name]) for name in lean)  # the same excerpts, gaps and other hints
    datamodule = RevisionDataModule(alone)
    datamodule.setup("fit")
    assert skipped <= set(next(iter(datamodule.val_dataloader())))  # validation still scores both


# --- (a) overfitting one batch --------------------------------------------------------------------


def test_tiny_model_overfits_one_batch(tiny_config):
    """60 Adam steps (lr 1e-2) on one batch of two 0.25 s excerpts, with the task's own losses
    (the frame-L1 objective plus the STFT terms).

    Measured over six (batch, initialisation) draws: the total loss falls to 33-34% of its initial
    value, the drafter's to 35-37% and the reviser's to 27-30% (each starts at a classical fill's
    quality: the one-sided and the two-sided AR fill). Bounds: total < 45%, drafter < 50%, reviser < 45%.
    """
    train = dataclasses.replace(tiny_config.train, objective="frame")
    config = dataclasses.replace(tiny_config, train=train)
    torch.manual_seed(0)  # the loader's shuffle, then the initial weights
    batch = first_batch(config)
    task = RevisionTask(to_dict(config))
    optimizer = torch.optim.Adam(task.parameters(), lr=1e-2)

    def measure() -> tuple[float, float]:
        torch.manual_seed(123)  # the same dropout draws for the first and the last measurement
        with torch.no_grad():
            drafter, reviser = task_losses(task, batch)
        return drafter.item(), reviser.item()

    initial = measure()
    for _ in range(60):
        drafter, reviser = task_losses(task, batch)
        optimizer.zero_grad()
        (drafter + reviser).backward()
        optimizer.step()
    final = measure()
    assert all(math.isfinite(v) and v > 0 for v in initial + final)
    assert sum(final) < 0.45 * sum(initial), (initial, final)
    assert final[0] < 0.50 * initial[0], (initial, final)
    assert final[1] < 0.45 * initial[1], (initial, final)


def test_snr_objective_raises_the_gap_snr_on_one_batch(tiny_config):
    """With the default objective the reviser's loss is -gap SNR / 10 (bels), so it is negative
    once the fill beats silence; 60 Adam steps on one batch must raise the gap SNR by > 3 dB."""
    config = tiny_config
    assert config.train.objective == "snr"
    torch.manual_seed(0)
    batch = first_batch(config)
    task = RevisionTask(to_dict(config))
    optimizer = torch.optim.Adam(task.parameters(), lr=1e-2)

    def reviser_loss() -> torch.Tensor:
        torch.manual_seed(123)
        return task_losses(task, batch)[1]

    initial = reviser_loss().item()
    for _ in range(60):
        optimizer.zero_grad()
        reviser_loss().backward()
        optimizer.step()
    final = reviser_loss().item()
    assert math.isfinite(final) and final < initial - 0.3, (initial, final)


# --- (b) Lightning fast_dev_run -------------------------------------------------------------------


class WeightWatcher(L.Callback):
    """Records, for each training batch, whether the weights changed and whether they are all finite."""

    def __init__(self):
        self.changed: list[bool] = []
        self._before: list[torch.Tensor] = []

    def on_train_batch_start(self, trainer, module, batch, batch_index):
        self._before = [p.detach().clone() for p in module.parameters()]

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_index):
        after = list(module.parameters())
        self.changed.append(any(not torch.equal(a, b) for a, b in zip(self._before, after)))
        assert all(torch.isfinite(p).all() for p in after)


def test_fast_dev_run_on_cpu(tiny_config, tmp_path):
    watcher = WeightWatcher()
    task = RevisionTask(to_dict(tiny_config))
    trainer = L.Trainer(
        fast_dev_run=True, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path, callbacks=[watcher],
    )
    trainer.fit(task, datamodule=RevisionDataModule(tiny_config))
    assert trainer.global_step == 1
    assert watcher.changed == [True]
    metrics = trainer.callback_metrics
    for name in ("train/loss", "val/loss", "val/gap_snr_db", "val/draft_snr_db", "val/ar_snr_db"):
        assert math.isfinite(float(metrics[name])), name
    assert list(tmp_path.iterdir()) == []  # fast_dev_run writes nothing


def test_validation_is_fixed_and_every_training_epoch_is_new(tiny_config):
    datamodule = RevisionDataModule(tiny_config)
    datamodule.setup("fit")
    val, train = datamodule.val_set, datamodule.train_set
    first, again = val[0], val[0]
    assert all(torch.equal(first[k], again[k]) for k in first)
    assert first["gaps"].any() and first["gaps"].dtype == torch.bool
    assert not torch.equal(train[0]["gaps"], train[1]["gaps"])
    assert torch.equal(train[0]["audio"], train[0]["audio"])  # item i is a pure function of i
    sampler = datamodule.train_dataloader().sampler
    first_epoch = list(sampler)
    sampler.set_epoch(1)
    assert set(first_epoch).isdisjoint(sampler)  # a new epoch reads new excerpts and gaps
    # the hint is the AR fill of the gaps: equal to the audio outside them
    assert torch.equal(first["hint"][~first["gaps"]], first["audio"][~first["gaps"]])


# --- (c) run_training end to end ------------------------------------------------------------------


def test_run_training_writes_checkpoints_and_a_loadable_model(tiny_config):
    out = Path(tiny_config.train.output_dir)
    exported = run_training(tiny_config)
    assert exported == out / "model"
    last = out / "checkpoints" / "last.ckpt"
    assert checkpoint_step(last) == 6
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["last.ckpt", "step3.ckpt", "step6.ckpt"]
    model = load_model(exported)
    assert model.model == tiny_config.model and model.frame == tiny_config.frame
    from_checkpoint, info = model_from_lightning_checkpoint(last)
    assert info["global_step"] == 6
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), from_checkpoint.state_dict().values()))
    rows = list(csv.DictReader((out / "logs" / "version_0" / "metrics.csv").open()))
    snrs = [float(r["val/gap_snr_db"]) for r in rows if r.get("val/gap_snr_db")]
    assert len(snrs) == 2 and all(math.isfinite(s) for s in snrs)  # validated at steps 3 and 6


def test_the_exported_model_holds_the_final_step(tiny_config):
    out = Path(tiny_config.train.output_dir)
    exported = run_training(tiny_config, max_steps=4)  # val_every_steps=3
    assert checkpoint_step(out / "checkpoints" / "last.ckpt") == 4
    last, info = model_from_lightning_checkpoint(out / "checkpoints" / "last.ckpt")
    assert info["global_step"] == 4
    weights = load_model(exported).state_dict()
    assert all(torch.equal(weights[name], tensor) for name, tensor in last.state_dict().items())


# --- (d) resume -----------------------------------------------------------------------------------


def count_training_steps(monkeypatch) -> list[int]:
    """Patch RevisionTask.training_step to record the global step at each call."""
    seen: list[int] = []
    original = RevisionTask.training_step

    def counting(self, batch, batch_index):
        seen.append(self.global_step)
        return original(self, batch, batch_index)

    monkeypatch.setattr(RevisionTask, "training_step", counting)
    return seen


def test_resume_continues_from_the_last_checkpoint(tiny_config, monkeypatch):
    out = Path(tiny_config.train.output_dir)
    checkpoints = out / "checkpoints"
    seen = count_training_steps(monkeypatch)
    run_training(tiny_config, max_steps=3)
    assert seen == [0, 1, 2] and checkpoint_step(checkpoints / "last.ckpt") == 3
    first_stat = (checkpoints / "step3.ckpt").stat()

    seen.clear()
    exported = run_training(tiny_config, max_steps=6)
    assert seen == [3, 4, 5], "the second run starts at step 3, not from scratch"
    assert checkpoint_step(checkpoints / "last.ckpt") == 6
    assert checkpoint_step(checkpoints / "step3.ckpt") == 3 and checkpoint_step(checkpoints / "step6.ckpt") == 6
    assert (checkpoints / "step3.ckpt").stat().st_mtime_ns == first_stat.st_mtime_ns  # not rewritten
    last, _ = model_from_lightning_checkpoint(checkpoints / "last.ckpt")
    assert all(torch.equal(a, b) for a, b in zip(load_model(exported).state_dict().values(), last.state_dict().values()))

    seen.clear()  # a finished run resumed with the same max_steps trains no further
    run_training(tiny_config, max_steps=6)
    assert seen == [] and checkpoint_step(checkpoints / "last.ckpt") == 6


def _distinct_model(model):
    """`model` with every weight moved, so it cannot match a fresh run's random start by chance."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.125)
    return model


def test_init_starts_a_new_run_from_an_exported_model(tiny_config, tiny_model, tmp_path, monkeypatch):
    start = export_model(_distinct_model(tiny_model), tmp_path / "start")
    first_weights = []
    original = RevisionTask.training_step

    def recording(self, batch, batch_index):
        if not first_weights:
            first_weights.append({k: v.detach().clone() for k, v in self.model.state_dict().items()})
        return original(self, batch, batch_index)

    monkeypatch.setattr(RevisionTask, "training_step", recording)
    exported = run_training(tiny_config, max_steps=2, init=start)
    expected = load_model(start).state_dict()
    assert all(torch.equal(first_weights[0][k], expected[k]) for k in expected)
    trained = load_model(exported).state_dict()
    assert any(not torch.equal(trained[k], expected[k]) for k in expected), "the run trained on from there"


def test_init_is_refused_for_a_model_of_other_settings(tiny_config, tiny_model, tmp_path):
    start = export_model(tiny_model, tmp_path / "start")
    other = dataclasses.replace(tiny_config, ar=dataclasses.replace(tiny_config.ar, order=20))
    with pytest.raises(ModelFileError, match="cannot start from .*: its ar settings differ"):
        run_training(other, init=start)
    assert not Path(tiny_config.train.output_dir).exists(), "refused before any folder was made"


@pytest.mark.parametrize(("trainable", "kept"), [("drafter", "reviser"), ("reviser", "drafter")])
def test_training_one_network_alone_keeps_the_other_as_loaded(tiny_config, tiny_model, tmp_path, trainable, kept):
    alone = dataclasses.replace(tiny_config, train=dataclasses.replace(tiny_config.train, trainable=trainable))
    with pytest.raises(ValueError, match=f"keeps the {kept} as it is loaded; pass --init with a trained model"):
        run_training(alone, max_steps=2)
    assert not Path(tiny_config.train.output_dir).exists(), "refused before any folder was made"
    start = export_model(_distinct_model(tiny_model), tmp_path / "start")
    before, after = load_model(start).state_dict(), load_model(run_training(alone, max_steps=3, init=start))
    after = after.state_dict()
    assert all(torch.equal(after[k], before[k]) for k in before if k.startswith(f"{kept}."))
    assert any(not torch.equal(after[k], before[k]) for k in before if k.startswith(f"{trainable}."))


def test_a_reviser_fine_tune_may_change_the_janssen_refinement_of_its_hint(tiny_config, tiny_model, tmp_path):
    start = export_model(tiny_model, tmp_path / "start")
    refined = dataclasses.replace(tiny_config, ar=dataclasses.replace(tiny_config.ar, janssen_iterations=2),
                                  train=dataclasses.replace(tiny_config.train, trainable="reviser"))
    assert load_model(run_training(refined, max_steps=2, init=start)).ar.janssen_iterations == 2


def test_a_resumed_run_continues_its_checkpoint_not_the_init(tiny_config, tiny_model, tmp_path, monkeypatch):
    seen = count_training_steps(monkeypatch)
    run_training(tiny_config, max_steps=3)
    seen.clear()
    run_training(tiny_config, max_steps=5, init=export_model(tiny_model, tmp_path / "start"))
    assert seen == [3, 4]


def test_resume_false_starts_again(tiny_config, monkeypatch):
    seen = count_training_steps(monkeypatch)
    run_training(tiny_config, max_steps=3)
    seen.clear()
    run_training(tiny_config, max_steps=3, resume=False)
    assert seen == [0, 1, 2]


def test_resume_keeps_the_metrics_logged_before_it(tiny_config):
    out = Path(tiny_config.train.output_dir)
    run_training(tiny_config, max_steps=3)
    run_training(tiny_config, max_steps=6)
    steps = {int(row["step"]) for path in (out / "logs").rglob("metrics.csv") for row in csv.DictReader(path.open())}
    assert min(steps) < 3 <= max(steps), steps


@pytest.mark.slow
def test_a_killed_run_resumes_with_the_step_count_continuing(tiny_config, tmp_path):
    """SIGKILL a training process once it has written a checkpoint; the next run resumes from it."""
    run = tmp_path / "run"
    train = dataclasses.replace(tiny_config.train, max_steps=10_000, val_every_steps=2, output_dir=str(run))
    config = dataclasses.replace(tiny_config, train=train)
    config_path = write_yaml(tmp_path / "config.yaml", to_dict(config))
    script = "import sys; from revise.config import load_config; from revise.train.run import run_training; " \
             "run_training(load_config(sys.argv[1]))"
    process = subprocess.Popen([sys.executable, "-c", script, str(config_path)], cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = run / "checkpoints" / "last.ckpt"
    try:
        deadline = time.monotonic() + 120
        # once step6.ckpt exists, last.ckpt holds step 4 at least (it is written after each step checkpoint)
        while not (run / "checkpoints" / "step6.ckpt").exists():
            assert process.poll() is None, "the training process ended early"
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.1)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    reached = checkpoint_step(last)
    assert reached >= 4 and reached % 2 == 0
    run_training(config, max_steps=reached + 2)
    assert checkpoint_step(last) == reached + 2
    assert_finite_checkpoints(last.parent)


# --- (f) bad training folders ---------------------------------------------------------------------


def test_folder_without_audio_is_refused(tiny_config, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no music here")
    with pytest.raises(ValueError, match="holds no audio files"):
        run_training(tiny_config, data_root=empty)
    assert not (Path(tiny_config.train.output_dir) / "checkpoints").exists()


def test_missing_folder_is_refused(tiny_config, tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        run_training(tiny_config, data_root=tmp_path / "nowhere")


def test_folder_of_silence_is_refused(tiny_config, tmp_path):
    silent = tmp_path / "silent"
    silent.mkdir()
    for index in range(3):
        sf.write(str(silent / f"quiet{index}.wav"), np.zeros((44100, 2)), 44100, subtype="PCM_16")
    with pytest.raises(ValueError, match="silent"):
        run_training(tiny_config, data_root=silent)
    assert not (Path(tiny_config.train.output_dir) / "checkpoints").exists()


# --- (g) non-finite losses ------------------------------------------------------------------------


def nan_drafter_loss(monkeypatch, bad_calls: set[int] | None) -> None:
    """Make RevisionTask.drafted return a NaN draft on the given (1-based) calls; None: on every call."""
    original = RevisionTask.drafted
    calls = [0]

    def patched(self, batch, features, to_fill):
        calls[0] += 1
        drafted = original(self, batch, features, to_fill)
        return drafted * float("nan") if bad_calls is None or calls[0] in bad_calls else drafted

    monkeypatch.setattr(RevisionTask, "drafted", patched)


def test_a_nan_loss_is_skipped_counted_and_never_saved(tiny_config, monkeypatch, caplog):
    nan_drafter_loss(monkeypatch, {2})
    watcher = WeightWatcher()
    original_build = train_run.build_trainer

    def build_with_watcher(config, checkpoints):
        trainer = original_build(config, checkpoints)
        trainer.callbacks.append(watcher)
        return trainer

    monkeypatch.setattr(train_run, "build_trainer", build_with_watcher)
    with caplog.at_level(logging.WARNING, logger="revise.train.task"):
        exported = run_training(tiny_config)  # 6 steps, checkpoints at 3 and 6
    skipped = [r for r in caplog.records if "non-finite loss" in r.getMessage()]
    assert len(skipped) == 1 and "(1 in a row)" in skipped[0].getMessage()
    assert watcher.changed == [True, False, True, True, True, True], "the NaN batch leaves the weights as they were"
    checkpoints = Path(tiny_config.train.output_dir) / "checkpoints"
    assert checkpoint_step(checkpoints / "last.ckpt") == 6
    assert_finite_checkpoints(checkpoints)
    load_model(exported)  # refuses NaN weights, so this loading is a check too


def test_a_loss_that_stays_nan_stops_the_run_with_a_clear_message(tiny_config, monkeypatch):
    nan_drafter_loss(monkeypatch, None)
    monkeypatch.setattr(train_task, "MAX_SKIPPED_BATCHES", 2)
    with pytest.raises(NonFiniteLossError, match="NaN or infinite for 2 batches in a row.*learning_rate"):
        run_training(tiny_config)
    assert not list((Path(tiny_config.train.output_dir) / "checkpoints").glob("*.ckpt"))
    assert not (Path(tiny_config.train.output_dir) / "model").exists()


def test_a_checkpoint_with_nan_weights_is_refused(tiny_config, tmp_path):
    task = RevisionTask(to_dict(tiny_config))
    trainer = L.Trainer(
        max_steps=1, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path, limit_val_batches=0,
    )
    trainer.fit(task, datamodule=RevisionDataModule(tiny_config))
    good = tmp_path / "good.ckpt"
    trainer.save_checkpoint(good)
    assert checkpoint_step(good) == 1
    with torch.no_grad():
        task.model.drafter.correction[1].bias[0] = float("nan")
    bad = tmp_path / "bad.ckpt"
    with pytest.raises(NonFiniteLossError, match="refusing to save a checkpoint.*drafter.correction"):
        trainer.save_checkpoint(bad)
    assert not bad.exists()


def test_lightning_warnings_are_logged_once_each_as_they_come(caplog):
    import warnings

    from revise.train.console import folded_lightning_output

    with caplog.at_level(logging.DEBUG, logger="revise"), folded_lightning_output():
        for _ in range(3):
            warnings.warn("the dataloader has few workers", UserWarning)
        assert [r.getMessage() for r in caplog.records] == ["lightning: the dataloader has few workers"]
        warnings.warn("old API", DeprecationWarning)
    levels = {r.getMessage(): r.levelno for r in caplog.records}
    assert levels == {"lightning: the dataloader has few workers": logging.WARNING, "lightning: old API": logging.DEBUG}
