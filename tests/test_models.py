"""Drafter, reviser and the draft / revision loops: causality, pass-through and the zero-pass identity."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from revise.config import ModelConfig
from revise.nn.drafter import Drafter
from revise.nn.reviser import Reviser
from revise.nn.rnn import ResidualRNN
from revise.revision.loops import draft, revise

FEATURES = 12
RNNS = ["gru", "lstm"]



def model_config(rnn: str, layers: int = 2) -> ModelConfig:
    return ModelConfig(rnn=rnn, hidden_size=16, drafter_layers=layers, reviser_layers=layers)


def make_drafter(rnn: str, layers: int = 2, seed: int = 0, trained: bool = True) -> Drafter:
    """A drafter; `trained` gives the zero-initialised heads random weights, as training would."""
    torch.manual_seed(seed)
    drafter = Drafter(FEATURES, model_config(rnn, layers))
    if trained:
        for head in (drafter.correction, drafter.gates):
            nn.init.normal_(head[1].weight, std=0.5)
            nn.init.normal_(head[1].bias, std=0.5)
    return drafter.eval()


def make_reviser(rnn: str, trained: bool, seed: int = 0) -> Reviser:
    """A reviser; `trained` gives the zero-initialised correction head random weights, as training would."""
    torch.manual_seed(seed)
    reviser = Reviser(FEATURES, model_config(rnn))
    if trained:
        nn.init.normal_(reviser.correction[1].weight, std=0.5)
        nn.init.normal_(reviser.correction[1].bias, std=0.5)
    return reviser.eval()


def features(batch: int = 2, count: int = 20, seed: int = 1) -> torch.Tensor:
    return torch.randn(batch, count, FEATURES, generator=torch.Generator().manual_seed(seed))


def fill_mask(batch: int, count: int, spans: list[tuple[int, int]]) -> torch.Tensor:
    mask = torch.zeros(batch, count, dtype=torch.bool)
    for first, last in spans:
        mask[:, first:last] = True
    return mask


# --- drafter --------------------------------------------------------------------------------------


@pytest.mark.parametrize("rnn", RNNS)
@pytest.mark.parametrize("k", [1, 7, 19])
def test_drafter_is_causal(rnn, k):
    drafter = make_drafter(rnn)
    hint, match, mask = features(), features(seed=2), fill_mask(2, 20, [(0, 20)])
    changed = [x.clone() for x in (hint, match)]
    for x in changed:
        x[:, k:] = torch.randn(x[:, k:].shape, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        before = drafter(hint, match, mask)
        after = drafter(*changed, mask)
    torch.testing.assert_close(after[:, :k], before[:, :k], atol=1e-6, rtol=0)
    assert not torch.allclose(after[:, k:], before[:, k:], atol=1e-3), "the future inputs do reach later outputs"


@pytest.mark.parametrize("rnn", RNNS)
def test_drafter_outputs_have_no_gradient_from_future_frames(rnn):
    """Exact causality: the gradient of output t with respect to every input after t is exactly zero."""
    drafter = make_drafter(rnn)
    hint = features(batch=1, count=10).requires_grad_()
    match = features(batch=1, count=10, seed=2).requires_grad_()
    drafted = drafter(hint, match, fill_mask(1, 10, [(0, 10)]))
    for t in range(10):
        grads = torch.autograd.grad(drafted[0, t].sum(), (hint, match), retain_graph=True)
        for grad in grads:
            assert torch.all(grad[0, t + 1 :] == 0), t
            assert grad[0, t].abs().sum() > 0  # and it does depend on the current frame


@pytest.mark.parametrize("rnn", RNNS)
def test_untrained_drafter_drafts_the_causal_ar_hint_exactly(rnn):
    """Zero-initialised heads: training starts at the one-sided AR fill's quality, not at noise."""
    drafter = make_drafter(rnn, trained=False)
    known, hint, match = features(), features(seed=3), features(seed=4)
    to_fill = fill_mask(2, 20, [(4, 11)])
    with torch.no_grad():
        out = draft(drafter, known, to_fill, hint, match)
    assert torch.equal(out[to_fill], hint[to_fill])
    assert torch.equal(out[~to_fill], known[~to_fill])


