"""revise.hints.signal: the FFT convolution and the all-pole continuation give scipy's results."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import fftconvolve, lfilter

from revise.hints.autoregressive import burg
from revise.hints.signal import all_pole_continuation, fft_convolve


@pytest.mark.parametrize(("n", "m"), [(1, 1), (100, 7), (7, 100), (5000, 600), (1024, 1024)])
@pytest.mark.parametrize("mode", ["full", "valid"])
def test_fft_convolve_is_scipys(n, m, mode):
    rng = np.random.default_rng(n + m)
    x, h = rng.standard_normal(n), rng.standard_normal(m)
    np.testing.assert_allclose(fft_convolve(x, h, mode), fftconvolve(x, h, mode), atol=1e-10, rtol=0)


def test_fft_convolve_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="non-empty"):
        fft_convolve(np.zeros(0), np.ones(3))
    with pytest.raises(ValueError, match="unknown convolution mode"):
        fft_convolve(np.ones(3), np.ones(3), "same")


@pytest.mark.parametrize(("context", "order", "count"),
                         [(3000, 600, 320), (3000, 600, 16000), (8269, 1654, 5000), (100, 3, 7), (50, 1, 2500), (40, 20, 1)])
def test_all_pole_continuation_is_lfilter_from_the_past(context, order, count):
    """The continuation of a Burg fit of two tones in noise, against scipy's lfilter started from
    the same past outputs (its transposed direct-form state for zero past inputs)."""
    rng = np.random.default_rng(order)
    t = np.arange(context)
    x = np.sin(0.05 * t) + 0.5 * np.sin(0.31 * t) + 0.01 * rng.standard_normal(context)
    a = burg(x, order)
    state = -np.correlate(a[1:], x[::-1][:order], "full")[order - 1 :]
    expected, _ = lfilter([1.0], a, np.zeros(count), zi=state)
    got = all_pole_continuation(a, x, count)
    assert got.shape == (count,)
    np.testing.assert_allclose(got, expected, atol=1e-9 * np.abs(expected).max(), rtol=0)


def test_all_pole_continuation_needs_the_whole_past():
    with pytest.raises(ValueError, match="needs 3 past samples"):
        all_pole_continuation(np.array([1.0, -0.5, 0.1, 0.2]), np.ones(2), 5)


def test_all_pole_continuation_of_nothing():
    assert all_pole_continuation(np.array([1.0, -0.5]), np.ones(4), 0).shape == (0,)
    np.testing.assert_array_equal(all_pole_continuation(np.array([1.0]), np.ones(4), 5), np.zeros(5))
