"""Frame loss and multi-resolution STFT loss: zero when equal, positive otherwise, masks respected."""

from __future__ import annotations

import pytest
import torch

from revise.train.losses import MultiResolutionStftLoss, frame_loss


def generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_frame_loss_zero_for_identical_and_known_values():
    x = torch.randn(2, 5, 8, generator=generator())
    assert frame_loss(x, x).item() == 0.0
    assert frame_loss(x + 0.5, x).item() == pytest.approx(0.5)
    assert frame_loss(x + 0.5, x, kind="mse").item() == pytest.approx(0.25)


def test_frame_loss_mask_restricts_to_selected_frames():
    target = torch.zeros(2, 4, 3)
    pred = target.clone()
    pred[0, 1] = 2.0  # a masked frame
    pred[1, 3] = 100.0  # an unmasked frame: must not count
    mask = torch.zeros(2, 4, dtype=torch.bool)
    mask[0, 1] = True
    mask[1, 0] = True
    assert frame_loss(pred, target, mask).item() == pytest.approx(1.0)  # (2 + 0) / 2 frames


def test_frame_loss_empty_mask_is_zero_with_gradient():
    pred = torch.randn(1, 3, 4, generator=generator(), requires_grad=True)
    loss = frame_loss(pred, torch.zeros(1, 3, 4), torch.zeros(1, 3, dtype=torch.bool))
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(pred.grad, torch.zeros_like(pred))


def test_frame_loss_rejects_bad_input():
    x = torch.zeros(1, 3, 4)
    with pytest.raises(ValueError, match="B, T, F"):
        frame_loss(x, torch.zeros(1, 3, 5))
    with pytest.raises(ValueError, match="mask"):
        frame_loss(x, x, torch.ones(1, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="unknown"):
        frame_loss(x, x, kind="huber")


def test_stft_loss_zero_for_identical_and_positive_otherwise():
    loss = MultiResolutionStftLoss()
    target = torch.randn(2, 4000, generator=generator(1))
    assert loss(target, target).item() == 0.0
    assert loss(target + 0.1 * torch.randn(2, 4000, generator=generator(2)), target).item() > 0.0


def test_stft_loss_gradient_flows_even_at_equality():
    loss = MultiResolutionStftLoss()
    target = torch.randn(2, 4000, generator=generator(3))
    estimate = (0.5 * target).requires_grad_(True)
    loss(estimate, target).backward()
    assert torch.isfinite(estimate.grad).all() and estimate.grad.abs().sum() > 0
    same = target.clone().requires_grad_(True)
    loss(same, target).backward()
    assert torch.isfinite(same.grad).all()


def test_stft_loss_mask_ignores_changes_outside_the_region():
    loss = MultiResolutionStftLoss()
    target = torch.randn(1, 6000, generator=generator(4))
    mask = torch.zeros(1, 6000)
    mask[:, 3000:3500] = 1.0
    inside = target.clone()
    inside[:, 3000:3500] = 0.0
    outside_too = inside.clone()
    outside_too[:, :1500] = 5.0
    assert loss(target, target, mask).item() == 0.0
    assert loss(inside, target, mask).item() > 0.5
    assert loss(outside_too, target, mask).item() == pytest.approx(loss(inside, target, mask).item())
    assert loss(outside_too, target, mask).item() != pytest.approx(loss(outside_too, target).item())


def test_stft_loss_short_input_uses_the_resolutions_that_fit():
    loss = MultiResolutionStftLoss()
    x = torch.randn(1, 600, generator=generator(5))
    assert loss(x * 0.5, x).item() > 0.0  # only 512 and 256 fit
    with pytest.raises(ValueError, match="fewer than"):
        loss(x[:, :100], x[:, :100])


def test_stft_loss_windows_are_not_in_the_state_dict():
    assert MultiResolutionStftLoss().state_dict() == {}


def test_stft_loss_rejects_bad_settings_and_shapes():
    with pytest.raises(ValueError, match="resolution"):
        MultiResolutionStftLoss(resolutions=((511, 128),))
    with pytest.raises(ValueError, match="B, N"):
        MultiResolutionStftLoss()(torch.zeros(1, 1, 4000), torch.zeros(1, 1, 4000))
    with pytest.raises(ValueError, match="mask"):
        MultiResolutionStftLoss()(torch.zeros(1, 4000), torch.zeros(1, 4000), torch.zeros(1, 3999))
