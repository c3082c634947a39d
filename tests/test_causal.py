"""The causal baselines and the drafter's causal hints: they read nothing at or after a gap's start,
and the causal match copies what followed the best earlier match."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from revise.dsp.framing import analyse, frame_mask, sample_mask
from revise.evaluate.methods import Method, fill
from revise.evaluate.metrics import gap_snr
from revise.hints.build import causal_hints
from revise.hints.continuation import causal_match_fill
from revise.revision.loops import draft

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


@pytest.mark.parametrize("second", [(20160, 20200), (21000, 21200)])  # within a frame of the first, or not
def test_the_draft_of_a_gap_reads_nothing_after_it(second, tiny_model):
    """Causal hints and the drafter together: frames touching the first gap (and all before them)
    are drafted alike whatever follows it, the audio between two close gaps included."""
    model = copy.deepcopy(tiny_model)
    with torch.no_grad():  # a drafter that corrects its hints, so the test sees its whole path
        for head in (model.drafter.correction, model.drafter.gates):
            head[1].weight.normal_(0, 0.1, generator=torch.Generator().manual_seed(1))
    frame, gaps = model.frame, [(20000, 20100), second]
    x = periodic(3.0)
    changed = x.copy()
    changed[20100:] = np.random.default_rng(5).standard_normal(len(x) - 20100)

    def drafted(audio: np.ndarray) -> torch.Tensor:
        hints = causal_hints(audio[None], gaps, model.ar, model.match, frame.frame_length)
        to_fill = frame_mask(sample_mask(gaps, len(audio))[None], frame.frame_length, frame.hop_length)
        known = audio[None] * ~sample_mask(gaps, len(audio)).numpy()
        known, hint, match = (analyse(torch.from_numpy(y).float(), frame) for y in (known, hints.ar, hints.match))
        with torch.no_grad():
            return draft(model.drafter, known, to_fill, hint, match)

    first = frame_mask(sample_mask(gaps[:1], len(x))[None], frame.frame_length, frame.hop_length)[0]
    last = int(torch.nonzero(first).max())
    a, b = drafted(x), drafted(changed)
    torch.testing.assert_close(b[:, : last + 1], a[:, : last + 1], atol=1e-6, rtol=0)
    assert not torch.allclose(b[:, last + 1 :], a[:, last + 1 :])  # what follows is read later on


def test_causal_hints_read_nothing_before_an_unknown_range(tiny_model):
    x = periodic(3.0)
    changed = x.copy()
    changed[:18000] = np.random.default_rng(2).standard_normal(18000)  # beyond the recording, say
    unknown, gaps = [(17000, 18000)], [(20000, 20400)]  # the match searches 4200 samples back
    a, b = (causal_hints(audio[None], gaps, tiny_model.ar, tiny_model.match, 0, unknown) for audio in (x, changed))
    np.testing.assert_array_equal(a.ar[:, 20000:20400], b.ar[:, 20000:20400])
    np.testing.assert_array_equal(a.match[:, 20000:20400], b.match[:, 20000:20400])
