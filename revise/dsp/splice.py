"""Pure tensor DSP for joining a fill to the original: raised-cosine fades, the crossfade splice,
edge anchoring and band limiting. Every function leaves the samples it does not name untouched.
"""

from __future__ import annotations

import math

import torch


def fade_in(length: int, dtype=torch.float64) -> torch.Tensor:
    """Raised-cosine ramp from 0 to 1 over `length` samples; `fade_in + fade_in.flip(0) == 1`. [n]"""
    position = (torch.arange(length, dtype=torch.float64) + 0.5) / max(length, 1)
    return torch.sin(0.5 * math.pi * position).pow(2).to(dtype)


def splice(original: torch.Tensor, fill: torch.Tensor, start: int, end: int, margin: int) -> torch.Tensor:
    """Put `fill` into `original` over [start, end), crossfading over `margin` samples each side.

    original, fill: [..., N] with the same shape; only `fill[..., start-margin : end+margin]` is
    read, and only `original` outside [start, end) is read. Every sample outside
    [start - margin, end + margin) is returned bit-identical to `original`. The margins are
    clipped at the signal's edges.
    """
    out = original.clone()
    length = original.shape[-1]
    left = max(0, start - margin)
    right = min(length, end + margin)
    out[..., start:end] = fill[..., start:end]
    if start > left:
        ramp = fade_in(start - left, original.dtype).to(original.device)[-(start - left) :]
        out[..., left:start] = original[..., left:start] * (1 - ramp) + fill[..., left:start] * ramp
    if right > end:
        ramp = fade_in(right - end, original.dtype).to(original.device).flip(0)
        out[..., end:right] = original[..., end:right] * (1 - ramp) + fill[..., end:right] * ramp
    return out


def anchor_edges(fill: torch.Tensor, anchor: torch.Tensor, start: int, end: int, ramp: int) -> torch.Tensor:
    """Inside the gap [start, end), fade from `anchor` to `fill` over `ramp` samples at each edge.

    fill, anchor: [..., N] -> [..., N]; samples outside the gap are `fill`'s. An anchor that is
    continuous with the audio around the gap (the AR fill extrapolates from it) makes the edges
    seamless whatever the fill does there; the weights sum to one everywhere.
    """
    out = fill.clone()
    length = end - start
    position = torch.arange(length, dtype=torch.float64)
    distance = torch.minimum(position + 0.5, length - position - 0.5)  # to the nearer edge
    fill_weight = torch.sin(0.5 * math.pi * (distance / ramp).clamp(max=1.0)).pow(2).to(fill.dtype).to(fill.device)
    out[..., start:end] = anchor[..., start:end] + fill_weight * (fill[..., start:end] - anchor[..., start:end])
    return out


def band_limit(x: torch.Tensor, cutoff: float, width: float) -> torch.Tensor:
    """Zero-phase low-pass along the last axis: [..., N] -> [..., N].

    The FFT gain is 1 below cutoff - width/2, 0 above cutoff + width/2 and linear between;
    `cutoff` and `width` are in cycles per sample (0.5 is Nyquist). The filter is circular, so
    it suits a signal that is (near) zero at both ends, such as a tapered correction.
    """
    if not 0 < cutoff < 0.5 or width <= 0:
        raise ValueError(f"cutoff must lie in (0, 0.5) and width be positive, got {cutoff} and {width}.")
    frequency = torch.fft.rfftfreq(x.shape[-1], dtype=torch.float64)
    gain = ((cutoff + width / 2 - frequency) / width).clamp(0.0, 1.0)
    return torch.fft.irfft(torch.fft.rfft(x) * gain.to(x.dtype), n=x.shape[-1])
