"""Gap-wise Janssen: its Toeplitz step is the exact least-squares step, it never reads the gap,
and on tonal audio it beats the two-sided AR fill it starts beside."""

from __future__ import annotations

import numpy as np
import pytest

from revise.config import ARConfig, MatchConfig
from revise.evaluate.metrics import gap_snr
from revise.hints.autoregressive import ar_fill_many, burg
from revise.hints.build import window_hints
from revise.hints.janssen import _janssen_segment, janssen_fill_many

RATE = 16000


def chord(seconds: float, seed: int = 0) -> np.ndarray:
    """Five partials with a slow tremolo and a little noise. [n] float64"""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    tone = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) / (k + 1) for k, f in enumerate((220, 330, 440, 587, 880)))
    return 0.2 * tone * (1 + 0.3 * np.sin(2 * np.pi * 1.5 * t)) + 0.002 * rng.standard_normal(len(t))


def test_one_step_is_the_dense_least_squares_interpolation():
    rng = np.random.default_rng(0)
    known, (start, end), order = rng.standard_normal(300), (100, 140), 8
    known[start:end] = 0.0  # the iteration starts from silence in the gap
    a = burg(known, order)
    rows = np.zeros((len(known) - order, len(known)))  # e = A x, the valid prediction errors
    for n in range(len(rows)):
        rows[n, n : n + order + 1] = a[::-1]
    dense = np.linalg.lstsq(rows[:, start:end], -rows @ known, rcond=None)[0]
    np.testing.assert_allclose(_janssen_segment(known, start, end, order, iterations=1), dense, atol=1e-9)


def test_janssen_beats_the_ar_fill_on_tonal_audio_and_changes_only_the_gap():
    x = chord(1.0)
    gap = (8000, 8800)  # 50 ms
    ar = ar_fill_many(x, [gap], 64, 512)
    filled = janssen_fill_many(x, [gap], 64, 512, iterations=10)
    assert gap_snr(x, filled, *gap) > gap_snr(x, ar, *gap) + 3.0
    outside = np.ones(len(x), dtype=bool)
    outside[gap[0] : gap[1]] = False
    np.testing.assert_array_equal(filled[outside], x[outside])


def test_gap_samples_are_never_read_and_edges_fall_back_to_one_side():
    x = chord(0.5, seed=1)
    gaps = [(0, 320), (3000, 3400), (3600, 3700)]
    noisy = x.copy()
    for start, end in gaps:
        noisy[start:end] = np.random.default_rng(2).standard_normal(end - start)
    a = janssen_fill_many(x, gaps, 32, 256, iterations=3)
    np.testing.assert_array_equal(a, janssen_fill_many(noisy, gaps, 32, 256, iterations=3))
    # no left side at the file's start: the one-sided AR extrapolation, as ar_fill_many makes it
    np.testing.assert_array_equal(a[:320], ar_fill_many(x, gaps, 32, 256)[:320])


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="at least one iteration"):
        janssen_fill_many(chord(0.1), [(100, 200)], 16, 64, iterations=0)
    with pytest.raises(ValueError, match="must satisfy"):
        janssen_fill_many(chord(0.1), [(100, 5000)], 16, 64)


def test_started_from_the_ar_fill_a_few_iterations_beat_it_and_never_read_the_gap():
    x = chord(1.0, seed=2)
    gap = (8000, 8800)
    ar = ar_fill_many(x, [gap], 64, 512)
    holed = x.copy()
    holed[gap[0] : gap[1]] = np.nan
    filled = janssen_fill_many(holed, [gap], 64, 512, iterations=3, ar_filled=ar)
    assert gap_snr(x, filled, *gap) > gap_snr(x, ar, *gap) + 1.0
    np.testing.assert_array_equal(np.delete(filled, np.s_[gap[0] : gap[1]]), np.delete(x, np.s_[gap[0] : gap[1]]))
    with pytest.raises(ValueError, match="shape"):
        janssen_fill_many(x, [gap], 64, 512, ar_filled=ar[:-1])


def test_the_reviser_hint_is_the_ar_fill_refined_by_the_configured_janssen_iterations():
    x = chord(2.0, seed=3)
    gaps = [(12000, 12400), (20000, 20800)]
    plain = window_hints(x[None], gaps, ARConfig(64, 512), MatchConfig(4000, 256, 2))
    assert plain.janssen is None and plain.hint is plain.ar
    refined = window_hints(x[None], gaps, ARConfig(64, 512, janssen_iterations=2), MatchConfig(4000, 256, 2))
    np.testing.assert_array_equal(refined.ar, plain.ar)
    np.testing.assert_array_equal(refined.hint[0], janssen_fill_many(x, gaps, 64, 512, 2, plain.ar[0]))
    outside = np.ones(len(x), dtype=bool)
    for start, end in gaps:
        outside[start - 256 : end + 256] = False
    # the similarity fill falls back to, and keeps beside its matched sides, the refined hint
    np.testing.assert_array_equal(refined.match[0, outside], refined.hint[0, outside])
    assert ARConfig(64, 512, janssen_iterations=2).scaled(2.0).janssen_iterations == 2
    with pytest.raises(ValueError, match="janssen_iterations"):
        ARConfig(64, 512, janssen_iterations=-1)


@pytest.mark.parametrize("from_ar", [True, False])
def test_a_diverging_solve_is_refused_and_the_estimate_before_it_kept(monkeypatch, from_ar):
    """Nearly singular normal equations (pure sustained tones) can blow a solve up; such a step is
    refused: the fill stays the AR fill it started from, or, from silence, falls back to it."""
    import revise.hints.janssen as janssen

    x = chord(1.0)
    gaps = [(8000, 8800)]
    ar = ar_fill_many(x, gaps, 100, 800)
    steps = []

    def exploding(column, rhs):
        steps.append(len(steps))
        return np.full(len(rhs), 1e87) if len(steps) > 1 else np.linalg.solve(
            np.eye(len(rhs)) * column[0], rhs)  # a bounded first step, then a blow-up

    monkeypatch.setattr(janssen, "solve_toeplitz", exploding)
    out = janssen_fill_many(x, gaps, 100, 800, iterations=3, ar_filled=ar if from_ar else None)
    assert np.isfinite(out).all() and np.abs(out).max() <= 4 * np.abs(x).max()
    assert len(steps) == 2  # the blown-up step ends the iteration
    monkeypatch.setattr(janssen, "solve_toeplitz", lambda column, rhs: np.full(len(rhs), np.nan))
    out = janssen_fill_many(x, gaps, 100, 800, iterations=3, ar_filled=ar if from_ar else None)
    np.testing.assert_array_equal(out, ar)  # not one step kept: the AR fill
