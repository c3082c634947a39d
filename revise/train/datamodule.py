"""The Lightning data module: a folder of audio -> batches of training and validation `GapExamples`."""

from __future__ import annotations

import lightning as L
from torch.utils.data import DataLoader, Dataset, Sampler

from revise.config import Config
from revise.train.data import EpochSampler, excerpt_sets
from revise.train.examples import GapExamples


class RevisionDataModule(L.LightningDataModule):
    """Batches of `GapExamples` dicts (audio, hints [B, N] float32; gaps [B, N] bool), split by track."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        self.config = config
        self.train_set: GapExamples | None = None
        self.val_set: GapExamples | None = None

    def setup(self, stage: str | None = None) -> None:
        """Find, split and load the tracks once; later calls (one per stage) do nothing."""
        if self.train_set is not None:
            return
        data = self.config.data
        train, val = excerpt_sets(data, self.config.frame.sample_rate)
        # training one network alone needs only its hints (validation still scores both)
        trainable = self.config.train.trainable
        self.train_set = GapExamples(train, self.config, data.seed, two_sided=trainable != "drafter",
                                     causal=trainable != "reviser")
        self.val_set = GapExamples(val, self.config, data.seed + 1)

    def train_dataloader(self) -> DataLoader:
        assert self.train_set is not None, "call setup() first"
        return self._loader(self.train_set, EpochSampler(len(self.train_set)))

    def val_dataloader(self) -> DataLoader:
        assert self.val_set is not None, "call setup() first"
        return self._loader(self.val_set, None)

    def _loader(self, dataset: Dataset, sampler: Sampler | None) -> DataLoader:
        workers = self.config.data.num_workers
        return DataLoader(dataset, batch_size=self.config.train.batch_size, sampler=sampler, shuffle=False,
                          num_workers=workers, persistent_workers=workers > 0)
