"""Training examples for the reviser: excerpts with gaps cut, and the AR and similarity fills.

The similarity fill searches the excerpt's track around it, as inference searches the clip around
a gap, so each example is cut with `match.search + match.context` samples of surroundings and cropped after.
The fills are computed here, in the DataLoader workers, so the training loop only runs the
networks. Validation examples draw their gaps from a fixed seed so the logged gap SNR is
comparable from one validation to the next.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from revise.autoregressive import ar_fill_many
from revise.config import Config
from revise.data import AudioDataModule, ExcerptDataset
from revise.masking import draw_training_gaps, sample_mask
from revise.similarity import match_fill_many


class GapExamples(Dataset):
    """Wraps an `ExcerptDataset` [N]; each item is a dict of audio [N] float32, hint [N] float32
    (AR fill of the gaps), match [N] float32 (similarity fill, with its matched sides) and gaps [N] bool.

    Item i's gaps depend only on (seed, i); training reads fresh indices every epoch through
    `EpochSampler`, so excerpts and gaps are new each epoch whatever the number of workers.
    """

    def __init__(self, excerpts: ExcerptDataset, config: Config, seed: int):
        self.excerpts = excerpts
        self.config = config
        self.seed = seed

    def __len__(self) -> int:
        return len(self.excerpts)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        frame, train, ar, match = self.config.frame, self.config.train, self.config.ar, self.config.match
        margin = match.search + match.context
        window, beyond = self.excerpts.with_surroundings(index, margin)
        n = len(window) - 2 * margin
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        gaps = draw_training_gaps(
            n, frame.hop_length, int(train.max_span_seconds * frame.sample_rate), train.scattered_frames, generator
        )
        shifted = [(start + margin, end + margin) for start, end in gaps]
        if gaps[-1][1] == n:  # a span to the excerpt's end stands for generation: nothing known after it
            shifted[-1] = (shifted[-1][0], len(window))
        hint = ar_fill_many(window.astype(np.float64), shifted, ar.order, ar.context)
        matched = match_fill_many(hint, shifted, match.search, match.context, match.candidates, unknown=beyond)
        crop = slice(margin, margin + n)
        return {
            "audio": torch.from_numpy(window[crop].copy()),
            "hint": torch.from_numpy(hint[crop].astype(np.float32)),
            "match": torch.from_numpy(matched[crop].astype(np.float32)),
            "gaps": sample_mask(gaps, n),
        }


class RevisionDataModule(AudioDataModule):
    """Folder of audio -> train/validation `GapExamples`, split by track."""

    def __init__(self, config: Config):
        super().__init__(config.data, config.frame.sample_rate, config.train.batch_size)
        self.config = config

    def setup(self, stage: str | None = None) -> None:
        if isinstance(self.train_set, GapExamples):
            return
        super().setup(stage)
        self.train_set = GapExamples(self.train_set, self.config, self.data.seed)
        self.val_set = GapExamples(self.val_set, self.config, self.data.seed + 1)
