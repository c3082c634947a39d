"""Training examples for the reviser: excerpts with gaps cut and the AR fill of those gaps.

The AR fill is computed here, in the DataLoader workers, so the training loop only runs the
networks. Validation examples draw their gaps from a fixed seed so the logged gap SNR is
comparable from one validation to the next.
"""

from __future__ import annotations

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from revise.autoregressive import ar_fill_many
from revise.config import Config
from revise.data import ExcerptDataset, find_audio_files, load_tracks, split_tracks
from revise.masking import draw_training_gaps, sample_mask


class GapExamples(Dataset):
    """Wraps a dataset of excerpts [N]; each item is a dict of
    audio [N] float32, hint [N] float32 (AR fill of the gaps) and gaps [N] bool."""

    def __init__(self, excerpts: Dataset, config: Config, seed: int, fixed: bool):
        self.excerpts = excerpts
        self.config = config
        self.seed = seed
        self.fixed = fixed
        self.draws = 0  # per-worker counter: training gaps differ every time an index is seen

    def __len__(self) -> int:
        return len(self.excerpts)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        audio = self.excerpts[index]
        self.draws += 1
        salt = 0 if self.fixed else self.draws
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + index * 7919 + salt)
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


class RevisionDataModule(L.LightningDataModule):
    """Folder of audio -> train/validation `GapExamples`, split by track."""

    def __init__(self, config: Config):
        super().__init__()
        self.config = config
        self.train_set: GapExamples | None = None
        self.val_set: GapExamples | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        data, rate = self.config.data, self.config.frame.sample_rate
        files = find_audio_files(data.root)
        train_files, val_files = split_tracks(files, data.root, data.val_fraction, data.split_file)
        excerpt = int(round(data.excerpt_seconds * rate))
        train_tracks = load_tracks(train_files, rate, data.cache_dir)
        val_tracks = load_tracks(val_files, rate, data.cache_dir)
        train = ExcerptDataset(train_tracks, excerpt, data.excerpts_per_epoch, seed=data.seed, fixed=False)
        val = ExcerptDataset(val_tracks, excerpt, data.val_excerpts, seed=data.seed + 1, fixed=True)
        self.train_set = GapExamples(train, self.config, data.seed, fixed=False)
        self.val_set = GapExamples(val, self.config, data.seed + 1, fixed=True)

    def _loader(self, dataset: Dataset, shuffle: bool) -> DataLoader:
        workers = self.config.data.num_workers
        return DataLoader(
            dataset, batch_size=self.config.train.batch_size, shuffle=shuffle, drop_last=shuffle,
            num_workers=workers, persistent_workers=workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, shuffle=False)
