"""`revise.dsp.framing`'s inference half in numpy: analysis frames, encodings, overlap-add, masks.

The same layout: a signal of N samples is padded with P = L - H zeros on the left (and enough on the
right) and cut into T frames of L samples every H samples; frame t covers samples [t*H - P,
t*H - P + L). float32 throughout, as the networks run.
"""

from __future__ import annotations

import numpy as np

from revise.config import FrameConfig


def analysis_window(frame_length: int, hop_length: int) -> np.ndarray:
    """Square-root periodic Hann, scaled so analysis x synthesis sums to one over the hops. [L] float64"""
    hann = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(frame_length) / frame_length)
    return np.sqrt(hann) * np.sqrt(2.0 / (frame_length // hop_length))


def num_frames(length: int, frame_length: int, hop_length: int) -> int:
    """T, the number of frames cut from a signal of `length` samples."""
    return -(-(length + frame_length - hop_length) // hop_length)


def _unframed(x: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """[..., N] -> [..., T, L]: the padded signal cut into frames, no window applied (a view)."""
    length = x.shape[-1]
    count = num_frames(length, frame_length, hop_length)
    pad_left = frame_length - hop_length
    pad_right = (count - 1) * hop_length + frame_length - pad_left - length
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad_left, pad_right)])
    return np.lib.stride_tricks.sliding_window_view(padded, frame_length, axis=-1)[..., ::hop_length, :]


def frame_mask(samples: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """Bool [..., T] from a bool sample mask [..., N]: True for every frame whose support touches it."""
    return _unframed(samples, frame_length, hop_length).any(axis=-1)


def sample_mask(gaps: list[tuple[int, int]], length: int) -> np.ndarray:
    """Bool [N]: True inside the gaps, half-open sample ranges [start, end)."""
    mask = np.zeros(length, dtype=bool)
    for start, end in gaps:
        mask[start:end] = True
    return mask


def analyse(x: np.ndarray, config: FrameConfig) -> np.ndarray:
    """Audio [B, N] at the model rate to model features [B, T, F], float32."""
    frames = _unframed(np.asarray(x, dtype=np.float32), config.frame_length, config.hop_length)
    frames = frames * analysis_window(config.frame_length, config.hop_length).astype(np.float32)
    if config.encoding == "raw":
        return frames
    spectrum = np.fft.rfft(frames, norm="ortho")
    return np.concatenate([spectrum.real, spectrum.imag], axis=-1).astype(np.float32)


def synthesise(features: np.ndarray, length: int, config: FrameConfig) -> np.ndarray:
    """Model features [B, T, F] to audio [B, length] by windowed overlap-add, float64."""
    L, H = config.frame_length, config.hop_length
    frames = np.asarray(features, dtype=np.float64)
    if config.encoding == "fourier":
        bins = L // 2 + 1
        frames = np.fft.irfft(frames[..., :bins] + 1j * frames[..., bins:], n=L, norm="ortho")
    batch, count, _ = frames.shape
    window = analysis_window(L, H)
    total = (count - 1) * H + L
    summed = np.zeros((batch, total))
    envelope = np.zeros(total)
    for t in range(L // H):  # frames t, t + L/H, ... do not overlap: add each such set in one step
        chunk = frames[:, t :: L // H] * window  # [B, T', L]
        starts = np.arange(t, count, L // H) * H
        for b in range(batch):
            _add_at(summed[b], starts, chunk[b])
        _add_at(envelope, starts, np.broadcast_to(window * window, (len(starts), L)))
    pad_left = L - H
    if length + pad_left > total:
        raise ValueError(f"{count} frames cover at most {total - pad_left} samples, not {length}.")
    return (summed / np.maximum(envelope, 1e-8))[:, pad_left : pad_left + length]


def _add_at(out: np.ndarray, starts: np.ndarray, frames: np.ndarray) -> None:
    """out[s : s + L] += frame for non-overlapping frames [n, L] starting at `starts` [n]."""
    if len(starts) == 0:
        return
    L = frames.shape[-1]
    index = (starts[:, None] + np.arange(L)[None, :]).ravel()
    out[index] += frames.ravel()
