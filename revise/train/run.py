"""`revise train`: set up Lightning, resume from the last checkpoint, export the trained model."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.utilities.exceptions import SIGTERMException

from revise.checkpoint import ModelFileError, export_model, load_model
from revise.config import Config, to_dict
from revise.model_files import MODEL_SECTIONS
from revise.nn.model import RevisionModel
from revise.train.checkpoints import model_from_lightning_checkpoint
from revise.train.console import StepBar, folded_lightning_output
from revise.train.datamodule import RevisionDataModule
from revise.train.interrupt import StopOnSignal, TrainingInterrupted
from revise.train.task import RevisionTask

log = logging.getLogger(__name__)


def apply_overrides(
    config: Config, data_root: Path | None, output_dir: Path | None, max_steps: int | None
) -> Config:
    """The command line's overrides on top of the YAML config."""
    if data_root is not None:
        config = dataclasses.replace(config, data=dataclasses.replace(config.data, root=str(data_root)))
    if output_dir is not None:
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, output_dir=str(output_dir)))
    if max_steps is not None:
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, max_steps=max_steps))
    return config


def build_trainer(config: Config, checkpoints: Path) -> L.Trainer:
    train = config.train
    # a step file per validation, to compare; last.ckpt every checkpoint_every steps, to resume
    # after a crash (one callback when the two coincide: Lightning refuses two with one schedule)
    every = min(train.val_every_steps, train.max_steps)
    savers = [ModelCheckpoint(dirpath=checkpoints, filename="step{step}", auto_insert_metric_name=False,
                              every_n_train_steps=every, save_top_k=-1, save_last=every == train.checkpoint_every)]
    if every != train.checkpoint_every:
        savers.append(ModelCheckpoint(dirpath=checkpoints, every_n_train_steps=train.checkpoint_every,
                                      save_last=True, save_top_k=0))
    return L.Trainer(
        max_steps=train.max_steps,
        max_time=timedelta(minutes=train.max_minutes) if train.max_minutes else None,
        accelerator=train.accelerator,
        devices=train.devices,
        num_nodes=train.num_nodes,
        precision=train.precision,
        gradient_clip_val=train.gradient_clip,
        val_check_interval=min(train.val_every_steps, train.max_steps),
        check_val_every_n_epoch=None,
        num_sanity_val_steps=0,
        log_every_n_steps=min(50, train.val_every_steps),
        logger=CSVLogger(train.output_dir, name="logs"),  # a new version folder per (resumed) run
        callbacks=[*savers, StepBar(refresh_rate=10)],
        default_root_dir=train.output_dir,
        enable_model_summary=False,
    )


def run_training(
    config: Config,
    data_root: Path | None = None,
    output_dir: Path | None = None,
    max_steps: int | None = None,
    resume: bool = True,
    init: str | Path | None = None,
) -> Path:
    """Train, resuming from `<output_dir>/checkpoints/last.ckpt` if present; returns the exported model folder.

    `init`: a new run starts from this exported model's weights ("default": the shipped model)
    instead of at random, to fine-tune it; a resumed run continues from its checkpoint instead.
    """
    config = apply_overrides(config, data_root, output_dir, max_steps)
    out = Path(config.train.output_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"the output folder {out} is a file; choose another --output-dir.")
    checkpoints = out / "checkpoints"
    last = checkpoints / "last.ckpt"
    resume_from = str(last) if resume and _check_resumable(last, config) else None
    trainable = config.train.trainable
    if trainable != "all" and init is None and resume_from is None:
        kept = "reviser" if trainable == "drafter" else "drafter"
        raise ValueError(f"train.trainable: {trainable} keeps the {kept} as it is loaded; pass --init with a trained "
                         "model (e.g. --init default).")
    start = initial_model(init, config) if init is not None and resume_from is None else None
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    datamodule = RevisionDataModule(config)
    datamodule.setup("fit")  # fails early, before any Lightning output or folder, on a bad data folder
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(
            f"the output folder {out} cannot be created ({error.strerror}); choose another --output-dir."
        ) from None
    L.seed_everything(config.train.seed, workers=True, verbose=False)
    task = RevisionTask(to_dict(config))
    if start is not None:
        task.model.load_state_dict(start.state_dict(), strict=True)
        log.info("starting from the weights of %s", init)
    with folded_lightning_output():
        return _fit_and_export(config, task, datamodule, checkpoints, resume_from, init)


