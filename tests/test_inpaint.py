"""Inpainting invariants: untouched audio stays bit-identical, gap samples are never read."""

from __future__ import annotations

import copy
import logging

import numpy as np
import pytest
import soundfile as sf
import torch

from revise.audio import read_audio
from revise.checkpoint import export_model
from revise.cli.main import main
from revise.config import MAX_GAP_SECONDS, ARConfig, FrameConfig, ModelConfig
from revise.hints.autoregressive import ar_fill
from revise.inpainting import crossfade_margin, gaps_to_samples, inpaint
from revise.nn.model import RevisionModel

REVISER = ("revise",)  # no choice among fills: what the reviser itself does


@pytest.fixture(scope="module")
def model() -> RevisionModel:
    torch.manual_seed(0)
    config = ModelConfig(hidden_size=32, drafter_layers=1, reviser_layers=1)
    return RevisionModel(FrameConfig(), config, ar=ARConfig(order=32, context=256)).eval()


def music(seconds: float, rate: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """A few harmonics with vibrato and a little noise. [samples, channels] float64"""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    tone = sum(0.2 / k * np.sin(2 * np.pi * 220 * k * t + 0.3 * np.sin(2 * np.pi * 5 * t)) for k in (1, 2, 3))
    return np.stack([tone * (0.8 + 0.2 * c) + 0.01 * rng.standard_normal(len(t)) for c in range(channels)], axis=1)


def changed_span(a: np.ndarray, b: np.ndarray) -> tuple[int, int] | None:
    rows = np.nonzero((a != b).reshape(len(a), -1).any(axis=1))[0]
    return (rows.min(), rows.max() + 1) if len(rows) else None


@pytest.mark.parametrize("rate", [8000, 16000, 44100, 192000])
@pytest.mark.parametrize("channels", [1, 2, 3])
def test_untouched_samples_are_bit_identical(model, rate, channels):
    audio = (music(1.0, rate, channels) * 32767).astype(np.int16)
    out = inpaint(audio, rate, [(0.4, 0.45)], model=model, passes=1)
    assert out.shape == audio.shape and out.dtype == audio.dtype
    margin = crossfade_margin(model, rate)
    first, last = changed_span(audio, out)
    assert first >= int(0.4 * rate) - margin and last <= int(np.ceil(0.45 * rate)) + margin
    gap = slice(int(0.4 * rate), int(0.45 * rate))
    assert np.abs(out[gap].astype(float)).max() > 0  # the gap was filled with sound, not left silent


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float32, np.float64])
def test_every_dtype_round_trips_outside_the_gap(model, dtype):
    audio = music(0.8, 22050, 2)
    if np.issubdtype(dtype, np.integer):
        audio = (audio * np.iinfo(dtype).max * 0.5).astype(dtype)
    else:
        audio = audio.astype(dtype)
    out = inpaint(audio, 22050, [(0.3, 0.35)], model=model)
    assert out.dtype == audio.dtype
    margin = crossfade_margin(model, 22050)
    np.testing.assert_array_equal(out[: int(0.3 * 22050) - margin], audio[: int(0.3 * 22050) - margin])
    np.testing.assert_array_equal(out[int(np.ceil(0.35 * 22050)) + margin :], audio[int(np.ceil(0.35 * 22050)) + margin :])


def test_gap_samples_are_never_read(model):
    """Whatever the gaps hold (noise, silence, NaN), every output sample is the same."""
    audio = music(1.0, 16000)
    noisy, silent, broken = audio.copy(), audio.copy(), audio.copy()
    gaps = [(6000, 7600), (9600, 9760)]
    for start, end in gaps:
        noisy[start:end] = np.random.default_rng(1).standard_normal((end - start, 1))
        silent[start:end] = 0.0
        broken[start:end] = np.nan
    seconds = [(start / 16000, end / 16000) for start, end in gaps]
    a = inpaint(noisy, 16000, seconds, model=model, passes=2)
    np.testing.assert_array_equal(a, inpaint(silent, 16000, seconds, model=model, passes=2))
    np.testing.assert_array_equal(a, inpaint(broken, 16000, seconds, model=model, passes=2))