def test_residual_rnn_refuses_an_odd_bidirectional_width():
    with pytest.raises(ValueError, match="even"):
        ResidualRNN("gru", 15, 1, bidirectional=True, dropout=0.0)


# --- reviser --------------------------------------------------------------------------------------


@pytest.mark.parametrize("rnn", RNNS)
@pytest.mark.parametrize("with_hint", [False, True])
def test_reviser_leaves_unmasked_frames_bit_identical(rnn, with_hint):
    reviser = make_reviser(rnn, trained=True)
    x = features()
    hint = features(seed=5) if with_hint else None
    mask = fill_mask(2, 20, [(3, 6), (12, 13), (18, 20)])
    mask[1, 0] = True  # rows may differ
    with torch.no_grad():
        out = reviser(x, mask, hint)
    assert out.shape == x.shape
    assert torch.equal(out[~mask], x[~mask])
    reference = x if hint is None else hint
    assert not torch.allclose(out[mask], reference[mask], atol=1e-3), "masked frames are re-predicted"


@pytest.mark.parametrize("rnn", RNNS)
def test_untrained_reviser_returns_the_hint_on_masked_frames(rnn):
    reviser = make_reviser(rnn, trained=False)
    x, hint = features(), features(seed=5)
    mask = fill_mask(2, 20, [(4, 11)])
    with torch.no_grad():
        out = reviser(x, mask, hint)
        without_hint = reviser(x, mask)
    assert torch.equal(out[mask], hint[mask])
    assert torch.equal(out[~mask], x[~mask])
    assert torch.equal(without_hint, x)


@pytest.mark.parametrize("rnn", RNNS)
def test_reviser_sees_both_sides(rnn):
    reviser = make_reviser(rnn, trained=True)
    x = features()
    mask = fill_mask(2, 20, [(8, 12)])
    with torch.no_grad():
        base = reviser(x, mask)
        for t in (2, 17):  # a known frame before, then after the masked run
            changed = x.clone()
            changed[:, t] += 1.0
            assert not torch.allclose(reviser(changed, mask)[:, 8:12], base[:, 8:12], atol=1e-4), t


def test_reviser_with_an_empty_mask_returns_its_input():
    """No frame masked: the features come back bit-identical, whatever the (random) correction head."""
    reviser = make_reviser("gru", trained=True)
    x = features()
    with torch.no_grad():
        assert torch.equal(reviser(x, torch.zeros(2, 20, dtype=torch.bool)), x)


# --- draft and revise loops -----------------------------------------------------------------------


@pytest.mark.parametrize("schedule", ["all", "shrink", "alternate"])
def test_zero_passes_returns_the_draft_unchanged(schedule):
    reviser = make_reviser("gru", trained=True)
    drafted = features()
    to_fill = fill_mask(2, 20, [(5, 12)])
    with torch.no_grad():
        out = revise(reviser, drafted, to_fill, 0, schedule, hint=features(seed=5))
    assert torch.equal(out, drafted)


@pytest.mark.parametrize("schedule", ["all", "shrink", "alternate"])
@pytest.mark.parametrize("passes", [1, 3])
def test_revise_changes_only_frames_to_fill(schedule, passes):
    reviser = make_reviser("lstm", trained=True)
    drafted = features()
    to_fill = fill_mask(2, 20, [(5, 12), (15, 16)])
    with torch.no_grad():
        out = revise(reviser, drafted, to_fill, passes, schedule, hint=features(seed=5))
    assert torch.equal(out[~to_fill], drafted[~to_fill])
    assert not torch.allclose(out[to_fill], drafted[to_fill], atol=1e-3)


def test_one_pass_equals_one_reviser_call():
    reviser = make_reviser("gru", trained=True)
    drafted, hint = features(), features(seed=5)
    to_fill = fill_mask(2, 20, [(5, 12)])
    with torch.no_grad():
        assert torch.equal(revise(reviser, drafted, to_fill, 1, "shrink", hint), reviser(drafted, to_fill, hint))


