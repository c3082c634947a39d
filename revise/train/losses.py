"""Training losses: the gap SNR objective, a frame-domain L1 (MSE only for comparison) and a
multi-resolution STFT loss.

`gap_snr_db` is the reviser's main objective: the benchmark's gap SNR
(`revise.evaluate.metrics.gap_snr`) in batched, differentiable torch. The frame loss compares
model features [B, T, F] on the frames the model had to predict. The STFT loss (spectral
convergence plus log-magnitude L1, after Arik et al. 2018 and Yamamoto et al. 2019, as in
auraloss) compares waveforms [B, N] and can be focused on a gap with a sample mask; at weight 1
it pulled gap SNR down, so it is a light texture term beside the main objective (MODEL_CARD.md).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

LossKind = Literal["l1", "mse"]

DEFAULT_RESOLUTIONS: tuple[tuple[int, int], ...] = ((2048, 512), (1024, 256), (512, 128), (256, 64))


def frame_loss(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None, kind: LossKind = "l1"
) -> torch.Tensor:
    """Mean absolute (or squared) error between features, over the masked frames only.

    pred, target: [B, T, F]; mask: [B, T] bool, True where the frame counts (None: all frames).
    Returns a scalar: the elementwise error averaged over F and over the selected frames. With
    an all-False mask it returns a zero that still carries a (zero) gradient to `pred`.
    """
    if pred.shape != target.shape or pred.dim() != 3:
        shapes = f"{tuple(pred.shape)} and {tuple(target.shape)}"
        raise ValueError(f"pred and target must both be [B, T, F] of one shape, got {shapes}.")
    if kind == "l1":
        error = (pred - target).abs()
    elif kind == "mse":
        error = (pred - target).square()
    else:
        raise ValueError(f"unknown frame loss {kind!r}; use 'l1' or 'mse'.")
    per_frame = error.mean(dim=-1)  # [B, T]
    if mask is None:
        return per_frame.mean()
    if mask.shape != per_frame.shape:
        raise ValueError(f"mask must be [B, T] = {tuple(per_frame.shape)}, got {tuple(mask.shape)}.")
    weight = mask.to(per_frame.dtype)
    # clamp: an empty mask gives 0 / 1 = 0 instead of NaN, and the graph stays connected.
    return (per_frame * weight).sum() / weight.sum().clamp_min(1.0)


class MultiResolutionStftLoss(nn.Module):
    """Spectral convergence + log-magnitude L1, averaged over several STFT resolutions.

    For each resolution (n_fft, hop) with Hann window and magnitudes X (estimate), Y (target)
    over the frames in play: SC = ||Y - X||_F / ||Y||_F and LM = mean |log Y - log X|; the
    loss is mean over resolutions of (SC + LM). Resolutions whose n_fft exceeds the input
    length are skipped, so short excerpts use only the finer ones.

    With a sample mask [B, N] (1 in the region to judge, 0 elsewhere, soft values allowed),
    the estimate outside the region is replaced by the target (est * m + target * (1 - m)),
    and only STFT frames that overlap the region enter the loss, weighted by the mask's peak
    within each frame, so the value depends far less on the gap's length than a loss over the
    whole excerpt would (MODEL_CARD.md has the figures).
    """

    def __init__(self, resolutions: tuple[tuple[int, int], ...] = DEFAULT_RESOLUTIONS, eps: float = 1e-7):
        super().__init__()
        if len(resolutions) == 0:
            raise ValueError("MultiResolutionStftLoss needs at least one (n_fft, hop) resolution.")
        for n_fft, hop in resolutions:
            if n_fft < 2 or n_fft % 2 or not 0 < hop <= n_fft:
                raise ValueError(f"resolution ({n_fft}, {hop}) needs an even n_fft and 0 < hop <= n_fft.")
        self.resolutions = tuple((int(n), int(h)) for n, h in resolutions)
        self.eps = eps
        for n_fft in sorted({n for n, _ in self.resolutions}):
            # Not persistent: windows are derived from the settings, and must not enter
            # checkpoints that are loaded strictly.
            self.register_buffer(f"window_{n_fft}", torch.hann_window(n_fft), persistent=False)

    def forward(
        self, estimate: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """estimate, target: [B, N] waveforms; mask: [B, N] sample weights in [0, 1] or None. Scalar."""
        if estimate.shape != target.shape or estimate.dim() != 2:
            shapes = f"{tuple(estimate.shape)} and {tuple(target.shape)}"
            raise ValueError(f"estimate and target must both be [B, N] of one shape, got {shapes}.")
        if mask is not None:
            if mask.shape != estimate.shape:
                raise ValueError(f"mask must be [B, N] = {tuple(estimate.shape)}, got {tuple(mask.shape)}.")
            mask = mask.to(estimate.dtype)
            estimate = estimate * mask + target * (1.0 - mask)
        length = estimate.shape[-1]
        usable = [(n, h) for n, h in self.resolutions if n <= length]
        if not usable:
            smallest = min(n for n, _ in self.resolutions)
            raise ValueError(f"the input has {length} samples, fewer than the smallest STFT size {smallest}.")
        total = estimate.new_zeros(())
        for n_fft, hop in usable:
            total = total + self._single(estimate, target, mask, n_fft, hop)
        return total / len(usable)

    def _single(
        self, estimate: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None, n_fft: int, hop: int
    ) -> torch.Tensor:
        """SC + LM at one resolution. [B, N] inputs -> scalar."""
        window = getattr(self, f"window_{n_fft}").to(estimate.dtype)
        est_mag = self._magnitude(estimate, n_fft, hop, window)  # [B, frames, bins]
        tgt_mag = self._magnitude(target, n_fft, hop, window)
        if mask is None:
            weight = torch.ones_like(est_mag[..., :1])
        else:
            weight = _frame_weights(mask, n_fft, hop).unsqueeze(-1)  # [B, frames, 1]
        # vector_norm's gradient at zero is zero (not NaN), so equal inputs train safely.
        difference = torch.linalg.vector_norm((tgt_mag - est_mag) * weight)
        convergence = difference / torch.linalg.vector_norm(tgt_mag * weight).clamp_min(self.eps)
        log_error = (tgt_mag.log() - est_mag.log()).abs() * weight
        counted = weight.sum().clamp_min(self.eps) * est_mag.shape[-1]  # soft masks may sum below 1
        return convergence + log_error.sum() / counted

    def _magnitude(self, x: torch.Tensor, n_fft: int, hop: int, window: torch.Tensor) -> torch.Tensor:
        """Centred STFT magnitude [B, N] -> [B, 1 + N // hop, n_fft // 2 + 1], floored at sqrt(eps)."""
        spectrum = torch.stft(
            x, n_fft, hop, window=window, center=True, pad_mode="reflect", return_complex=True
        )
        power = spectrum.real.square() + spectrum.imag.square()
        return power.clamp_min(self.eps).sqrt().transpose(1, 2)


def _frame_weights(mask: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """Peak of the sample mask [B, N] under each centred STFT frame. [B, 1 + N // hop]"""
    half = n_fft // 2
    padded = torch.nn.functional.pad(mask, (half, half))  # zeros: padding is outside the region
    return padded.unfold(-1, n_fft, hop).amax(dim=-1)


def gap_snr_db(reference: torch.Tensor, estimate: torch.Tensor, gaps: torch.Tensor) -> torch.Tensor:
    """Mean over examples of the SNR on gap samples only. [B, N] x2, bool [B, N] -> scalar (dB).

    Per example it equals `revise.evaluate.metrics.gap_snr` up to the 1e-12 that keeps silent or
    perfect gaps differentiable (a test pins the two together).
    """
    weight = gaps.to(reference.dtype)
    signal = (reference.pow(2) * weight).sum(-1)
    error = ((reference - estimate).pow(2) * weight).sum(-1)
    snr = 10 * torch.log10((signal + 1e-12) / (error + 1e-12))
    return snr.clamp(max=100.0).mean()
