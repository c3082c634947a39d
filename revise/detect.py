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
from collections.abc import Callable, Iterable
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
    frames = frames.reshape(frames.shape[0], -1)
    return scan_dropouts([frames], lambda first, last: frames[first:last], sample_rate, config)


def scan_dropouts(
    blocks: Iterable[np.ndarray], read: Callable[[int, int], np.ndarray], sample_rate: int,
    config: DetectConfig = DetectConfig(),
) -> list[Dropout]:
    """The dropouts of audio given as consecutive `blocks` ([m, C] each, native dtype), sorted by start.

    Runs are followed across the blocks' edges, and `read(first, last)` (frames [first, last) of the
    audio, [n, C], clipped to it) gives the context beside each run held long enough, so the result
    is the same wherever the blocks split the audio, and memory grows with a block, not the audio.
    """
    if sample_rate <= 0:
        raise ValueError(f"the sample rate must be positive, got {sample_rate}.")
    nonfinite, held = scan_runs(blocks, config.min_samples(sample_rate))
    nonfinite = [Dropout(s, e, "nonfinite") for s, e in nonfinite]
    return sorted(nonfinite + held_dropouts(held, read, sample_rate, config), key=lambda d: d.start)


def scan_runs(blocks: Iterable[np.ndarray], shortest: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(start, end) of every run of non-finite frames in `blocks` (consecutive [m, C] each), and of
    every run of at least `shortest` equal finite frames (two at least), across the blocks' edges."""
    scanner = _Scanner(shortest)
    for block in blocks:
        scanner.feed(block)
    held = [(s - 1, e) for s, e in scanner.repeats.close(scanner.length)]  # frames s..e-1 repeat frame s-1
    return scanner.nonfinite.close(scanner.length), held


def held_dropouts(
    held: list[tuple[int, int]], read: Callable[[int, int], np.ndarray], sample_rate: int, config: DetectConfig
) -> list[Dropout]:
    """The "zeros" and "stuck" dropouts among the `held` runs (frames [start, end) of one finite value)."""
    context = max(1, round(config.context_seconds * sample_rate))
    threshold = 10.0 ** (config.level_db / 20)
    found = []
    for start, end in held:
        before, after = read(max(0, start - context), start), read(end, end + context)
        if min(rms(before), rms(after)) < threshold:
            continue  # silence next to quiet audio: a start, an end, a fade or a pause
        value = read(start, start + 1)[0]
        if (end - start) / sample_rate > MAX_GAP_SECONDS + 1e-9:
            log.warning("the sample value held from %.3f s to %.3f s between loud audio is longer than %g s, so it "
                        "is left as a pause", start / sample_rate, end / sample_rate, MAX_GAP_SECONDS)
        elif not value.any():
            found.append(Dropout(start, end, "zeros"))
        elif not clipped(value, np.concatenate([before, after])):
            found.append(Dropout(start, end, "stuck"))
    return found


def rms(frames: np.ndarray) -> float:
    """RMS of `frames` [n, C] (native dtype) over frames and channels, a frame holding NaN or infinity
    counted as silence; 0 for no frames."""
    if frames.size == 0:
        return 0.0
    signal = to_float(frames)
    signal[~np.isfinite(signal).all(axis=1)] = 0.0
    return float(np.sqrt(np.mean(signal**2)))


def clipped(value: np.ndarray, around: np.ndarray) -> bool:
    """True when the held `value` [C] is, in every channel, the highest or the lowest of the frames
    `around` [n, C] it: a waveform flattened against a ceiling or a floor."""
    if around.shape[0] == 0:
        return False
    return bool(((value >= around.max(axis=0)) | (value <= around.min(axis=0))).all())


class _Runs:
    """Runs of True in a bool mask given piece by piece: (start, end) over the whole mask, of those at least
    `shortest` long (the short ones are dropped as they close, so memory stays flat in the mask's length)."""

    def __init__(self, shortest: int) -> None:
        self.shortest = shortest
        self.found: list[tuple[int, int]] = []
        self.open: int | None = None  # the start of a run that reached the end of the last piece

    def feed(self, mask: np.ndarray, offset: int) -> None:
        """Add the piece `mask` [m] of the mask, which starts at `offset`."""
        pieces = runs(mask) + offset
        if self.open is not None:
            if len(pieces) and pieces[0, 0] == offset:
                pieces[0, 0] = self.open
            elif offset - self.open >= self.shortest:
                self.found.append((self.open, offset))
            self.open = None
        if len(pieces) and pieces[-1, 1] == offset + len(mask):
            self.open, pieces = int(pieces[-1, 0]), pieces[:-1]
        kept = pieces[pieces[:, 1] - pieces[:, 0] >= self.shortest]
        self.found.extend((s, e) for s, e in kept.tolist())

    def close(self, length: int) -> list[tuple[int, int]]:
        """Every run, the one still open ending at `length`, the mask's length."""
        last = [(self.open, length)] if self.open is not None and length - self.open >= self.shortest else []
        return self.found + last


class _Scanner:
    """Follows the non-finite frames and the frames that repeat the one before, block by block."""

    def __init__(self, shortest: int) -> None:
        self.length = 0
        self.last: np.ndarray | None = None  # the previous block's last frame [C, 1], and whether it is finite
        self.last_finite = np.zeros(0, bool)
        self.nonfinite = _Runs(1)
        self.repeats = _Runs(shortest - 1)  # frame j repeats frame j - 1, both finite; k repeats hold k + 1 frames

    def feed(self, block: np.ndarray) -> None:
        """Add the next frames `block` [m, C]."""
        channels = np.ascontiguousarray(block.T)  # [C, m]: fast to reduce over channels
        finite = np.isfinite(channels).all(axis=0) if channels.dtype.kind == "f" else np.ones(block.shape[0], bool)
        joined = channels if self.last is None else np.concatenate([self.last, channels], axis=1)
        joined_finite = np.concatenate([self.last_finite, finite])
        repeats = (joined[:, 1:] == joined[:, :-1]).all(axis=0) & joined_finite[1:] & joined_finite[:-1]
        if self.last is None:
            repeats = np.concatenate([[False], repeats])  # the first frame repeats nothing
        self.nonfinite.feed(~finite, self.length)
        self.repeats.feed(repeats, self.length)
        self.length += block.shape[0]
        self.last, self.last_finite = channels[:, -1:], finite[-1:]


def runs(mask: np.ndarray) -> np.ndarray:
    """[k, 2]: (start, end) of each run of True in the bool array `mask` [n]."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)], axis=1)


