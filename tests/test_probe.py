"""The choice among fills on pseudo-gaps, and the band above the model rate."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from revise.candidates import candidate_fills, model_rate_window
from revise.config import ARConfig, FrameConfig, ModelConfig, RevisionConfig
from revise.evaluate.metrics import octave_energy_db
from revise.inpainting import crossfade_margin, inpaint
from revise.nn.model import RevisionModel
from revise.probe import Probe, choose, pick, probes
from revise.runtime.model import InferenceModel

twin = InferenceModel.from_torch  # the internals take the numpy model; inpaint converts a torch one itself

RATE = 16000


@pytest.fixture(scope="module")
def model() -> RevisionModel:
    torch.manual_seed(0)
    config = ModelConfig(hidden_size=32, drafter_layers=1, reviser_layers=1)
    return RevisionModel(FrameConfig(), config, ar=ARConfig(order=32, context=256)).eval()


@pytest.fixture(scope="module")
def broken(model) -> RevisionModel:
    """The model with a reviser of random weights: a loud, wrong correction of its hint."""
    noisy = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in noisy.reviser.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator))
    return noisy


def tones(seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    """Steady harmonics with a little noise. [channels, samples] float64"""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * rate)) / rate
    tone = sum(0.2 / k * np.sin(2 * np.pi * 220 * k * t) for k in (1, 2, 3))
    return np.stack([tone * (1 - 0.3 * c) + 0.01 * rng.standard_normal(len(t)) for c in range(channels)])


def test_pseudo_gaps_lie_in_known_audio_one_context_from_the_gaps():
    known = np.zeros((1, 10000))
    w = model_rate_window_stub(known, gaps=[(4000, 4200), (4600, 4700)], unknown=[(9000, 9100)])
    left, right = probes(w, context=500)
    assert left == Probe(0, 4000, 3300, 3500)  # as long as the longest gap, `context` before the first
    assert right == Probe(4700, 9000, 5200, 5400)  # bounded by the unknown range
    for probe in (left, right):
        assert probe.start - probe.first >= 500 and probe.last - probe.end >= 500


def test_no_pseudo_gap_without_room_keeps_the_first_candidate(model):
    audio = tones(0.15, RATE)
    w = model_rate_window(twin(model), audio, [(800, 1600)])  # 800 samples each side, too few for 2 x 256 + 800
    assert probes(w, model.ar.context) == []
    assert choose(twin(model), w, RevisionConfig(1), ["revise", "ar"]) == ["revise"]


def test_a_broken_reviser_is_not_chosen_and_its_fill_never_reaches_the_output(model, broken):
    audio = tones(1.0, RATE, channels=2)
    w = model_rate_window(twin(broken), audio, [(8000, 8800)])
    chosen = choose(twin(broken), w, RevisionConfig(1), ["revise", "ar", "janssen"])
    assert "revise" not in chosen
    out = inpaint(audio.T, RATE, [(0.5, 0.55)], model=broken, passes=1)
    fills = candidate_fills(twin(broken), w, RevisionConfig(1), ["ar", "janssen"])
    for channel, name in enumerate(chosen):
        np.testing.assert_allclose(out[8000:8800, channel], fills[name][channel, 8000:8800], atol=1e-12)


def test_choosing_only_the_reviser_gives_the_reviser(broken):
    audio = tones(1.0, RATE)
    w = model_rate_window(twin(broken), audio, [(8000, 8800)])
    (revised,) = candidate_fills(twin(broken), w, RevisionConfig(1), ["revise"]).values()
    out = inpaint(audio[0], RATE, [(0.5, 0.55)], model=broken, passes=1, candidates=("revise",))
    np.testing.assert_allclose(out[8000:8800], revised[0, 8000:8800], atol=1e-12)


def test_unknown_candidates_are_refused(model):
    with pytest.raises(ValueError, match="unknown fill"):
        inpaint(tones(1.0, RATE)[0], RATE, [(0.5, 0.55)], model=model, candidates=("revise", "magic"))
    with pytest.raises(ValueError, match="at least one"):
        inpaint(tones(1.0, RATE)[0], RATE, [(0.5, 0.55)], model=model, candidates=())


def test_a_gap_in_a_44k_file_holds_the_band_above_the_model_rate(model):
    """Broadband noise with tones at 44.1 kHz: the 8-16 kHz octave of the fill is as loud as the
    reference's (a fill made at 16 kHz alone would be 100 dB down there)."""
    rate, rng = 44100, np.random.default_rng(3)
    t = np.arange(rate) / rate
    audio = 0.2 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.sin(2 * np.pi * 11000 * t) + 0.01 * rng.standard_normal(rate)
    out = inpaint(audio, rate, [(0.5, 0.52)], model=model, passes=1)
    start, end = int(0.5 * rate), int(np.ceil(0.52 * rate))
    high = octave_energy_db(audio, out, start, end, rate)["8000"]
    assert abs(high) < 3.0
    margin = crossfade_margin(model, rate)
    np.testing.assert_array_equal(out[: start - margin], audio[: start - margin])
    np.testing.assert_array_equal(out[end + margin :], audio[end + margin :])


