"""Shared fixtures: a tiny config, a folder of synthetic music and an untrained tiny model.

Everything is written under pytest's tmp_path; nothing is downloaded and nothing is written into
the repository.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from revise.config import (
    ARConfig,
    Config,
    DataConfig,
    FrameConfig,
    MatchConfig,
    ModelConfig,
    RevisionConfig,
    TrainConfig,
)
from revise.nn.model import RevisionModel


@pytest.fixture(autouse=True, scope="session")
def one_thread():
    """Tiny models and small STFTs run many times slower with 2 threads when another process
    holds a core (as on a 2-core CI machine), so the whole test session uses one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)

MUSIC_RATE = 44100
MUSIC_SECONDS = (2.0, 2.5, 3.0, 2.2)  # one file per entry


def synthetic_music(seconds: float, rate: int, seed: int) -> np.ndarray:
    """Stereo "music" float64 [samples, 2] in (-1, 1): harmonic notes with vibrato, an envelope and a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * rate))) / rate
    out = np.zeros((len(t), 2))
    note_length = seconds / 4
    for note in range(4):
        f0 = 110.0 * 2 ** (rng.integers(0, 24) / 12)
        vibrato = 1 + 0.004 * np.sin(2 * np.pi * rng.uniform(4, 7) * t)
        phase = 2 * np.pi * np.cumsum(f0 * vibrato) / rate
        local = t - note * note_length
        envelope = np.where(local >= 0, np.exp(-np.clip(local, 0, None) * rng.uniform(1, 3)), 0.0)
        for harmonic in range(1, 7):
            amplitude = rng.uniform(0.3, 1.0) / harmonic
            for channel, pan in enumerate((rng.uniform(0.4, 1.0), rng.uniform(0.4, 1.0))):
                out[:, channel] += pan * amplitude * envelope * np.sin(harmonic * phase + rng.uniform(0, 2 * np.pi))
    out += 0.003 * rng.standard_normal(out.shape)
    return 0.5 * out / np.abs(out).max()


@pytest.fixture(scope="session")
def music_folder(tmp_path_factory) -> Path:
    """A folder of 4 short synthetic music wav files (44.1 kHz, stereo, PCM_16, 2-3 s). Do not modify it."""
    folder = tmp_path_factory.mktemp("music")
    for index, seconds in enumerate(MUSIC_SECONDS):
        sf.write(str(folder / f"track{index}.wav"), synthetic_music(seconds, MUSIC_RATE, seed=index), MUSIC_RATE,
                 subtype="PCM_16")
    return folder


def make_tiny_config(data_root: Path, output_dir: Path, **train_overrides) -> Config:
    """A config like configs/tiny.yaml, made smaller and faster for tests (16 kHz, L=128, H=64, hidden 16)."""
    train = dict(
        batch_size=2, learning_rate=3e-3, max_steps=6, val_every_steps=3, max_span_seconds=0.05,
        unroll_passes=2, accelerator="cpu", devices=1, output_dir=str(output_dir), seed=0,
    )
    train.update(train_overrides)
    return Config(
        frame=FrameConfig(sample_rate=16000, frame_length=128, hop_length=64, encoding="raw"),
        model=ModelConfig(rnn="gru", hidden_size=16, drafter_layers=1, reviser_layers=1),
        revision=RevisionConfig(passes=2, schedule="shrink"),
        ar=ARConfig(order=16, context=128),
        match=MatchConfig(search=4000, context=200),
        data=DataConfig(root=str(data_root), excerpt_seconds=0.25, val_fraction=0.3, excerpts_per_epoch=16,
                        val_excerpts=2, num_workers=0, seed=0),
        train=TrainConfig(**train),
    )


@pytest.fixture
def tiny_config(music_folder, tmp_path) -> Config:
    """The tiny test config: data root `music_folder`, output under tmp_path/"run"."""
    return make_tiny_config(music_folder, tmp_path / "run")


@pytest.fixture
def tiny_model(tiny_config) -> RevisionModel:
    """An untrained RevisionModel (eval mode) with the tiny config; weights from torch seed 0.

    Its reviser's correction head is zero-initialised, so it returns its hint on masked frames.
    """
    torch.manual_seed(0)
    c = tiny_config
    return RevisionModel(c.frame, c.model, c.revision, c.ar, c.match).eval()
