"""The similarity hint: it finds a repeated stretch, never reads the gap, and reaches the reviser."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from revise.config import ARConfig, FrameConfig, MatchConfig, ModelConfig
from revise.evaluate.methods import Method, fill
from revise.evaluate.metrics import gap_snr
from revise.hints.autoregressive import ar_fill
from revise.hints.similarity import match_fill_many
from revise.inpainting import inpaint
from revise.nn.model import RevisionModel

RATE = 16000


def loop(seconds: float, period: int = 5000, seed: int = 0) -> np.ndarray:
    """White noise repeated every `period` samples: unpredictable by AR, exactly repeated. [n]"""
    rng = np.random.default_rng(seed)
    pattern = 0.3 * rng.standard_normal(period)
    return np.tile(pattern, int(seconds * RATE) // period + 1)[: int(seconds * RATE)]


def test_a_repeated_stretch_is_found_where_ar_cannot_predict():
    x = loop(3.0)
    start, end = 20000, 21600
    holed = x.copy()
    holed[start:end] = 0.0
    matched = match_fill_many(holed, [(start, end)], search=12000, context=800)
    assert gap_snr(x, matched, start, end) > 60.0
    assert gap_snr(x, ar_fill(holed, start, end, 64, 512), start, end) < 1.0


def test_gap_and_unknown_samples_are_never_read_or_copied():
    x = loop(3.0)
    start, end = 20000, 21600
    unknown = [(10000, 15000)]  # another hole within the search reach
    a, b = x.copy(), x.copy()
    a[start:end], b[start:end] = 0.0, 1e3
    a[10000:15000], b[10000:15000] = 0.0, -1e3
    fills = [match_fill_many(y, [(start, end)], 12000, 800, 3, unknown) for y in (a, b)]
    assert np.array_equal(fills[0][start:end], fills[1][start:end])
    assert np.abs(fills[0][start:end]).max() < 2.0


def test_sides_are_the_match_and_the_rest_is_the_input():
    x = loop(3.0)
    start, end, context = 20000, 21600, 800
    holed = x.copy()
    holed[start:end] = 0.5  # stands for another fill, kept where no match is written
    matched = match_fill_many(holed, [(start, end)], 12000, context, 2)
    outside = np.ones(len(x), dtype=bool)
    outside[start - context : end + context] = False
    assert np.array_equal(matched[outside], holed[outside])
    assert not np.array_equal(matched[start - context : start], x[start - context : start] * 0)


def test_no_candidate_keeps_the_input():
    x = np.zeros(4000)
    x[:1000] = loop(0.1)[:1000]
    # the gap's sides are silent, so nothing can be matched: the fill stays what it was
    assert np.array_equal(match_fill_many(x, [(2000, 2500)], 1000, 200), x)


def test_a_quieter_copy_is_scaled_up_by_at_most_12_db():
    # the only candidate is the same stretch 100 times quieter (and loud where the gap is)
    pattern = loop(0.2)
    x = np.concatenate([0.01 * pattern, np.zeros(1000), pattern])
    gap_start = len(pattern) + 1000
    x[1000:1400] = 50 * pattern[1000:1400]  # a loud onset inside the candidate's interior
    start, end = gap_start + 1000, gap_start + 1400
    holed = x.copy()
    holed[start:end] = 0.0
    matched = match_fill_many(holed, [(start, end)], search=len(x), context=800, candidates=1)
    assert np.abs(matched[start:end]).max() <= 4.0 * np.abs(x[1000:1400]).max() + 1e-9


def test_one_gaps_sides_never_overwrite_another_gaps_fill():
    x = loop(3.0)
    gaps = [(20000, 21000), (21400, 22400)]  # closer than the sides are long
    holed = x.copy()
    for start, end in gaps:
        holed[start:end] = 0.0
    matched = match_fill_many(holed, gaps, 12000, 800)
    for start, end in gaps:
        assert gap_snr(x, matched, start, end) > 60.0


@pytest.mark.parametrize("values", [dict(search=0), dict(context=-1), dict(candidates=0)])
def test_bad_settings_are_refused(values):
    settings = dict(search=100, context=10, candidates=1) | values
    with pytest.raises(ValueError, match="must be positive"):
        match_fill_many(np.zeros(1000), [(400, 500)], **settings)
    with pytest.raises(ValueError, match="match"):
        MatchConfig(**settings)


def test_inpaint_passes_the_match_to_the_reviser_at_any_rate():
    """A reviser whose gates take the match alone recovers a gap in a looped clip at 44.1 kHz,
    through the wide search window, the resampling and the splice."""
    torch.manual_seed(0)
    model = RevisionModel(
        FrameConfig(), ModelConfig(hidden_size=16, drafter_layers=1, reviser_layers=1),
        ar=ARConfig(order=32, context=256), match=MatchConfig(search=16000, context=800),
    ).eval()
    with torch.no_grad():
        model.reviser.gates[1].bias.copy_(torch.tensor([-1.0, 1.0, 0.0]))  # hint * 0 + match * 1
    rate = 44100
    rng = np.random.default_rng(1)
    spectrum = np.fft.rfft(rng.standard_normal(rate // 2))
    spectrum[np.fft.rfftfreq(rate // 2, 1 / rate) > 6000] = 0.0  # inside the 16 kHz model's band
    pattern = 0.3 * np.fft.irfft(spectrum, rate // 2) / np.std(np.fft.irfft(spectrum, rate // 2))
    x = np.tile(pattern, 6)
    gap = (1.6, 1.8)
    a, b = int(gap[0] * rate), int(gap[1] * rate)
    filled = inpaint(x, rate, [gap], model=model, passes=1)
    assert gap_snr(x, filled, a, b) > 10.0  # AR ramps in and out over a hop at each edge
    assert gap_snr(x, inpaint(x, rate, [gap], model=model, passes=0), a, b) < 1.0


def test_match_baselines_change_only_the_gaps_and_blend_is_the_mean():
    window = np.stack([loop(2.0, seed=s) for s in (0, 1)], axis=1)  # [n, 2]
    gaps = [(12000, 13600)]
    model = RevisionModel(FrameConfig(), ModelConfig(hidden_size=8, drafter_layers=1, reviser_layers=1),
                          match=MatchConfig(search=8000, context=800))
    ar, matched = (fill(Method(kind), window, gaps, RATE, model) for kind in ("ar", "match"))
    outside = np.ones(len(window), dtype=bool)
    outside[12000:13600] = False
    assert np.array_equal(matched[outside], window[outside])
    assert gap_snr(window[:, 0], matched[:, 0], *gaps[0]) > 60.0
    np.testing.assert_allclose(fill(Method("ar+match"), window, gaps, RATE, model), 0.5 * (ar + matched))