@pytest.mark.parametrize("rnn", RNNS)
@pytest.mark.parametrize("spans", [[(6, 11)], [(0, 4)], [(3, 5), (9, 14)], [(15, 20)]])
def test_draft_keeps_known_frames_and_reads_the_hints_only_where_it_fills(rnn, spans):
    drafter = make_drafter(rnn)
    x, hint, match = features(), features(seed=3), features(seed=4)
    to_fill = fill_mask(2, 20, spans)
    poisoned = x.clone()
    poisoned[to_fill] = float("nan")  # values at frames to fill are ignored
    other_hints = [h.clone() for h in (hint, match)]
    for h in other_hints:
        h[~to_fill] = float("nan")  # and so are the hints at known frames
    with torch.no_grad():
        out = draft(drafter, poisoned, to_fill, hint, match)
        assert torch.isfinite(out).all()
        assert torch.equal(out[~to_fill], x[~to_fill])
        assert torch.isnan(poisoned[to_fill]).all(), "the input is not modified in place"
        torch.testing.assert_close(draft(drafter, x, to_fill, *other_hints), out, atol=0, rtol=0)


@pytest.mark.parametrize("rnn", RNNS)
def test_draft_is_causal_with_respect_to_later_known_frames(rnn):
    drafter = make_drafter(rnn)
    x, hint, match = features(), features(seed=3), features(seed=4)
    to_fill = fill_mask(2, 20, [(4, 9)])
    changed = x.clone()
    changed[:, 9:] += torch.randn(changed[:, 9:].shape, generator=torch.Generator().manual_seed(3))
    changed[:, 4:9] = 100.0  # and values at the frames to fill are ignored
    with torch.no_grad():
        a = draft(drafter, x, to_fill, hint, match)
        b = draft(drafter, changed, to_fill, hint, match)
    torch.testing.assert_close(b[:, :9], a[:, :9], atol=1e-6, rtol=0)
    # while a change before the gap does change the draft
    earlier = x.clone()
    earlier[:, 2] += 1.0
    with torch.no_grad():
        assert not torch.allclose(draft(drafter, earlier, to_fill, hint, match)[:, 4:9], a[:, 4:9], atol=1e-4)


def test_draft_with_different_gaps_per_row_keeps_each_rows_known_frames():
    drafter = make_drafter("gru")
    x, hint, match = features(), features(seed=3), features(seed=4)
    to_fill = torch.zeros(2, 20, dtype=torch.bool)
    to_fill[0, 3:7] = True
    to_fill[1, 10:15] = True
    with torch.no_grad():
        out = draft(drafter, x, to_fill, hint, match)
        single = [draft(drafter, x[i : i + 1], to_fill[i : i + 1], hint[i : i + 1], match[i : i + 1])
                  for i in range(2)]
    assert torch.equal(out[~to_fill], x[~to_fill])
    for i in range(2):
        torch.testing.assert_close(out[i : i + 1], single[i], atol=1e-5, rtol=0)


def test_tiny_model_fixture(tiny_model, tiny_config):
    """The shared fixture: an untrained model on the tiny config, reproducible from its seed."""
    assert tiny_model.sample_rate == tiny_config.frame.sample_rate
    assert tiny_model.drafter.feature_size == tiny_config.frame.feature_size
    assert not tiny_model.training
    weight = tiny_model.reviser.correction[1].weight
    assert torch.count_nonzero(weight) == 0


def test_revision_starts_from_the_silent_gap_and_zero_passes_is_the_draft(tiny_model):
    """The reviser's first pass revises `first_estimate` (silence in the gap), not the draft: a
    drafter that drafts otherwise changes the zero-pass fill only."""
    from revise.inpainting import inpaint
    from revise.revision.loops import first_estimate

    x, to_fill = features(), fill_mask(2, 20, [(4, 9)])
    start = first_estimate(x, to_fill)
    assert torch.equal(start[~to_fill], x[~to_fill]) and not start[to_fill].any()
    t = np.arange(16000) / 16000
    audio = 0.3 * np.sin(2 * np.pi * 330 * t) + 0.1 * np.sin(2 * np.pi * 550 * t)
    other = copy.deepcopy(tiny_model)
    with torch.no_grad():
        other.drafter.correction[1].weight.normal_(0, 0.1, generator=torch.Generator().manual_seed(0))
    gaps = [(0.5, 0.53)]

    def filled(model, passes):
        return inpaint(audio, 16000, gaps, passes=passes, model=model, candidates=("revise",))

    np.testing.assert_array_equal(filled(other, 1), filled(tiny_model, 1))
    assert not np.array_equal(filled(other, 0), filled(tiny_model, 0))
