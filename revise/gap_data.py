"""Training examples for the reviser: excerpts with gaps cut and the AR fill of those gaps.

The AR fill is computed here, in the DataLoader workers, so the training loop only runs the
networks. Validation examples draw their gaps from a fixed seed so the logged gap SNR is
comparable from one validation to the next.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from revise.autoregressive import ar_fill_many
from revise.config import Config
from revise.data import AudioDataModule
from revise.masking import draw_training_gaps, sample_mask


class GapExamples(Dataset):
    """Wraps a dataset of excerpts [N]; each item is a dict of
    audio [N] float32, hint [N] float32 (AR fill of the gaps) and gaps [N] bool.

    Item i's gaps depend only on (seed, i); training reads fresh indices every epoch through
    `EpochSampler`, so excerpts and gaps are new each epoch whatever the number of workers.
    """

    def __init__(self, excerpts: Dataset, config: Config, seed: int):
        self.excerpts = excerpts
        self.config = config
        self.seed = seed

    def __len__(self) -> int:
        return len(self.excerpts)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        audio = self.excerpts[index]
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        frame, train, ar = self.config.frame, self.config.train, self.config.ar
        gaps = draw_training_gaps(
            audio.shape[-1], frame.hop_length, int(train.max_span_seconds * frame.sample_rate),
            train.scattered_frames, generator,
        )
        hint = ar_fill_many(audio.numpy().astype(np.float64), gaps, ar.order, ar.context)
        return {
            "audio": audio,
            "hint": torch.from_numpy(hint.astype(np.float32)),
            "gaps": sample_mask(gaps, audio.shape[-1]),
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
