"""Inpainting with a trained `RevisionModel`: gaps -> windows -> hints -> draft -> passes -> splice.

Nearby gaps are grouped into one `Window` of the input; the window is resampled to the model
rate; `revise.hints.build.window_hints` gives the AR and similarity hints (the search reads the
model's `match.reach` samples on each side); on CONTEXT_SECONDS around the gaps the drafter
drafts and the reviser runs its passes; the reviser's change to the AR hint fades in from each gap
edge and is kept below the model rate's band edge; the result is resampled back and crossfaded
into the original. Samples outside each gap and its crossfade margin are copied from the input
untouched. Plain torch and numpy, no Lightning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from revise.audio import fit_length, from_float, resample, to_float
from revise.checkpoint import load_model
from revise.config import MAX_GAP_SECONDS, RevisionConfig, ScheduleName
from revise.dsp.framing import analyse, frame_mask, sample_mask, synthesise
from revise.dsp.splice import anchor_edges, band_limit, splice
from revise.hints.build import Hints, window_hints
from revise.nn.model import RevisionModel
from revise.revision.loops import draft, revise

log = logging.getLogger(__name__)

CONTEXT_SECONDS = 0.3  # audio the networks see on each side of a gap
# The reviser's change to the hint is kept below 0.47 x the model rate (7.5 kHz at 16 kHz, fading
# over 250 Hz): audio resampled to the model rate (soxr HQ) holds next to nothing above it, and
# the raw-frame networks put far more there than the reference has (MODEL_CARD.md).
CORRECTION_CUTOFF, CORRECTION_WIDTH = 0.46875, 0.015625
RESAMPLER_GUARD = 16  # model-rate samples next to a gap treated as unknown when resampling smears it

Ranges = list[tuple[int, int]]


@dataclass(frozen=True)
class SampleGap:
    """A gap in samples at the input's rate: [start, end)."""

    start: int
    end: int


@dataclass(frozen=True)
class Window:
    """The stretch [first, last) of the input around a group of nearby gaps, filled in one piece.

    gaps: the group's gaps; unknown: other gaps' samples inside the window (never copied by the
    similarity hint); both as (start, end) samples relative to `first`, at the input's rate.
    """

    first: int
    last: int
    gaps: Ranges
    unknown: Ranges


def gaps_to_samples(gaps: list[tuple[float, float]], sample_rate: int, length: int) -> list[SampleGap]:
    """Check gaps given in seconds, turn them into sample ranges and merge overlapping ones.

    Raises ValueError for negative, empty or out-of-range gaps and for gaps longer than
    MAX_GAP_SECONDS after merging.
    """
    if not gaps:
        raise ValueError("no gap given; pass at least one START:END in seconds.")
    duration = length / sample_rate
    ranges = []
    for start, end in gaps:
        if not (np.isfinite(start) and np.isfinite(end)):
            raise ValueError(f"gap {start}:{end} is not a pair of finite numbers of seconds.")
        if start < 0 or end <= start:
            raise ValueError(f"gap {start}:{end} is malformed: it needs 0 <= START < END (seconds).")
        if end > duration + 1e-9:
            raise ValueError(f"gap {start}:{end} ends beyond the end of the audio ({duration:.3f} s).")
        ranges.append((int(np.floor(start * sample_rate)), min(length, int(np.ceil(end * sample_rate)))))
    merged = _merge(sorted(ranges), sample_rate)
    for gap in merged:
        seconds = (gap.end - gap.start) / sample_rate
        if seconds > MAX_GAP_SECONDS + 1e-9:
            raise ValueError(
                f"the gap from {gap.start / sample_rate:.3f} s is {seconds:.3f} s long; "
                f"revise fills gaps of at most {MAX_GAP_SECONDS} s. Split it or shorten it."
            )
    return merged


