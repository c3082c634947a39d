"""revise.dsp.splice: fades that sum to one, a splice that leaves everything outside its margin
bit-identical, edge anchoring and band limiting."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revise.dsp.splice import anchor_edges, band_limit, fade_in, splice

PROPERTY = settings(max_examples=50, deadline=None, database=None)


def signal(channels: int, length: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((channels, length))


@pytest.mark.parametrize("length", [1, 2, 3, 10, 101, 1024])
def test_fade_in_and_its_mirror_sum_to_one(length):
    ramp = fade_in(length)
    assert ramp.shape == (length,) and ramp.dtype == np.float64
    np.testing.assert_allclose(ramp + ramp[::-1], np.ones(length), atol=1e-15, rtol=0)
    assert np.all(ramp > 0) and np.all(ramp < 1) and np.all(np.diff(ramp) > 0)


def check_splice(length: int, start: int, end: int, margin: int, seed: int = 0) -> None:
    """The splice invariants for one case (shared by the parametrised and the property-based test)."""
    original = signal(2, length, seed)
    fill = signal(2, length, seed + 1)
    left, right = max(0, start - margin), min(length, end + margin)

    # original inside the gap and fill outside the margins are never read
    poisoned_original = original.copy()
    poisoned_original[:, start:end] = np.nan
    poisoned_fill = fill.copy()
    poisoned_fill[:, :left] = np.nan
    poisoned_fill[:, right:] = np.nan
    out = splice(poisoned_original, poisoned_fill, start, end, margin)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out, splice(original, fill, start, end, margin))

    # everything outside [start - margin, end + margin) is bit-identical; the gap is the fill
    np.testing.assert_array_equal(out[:, :left], original[:, :left])
    np.testing.assert_array_equal(out[:, right:], original[:, right:])
    np.testing.assert_array_equal(out[:, start:end], fill[:, start:end])
    assert np.isnan(poisoned_original[:, start:end]).all()  # the input is not modified in place

    # crossfade weights sum to one: splicing a signal into itself changes nothing
    np.testing.assert_allclose(splice(original, original, start, end, margin), original, atol=1e-12, rtol=0)
    for lo, hi in ((left, start), (end, right)):  # each margin sample lies between the two it blends
        a, b, o = original[:, lo:hi], fill[:, lo:hi], out[:, lo:hi]
        assert np.all(o >= np.minimum(a, b) - 1e-12) and np.all(o <= np.maximum(a, b) + 1e-12)


@pytest.mark.parametrize(
    ("length", "start", "end", "margin"),
    [(1000, 400, 500, 32), (1000, 0, 100, 32), (1000, 900, 1000, 32), (1000, 10, 20, 64),
     (1000, 400, 500, 0), (1, 0, 1, 5), (1000, 995, 998, 10), (1000, 0, 1000, 16)],
)
def test_splice_keeps_everything_outside_its_margin(length, start, end, margin):
    check_splice(length, start, end, margin)


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float32])
def test_splice_of_native_samples_keeps_them_bit_identical_outside_the_margin(dtype):
    original = (signal(1, 300) * 1000).astype(dtype)
    out = splice(original, np.zeros_like(original), 100, 150, 10)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out[:, :90], original[:, :90])
    np.testing.assert_array_equal(out[:, 160:], original[:, 160:])


def test_splice_crossfade_moves_from_original_to_fill():
    out = splice(np.zeros((1, 200)), np.ones((1, 200)), 80, 120, 20)[0]
    assert np.all(np.diff(out[60:80]) > 0) and np.all(np.diff(out[120:140]) < 0)
    assert out[60] < 0.01 and out[79] > 0.99 and out[120] > 0.99 and out[139] < 0.01


@PROPERTY
@given(data=st.data(), length=st.integers(1, 3000), margin=st.integers(0, 300))
def test_property_splice_keeps_untouched_samples(data, length, margin):
    start = data.draw(st.integers(0, length - 1), label="start")
    end = data.draw(st.integers(start + 1, length), label="end")
    check_splice(length, start, end, margin, seed=length)


@pytest.mark.parametrize("start, end, ramp", [(100, 400, 64), (10, 50, 64), (0, 300, 1)])
def test_anchor_edges_starts_on_the_anchor_and_fades_to_the_fill(start, end, ramp):
    fill, anchor = signal(2, 500, 0), signal(2, 500, 1)
    out = anchor_edges(fill, anchor, start, end, ramp)
    np.testing.assert_array_equal(out[:, :start], fill[:, :start])
    np.testing.assert_array_equal(out[:, end:], fill[:, end:])
    # at each edge almost all anchor; the weights of anchor and fill sum to one
    weight = (out[:, start:end] - anchor[:, start:end]) / (fill[:, start:end] - anchor[:, start:end])
    assert ((weight >= -1e-9) & (weight <= 1 + 1e-9)).all()
    edge = math.sin(0.5 * math.pi * 0.5 / ramp) ** 2  # half a sample into a ramp of `ramp`
    np.testing.assert_allclose(weight[:, [0, -1]], np.full((2, 2), edge))
    if end - start > 2 * ramp:
        np.testing.assert_allclose(weight[:, ramp : end - start - ramp], 1.0)


def test_band_limit_keeps_the_passband_and_removes_the_stopband():
    """Tones under a Hann taper (a signal near zero at both ends, as the corrections it is used on)."""
    n = 4096
    t = np.arange(n)
    taper = np.hanning(n)
    low, high, edge = (taper * np.sin(2 * math.pi * f * t) for f in (0.1, 0.49, 0.46875))  # 0.46875 = cutoff
    np.testing.assert_allclose(band_limit(low, 0.46875, 0.015625), low, atol=1e-4)
    assert np.abs(band_limit(high, 0.46875, 0.015625)).max() < 1e-4
    np.testing.assert_allclose(band_limit(edge, 0.46875, 0.015625), 0.5 * edge, atol=1e-2)  # halfway down the ramp
    assert band_limit(np.stack([low, high]), 0.46875, 0.015625).shape == (2, n)


def test_band_limit_does_not_wrap_around():
    """An impulse at the end leaves the start of the signal alone (a circular filter would ring there)."""
    x = np.zeros(2000)
    x[-1] = 1.0
    out = band_limit(x, 0.25, 0.01)
    assert abs(out[-1]) > 0.4 and np.abs(out[:100]).max() < 1e-4  # circularly, out[0] would be about 0.3


@pytest.mark.parametrize("cutoff, width", [(0.0, 0.01), (0.5, 0.01), (0.3, 0.0)])
def test_band_limit_refuses_bad_settings(cutoff, width):
    with pytest.raises(ValueError, match="cutoff"):
        band_limit(np.zeros(16), cutoff, width)
