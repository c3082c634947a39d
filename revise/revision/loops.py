"""The draft loop and the revision loop over frame features: the only ones in the package.

Inpainting, generation and training all run these two (`revise` is `revision_passes` run to the
end; training reads every pass, for a loss on each). Plain torch: no files, no Lightning.
Frames marked `to_fill` are the ones under work; all other frames hold known audio and are
never changed. Generation's sampling and gains plug in through the hooks:
  - `propose(prediction [B, F], t) -> frame [B, F]`: what the draft writes at frame t, given the
    drafter's prediction for it (default: the prediction itself);
  - `adjust(revised [B, T, F]) -> [B, T, F]`: what a revision pass keeps of the reviser's output
    on the frames it re-masked (default: all of it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

from revise.config import ScheduleName
from revise.nn.drafter import Drafter
from revise.nn.reviser import Reviser
from revise.revision.schedules import revision_masks

Propose = Callable[[torch.Tensor, int], torch.Tensor]
Adjust = Callable[[torch.Tensor], torch.Tensor]


def draft(drafter: Drafter, features: torch.Tensor, to_fill: torch.Tensor, propose: Propose | None = None) -> torch.Tensor:
    """Write the frames to fill left to right, each from the frames before it.

    features: [B, T, F] (values at frames to fill are ignored); to_fill: bool [B, T].
    Known frames are teacher-forced in one call per run; frames to fill are stepped one at a
    time, each fed what the draft wrote before it. Returns [B, T, F].
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
        if propose is not None:
            prediction = propose(prediction, t)
        current = torch.where(to_fill[:, t, None], prediction, out[:, t])
        out[:, t] = current
        prediction, state = drafter.step(current, state)
        t += 1
    return out


def revision_passes(
    reviser: Reviser,
    features: torch.Tensor,
    to_fill: torch.Tensor,
    passes: int,
    schedule: ScheduleName,
    hint: torch.Tensor | None = None,
    match: torch.Tensor | None = None,
    adjust: Adjust | None = None,
    detach: bool = False,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Run `passes` revision passes, yielding each pass's mask bool [B, T] and the features [B, T, F] after it.

    Each pass re-masks the schedule's frames and re-predicts them from the previous pass's
    output. features, hint, match: [B, T, F] (see `Reviser.forward`); to_fill: bool [B, T].
    `detach`: the next pass reads this pass's output without its graph, so training with a loss
    on every pass teaches each pass to improve what it is given, as it is used.
    """
    for mask in revision_masks(to_fill, passes, schedule):
        revised = reviser(features, mask, hint, match)  # unmasked frames come back unchanged
        if adjust is not None:
            revised = torch.where(mask.unsqueeze(-1), adjust(revised), features)
        yield mask, revised
        features = revised.detach() if detach else revised


def revise(
    reviser: Reviser,
    features: torch.Tensor,
    to_fill: torch.Tensor,
    passes: int,
    schedule: ScheduleName,
    hint: torch.Tensor | None = None,
    match: torch.Tensor | None = None,
    adjust: Adjust | None = None,
) -> torch.Tensor:
    """The features [B, T, F] after all `passes` of `revision_passes`; zero passes returns `features`."""
    for _, features in revision_passes(reviser, features, to_fill, passes, schedule, hint, match, adjust):
        pass
    return features
