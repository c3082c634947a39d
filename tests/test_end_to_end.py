"""A model of the other settings (Fourier frames, LSTM layers) through train, export, inpaint and
generate on real files, and `revise export --passes/--schedule` stored with the model and used."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import make_tiny_config, synthetic_music

from revise.audio import read_audio
from revise.checkpoint import load_model
from revise.cli.main import main
from revise.config import FrameConfig, RevisionConfig
from revise.inpainting import crossfade_margin, inpaint
from revise.train.run import run_training


@pytest.fixture(scope="module")
def fourier_lstm_run(music_folder, tmp_path_factory) -> Path:
    """The output folder of a 4-step training run of a Fourier-encoded LSTM model."""
    out = tmp_path_factory.mktemp("fourier_lstm")
    config = make_tiny_config(music_folder, out, max_steps=4)
    config = dataclasses.replace(
        config,
        frame=dataclasses.replace(config.frame, encoding="fourier"),
        model=dataclasses.replace(config.model, rnn="lstm"),
    )
    run_training(config)
    return out


def test_a_fourier_lstm_model_trains_exports_inpaints_and_generates(fourier_lstm_run, tmp_path):
    model_dir = fourier_lstm_run / "model"
    model = load_model(model_dir)
    assert model.frame == FrameConfig(16000, 128, 64, "fourier")
    assert model.model.rnn == "lstm" and type(model.drafter.rnn.layers[0]).__name__ == "LSTM"
    assert model.frame.feature_size == 2 * (128 // 2 + 1)

    source, repaired = tmp_path / "in.wav", tmp_path / "out.wav"
    sf.write(str(source), synthetic_music(1.5, 22050, seed=7), 22050, subtype="PCM_24")
    assert main(["inpaint", str(source), "-o", str(repaired), "--gap", "0.60:0.66", "--model", str(model_dir)]) == 0
    original, filled = read_audio(source).samples, read_audio(repaired).samples
    margin = crossfade_margin(model, 22050)
    start, end = int(0.60 * 22050), int(np.ceil(0.66 * 22050))
    np.testing.assert_array_equal(filled[: start - margin], original[: start - margin])
    np.testing.assert_array_equal(filled[end + margin :], original[end + margin :])
    assert np.abs(filled[start:end].astype(float)).max() > 0

    long_source, generated = tmp_path / "long.wav", tmp_path / "more.wav"
    sf.write(str(long_source), synthetic_music(3.0, 22050, seed=7), 22050, subtype="PCM_24")
    code = main(["generate", "-o", str(generated), "--seconds", "0.5", "--prompt", str(long_source), "--model",
                 str(model_dir)])
    assert code == 0
    samples, rate = sf.read(str(generated))
    prompt = sf.read(str(long_source))[0]  # the output starts with the prompt, its channels kept
    assert rate == 22050 and samples.shape == (len(prompt) + round(0.5 * 22050), 2) and np.isfinite(samples).all()
    np.testing.assert_allclose(samples[: len(prompt)], prompt, atol=2**-15)
    assert np.sqrt(np.mean(samples[len(prompt) :] ** 2)) > 1e-3  # and goes on with sound


def test_export_stores_passes_and_schedule_and_inpaint_uses_them(fourier_lstm_run, tmp_path):
    checkpoint, exported = fourier_lstm_run / "checkpoints" / "last.ckpt", tmp_path / "exported"
    assert main(["export", str(checkpoint), str(exported), "--passes", "3", "--schedule", "alternate"]) == 0
    model, trained = load_model(exported), load_model(fourier_lstm_run / "model")
    assert model.revision == RevisionConfig(passes=3, schedule="alternate")
    assert trained.revision == make_tiny_config(Path("."), Path(".")).revision
    audio = synthetic_music(1.0, 16000, seed=2)
    gap = [(0.4, 0.5)]
    stored = inpaint(audio, 16000, gap, model=model)
    np.testing.assert_array_equal(stored, inpaint(audio, 16000, gap, model=trained, passes=3, schedule="alternate"))
    assert not np.array_equal(stored, inpaint(audio, 16000, gap, model=trained))  # the stored defaults matter
    assert main(["export", str(checkpoint), str(tmp_path / "plain")]) == 0
    assert load_model(tmp_path / "plain").revision == trained.revision  # without options: the run's own
