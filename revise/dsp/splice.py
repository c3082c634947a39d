"""Pure numpy DSP for joining a fill to the original: raised-cosine fades, the crossfade splice,
edge anchoring and band limiting. Every function leaves the samples it does not name untouched.
"""

from __future__ import annotations

import numpy as np

from revise.hints.signal import fast_length

_GUARD = 1024  # zeros after the signal, so the filter's ringing does not wrap onto its start


def fade_in(length: int) -> np.ndarray:
    """Raised-cosine ramp from 0 to 1 over `length` samples; `fade_in + fade_in[::-1] == 1`. [n] float64"""
    position = (np.arange(length, dtype=np.float64) + 0.5) / max(length, 1)
    return np.sin(0.5 * np.pi * position) ** 2


def splice(original: np.ndarray, fill: np.ndarray, start: int, end: int, margin: int) -> np.ndarray:
    """Put `fill` into `original` over [start, end), crossfading over `margin` samples each side.

    original, fill: [..., N] with the same shape; only `fill[..., start-margin : end+margin]` is
    read, and only `original` outside [start, end) is read. Every sample outside
    [start - margin, end + margin) is returned bit-identical to `original` (a copy). The margins
    are clipped at the signal's edges.
    """
    out = np.array(original, copy=True)
    length = original.shape[-1]
    left = max(0, start - margin)
    right = min(length, end + margin)
    out[..., start:end] = fill[..., start:end]
    if start > left:
        ramp = fade_in(start - left)
        out[..., left:start] = original[..., left:start] * (1 - ramp) + fill[..., left:start] * ramp
    if right > end:
        ramp = fade_in(right - end)[::-1]
        out[..., end:right] = original[..., end:right] * (1 - ramp) + fill[..., end:right] * ramp
    return out


def anchor_edges(fill: np.ndarray, anchor: np.ndarray, start: int, end: int, ramp: int) -> np.ndarray:
    """Inside the gap [start, end), fade from `anchor` to `fill` over `ramp` samples at each edge.

    fill, anchor: [..., N] -> [..., N]; samples outside the gap are `fill`'s. An anchor that is
    continuous with the audio around the gap (the AR fill extrapolates from it) makes the edges
    seamless whatever the fill does there; the weights sum to one everywhere.
    """
    out = np.array(fill, copy=True)
    length = end - start
    position = np.arange(length, dtype=np.float64)
    distance = np.minimum(position + 0.5, length - position - 0.5)  # to the nearer edge
    fill_weight = np.sin(0.5 * np.pi * np.minimum(distance / ramp, 1.0)) ** 2
    out[..., start:end] = anchor[..., start:end] + fill_weight * (fill[..., start:end] - anchor[..., start:end])
    return out


def band_limit(x: np.ndarray, cutoff: float, width: float) -> np.ndarray:
    """Zero-phase low-pass along the last axis: [..., N] -> [..., N] float64.

    The FFT gain is 1 below cutoff - width/2, 0 above cutoff + width/2 and linear between;
    `cutoff` and `width` are in cycles per sample (0.5 is Nyquist). The signal is zero-padded by
    at least _GUARD samples to a fast FFT size, so the result is close to a linear (not circular)
    filtering; it still suits best a signal that is (near) zero at both ends, such as a tapered
    correction, since the filter is not causal.
    """
    if not 0 < cutoff < 0.5 or width <= 0:
        raise ValueError(f"cutoff must lie in (0, 0.5) and width be positive, got {cutoff} and {width}.")
    n = x.shape[-1]
    size = fast_length(n + _GUARD)
    frequency = np.fft.rfftfreq(size)
    gain = np.clip((cutoff + width / 2 - frequency) / width, 0.0, 1.0)
    return np.fft.irfft(np.fft.rfft(x, size) * gain, n=size)[..., :n]
