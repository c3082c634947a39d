"""Training examples: excerpts with gaps cut, and their hints.

The similarity fills search the excerpt's track around it, as inference searches the clip around
a gap, so each example is cut with `match.reach` samples of surroundings and cropped after.
The hints are built here by `revise.hints.build` (`window_hints` for the reviser, `causal_hints`
for the drafter), as inpainting builds them, in the DataLoader workers, so the training loop only
runs the networks. Validation examples draw their gaps from a fixed seed so the logged gap SNR is
comparable from one validation to the next.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from revise.config import Config
from revise.dsp.framing import sample_mask
from revise.hints.build import causal_hints, window_hints
from revise.train.data import ExcerptDataset


class GapExamples(Dataset):
    """Wraps an `ExcerptDataset` [N]; each item is a dict of audio [N] float32, hint [N] float32
    (AR fill of the gaps), match [N] float32 (similarity fill, with its matched sides), causal_hint
    and causal_match [N] float32 (the same from the audio before each gap, a frame past it) and
    gaps [N] bool. With `two_sided=False` (training the drafter alone) hint and match are left out:
    they are the costliest part of an item and only the reviser reads them; with `causal=False`
    (training the reviser alone), causal_hint and causal_match.

    Item i's gaps depend only on (seed, i); training reads fresh indices every epoch through
    `EpochSampler`, so excerpts and gaps are new each epoch whatever the number of workers.
    """

    def __init__(self, excerpts: ExcerptDataset, config: Config, seed: int, two_sided: bool = True,
                 causal: bool = True):
        self.excerpts = excerpts
        self.config = config
        self.seed = seed
        self.two_sided = two_sided
        self.causal = causal

    def __len__(self) -> int:
        return len(self.excerpts)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        frame, train, ar, match = self.config.frame, self.config.train, self.config.ar, self.config.match
        margin = match.reach
        window, beyond = self.excerpts.with_surroundings(index, margin)
        n = len(window) - 2 * margin
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        gaps = draw_training_gaps(
            n, frame.hop_length, int(train.max_span_seconds * frame.sample_rate), train.scattered_frames, generator
        )
        shifted = [(start + margin, end + margin) for start, end in gaps]
        if gaps[-1][1] == n:  # a span to the excerpt's end stands for generation: nothing known after it
            shifted[-1] = (shifted[-1][0], len(window))
        known = window.astype(np.float64)[None]
        crop = slice(margin, margin + n)

        def cropped(x: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(x[0, crop].astype(np.float32))

        item = {"audio": torch.from_numpy(window[crop].copy()), "gaps": sample_mask(gaps, n)}
        if self.causal:
            causal = causal_hints(known, shifted, ar, match, frame.frame_length, beyond)
            item |= {"causal_hint": cropped(causal.ar), "causal_match": cropped(causal.match)}
        if self.two_sided:
            hints = window_hints(known, shifted, ar, match, unknown=beyond)
            item |= {"hint": cropped(hints.hint), "match": cropped(hints.match)}
        return item


def draw_training_gaps(
    length: int,
    hop_length: int,
    max_span: int,
    scattered_fraction: float,
    generator: torch.Generator,
    to_end_probability: float = 0.1,
) -> list[tuple[int, int]]:
    """Random non-overlapping gaps in a [length] excerpt, sorted by start.

    One span from one hop to `max_span` samples (running to the end of the excerpt with
    `to_end_probability`, as in generation), plus scattered one-hop gaps covering about
    `scattered_fraction` of the excerpt. Every gap leaves at least one hop of known audio
    at the excerpt's start so the drafter has something to start from.
    """
    if length < 2 * hop_length:
        raise ValueError(f"an excerpt of {length} samples is shorter than two hops ({2 * hop_length}).")

    def uniform(low: int, high: int) -> int:
        return int(torch.randint(low, max(high, low + 1), (1,), generator=generator))

    span = uniform(hop_length, min(max_span, length - 2 * hop_length) + 1)
    if torch.rand(1, generator=generator).item() < to_end_probability:
        gaps = [(length - span, length)]
    else:
        start = uniform(hop_length, length - span - hop_length)
        gaps = [(start, start + span)]
    for _ in range(round(scattered_fraction * length / hop_length)):
        start = uniform(hop_length, length - hop_length)
        candidate = (start, start + hop_length)
        # keep a hop of known audio between gaps so each gap has its own context
        if all(candidate[1] + hop_length <= s or candidate[0] >= e + hop_length for s, e in gaps):
            gaps.append(candidate)
    return sorted(gaps)


