"""The LightningModule that trains the drafter and the reviser.

The drafter learns next-frame prediction by teacher forcing with noisy inputs (a guard against
exposure bias). The reviser learns the way it is used: gaps are cut from each excerpt, the
drafter drafts them, the two-sided AR fill and the similarity fill are the hints, and `unroll_passes` revision passes are
unrolled with the inference schedule, each pass fed the previous pass's output.
"""

from __future__ import annotations

import logging
import math

import lightning as L
import torch

from revise.config import Config, from_dict
from revise.dsp.framing import analyse, frame_mask, synthesise
from revise.nn.model import RevisionModel
from revise.revision.loops import draft, revise, revision_passes
from revise.train.losses import MultiResolutionStftLoss, frame_loss, gap_snr_db

log = logging.getLogger(__name__)

DRAFT_HINT_FRACTION = 0.25  # share of examples revised from the draft alone, as in generation
# The reviser's zero-initialised output heads learn this much slower than the rest: Adam moves
# every weight by about the learning rate per step, and at the full rate the early steps pushed
# the output below the AR hint it starts from (MODEL_CARD.md).
HEAD_LR_FACTOR = 0.1
MAX_SKIPPED_BATCHES = 20  # consecutive non-finite losses before the run is stopped


class NonFiniteLossError(ValueError):
    """Training diverged: the loss stayed NaN or infinite (the CLI reports it in one sentence)."""