def model_rate_window_stub(known: np.ndarray, gaps, unknown):
    """A `ModelRateWindow` with only the fields `probes` reads."""
    from revise.candidates import ModelRateWindow
    from revise.dsp.framing import sample_mask
    from revise.hints.build import Hints

    return ModelRateWindow(known, gaps, unknown, sample_mask(gaps, known.shape[-1]), Hints(known, known))


def test_passes_zero_is_the_draft_alone_whatever_the_candidates(broken):
    audio = tones(1.0, RATE)[0]
    chosen = inpaint(audio, RATE, [(0.5, 0.55)], model=broken, passes=0)
    draft = inpaint(audio, RATE, [(0.5, 0.55)], model=broken, passes=0, candidates=("revise",))
    np.testing.assert_array_equal(chosen, draft)
    ar = inpaint(audio, RATE, [(0.5, 0.55)], model=broken, passes=0, candidates=("ar",))
    assert not np.array_equal(ar, draft)  # one named fill is still that fill



def test_at_zero_passes_a_bad_draft_gives_way_to_one_sided_ar_chosen_on_the_past_alone(model):
    """At zero passes the choice is between the draft and one-sided AR, on the pseudo-gap before
    the gaps only, so the fill of a gap reads nothing after it."""
    bad = copy.deepcopy(model)
    with torch.no_grad():
        bad.drafter.correction[1].weight.normal_(0, 1.0, generator=torch.Generator().manual_seed(0))
    audio = tones(1.0, RATE)
    w = model_rate_window(twin(bad), audio, [(8000, 8800)])
    assert choose(twin(bad), w, RevisionConfig(0), ["revise", "ar-causal"]) == ["ar-causal"]
    out = inpaint(audio.T, RATE, [(0.5, 0.55)], model=bad, passes=0)
    changed = audio.copy()
    changed[:, 8800:] = np.random.default_rng(1).standard_normal(changed[:, 8800:].shape)
    later = inpaint(changed.T, RATE, [(0.5, 0.55)], model=bad, passes=0)
    np.testing.assert_array_equal(later[:8800], out[:8800])
    causal = candidate_fills(twin(bad), w, RevisionConfig(0), ["ar-causal"])["ar-causal"]
    np.testing.assert_allclose(out[8000:8800, 0], causal[0, 8000:8800], atol=1e-12)
    early = model_rate_window(twin(bad), audio, [(600, 1400)])  # a pseudo-gap fits only after this gap
    assert len(probes(early, bad.ar.context)) == 1
    assert choose(twin(bad), early, RevisionConfig(0), ["revise", "ar-causal"]) == ["revise"]  # the future is not asked


@pytest.mark.parametrize(
    ("errors", "reviser_first", "expected"),
    [
        ([[-1.0], [-2.5], [-2.0]], True, "revise"),  # nothing beats 3 dB, the reviser within 2 dB: kept
        ([[0.5], [-2.5], [-2.0]], True, "ar"),  # the reviser 3 dB worse than the best: not kept
        ([[-1.0], [-12.0], [-20.0]], True, "janssen"),  # a fill that predicts the audio wins
        ([[-1.0], [-2.5], [-2.0]], False, "ar"),  # at zero passes (the draft) the least error only
    ],
)
def test_where_nothing_predicts_the_audio_the_reviser_is_kept_unless_it_is_much_worse(errors, reviser_first,
                                                                                       expected):
    assert pick(np.array(errors), np.array([True]), ["revise", "ar", "janssen"], reviser_first) == [expected]
    assert pick(np.array(errors), np.array([False]), ["revise", "ar", "janssen"], reviser_first) == ["revise"]