def _merge(ranges: list[tuple[int, int]], sample_rate: int) -> list[SampleGap]:
    merged: list[list[int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            log.warning("gaps overlapping or touching at %.3f s were merged into one gap", start / sample_rate)
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [SampleGap(s, e) for s, e in merged]


def crossfade_margin(model: RevisionModel, sample_rate: int) -> int:
    """Samples of crossfade on each side of a gap, at `sample_rate`: one hop of the model."""
    return max(1, round(model.frame.hop_length * sample_rate / model.sample_rate))


def search_seconds(model: RevisionModel) -> float:
    """Seconds on each side of a gap the similarity hint may read (its search plus its sides)."""
    return model.match.reach / model.sample_rate


def inpaint(
    audio: np.ndarray,
    sample_rate: int,
    gaps: list[tuple[float, float]],
    passes: int | None = None,
    model: RevisionModel | None = None,
    schedule: ScheduleName | None = None,
) -> np.ndarray:
    """Fill `gaps` (pairs of seconds) in `audio` ([samples] or [samples, channels]).

    `passes` and `schedule` default to the model's. Deterministic: no randomness is involved.
    Returns an array of the same shape and dtype. Every sample outside the gaps and their
    crossfade margins is bit-identical to the input; samples inside the gaps are never read.
    """
    model = model if model is not None else load_model()
    revision = RevisionConfig(model.revision.passes if passes is None else passes,
                              schedule or model.revision.schedule)
    array = np.asarray(audio)
    if array.ndim not in (1, 2) or array.shape[0] == 0:
        raise ValueError(f"audio must be [samples] or [samples, channels] with samples > 0, got {array.shape}.")
    samples = array.reshape(array.shape[0], -1)
    sample_gaps = gaps_to_samples(gaps, sample_rate, samples.shape[0])
    signal = to_float(samples)
    signal[np.asarray(sample_mask([(g.start, g.end) for g in sample_gaps], len(signal)))] = 0.0
    damaged = np.flatnonzero(~np.isfinite(signal).all(axis=1))
    if len(damaged):
        raise ValueError(f"audio holds NaN or infinite samples outside the gaps, the first at "
                         f"{damaged[0] / sample_rate:.3f} s; cover them with gaps (`revise inpaint --detect` "
                         "finds them).")
    out = samples.copy()
    margin = crossfade_margin(model, sample_rate)
    for window in windows(sample_gaps, model, sample_rate, len(signal)):
        chunk = signal[window.first : window.last].T  # [C, n], every gap's samples already zeroed
        filled = fill_at_model_rate(model, chunk, sample_rate, window, revision)
        spliced = chunk
        for start, end in window.gaps:
            spliced = splice(torch.from_numpy(spliced), torch.from_numpy(filled), start, end, margin).numpy()
        for start, end in window.gaps:
            a, b = max(0, start - margin), min(len(chunk.T), end + margin)
            out[window.first + a : window.first + b] = from_float(spliced[:, a:b].T, out.dtype)
    return out.reshape(array.shape)


def windows(gaps: list[SampleGap], model: RevisionModel, sample_rate: int, length: int) -> list[Window]:
    """One `Window` per group of gaps whose network contexts overlap, reaching as far as the search."""
    context = int(round(CONTEXT_SECONDS * sample_rate))
    groups: list[list[SampleGap]] = []
    for gap in gaps:
        if groups and gap.start - context < groups[-1][-1].end + context:
            groups[-1].append(gap)
        else:
            groups.append([gap])
    reach = max(context, int(np.ceil(search_seconds(model) * sample_rate)))
    out = []
    for group in groups:
        first, last = max(0, group[0].start - reach), min(length, group[-1].end + reach)
        others = [(max(g.start, first) - first, min(g.end, last) - first)
                  for g in gaps if g not in group and g.start < last and g.end > first]
        out.append(Window(first, last, [(g.start - first, g.end - first) for g in group], others))
    return out


@dataclass(frozen=True, eq=False)
class ModelRateWindow:
    """A window resampled to the model rate with its hints, ready for the networks.

    known: float64 [C, n] with the gaps zeroed; gaps: (start, end) at the model rate, widened by
    RESAMPLER_GUARD when resampled; mask: bool [n], True in the gaps; hints: their `Hints`.
    """

    known: np.ndarray
    gaps: Ranges
    mask: torch.Tensor
    hints: Hints


def at_model_rate(
    model: RevisionModel, chunk: np.ndarray, sample_rate: int, window: Window, with_match: bool = True
) -> ModelRateWindow:
    """Resample `chunk` [C, n] (float, at `sample_rate`) to the model rate and build the hints of
    `window`'s gaps; `with_match=False` skips the similarity search (the draft alone never reads it)."""
    rate = model.sample_rate
    resampled = sample_rate != rate
    signal = resample(chunk.T, sample_rate, rate).T if resampled else chunk
    n = signal.shape[-1]
    guard = RESAMPLER_GUARD if resampled else 0

    def to_model_rate(ranges: Ranges) -> Ranges:
        return [(max(0, int(np.floor(s * rate / sample_rate)) - guard),
                 min(n, int(np.ceil(e * rate / sample_rate)) + guard)) for s, e in ranges]

    gaps = to_model_rate(window.gaps)
    mask = sample_mask(gaps, n)
    known = np.where(mask.numpy(), 0.0, signal)
    hints = window_hints(known, gaps, model.ar, model.match if with_match else None, to_model_rate(window.unknown))
    return ModelRateWindow(known, gaps, mask, hints)


def fill_at_model_rate(
    model: RevisionModel, chunk: np.ndarray, sample_rate: int, window: Window, revision: RevisionConfig
) -> np.ndarray:
    """Draft and revise the gaps of `window` in `chunk` [C, n] (float, at `sample_rate`); returns [C, n]."""
    rate = model.sample_rate
    w = at_model_rate(model, chunk, sample_rate, window, with_match=revision.passes > 0)
    n = w.known.shape[-1]
    # the networks see CONTEXT_SECONDS around the gaps; the wider window was for the search
    context = round(CONTEXT_SECONDS * rate)
    crop = slice(max(0, w.gaps[0][0] - context), min(n, w.gaps[-1][1] + context))
    filled = torch.from_numpy(w.hints.ar.copy())
    filled[:, crop] = _draft_and_revise(model, w.known[:, crop], w.hints.ar[:, crop], w.hints.match[:, crop],
                                        w.mask[crop], revision)
    if revision.passes > 0:
        filled = _anchored(filled, torch.from_numpy(w.hints.ar), w.gaps, w.mask, model.frame.hop_length)
    filled = filled.numpy()
    if sample_rate != rate:
        filled = fit_length(resample(filled.T, rate, sample_rate).T, chunk.shape[-1])
    return filled


def _anchored(filled: torch.Tensor, anchor: torch.Tensor, gaps: Ranges, mask: torch.Tensor, ramp: int) -> torch.Tensor:
    """The revised fill [C, n] held to its AR anchor [C, n] at the gap edges and in the top band.

    The AR hint is continuous with the known audio by construction; the reviser's edges are not
    always, so each gap starts and ends on the hint and fades to the reviser over `ramp` samples
    (one hop), and the known samples around it are the known audio again.
    """
    for start, end in gaps:
        filled = anchor_edges(filled, anchor, start, end, ramp)
    change = torch.where(mask, filled - anchor, 0.0)  # zero at the gap edges, by the ramp
    return torch.where(mask, anchor + band_limit(change, CORRECTION_CUTOFF, CORRECTION_WIDTH), anchor)


def _draft_and_revise(model: RevisionModel, known: np.ndarray, hint: np.ndarray, match: np.ndarray,
                      mask: torch.Tensor, revision: RevisionConfig) -> torch.Tensor:
    """Draft and revise the masked samples of known [C, n] with the hints [C, n]; float64 [C, n]."""
    frame = model.frame
    to_fill = frame_mask(mask, frame.frame_length, frame.hop_length).expand(len(known), -1)
    with torch.inference_mode():
        features = analyse(torch.from_numpy(known).float(), frame)
        drafted = draft(model.drafter, features, to_fill)
        hints = [analyse(torch.from_numpy(x).float(), frame) for x in (hint, match)]
        revised = revise(model.reviser, drafted, to_fill, revision.passes, revision.schedule, *hints)
        return synthesise(revised, known.shape[-1], frame).double()
