"""Pure tensor DSP: windows, framing, overlap-add, frame masks and the two frame encodings.

A signal of N samples is padded with P = L - H zeros on the left (and enough on the right) and
cut into T frames of L samples every H samples, so every real sample is covered by exactly L / H
frames. Frame t covers the original samples [t*H - P, t*H - P + L). Frames are multiplied by an
analysis window; overlap-add multiplies by a synthesis window and divides by the summed window
product, so `overlap_add(frame(x)) == x` up to float rounding for any L / H >= 2.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange

from revise.config import Encoding, FrameConfig


def analysis_window(frame_length: int, hop_length: int, dtype=torch.float32) -> torch.Tensor:
    """Square-root periodic Hann, scaled so analysis x synthesis sums to one over the hops. [L]"""
    overlap = frame_length // hop_length
    hann = torch.hann_window(frame_length, periodic=True, dtype=torch.float64)
    return (hann.sqrt() * math.sqrt(2.0 / overlap)).to(dtype)


def synthesis_window(frame_length: int, hop_length: int, dtype=torch.float32) -> torch.Tensor:
    """The synthesis window equals the analysis window (a tight, energy-preserving pair). [L]"""
    return analysis_window(frame_length, hop_length, dtype)


def left_padding(frame_length: int, hop_length: int) -> int:
    """P, the zeros put before the signal so the first sample is covered by L / H frames."""
    return frame_length - hop_length


def num_frames(length: int, frame_length: int, hop_length: int) -> int:
    """T, the number of frames `frame` cuts from a signal of `length` samples."""
    return -(-(length + left_padding(frame_length, hop_length)) // hop_length)


def _unframed(x: torch.Tensor, frame_length: int, hop_length: int) -> torch.Tensor:
    """[..., N] -> [..., T, L]: the padded signal cut into frames, no window applied."""
    length = x.shape[-1]
    count = num_frames(length, frame_length, hop_length)
    pad_left = left_padding(frame_length, hop_length)
    pad_right = (count - 1) * hop_length + frame_length - pad_left - length
    return F.pad(x, (pad_left, pad_right)).unfold(-1, frame_length, hop_length)


def frame(x: torch.Tensor, frame_length: int, hop_length: int) -> torch.Tensor:
    """Cut [B, N] audio into analysis-windowed frames [B, T, L]."""
    _check_hop(frame_length, hop_length)
    frames = _unframed(x, frame_length, hop_length)  # [B, T, L]
    return frames * analysis_window(frame_length, hop_length, x.dtype).to(x.device)


def frame_mask(samples: torch.Tensor, frame_length: int, hop_length: int) -> torch.Tensor:
    """Bool [..., T] from a bool sample mask [..., N]: True for every frame whose support touches it.

    Such a frame is "to fill"; every other frame holds only known samples and is never changed.
    """
    return _unframed(samples.to(torch.float32), frame_length, hop_length).amax(dim=-1) > 0


def sample_mask(gaps: list[tuple[int, int]], length: int) -> torch.Tensor:
    """Bool [N]: True inside the gaps, half-open sample ranges [start, end)."""
    mask = torch.zeros(length, dtype=torch.bool)
    for start, end in gaps:
        mask[start:end] = True
    return mask


def overlap_add(frames: torch.Tensor, length: int, hop_length: int) -> torch.Tensor:
    """Join analysis-domain frames [B, T, L] into [B, length] audio by windowed overlap-add."""
    batch, count, frame_length = frames.shape
    _check_hop(frame_length, hop_length)
    window = synthesis_window(frame_length, hop_length, frames.dtype).to(frames.device)
    total = (count - 1) * hop_length + frame_length
    summed = _fold(frames * window, total, hop_length)
    product = analysis_window(frame_length, hop_length, frames.dtype).to(frames.device) * window
    envelope = _fold(product.expand(1, count, frame_length), total, hop_length)
    pad_left = left_padding(frame_length, hop_length)
    if length + pad_left > total:
        raise ValueError(f"{count} frames cover at most {total - pad_left} samples, not {length}.")
    out = summed / envelope.clamp_min(1e-8)
    return out[:, pad_left : pad_left + length]


def _fold(frames: torch.Tensor, total: int, hop_length: int) -> torch.Tensor:
    """Sum frames [B, T, L] placed every `hop_length` samples into [B, total]."""
    frame_length = frames.shape[-1]
    columns = rearrange(frames, "b t l -> b l t")
    folded = F.fold(columns, output_size=(1, total), kernel_size=(1, frame_length), stride=(1, hop_length))
    return rearrange(folded, "b 1 1 n -> b n")


def _check_hop(frame_length: int, hop_length: int) -> None:
    if hop_length <= 0 or frame_length % hop_length or frame_length // hop_length < 2:
        raise ValueError(f"frame length {frame_length} must be a multiple >= 2 of hop {hop_length}.")


def encode(frames: torch.Tensor, encoding: Encoding) -> torch.Tensor:
    """Frames [B, T, L] to model features [B, T, F]: raw samples, or real and imaginary rfft parts."""
    if encoding == "raw":
        return frames
    if encoding == "fourier":
        spectrum = torch.fft.rfft(frames, norm="ortho")  # [B, T, L/2+1]
        return torch.cat([spectrum.real, spectrum.imag], dim=-1)
    raise ValueError(f"unknown encoding {encoding!r}; use 'raw' or 'fourier'.")


def decode(features: torch.Tensor, encoding: Encoding, frame_length: int) -> torch.Tensor:
    """Model features [B, T, F] back to frames [B, T, L]; the exact inverse of `encode`."""
    if encoding == "raw":
        return features
    if encoding == "fourier":
        bins = frame_length // 2 + 1
        spectrum = torch.complex(features[..., :bins], features[..., bins:])
        return torch.fft.irfft(spectrum, n=frame_length, norm="ortho")
    raise ValueError(f"unknown encoding {encoding!r}; use 'raw' or 'fourier'.")


def frames_touching(start: int, end: int, frame_length: int, hop_length: int) -> tuple[int, int]:
    """Frame indices [first, last) whose support overlaps samples [start, end)."""
    pad_left = left_padding(frame_length, hop_length)
    first = max(0, (start + pad_left - frame_length) // hop_length + 1)
    last = -(-(end + pad_left) // hop_length)
    return first, last


def analyse(x: torch.Tensor, config: FrameConfig) -> torch.Tensor:
    """Audio [B, N] at the model rate to model features [B, T, F]."""
    return encode(frame(x, config.frame_length, config.hop_length), config.encoding)


def synthesise(features: torch.Tensor, length: int, config: FrameConfig) -> torch.Tensor:
    """Model features [B, T, F] to audio [B, length] by windowed overlap-add (the crossfade join)."""
    frames = decode(features, config.encoding, config.frame_length)
    return overlap_add(frames, length, config.hop_length)


def naive_join(features: torch.Tensor, length: int, config: FrameConfig) -> torch.Tensor:
    """The baseline this package replaces: frames butted end to end, no crossfade. [B, T, F] -> [B, length]

    Each frame contributes its own central hop of samples (the analysis window divided out), so
    consecutive frames meet edge to edge and any mismatch between them is heard as a click.
    """
    frames = decode(features, config.encoding, config.frame_length)
    length_, hop = config.frame_length, config.hop_length
    centre = slice((length_ - hop) // 2, (length_ + hop) // 2)
    window = analysis_window(length_, hop, frames.dtype).to(frames.device)[centre]
    pieces = frames[..., centre] / window
    joined = rearrange(pieces, "b t h -> b (t h)")
    offset = naive_join_lead(length_, hop)
    return joined[:, offset : offset + length]


def naive_join_lead(frame_length: int, hop_length: int) -> int:
    """Samples the naive join's first frame centre starts before the signal does.

    Frame t's centre sits at samples t*H - P + (L-H)/2 of the original signal, so the butted
    centres begin P - (L-H)/2 samples early, and their boundaries fall where n % H equals
    minus that (`revise.evaluate.seams.grid_offset`).
    """
    return left_padding(frame_length, hop_length) - (frame_length - hop_length) // 2