def _fit_and_export(config: Config, task: RevisionTask, datamodule: RevisionDataModule, checkpoints: Path,
                    resume_from: str | None, init: str | Path | None) -> Path:
    """Fit (resuming from `resume_from`), save last.ckpt, export the model; see `run_training`."""
    out, last = Path(config.train.output_dir), checkpoints / "last.ckpt"
    trainer = build_trainer(config, checkpoints)
    if resume_from:
        log.info("resuming from %s%s", resume_from, " (--init applies only to a new run)" if init else "")
    stop = StopOnSignal()
    trainer.callbacks.append(stop)
    with stop:
        try:
            trainer.fit(task, datamodule=datamodule, ckpt_path=resume_from, weights_only=True)
        except SIGTERMException:  # Lightning's exit on the SIGTERM that `stop` also noted
            _close_progress_bars(trainer)
            if stop.signum is None:  # no handler of ours (not the main thread): Lightning's way
                raise
        except BaseException:
            _close_progress_bars(trainer)  # else a bar left open prints again when Python exits
            raise
    # Lightning writes last.ckpt only on its checkpoint schedule; keep the final steps too
    trainer.save_checkpoint(last, weights_only=False)
    if stop.signum is not None:
        raise TrainingInterrupted(stop.signum, trainer.global_step, last)
    if not trainer.is_global_zero:  # under DDP one process exports; the others would race it
        return out / "model"
    model, info = model_from_lightning_checkpoint(last)
    return export_model(model, out / "model", extra={"source": str(last), **info})


def _check_resumable(last: Path, config: Config) -> bool:
    """True when `last` exists; refuses one that is unreadable or holds another model's shape."""
    if not last.is_file():
        return False
    try:
        model, _ = model_from_lightning_checkpoint(last)
    except ModelFileError:
        raise ModelFileError(
            f"cannot resume from {last}: it is not a readable revise checkpoint; pass --fresh to start over."
        ) from None
    if _differing_settings(model, config):
        raise ModelFileError(
            f"cannot resume from {last}: it was trained with other frame, model, ar or match settings; "
            "pass --fresh to start over or choose another --output-dir."
        )
    return True


def initial_model(init: str | Path, config: Config) -> RevisionModel:
    """The exported model a new run starts from; refuses one whose shape or settings differ from `config`."""
    model = load_model(None if str(init) == "default" else init)
    differing = _differing_settings(model, config)
    if differing:
        raise ModelFileError(
            f"cannot start from {init}: its {_listed(differing)} settings differ from the config's; "
            "train with the model's settings or drop --init."
        )
    return model


def _differing_settings(model: RevisionModel, config: Config) -> list[str]:
    """The settings a model's weights depend on (all it carries but the revision defaults) that differ from `config`'s."""
    names = [name for name in MODEL_SECTIONS if name != "revision"]
    return [name for name in names if _weights_key(getattr(model, name)) != _weights_key(getattr(config, name))]


def _weights_key(section: Any) -> dict:
    """A model section's settings as the weights depend on them: the Janssen refinement of the
    reviser's hint may change between runs (a fine-tune teaches the reviser the refined hint)."""
    values = to_dict(section)
    values.pop("janssen_iterations", None)
    return values


def _listed(names: list[str]) -> str:
    """["a", "b", "c"] -> "a, b and c"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _close_progress_bars(trainer: L.Trainer) -> None:
    """Close the bars of a run that stopped with an error (Lightning leaves them open)."""
    bar = trainer.progress_bar_callback
    for name in ("_train_progress_bar", "_val_progress_bar"):
        progress = getattr(bar, name, None)
        if progress is not None:
            progress.close()
