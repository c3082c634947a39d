"""The LightningModule that trains the drafter and the reviser.

Both learn the way they are used: gaps are cut from each excerpt; the drafter drafts them from the
causal hints (what the audio before each gap tells) and is judged on its draft; the reviser starts
from the silent gap (`first_estimate`, as at inference) with the two-sided AR fill and the
similarity fill, and `unroll_passes` revision passes are unrolled with the inference schedule, each
pass fed the previous pass's output, with a loss on each.
"""

from __future__ import annotations

import logging
import math

import lightning as L
import torch

from revise.config import Config, from_dict
from revise.dsp.framing import analyse, frame_mask, synthesise
from revise.nn.model import RevisionModel
from revise.revision.loops import draft, first_estimate, revise, revision_passes
from revise.train.losses import MultiResolutionStftLoss, frame_loss, gap_snr_db

log = logging.getLogger(__name__)

# The zero-initialised output heads learn this much slower than the rest: Adam moves every weight
# by about the learning rate per step, and at the full rate the reviser's early steps pushed its
# output below the AR hint it starts from (MODEL_CARD.md).
HEAD_LR_FACTOR = 0.1
MAX_SKIPPED_BATCHES = 20  # consecutive non-finite losses before the run is stopped


class NonFiniteLossError(ValueError):
    """Training diverged: the loss stayed NaN or infinite (the CLI reports it in one sentence)."""


class RevisionTask(L.LightningModule):
    """Wraps a `RevisionModel` for training. `config` is the plain-dict form of a `Config`,
    so checkpoints stay loadable with `weights_only=True`.

    A batch is a dict of [B, N] tensors: audio, hint and match (the two-sided hints), causal_hint
    and causal_match (the drafter's), and gaps (bool).
    """

    def __init__(self, config: dict):
        super().__init__()
        self.save_hyperparameters()
        self.config: Config = from_dict(Config, config)
        c = self.config
        self.model = RevisionModel(c.frame, c.model, c.revision, c.ar, c.match)
        self.stft_loss = MultiResolutionStftLoss()
        self.skipped_batches = 0

    # --- losses -------------------------------------------------------------------------------

    def fill_loss(self, audio: torch.Tensor, features: torch.Tensor, filled: torch.Tensor, gaps: torch.Tensor,
                  judged: torch.Tensor) -> torch.Tensor:
        """The objective for a fill. audio: [B, N]; features (the truth's), filled: [B, T, F];
        gaps: bool [B, N]; judged: bool [B, T], the frames the frame loss compares."""
        c = self.config
        wave = synthesise(filled, audio.shape[-1], c.frame)
        if c.train.objective == "snr":
            # the benchmark's own figure, in bels so it sits near the other terms' scale
            loss = -gap_snr_db(audio, wave, gaps) / 10
        else:
            loss = frame_loss(filled, features, judged, kind=c.train.loss)
        if c.train.stft_weight > 0:
            loss = loss + c.train.stft_weight * self.stft_loss(wave, audio, gaps.to(wave.dtype))
        return loss

    def drafted(self, batch: dict[str, torch.Tensor], features: torch.Tensor, to_fill: torch.Tensor) -> torch.Tensor:
        """The drafter's draft of the batch's gaps [B, T, F] from its causal hints."""
        frame = self.config.frame
        return draft(self.model.drafter, features, to_fill, analyse(batch["causal_hint"], frame),
                     analyse(batch["causal_match"], frame))

    def reviser_losses(self, batch: dict[str, torch.Tensor], features: torch.Tensor,
                       to_fill: torch.Tensor) -> list[torch.Tensor]:
        """One loss per unrolled pass, revising the batch's gaps from `first_estimate`."""
        c = self.config
        hint, match = analyse(batch["hint"], c.frame), analyse(batch["match"], c.frame)
        # each pass sees the previous one's output, as at inference
        passes = revision_passes(self.model.reviser, first_estimate(features, to_fill), to_fill, c.train.unroll_passes,
                                 c.revision.schedule, hint, match, detach=True)
        return [self.fill_loss(batch["audio"], features, revised, batch["gaps"], mask) for mask, revised in passes]

    # --- Lightning hooks -------------------------------------------------------------------------

    def training_step(self, batch: dict[str, torch.Tensor], batch_index: int) -> torch.Tensor | None:
        c = self.config
        audio = batch["audio"]
        features = analyse(audio, c.frame)
        to_fill = frame_mask(batch["gaps"], c.frame.frame_length, c.frame.hop_length)
        losses = {}
        if c.train.trainable != "reviser":
            drafted = self.drafted(batch, features, to_fill)
            losses["train/drafter"] = self.fill_loss(audio, features, drafted, batch["gaps"], to_fill)
        if c.train.trainable != "drafter":
            losses["train/reviser"] = torch.stack(self.reviser_losses(batch, features, to_fill)).mean()
        loss = sum(losses.values())
        if not torch.isfinite(loss):
            return self._skip_batch()
        self.skipped_batches = 0
        self.log_dict({"train/loss": loss, **losses}, prog_bar=True, batch_size=audio.shape[0])
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
        drafted = self.drafted(batch, features, to_fill)
        revised = revise(self.model.reviser, first_estimate(features, to_fill), to_fill, c.revision.passes,
                         c.revision.schedule, analyse(batch["hint"], c.frame), analyse(batch["match"], c.frame))
        drafter_loss = self.fill_loss(audio, features, drafted, gaps, to_fill)
        reviser_loss = self.fill_loss(audio, features, revised, gaps, to_fill)
        n = audio.shape[-1]
        figures = {
            "val/loss": {"all": drafter_loss + reviser_loss, "drafter": drafter_loss,
                         "reviser": reviser_loss}[c.train.trainable],
            "val/drafter": drafter_loss,
            "val/reviser": reviser_loss,
            "val/gap_snr_db": gap_snr_db(audio, synthesise(revised, n, c.frame), gaps),
            "val/draft_snr_db": gap_snr_db(audio, synthesise(drafted, n, c.frame), gaps),
            "val/ar_snr_db": gap_snr_db(audio, batch["hint"], gaps),
            "val/match_snr_db": gap_snr_db(audio, batch["match"], gaps),
            "val/ar_causal_snr_db": gap_snr_db(audio, batch["causal_hint"], gaps),
        }
        self.log_dict(figures, prog_bar=False, batch_size=audio.shape[0])
        # the figure of the part being trained picks the best checkpoint
        judged = figures["val/draft_snr_db" if c.train.trainable == "drafter" else "val/gap_snr_db"]
        self.log("val_snr", judged, prog_bar=True, batch_size=audio.shape[0])

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        bad = [k for k, v in checkpoint["state_dict"].items() if v.is_floating_point() and not torch.isfinite(v).all()]
        if bad:
            raise NonFiniteLossError(f"refusing to save a checkpoint: weight {bad[0]} is NaN or infinite.")

    def configure_optimizers(self):
        train = self.config.train
        trained = {"all": [self.model.drafter, self.model.reviser], "drafter": [self.model.drafter],
                   "reviser": [self.model.reviser]}[train.trainable]
        heads = [p for network in trained for head in (network.correction, network.gates) for p in head.parameters()]
        head_ids = {id(p) for p in heads}
        body = [p for network in trained for p in network.parameters() if id(p) not in head_ids]
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
