"""Invariants across the wings: training sees the hints inference builds, gaps sharing a window
leave the audio between them untouched, the schedule matters, and the SNR objective is the metric."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view

from revise.evaluate.metrics import gap_snr
from revise.inpainting import SampleGap, at_model_rate, crossfade_margin, inpaint, windows
from revise.nn.model import RevisionModel
from revise.train.data import ExcerptDataset
from revise.train.examples import GapExamples
from revise.train.losses import gap_snr_db

RATE = 16000


def looped_music(seconds: float, seed: int = 0) -> np.ndarray:
    """Harmonic notes repeating every 0.4 s with a little noise: mono float32 [n] at RATE."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    notes = 110.0 * 2 ** (rng.integers(0, 24, 4) / 12)
    f0 = notes[(t // 0.1).astype(int) % 4]
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    tone = sum(0.3 / k * np.sin(k * phase) for k in (1, 2, 3))
    return (tone + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


@pytest.mark.parametrize("janssen_iterations", [0, 2])
def test_training_examples_hold_the_hints_inference_builds(tiny_config, janssen_iterations):
    """`GapExamples` and `inpaint` cut different windows around the same gaps: the hints must agree,
    the Janssen-refined one too."""
    track = looped_music(3.0)
    c = dataclasses.replace(tiny_config, ar=dataclasses.replace(tiny_config.ar, janssen_iterations=janssen_iterations))
    torch.manual_seed(0)
    tiny_model = RevisionModel(c.frame, c.model, c.revision, c.ar, c.match).eval()
    excerpts = ExcerptDataset([track], round(c.data.excerpt_seconds * RATE), count=64, seed=0)
    examples = GapExamples(excerpts, c, seed=0)
    margin = c.match.reach
    checked = 0
    for index in range(64):
        item = examples[index]
        audio, gaps = item["audio"].numpy(), item["gaps"].numpy()
        offset = int(np.flatnonzero((sliding_window_view(track, len(audio)) == audio).all(axis=1))[0])
        if gaps[-1] or offset < margin or offset + len(audio) + margin > len(track):
            continue  # a span to the excerpt's end stands for generation; an edge has less context
        sample_gaps = [SampleGap(offset + s, offset + e) for s, e in runs(gaps)]
        (window,) = windows(sample_gaps, tiny_model, RATE, len(track))
        chunk = track[window.first : window.last].astype(np.float64)[None]
        built = at_model_rate(tiny_model, chunk, RATE, window)
        crop = slice(offset - window.first, offset - window.first + len(audio))
        assert (built.hints.janssen is None) == (janssen_iterations == 0)
        np.testing.assert_array_equal(item["hint"].numpy(), built.hints.hint[0, crop].astype(np.float32))
        np.testing.assert_array_equal(item["match"].numpy(), built.hints.match[0, crop].astype(np.float32))
        assert not np.array_equal(item["match"].numpy(), item["hint"].numpy())  # the search found matches
        checked += 1
    assert checked >= 5


def test_gaps_filled_in_one_window_leave_the_audio_between_them_bit_identical(model_with_a_changing_reviser):
    rate = 44100
    rng = np.random.default_rng(3)
    t = np.arange(rate) / rate
    music = np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 331 * t + 1)], axis=1)
    audio = ((0.4 * music + 0.01 * rng.standard_normal(music.shape)) * 32767).astype(np.int16)
    gaps = [(0.40, 0.43), (0.50, 0.52)]
    model = model_with_a_changing_reviser
    sample_gaps = [SampleGap(int(s * rate), int(np.ceil(e * rate))) for s, e in gaps]
    assert len(windows(sample_gaps, model, rate, len(audio))) == 1  # both gaps in one window
    out = inpaint(audio, rate, gaps, model=model, passes=2)
    margin = crossfade_margin(model, rate)
    untouched = np.ones(len(audio), dtype=bool)
    for gap in sample_gaps:
        untouched[gap.start - margin : gap.end + margin] = False
    np.testing.assert_array_equal(out[untouched], audio[untouched])
    between = slice(sample_gaps[0].end + margin, sample_gaps[1].start - margin)
    assert between.stop - between.start > 2000 and np.array_equal(out[between], audio[between])
    for gap in sample_gaps:
        assert np.abs(out[gap.start : gap.end].astype(float)).max() > 0


@pytest.fixture
def model_with_a_changing_reviser(tiny_model):
    """The tiny model with random reviser heads: its output depends on what each pass sees."""
    model = copy.deepcopy(tiny_model)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for head in (model.reviser.correction[1], model.reviser.gates[1]):
            head.weight.copy_(0.2 * torch.randn(head.weight.shape, generator=generator))
    return model


def test_the_schedule_changes_the_output(model_with_a_changing_reviser):
    audio = looped_music(1.0)
    gap = [(0.4, 0.5)]
    filled = {s: inpaint(audio, RATE, gap, passes=3, model=model_with_a_changing_reviser, schedule=s,
                         candidates=("revise",))
              for s in ("all", "shrink", "alternate")}
    assert not np.array_equal(filled["all"], filled["shrink"])
    assert not np.array_equal(filled["all"], filled["alternate"])
    assert not np.array_equal(filled["shrink"], filled["alternate"])
    one_pass = {s: inpaint(audio, RATE, gap, passes=1, model=model_with_a_changing_reviser, schedule=s,
                          candidates=("revise",))
                for s in ("all", "shrink")}
    np.testing.assert_array_equal(one_pass["all"], one_pass["shrink"])  # pass 1 re-masks every frame


def test_the_training_objective_is_the_benchmark_gap_snr():
    rng = np.random.default_rng(0)
    reference = rng.standard_normal((3, 800))
    estimate = reference + rng.standard_normal((3, 800)) * np.array([[0.1], [0.5], [2.0]])
    gaps = np.zeros((3, 800), dtype=bool)
    gaps[:, 200:500] = True
    expected = np.mean([gap_snr(r, e, 200, 500) for r, e in zip(reference, estimate)])
    objective = gap_snr_db(torch.from_numpy(reference), torch.from_numpy(estimate), torch.from_numpy(gaps))
    assert float(objective) == pytest.approx(expected, abs=1e-9)