class RevisionTask(L.LightningModule):
    """Wraps a `RevisionModel` for training. `config` is the plain-dict form of a `Config`,
    so checkpoints stay loadable with `weights_only=True`."""

    def __init__(self, config: dict):
        super().__init__()
        self.save_hyperparameters()
        self.config: Config = from_dict(Config, config)
        c = self.config
        self.model = RevisionModel(c.frame, c.model, c.revision, c.ar, c.match)
        self.stft_loss = MultiResolutionStftLoss()
        self.skipped_batches = 0

    # --- losses -------------------------------------------------------------------------------

    def drafter_loss(self, audio: torch.Tensor, features: torch.Tensor, noise: float | None = None) -> torch.Tensor:
        """Teacher-forced next-frame loss. audio: [B, N]; features: [B, T, F].

        `noise` is the relative input noise (default: train.input_noise; validation uses 0)."""
        train = self.config.train
        noise = train.input_noise if noise is None else noise
        scale = features.pow(2).mean(dim=(1, 2), keepdim=True).sqrt()
        noisy = features + noise * scale * torch.randn_like(features)
        predictions, _ = self.model.drafter(noisy)
        loss = frame_loss(predictions[:, :-1], features[:, 1:], kind=train.loss)
        if train.drafter_stft_weight > 0:
            joined = torch.cat([features[:, :1], predictions[:, :-1]], dim=1)
            wave = synthesise(joined, audio.shape[-1], self.config.frame)
            loss = loss + train.drafter_stft_weight * self.stft_loss(wave, audio)
        return loss

    def reviser_losses(
        self,
        audio: torch.Tensor,
        features: torch.Tensor,
        hint_audio: torch.Tensor,
        match_audio: torch.Tensor,
        gaps: torch.Tensor,
    ) -> list[torch.Tensor]:
        """One loss per unrolled pass. audio, hint_audio, match_audio: [B, N]; gaps: bool [B, N]."""
        c = self.config
        to_fill = frame_mask(gaps, c.frame.frame_length, c.frame.hop_length)
        with torch.no_grad():
            estimate = draft(self.model.drafter, features, to_fill)
        hint, match = analyse(hint_audio, c.frame), analyse(match_audio, c.frame)
        from_draft = torch.rand(hint.shape[0], 1, 1, device=hint.device) < DRAFT_HINT_FRACTION
        hint = torch.where(from_draft, estimate, hint)
        match = torch.where(from_draft, estimate, match)
        losses = []
        # each pass sees the previous one's output, as at inference
        passes = revision_passes(self.model.reviser, estimate, to_fill, c.train.unroll_passes, c.revision.schedule,
                                 hint, match, detach=True)
        for mask, revised in passes:
            wave = synthesise(revised, audio.shape[-1], c.frame)
            if c.train.reviser_objective == "snr":
                # the benchmark's own figure, in bels so it sits near the other terms' scale
                loss = -gap_snr_db(audio, wave, gaps) / 10
            else:
                loss = frame_loss(revised, features, mask, kind=c.train.loss)
            if c.train.stft_weight > 0:
                loss = loss + c.train.stft_weight * self.stft_loss(wave, audio, gaps.to(wave.dtype))
            losses.append(loss)
        return losses

    # --- Lightning hooks -------------------------------------------------------------------------

    def training_step(self, batch: dict[str, torch.Tensor], batch_index: int) -> torch.Tensor | None:
        audio = batch["audio"]
        features = analyse(audio, self.config.frame)
        drafter_loss = self.drafter_loss(audio, features)
        reviser_losses = self.reviser_losses(audio, features, batch["hint"], batch["match"], batch["gaps"])
        reviser_loss = torch.stack(reviser_losses).mean()
        loss = drafter_loss + reviser_loss
        if not torch.isfinite(loss):
            return self._skip_batch()
        self.skipped_batches = 0
        self.log_dict(
            {"train/loss": loss, "train/drafter": drafter_loss, "train/reviser": reviser_loss},
            prog_bar=True,
            batch_size=audio.shape[0],
        )
        return loss

    def _skip_batch(self) -> None:
        self.skipped_batches += 1
        log.warning("skipped a batch with a non-finite loss (%d in a row)", self.skipped_batches)
        if self.skipped_batches >= MAX_SKIPPED_BATCHES:
            raise NonFiniteLossError(
                f"the loss was NaN or infinite for {MAX_SKIPPED_BATCHES} batches in a row; "
                "lower train.learning_rate and resume from the last checkpoint."
            )
        return None

    def validation_step(self, batch: dict[str, torch.Tensor], batch_index: int) -> None:
        c = self.config
        audio, gaps = batch["audio"], batch["gaps"]
        features = analyse(audio, c.frame)
        to_fill = frame_mask(gaps, c.frame.frame_length, c.frame.hop_length)
        drafted = draft(self.model.drafter, features, to_fill)
        revised = revise(self.model.reviser, drafted, to_fill, c.revision.passes, c.revision.schedule,
                         analyse(batch["hint"], c.frame), analyse(batch["match"], c.frame))
        n = audio.shape[-1]
        snr = gap_snr_db(audio, synthesise(revised, n, c.frame), gaps)
        if c.train.reviser_objective == "snr":
            reviser_loss = -snr / 10
        else:
            reviser_loss = frame_loss(revised, features, to_fill, kind=c.train.loss)
        drafter_loss = self.drafter_loss(audio, features, noise=0.0)
        figures = {
            "val/loss": drafter_loss + reviser_loss,  # the training objective, without input noise
            "val/drafter": drafter_loss,
            "val/reviser": reviser_loss,
            "val/gap_snr_db": snr,
            "val/draft_snr_db": gap_snr_db(audio, synthesise(drafted, n, c.frame), gaps),
            "val/ar_snr_db": gap_snr_db(audio, batch["hint"], gaps),
            "val/match_snr_db": gap_snr_db(audio, batch["match"], gaps),
        }
        self.log_dict(figures, prog_bar=False, batch_size=audio.shape[0])
        self.log("val_snr", figures["val/gap_snr_db"], prog_bar=True, batch_size=audio.shape[0])

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        bad = [k for k, v in checkpoint["state_dict"].items() if v.is_floating_point() and not torch.isfinite(v).all()]
        if bad:
            raise NonFiniteLossError(f"refusing to save a checkpoint: weight {bad[0]} is NaN or infinite.")

    def configure_optimizers(self):
        train = self.config.train
        reviser = self.model.reviser
        heads = [*reviser.correction.parameters(), *reviser.gates.parameters()]
        head_ids = {id(p) for p in heads}
        body = [p for p in self.parameters() if id(p) not in head_ids]
        groups = [
            {"params": body, "lr": train.learning_rate},
            {"params": heads, "lr": train.learning_rate * HEAD_LR_FACTOR},
        ]
        optimizer = torch.optim.AdamW(groups, weight_decay=1e-4)
        warmup = max(1, min(200, train.max_steps // 20))

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            progress = min(1.0, (step - warmup) / max(1, train.max_steps - warmup))
            return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))

        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
