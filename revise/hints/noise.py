"""Keep a band's energy across a gap: top up a decaying prediction with noise shaped like the band.

An AR extrapolation decays towards the middle of a long gap, most in the upper octaves, where the
waveform cannot be predicted for long anyway; a gap filled that way sounds dull. What the ear
needs there is the band's energy and spectral shape, not its waveform. So, inside each gap, noise
with the magnitude spectrum of the band on both sides of the gap (random phase, from a seeded
generator) is added where the prediction's short-time energy falls below the line joining the
energies right next to the gap on both sides (EDGE samples: the band's mean over a longer stretch
would count every drum hit in it and overshoot a gap between hits), by exactly the shortfall.
Near the gap's edges, where the prediction holds, almost nothing is added, and the noise fades in
over EDGE samples from each edge. Pure numpy: no torch.
"""

from __future__ import annotations

import numpy as np

SMOOTHING = 256  # samples of the Hann window that measures the prediction's short-time energy
EDGE = 512  # samples next to each gap edge whose power the gap's energy starts from and ends on


def top_up_energy(band: np.ndarray, gaps: list[tuple[int, int]], context: int, rng: np.random.Generator) -> np.ndarray:
    """`band` [n] (one band of a signal, its gaps holding a prediction) with each gap's shortfall
    of energy filled by shaped noise; a float64 copy [n]. `context` samples on each side of a gap
    (stopping at the signal's ends) give the target energy and the noise's spectrum."""
    out = np.array(band, dtype=np.float64)
    for start, end in gaps:
        left, right = band[max(0, start - context) : start], band[end : end + context]
        if len(left) + len(right) == 0:
            continue
        target = _target_power(left[-EDGE:], right[:EDGE], end - start)
        # measured with the audio on both sides, so the power does not dip at the edges
        lo, hi = max(0, start - SMOOTHING), min(len(out), end + SMOOTHING)
        power = _short_time_power(out[lo:hi])[start - lo : end - lo]
        shortfall = np.maximum(target - power, 0.0)
        noise = _shaped_noise(np.concatenate([left, right]), end - start, rng)
        out[start:end] += np.sqrt(shortfall) * noise * _edge_ramp(end - start)
    return out


def _edge_ramp(length: int) -> np.ndarray:
    """0 at both ends of a gap, rising to 1 over EDGE samples (raised cosine): noise started at
    full power right at an edge would click. [length]"""
    ramp = min(EDGE, length // 2)
    distance = np.minimum(np.arange(length) + 0.5, length - np.arange(length) - 0.5)
    return np.sin(0.5 * np.pi * np.clip(distance / max(ramp, 1), 0.0, 1.0)) ** 2


def _target_power(left: np.ndarray, right: np.ndarray, length: int) -> np.ndarray:
    """The mean power of each side, joined by a straight line across the gap. [length]"""
    sides = [float(np.mean(side**2)) for side in (left, right) if len(side)]
    first, last = sides[0], sides[-1]
    return first + (last - first) * (np.arange(length) + 0.5) / length


def _short_time_power(x: np.ndarray) -> np.ndarray:
    """Power of x [n] smoothed by a Hann window of SMOOTHING samples (shorter for a short x). [n]"""
    width = max(1, min(SMOOTHING, len(x)))
    window = np.hanning(width + 2)[1:-1]
    return np.convolve(x**2, window / window.sum(), mode="same")


def _shaped_noise(example: np.ndarray, length: int, rng: np.random.Generator) -> np.ndarray:
    """`length` samples of unit-power noise with the magnitude spectrum of `example` [m]. [length]"""
    size = max(length, len(example))
    magnitude = np.abs(np.fft.rfft(example * np.hanning(len(example))))
    grid = np.linspace(0.0, 1.0, size // 2 + 1)
    magnitude = np.interp(grid, np.linspace(0.0, 1.0, len(magnitude)), magnitude)
    phase = np.exp(2j * np.pi * rng.random(len(magnitude)))
    noise = np.fft.irfft(magnitude * phase, size)[:length]
    power = float(np.mean(noise**2))
    return noise / np.sqrt(power) if power > 0 else noise
