"""The draft and revision loops over frame features, shared by inference and training.

Plain torch: no files, no Lightning. Frames marked `to_fill` are the ones under work; all other
frames hold known audio and are never changed.
"""

from __future__ import annotations

import torch

from revise.config import ScheduleName
from revise.drafter import Drafter
from revise.masking import revision_masks
from revise.reviser import Reviser


def draft(
    drafter: Drafter,
    features: torch.Tensor,
    to_fill: torch.Tensor,
    noise: float = 0.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Write the frames to fill left to right, each from the frames before it.

    features: [B, T, F] (values at frames to fill are ignored); to_fill: bool [B, T].
    Known frames are teacher-forced in one call per run; frames to fill are stepped one at a
    time, each fed the drafter's own previous prediction. `noise` adds Gaussian noise of that
    relative scale to each prediction (texture for free generation). Returns [B, T, F].
    """
    out = features.clone()
    batch, count, _ = features.shape
    any_fill = to_fill.any(dim=0).tolist()
    state, prediction, t = None, None, 0
    while t < count:
        if not any_fill[t]:
            end = t
            while end < count and not any_fill[end]:
                end += 1
            predictions, state = drafter(out[:, t:end], state)
            prediction, t = predictions[:, -1], end
            continue
        if prediction is None:
            prediction, state = drafter.step(drafter.start_frame(batch), None)
        if noise > 0:
            scale = prediction.pow(2).mean(dim=-1, keepdim=True).sqrt()
            prediction = prediction + noise * scale * _normal(prediction, generator)
        current = torch.where(to_fill[:, t, None], prediction, out[:, t])
        out[:, t] = current
        prediction, state = drafter.step(current, state)
        t += 1
    return out


def _normal(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    return torch.randn(like.shape, generator=generator, dtype=like.dtype).to(like.device)


def revise(
    reviser: Reviser,
    features: torch.Tensor,
    to_fill: torch.Tensor,
    passes: int,
    schedule: ScheduleName,
    hint: torch.Tensor | None = None,
    match: torch.Tensor | None = None,
) -> torch.Tensor:
    """Run `passes` revision passes; each re-masks the schedule's frames and re-predicts them.

    features, hint, match: [B, T, F] (see `Reviser.forward`); to_fill: bool [B, T]. Zero passes
    returns `features` unchanged.
    """
    for mask in revision_masks(to_fill, passes, schedule):
        features = reviser(features, mask, hint, match)
    return features