def test_nan_outside_the_gaps_is_refused_with_its_place(model):
    audio = music(1.0, 16000)
    audio[8000] = np.inf
    with pytest.raises(ValueError, match="outside the gaps, the first at 0.500 s"):
        inpaint(audio, 16000, [(0.2, 0.3)], model=model)


def test_untrained_reviser_reproduces_the_ar_fill(model):
    """The correction head starts at zero, so one pass returns the hint: the two-sided AR fill."""
    audio = music(1.0, 16000)[:, 0]
    out = inpaint(audio, 16000, [(0.5, 0.55)], model=model, passes=1, candidates=REVISER)
    expected = ar_fill(audio, 8000, 8800, model.ar.order, model.ar.context)
    np.testing.assert_allclose(out[8000:8800], expected[8000:8800], atol=1e-5)


def test_the_revisers_change_to_the_hint_stays_below_the_band_edge(model):
    """Random reviser weights make a loud broadband change; above 7.5 kHz nothing of it is left."""
    noisy = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in noisy.reviser.parameters():
            parameter.copy_(0.3 * torch.randn(parameter.shape, generator=generator))
    audio = music(1.0, 16000)[:, 0]
    out = inpaint(audio, 16000, [(0.5, 0.6)], model=noisy, passes=1, candidates=REVISER)
    change = (out - ar_fill(audio, 8000, 9600, model.ar.order, model.ar.context))[8000:9600]
    power = np.abs(np.fft.rfft(change * np.hanning(len(change)))) ** 2
    above = np.fft.rfftfreq(len(change), 1 / 16000) > 7700
    assert np.sqrt(np.mean(change**2)) > 0.01  # the reviser did change the hint
    assert power[above].sum() < 1e-4 * power.sum()


def test_passes_zero_gives_the_draft_not_the_ar_fill(model):
    audio = music(1.0, 16000)[:, 0]
    draft = inpaint(audio, 16000, [(0.5, 0.55)], model=model, passes=0, candidates=REVISER)
    revised = inpaint(audio, 16000, [(0.5, 0.55)], model=model, passes=1, candidates=REVISER)
    assert not np.allclose(draft[8000:8800], revised[8000:8800])


def test_deterministic(model):
    audio = music(1.0, 16000)
    gaps = [(0.2, 0.3), (0.6, 0.61)]
    np.testing.assert_array_equal(inpaint(audio, 16000, gaps, model=model), inpaint(audio, 16000, gaps, model=model))


@pytest.mark.parametrize("gap", [(0.0, 0.05), (0.95, 1.0)])
def test_gaps_at_the_edges_use_one_side(model, gap):
    """The untrained reviser returns its hint, so the fill is the one-sided AR extrapolation."""
    audio = music(1.0, 16000)[:, 0]
    start, end = int(gap[0] * 16000), int(gap[1] * 16000)
    out = inpaint(audio, 16000, [gap], model=model, passes=1, candidates=REVISER)
    expected = ar_fill(audio, start, end, model.ar.order, model.ar.context)
    np.testing.assert_allclose(out[start:end], expected[start:end], atol=1e-5)
    assert np.abs(out[start:end]).max() > 1e-3
    margin = crossfade_margin(model, 16000)
    untouched = np.ones(len(audio), dtype=bool)
    untouched[max(0, start - margin) : end + margin] = False
    np.testing.assert_array_equal(out[untouched], audio[untouched])


def test_overlapping_gaps_are_merged_and_said(model, caplog):
    with caplog.at_level(logging.WARNING, logger="revise"):
        merged = gaps_to_samples([(0.1, 0.3), (0.25, 0.4)], 16000, 16000)
    assert [(g.start, g.end) for g in merged] == [(1600, 6400)]
    assert "merged" in caplog.text


@pytest.mark.parametrize(
    "gaps, message",
    [
        ([(0.2, 0.1)], "malformed"),
        ([(-0.1, 0.1)], "malformed"),
        ([(1.5, 2.5)], "beyond the end"),
        ([(0.0, MAX_GAP_SECONDS + 0.2)], "at most"),
        ([], "no gap"),
    ],
)
def test_bad_gaps_are_refused(model, gaps, message):
    with pytest.raises(ValueError, match=message):
        inpaint(music(2.0, 16000), 16000, gaps, model=model)


