"""The causal baselines: they read nothing at or after a gap's start, and the causal match copies
what followed the best earlier match."""

from __future__ import annotations

import numpy as np
import pytest

from revise.evaluate.methods import Method, fill
from revise.evaluate.metrics import gap_snr
from revise.hints.continuation import causal_match_fill

RATE = 16000


def periodic(seconds: float, seed: int = 0) -> np.ndarray:
    """A 0.5 s pattern of decaying notes repeated exactly, float64 [n]."""
    rng = np.random.default_rng(seed)
    bar = 0.4 * np.exp(-6 * np.arange(RATE // 2) / RATE) * rng.standard_normal(RATE // 2)
    return np.tile(bar, int(np.ceil(2 * seconds)))[: round(seconds * RATE)]


@pytest.mark.parametrize("kind", ["ar-causal", "match-causal"])
def test_causal_fills_ignore_everything_from_the_gap_on(kind, tiny_model):
    x = periodic(3.0)
    gaps = [(20000, 20800), (30000, 30320)]
    changed = x.copy()
    changed[30000:] = np.random.default_rng(5).standard_normal(len(x) - 30000)  # the future of the 2nd gap
    changed[20000:20800] = 9.0  # and the first gap's own samples
    a, b = fill(Method(kind), x, gaps, RATE, tiny_model), fill(Method(kind), changed, gaps, RATE, tiny_model)
    np.testing.assert_array_equal(a[20000:20800], b[20000:20800])
    np.testing.assert_array_equal(a[30000:30320], b[30000:30320])
    outside = np.ones(len(x), bool)
    outside[20000:20800] = outside[30000:30320] = False
    np.testing.assert_array_equal(a[outside], x[outside])


def test_causal_match_copies_what_followed_the_earlier_bar():
    x = periodic(3.0)
    guess = causal_match_fill(x, 24000, 24800, context=1600, search=16000)
    assert guess is not None
    filled = x.copy()
    filled[24000:24800] = guess
    assert gap_snr(x, filled, 24000, 24800) > 60  # an exact repeat, found from the past alone


def test_causal_match_without_a_past_gives_none_and_the_baseline_falls_back_to_ar(tiny_model):
    x = periodic(1.0)
    assert causal_match_fill(x, 300, 500, context=200, search=4000) is None  # the tiny model's match settings
    np.testing.assert_array_equal(fill(Method("match-causal"), x, [(300, 500)], RATE, tiny_model),
                                  fill(Method("ar-causal"), x, [(300, 500)], RATE, tiny_model))
