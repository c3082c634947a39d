"""Finding dropouts: stretches where the signal stopped although the music did not.

Three kinds, each a run of sample indices counted across all channels:

- "nonfinite": any channel holds NaN or infinity (a float file damaged in processing). Always a
  dropout, whatever its length and surroundings.
- "zeros": every channel is exactly zero (digital silence, a lost buffer).
- "stuck": every channel holds one value, not all zero (a stuck converter).

Natural silence is digital zero too, so a zero or stuck run counts only when it is at least
`DetectConfig.min_seconds` long, at most MAX_GAP_SECONDS long (a longer one is a pause the user
meant, or too long to fill: it is logged), and the audio right before and right after it is loud
(`DetectConfig.level_db` over `DetectConfig.context_seconds` on each side): a dropout cuts music
off mid-note, while track starts and ends, fades to zero and the ends of pauses are quiet next to
their silence. A held value at the peak of every channel around it is clipping, not a dropout.
Pure numpy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np

from revise.audio import to_float
from revise.config import MAX_GAP_SECONDS, DetectConfig

log = logging.getLogger(__name__)

DropoutKind = Literal["zeros", "stuck", "nonfinite"]


@dataclass(frozen=True)
class Dropout:
    """Samples [start, end) of a dropout, at the audio's rate."""

    start: int
    end: int
    kind: DropoutKind

    def as_gap(self, sample_rate: int) -> tuple[float, float]:
        """(start, end) in seconds that `revise.inpainting.gaps_to_samples` maps back to exactly
        [start, end): a quarter sample inside each edge, so float rounding cannot move it."""
        return (self.start + 0.25) / sample_rate, (self.end - 0.25) / sample_rate


def find_dropouts(samples: np.ndarray, sample_rate: int, config: DetectConfig = DetectConfig()) -> list[Dropout]:
    """The dropouts of `samples` ([samples] or [samples, channels], any dtype `to_float` takes), sorted by start.

    Raises ValueError for an empty array or a non-positive rate.
    """
    frames = np.asarray(samples)
    if frames.ndim not in (1, 2) or frames.shape[0] == 0:
        raise ValueError(f"audio must be [samples] or [samples, channels] with samples > 0, got {frames.shape}.")
    if sample_rate <= 0:
        raise ValueError(f"the sample rate must be positive, got {sample_rate}.")
    channels = np.ascontiguousarray(frames.reshape(frames.shape[0], -1).T)  # [C, n]: fast to reduce over channels
    finite = np.isfinite(channels).all(axis=0)
    nonfinite = [Dropout(int(s), int(e), "nonfinite") for s, e in runs(~finite)]
    return sorted(nonfinite + held_dropouts(channels, finite, sample_rate, config), key=lambda d: d.start)


def held_dropouts(channels: np.ndarray, finite: np.ndarray, sample_rate: int, config: DetectConfig) -> list[Dropout]:
    """The "zeros" and "stuck" dropouts of `channels` [C, n], whose frames are finite where `finite` [n]."""
    signal = to_float(channels)
    signal[:, ~finite] = 0.0  # the level next to a run counts damaged samples as silence
    loudness = Loudness.of(signal)
    context = max(1, round(config.context_seconds * sample_rate))
    threshold = 10.0 ** (config.level_db / 20)
    held = constant_runs(channels, finite)
    found = []
    for start, end in held[held[:, 1] - held[:, 0] >= config.min_samples(sample_rate)].tolist():
        if min(loudness.rms(start - context, start), loudness.rms(end, end + context)) < threshold:
            continue  # silence next to quiet audio: a start, an end, a fade or a pause
        if (end - start) / sample_rate > MAX_GAP_SECONDS + 1e-9:
            log.warning("the sample value held from %.3f s to %.3f s between loud audio is longer than %g s, so it "
                        "is left as a pause", start / sample_rate, end / sample_rate, MAX_GAP_SECONDS)
        elif not channels[:, start].any():
            found.append(Dropout(start, end, "zeros"))
        elif not clipped(channels, start, end, context):
            found.append(Dropout(start, end, "stuck"))
    return found


def clipped(channels: np.ndarray, start: int, end: int, context: int) -> bool:
    """True when the value held in frames [start, end) of `channels` [C, n] is, in every channel, the
    highest or the lowest within `context` of it: a waveform flattened against a ceiling or a floor."""
    around = np.concatenate([channels[:, max(0, start - context) : start], channels[:, end : end + context]], axis=1)
    if around.shape[1] == 0:
        return False
    held = channels[:, start]
    return bool(((held >= around.max(axis=1)) | (held <= around.min(axis=1))).all())


def runs(mask: np.ndarray) -> np.ndarray:
    """[k, 2]: (start, end) of each run of True in the bool array `mask` [n]."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)], axis=1)


def constant_runs(channels: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """[k, 2]: (start, end) of each run of two or more equal, finite frames in `channels` [C, n]."""
    held = (channels[:, 1:] == channels[:, :-1]).all(axis=0) & finite[1:] & finite[:-1]  # frame i + 1 repeats frame i
    found = runs(held)
    found[:, 1] += 1  # repeats [s, e) in `held` are frames s..e, all equal
    return found


@dataclass(frozen=True, eq=False)
class Loudness:
    """RMS over any stretch of a signal in O(1), from the cumulative sum [n + 1] of its per-frame energy."""

    cumulative: np.ndarray

    @classmethod
    def of(cls, channels: np.ndarray) -> Loudness:
        """The loudness of finite float `channels` [C, n], the energy averaged over the channels."""
        return cls(np.concatenate([[0.0], np.cumsum((channels**2).mean(axis=0))]))

    def rms(self, first: int, last: int) -> float:
        """RMS of frames [first, last), clipped to the signal; 0 for an empty stretch."""
        first, last = max(0, first), min(len(self.cumulative) - 1, last)
        if last <= first:
            return 0.0
        return float(np.sqrt(max(0.0, self.cumulative[last] - self.cumulative[first]) / (last - first)))