@pytest.mark.parametrize("subtype, suffix", [
    ("PCM_S8", ".flac"), ("PCM_U8", ".wav"), ("PCM_16", ".wav"), ("PCM_24", ".wav"), ("PCM_24", ".flac"),
    ("PCM_32", ".wav"), ("FLOAT", ".wav"), ("DOUBLE", ".wav"), ("ULAW", ".wav"), ("ALAW", ".wav"),
])
def test_cli_keeps_rate_channels_and_subtype(model, tmp_path, subtype, suffix):
    source = tmp_path / f"in{suffix}"
    sf.write(source, music(1.0, 48000, 2) * 0.9, 48000, subtype=subtype)
    model_dir = export_model(model, tmp_path / "model")
    before = source.read_bytes()
    output = tmp_path / f"out{suffix}"
    code = main(["inpaint", str(source), "-o", str(output), "--gap", "0.5:0.6", "--model", str(model_dir)])
    assert code == 0 and source.read_bytes() == before
    original, repaired = read_audio(source), read_audio(output)
    assert (repaired.sample_rate, repaired.subtype, repaired.samples.shape) == (48000, subtype, original.samples.shape)
    margin = crossfade_margin(model, 48000)
    first, last = changed_span(original.samples, repaired.samples)
    assert first >= 24000 - margin and last <= 28800 + margin


def test_cli_fill_picks_one_candidate_for_every_gap(model, tmp_path):
    """--fill ar writes the two-sided AR fill (the untouched model's reviser would give the same,
    so a broken reviser tells them apart)."""
    noisy = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in noisy.reviser.parameters():
            parameter.copy_(0.3 * torch.randn(parameter.shape, generator=generator))
    model_dir = export_model(noisy, tmp_path / "model")
    audio = music(1.0, 16000)[:, 0]
    source = tmp_path / "in.wav"
    sf.write(source, audio, 16000, subtype="FLOAT")
    outputs = {}
    for fill in ("ar", "revise"):
        outputs[fill] = tmp_path / f"{fill}.wav"
        assert main(["inpaint", str(source), "-o", str(outputs[fill]), "--gap", "0.5:0.55", "--fill", fill,
                     "--passes", "1", "--model", str(model_dir)]) == 0
    expected = ar_fill(audio.astype(np.float32).astype(np.float64), 8000, 8800, model.ar.order, model.ar.context)
    np.testing.assert_allclose(read_audio(outputs["ar"]).samples.reshape(-1)[8000:8800], expected[8000:8800], atol=1e-6)
    assert not np.allclose(read_audio(outputs["revise"]).samples.reshape(-1)[8000:8800], expected[8000:8800], atol=1e-3)


def test_each_window_logs_its_choice_and_a_silent_one_is_warned_about(model, caplog):
    audio = music(2.0, 16000)[:, 0]
    audio[:12000] = 0.0
    with caplog.at_level(logging.INFO, logger="revise"):
        inpaint(audio, 16000, [(0.2, 0.25), (1.5, 1.55)], model=model, passes=1)
    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("gap 1.500-1.550 s: ") and "of revise, ar, janssen" in m for m in messages)
    assert any(m.startswith("gap 1.500-1.550 s filled in ") for m in messages)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == ["the audio around gap 0.200-0.250 s is silent or nearly (below -60 dBFS): its fill is too"]


@pytest.mark.parametrize(("suffix", "lossy"), [(".ogg", True), (".flac", False)])
def test_cli_warns_that_a_lossy_output_re_encodes_every_sample(model, tmp_path, capsys, suffix, lossy):
    source = tmp_path / "in.wav"
    sf.write(source, music(1.0, 16000)[:, 0], 16000)
    model_dir = export_model(model, tmp_path / "model")
    assert main(["inpaint", str(source), "-o", str(tmp_path / f"out{suffix}"), "--gap", "0.5:0.55",
                 "--fill", "ar", "--model", str(model_dir)]) == 0
    assert ("lossy format: every sample is re-encoded" in capsys.readouterr().err) == lossy
