"""Burg fit and two-sided AR gap fill: known answers on sinusoids and AR processes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from revise.dsp.splice import fade_in
from revise.hints.autoregressive import DIVERGED, ar_fill, ar_fill_many, burg, crossfade_weights, extrapolate

RATE = 16000


def tones(length: int) -> np.ndarray:
    """A sum of three sinusoids at unrelated frequencies and phases. [length]"""
    t = np.arange(length) / RATE
    return (
        np.sin(2 * np.pi * 440.0 * t)
        + 0.5 * np.sin(2 * np.pi * 1234.5 * t + 1.0)
        + 0.3 * np.sin(2 * np.pi * 3000.0 * t + 2.0)
    )


def snr_db(reference: np.ndarray, estimate: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(reference**2) / np.sum((reference - estimate) ** 2)))


def test_burg_recovers_ar2_coefficients():
    rng = np.random.default_rng(0)
    true = np.array([1.0, -1.5, 0.7])
    x = lfilter([1.0], true, rng.standard_normal(20000))
    a = burg(x, 2)
    assert a.dtype == np.float64 and a[0] == 1.0
    np.testing.assert_allclose(a, true, atol=0.02)


def test_burg_on_silence_returns_trivial_filter():
    a = burg(np.zeros(200), 10)
    np.testing.assert_array_equal(a, np.r_[1.0, np.zeros(10)])


def test_burg_gives_stable_filter_at_high_order():
    rng = np.random.default_rng(1)
    a = burg(tones(1500) + 1e-3 * rng.standard_normal(1500), 150)
    assert np.all(np.abs(np.roots(a)) < 1.0)


def test_burg_rejects_bad_order():
    with pytest.raises(ValueError, match="order"):
        burg(np.ones(10), 10)
    with pytest.raises(ValueError, match="1-D"):
        burg(np.ones((2, 10)), 2)


def test_extrapolate_continues_a_sinusoid():
    x = np.sin(2 * np.pi * 440.0 * np.arange(2000) / RATE)
    prediction = extrapolate(x[:1500], 500, order=16)
    assert snr_db(x[1500:], prediction) > 40


def test_extrapolate_edge_cases():
    assert np.array_equal(extrapolate(np.array([]), 5, 10), np.zeros(5))
    assert extrapolate(np.ones(100), 0, 10).shape == (0,)
    # Order is reduced to fit a short context instead of failing.
    assert extrapolate(tones(7), 4, 370).shape == (4,)


@pytest.mark.parametrize("gap", [320, 1600, 3200])
def test_ar_fill_sum_of_sinusoids_has_high_snr(gap):
    x = tones(12000)
    start = 5000
    y = ar_fill(x, start, start + gap)
    assert snr_db(x[start : start + gap], y[start : start + gap]) > 30


def test_ar_fill_only_changes_the_gap_and_returns_a_copy():
    x = tones(6000).astype(np.float32)
    y = ar_fill(x, 3000, 3500)
    assert y.dtype == np.float64 and y is not x
    np.testing.assert_array_equal(y[:3000], x[:3000].astype(np.float64))
    np.testing.assert_array_equal(y[3500:], x[3500:].astype(np.float64))


def test_ar_fill_never_reads_the_gap():
    rng = np.random.default_rng(2)
    x = tones(8000)
    noisy = x.copy()
    noisy[4000:4800] = rng.standard_normal(800) * 100
    np.testing.assert_array_equal(ar_fill(x, 4000, 4800), ar_fill(noisy, 4000, 4800))


def test_ar_fill_reads_only_the_context():
    rng = np.random.default_rng(3)
    x = tones(12000)
    far = x.copy()
    far[:2000] = rng.standard_normal(2000)  # more than `context` before the gap
    far[8000:] = rng.standard_normal(4000)  # more than `context` after it
    expected = ar_fill(x, 4000, 6000, order=64, context=1500)[4000:6000]
    np.testing.assert_array_equal(ar_fill(far, 4000, 6000, order=64, context=1500)[4000:6000], expected)


@pytest.mark.parametrize("start, end", [(0, 400), (7600, 8000)])
def test_ar_fill_at_the_edges_uses_one_side(start, end):
    x = tones(8000)
    y = ar_fill(x, start, end)
    assert snr_db(x[start:end], y[start:end]) > 30


def test_ar_fill_without_context_gives_zeros():
    y = ar_fill(np.ones(100), 0, 100)
    np.testing.assert_array_equal(y, np.zeros(100))


def test_ar_fill_rejects_bad_gaps():
    x = np.zeros(100)
    for start, end in [(-1, 10), (10, 101), (50, 50), (60, 40)]:
        with pytest.raises(ValueError, match="gap"):
            ar_fill(x, start, end)
    with pytest.raises(ValueError, match="1-D"):
        ar_fill(np.zeros((2, 100)), 10, 20)


def test_crossfade_weights_sum_to_one_and_match_framing():
    w = crossfade_weights(257)
    assert w[0] > 0.99 and w[-1] < 0.01 and np.all(np.diff(w) < 0)
    np.testing.assert_allclose(w + w[::-1], 1.0, atol=1e-12)
    np.testing.assert_allclose(1.0 - w, fade_in(257), atol=1e-12)
    np.testing.assert_allclose(w, fade_in(257)[::-1], atol=1e-12)  # the same ramp, reversed


def test_ar_fill_many_fills_each_gap_without_reading_any():
    rng = np.random.default_rng(4)
    x = tones(16000)
    gaps = [(9000, 9400), (3000, 3500), (3900, 4200)]  # unsorted, and two close together
    noisy = x.copy()
    for start, end in gaps:
        noisy[start:end] = rng.standard_normal(end - start) * 100
    y = ar_fill_many(noisy, gaps)
    np.testing.assert_array_equal(y, ar_fill_many(x, gaps))
    for start, end in gaps:
        assert snr_db(x[start:end], y[start:end]) > 30
    outside = np.ones(len(x), dtype=bool)
    for start, end in gaps:
        outside[start:end] = False
    np.testing.assert_array_equal(y[outside], x[outside])


def test_ar_fill_many_rejects_overlap():
    with pytest.raises(ValueError, match="overlap"):
        ar_fill_many(np.zeros(1000), [(100, 300), (200, 400)])


def test_a_diverging_fit_of_band_limited_audio_is_refitted_at_a_lower_order():
    """Noise with nothing above 6 kHz at 44.1 kHz: at order 88 the fitted filter has roots outside
    the unit circle (rounding) and its plain extrapolation grows past 1e90; the fill stays bounded."""
    rate, rng = 44100, np.random.default_rng(1)
    spectrum = np.fft.rfft(rng.standard_normal(rate))
    spectrum[np.fft.rfftfreq(rate, 1 / rate) > 6000] = 0.0
    x = np.fft.irfft(spectrum, rate)
    x *= 0.3 / np.std(x)
    context = x[10000 - 706 : 10000]
    assert np.abs(np.roots(burg(context, 88))).max() > 1.0  # the fit this guards against
    filled = ar_fill(x, 10000, 18820, order=88, context=706)
    peak = np.abs(x[10000 - 706 : 18820 + 706]).max()
    assert np.abs(filled[10000:18820]).max() <= DIVERGED * peak
