"""The sampled network baseline (`revise.sampling`, `--draft network`): level held, finite and unclipped, seeded, the right lengths, crossfade against the naive
join, windowed revision with flat memory, and the `revise generate` command.

A tiny model is trained once per session on the synthetic music folder (about 20 s on 2 CPU cores);
tests that need no training use an untrained tiny model.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from revise import generation, sampling
from revise.audio import resample, to_float
from revise.checkpoint import load_model
from revise.cli.main import main
from revise.config import ARConfig, Config, DataConfig, FrameConfig, ModelConfig, RevisionConfig, TrainConfig
from revise.evaluate.metrics import boundary_discontinuity_ratio, level_stability
from revise.evaluate.seams import grid_offset
from revise.nn.model import RevisionModel
from revise.revision.loops import revise
from revise.train.run import run_training

FRAME = FrameConfig(sample_rate=16000, frame_length=256, hop_length=128, encoding="raw")
TINY = ModelConfig(rnn="gru", hidden_size=16, drafter_layers=1, reviser_layers=1)


@pytest.fixture(scope="session")
def trained(music_folder, tmp_path_factory) -> Path:
    """The exported folder of a tiny model trained for a few seconds on the synthetic music."""
    out = tmp_path_factory.mktemp("generate_run")
    config = Config(
        frame=FRAME, model=TINY, revision=RevisionConfig(passes=2, schedule="shrink"),
        ar=ARConfig(order=16, context=128),
        data=DataConfig(root=str(music_folder), excerpt_seconds=0.5, val_fraction=0.3, excerpts_per_epoch=64,
                        val_excerpts=2, seed=0),
        train=TrainConfig(batch_size=4, learning_rate=3e-3, max_steps=150, val_every_steps=150, max_span_seconds=0.1,
                          unroll_passes=1, stft_weight=0.0, accelerator="cpu", devices=1, output_dir=str(out), seed=0),
    )
    return run_training(config, resume=False)


@pytest.fixture(scope="session")
def prompt(music_folder) -> tuple[np.ndarray, int]:
    """1.5 s of synthetic music, mono float32 at its file rate (44.1 kHz)."""
    samples, rate = sf.read(str(music_folder / "track2.wav"), dtype="float32")
    return samples[: int(1.5 * rate)].mean(axis=1).astype(np.float32), rate


def untrained(frame: FrameConfig = FRAME) -> RevisionModel:
    torch.manual_seed(0)
    return RevisionModel(frame, TINY).eval()


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


def test_level_held_finite_and_unclipped(trained, prompt):
    model = load_model(trained)
    samples, rate = prompt
    for passes in (0, 2):
        out = sampling.generate_sampled(4.0, samples, rate, passes, model, seed=3, include_prompt=False)
        assert np.isfinite(out).all() and np.abs(out).max() < 1.0
        level = level_stability(out, rate, rms(samples))
        assert len(level["rms_per_second"]) == 4 and level["max_ratio"] < 4.0, level


def test_no_prompt_level_is_the_typical_level():
    out = sampling.generate_sampled(2.0, model=untrained(), seed=0)
    assert len(out) == 32000 and np.isfinite(out).all() and np.abs(out).max() < 1.0
    assert level_stability(out, 16000, sampling.NO_PROMPT_RMS)["max_ratio"] < 4.0


def test_same_seed_same_output_other_seed_other_output(trained, prompt):
    model = load_model(trained)
    samples, rate = prompt
    first, again, other = (sampling.generate_sampled(1.0, samples, rate, 2, model, seed=s) for s in (5, 5, 6))
    np.testing.assert_array_equal(first, again)
    tail = len(samples)
    assert np.abs(first[tail:] - other[tail:]).mean() > 0.1 * rms(first[tail:])


def test_lengths_and_the_prompt_kept_exactly(prompt):
    model = untrained()
    samples, rate = prompt
    out = sampling.generate_sampled(0.7, samples, rate, 1, model, seed=0)
    assert len(out) == len(samples) + round(0.7 * rate)
    np.testing.assert_array_equal(out[: len(samples)], samples)
    alone = sampling.generate_sampled(0.7, samples, rate, 1, model, seed=0, include_prompt=False)
    assert len(alone) == round(0.7 * rate)
    np.testing.assert_array_equal(alone, out[len(samples):])
    assert len(sampling.generate_sampled(0.7, model=model, seed=0)) == round(0.7 * model.sample_rate)
    int_prompt = (samples * 20000).astype(np.int16)[:, None].repeat(2, axis=1)  # stereo int16: mixed to mono
    mixed = sampling.generate_sampled(0.2, int_prompt, rate, 0, model, seed=0)
    np.testing.assert_array_equal(mixed[: len(samples)], to_float(int_prompt).mean(axis=1).astype(np.float32))


def test_naive_join_has_clicks_the_crossfade_does_not(trained, prompt):
    model = load_model(trained)
    rate, hop = model.sample_rate, model.frame.hop_length
    samples = resample(prompt[0], prompt[1], rate).astype(np.float32)  # at the model rate: the frame grid is known
    offset = (grid_offset(model.frame.frame_length, hop) - len(samples)) % hop
    ratios = {}
    for join in ("crossfade", "naive"):
        out = sampling.generate_sampled(4.0, samples, rate, 2, model, seed=1, join=join, include_prompt=False)
        ratios[join] = boundary_discontinuity_ratio(out, hop, offset)
    assert 0.8 < ratios["crossfade"] < 1.2, ratios
    assert ratios["naive"] > 10 * ratios["crossfade"], ratios


def test_long_output_is_revised_in_bounded_windows(monkeypatch):
    model = untrained()
    lengths = []
    forward = model.reviser.forward
    monkeypatch.setattr(model.reviser, "forward", lambda f, m, h=None, g=None: lengths.append(f.shape[1]) or forward(f, m, h, g))
    out = sampling.generate_sampled(30.0, model=model, passes=1, seed=0)
    assert len(out) == 30 * 16000 and np.isfinite(out).all()
    assert level_stability(out, 16000, sampling.NO_PROMPT_RMS)["max_ratio"] < 4.0
    assert len(lengths) > 1 and max(lengths) <= sampling.REVISION_WINDOW


@pytest.mark.parametrize("gain", [None, "random"])
def test_windowed_revision_equals_whole_revision_within_one_window(gain):
    model = untrained()
    torch.manual_seed(1)
    torch.nn.init.normal_(model.reviser.correction[1].weight, std=0.1)  # a reviser that changes what it sees
    count = sampling.REVISION_WINDOW - 7
    features = torch.randn(1, count, FRAME.feature_size)
    to_fill = torch.zeros(1, count, dtype=torch.bool)
    to_fill[:, 30:] = True
    scale = None if gain is None else torch.rand(FRAME.frame_length // 2 + 1, dtype=torch.float64)
    with torch.inference_mode():
        windowed = sampling.revise_windowed(model, features, to_fill, RevisionConfig(3, "shrink"), scale)
        whole = sampling.revise_calibrated(model, features, to_fill, RevisionConfig(3, "shrink"), features, scale)
        plain = revise(model.reviser, features, to_fill, 3, "shrink", features)
    torch.testing.assert_close(windowed, whole, rtol=0, atol=0)
    assert not torch.equal(windowed, features)
    if gain is None:
        torch.testing.assert_close(windowed, plain, rtol=0, atol=0)


def test_cli_writes_the_continuation(trained, prompt, tmp_path, capsys):
    samples, rate = prompt
    sf.write(str(tmp_path / "prompt.wav"), samples, rate, subtype="FLOAT")
    out = tmp_path / "more.wav"
    argv = ["generate", "-o", str(out), "--seconds", "1", "--prompt", str(tmp_path / "prompt.wav"),
            "--model", str(trained), "--seed", "2", "--passes", "1", "--draft", "network"]
    assert main(argv) in (0, None)
    written, written_rate = sf.read(str(out), dtype="float32")
    assert written_rate == rate and len(written) == len(samples) + rate
    assert main(argv) == 2  # exists: refused without --force
    assert main([*argv, "--force", "--join", "naive", "--no-prompt-in-output"]) in (0, None)
    assert len(sf.read(str(out))[0]) == rate


def test_help_labels_the_naive_join_a_baseline(capsys):
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "naive" in text and "baseline" in text.lower()



def test_soft_limit_bends_only_peaks_and_never_reaches_full_scale():
    x = np.linspace(-20.0, 20.0, 40001)
    y = generation.soft_limit(x)
    inside = np.abs(x) <= generation.LIMITER_KNEE
    np.testing.assert_array_equal(y[inside], x[inside])
    assert np.all(np.diff(y) >= 0) and np.abs(y).max() < 1.0


def test_drafted_predictions_never_exceed_the_ceiling():
    """A drafter stuck on a loud output is held at the prompt's loud-frame energy, not fed back louder."""
    model = untrained()
    frame = model.frame
    with torch.no_grad():
        model.drafter.output[1].bias.fill_(10.0)  # every prediction: a frame far louder than the prompt
    features = torch.zeros(1, 20, frame.feature_size)
    noise = torch.zeros(1, 20, frame.feature_size)
    gain = torch.ones(frame.frame_length // 2 + 1)
    with torch.no_grad():
        drafted = sampling.sample_draft(model.drafter, features, 5, gain, noise, frame, ceiling=2.0)
    energies = drafted[0, 5:].pow(2).sum(-1)
    assert torch.allclose(energies, torch.full_like(energies, 2.0), rtol=1e-4)


def test_keep_level_moves_only_the_level_of_each_filled_frame():
    generator = torch.Generator().manual_seed(0)
    reference = torch.randn(2, 40, 16, generator=generator)
    shape = torch.randn(2, 40, 16, generator=generator)
    revised = 0.1 * shape * reference.norm(dim=-1, keepdim=True) / shape.norm(dim=-1, keepdim=True)
    everywhere = torch.ones(2, 40, dtype=torch.bool)
    kept = sampling.keep_level(revised, reference, everywhere, 1)  # each frame gets the reference's energy
    assert torch.allclose(kept.pow(2).sum(-1), reference.pow(2).sum(-1), rtol=1e-5)
    assert torch.allclose(kept / kept.norm(dim=-1, keepdim=True), shape / shape.norm(dim=-1, keepdim=True), atol=1e-5)


def test_keep_level_is_not_pulled_down_by_known_frames_before_a_filled_run():
    # a steady draft, revised 8x quieter after 20 known frames, where the revision equals the draft
    reference = torch.ones(1, 60, 16)
    to_fill = torch.arange(60).unsqueeze(0) >= 20
    revised = torch.where(to_fill.unsqueeze(-1), reference / 8, reference)
    kept = sampling.keep_level(revised, reference, to_fill, 25)
    assert torch.allclose(kept, reference)
    with pytest.raises(ValueError, match="odd"):
        sampling.keep_level(revised, reference, to_fill, 24)


def test_a_silent_prompt_is_warned_about(caplog):
    model = RevisionModel(FrameConfig(), ModelConfig(hidden_size=8, drafter_layers=1, reviser_layers=1)).eval()
    with caplog.at_level(logging.WARNING, logger="revise"):
        sampling.generate_sampled(0.1, np.zeros(16000), 16000, passes=0, model=model)
    assert [r.getMessage() for r in caplog.records] == [
        "the prompt is silent or nearly (below -60 dBFS): its continuation will be too"]
