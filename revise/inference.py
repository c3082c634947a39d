"""Inpainting with a trained `RevisionModel`: plain torch and numpy, no Lightning.

Inpainting works gap by gap: a window around each gap (or group of nearby gaps) is resampled to
the model rate; the AR fill and the similarity fill (searched over the model's `match.search`
samples on each side) give the hints; on CONTEXT_SECONDS around the gaps the drafter drafts and
the reviser runs its passes; its change to the AR hint fades in from each gap edge and is kept
below the model rate's band edge; the result is resampled back and crossfaded into the original.
Samples outside each gap and its crossfade margin are copied from the input untouched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from revise.audio import from_float, resample, to_float
from revise.autoregressive import ar_fill_many
from revise.checkpoint import load_model
from revise.config import ScheduleName
from revise.framing import analyse, anchor_edges, band_limit, splice, synthesise
from revise.masking import frame_mask, sample_mask
from revise.model import RevisionModel
from revise.passes import draft, revise
from revise.similarity import match_fill_many

log = logging.getLogger(__name__)

MAX_GAP_SECONDS = 1.0  # the longest single gap filled in one piece (the reviser trains on up to 0.5 s)
CONTEXT_SECONDS = 0.3  # audio the networks see on each side of a gap
EDGE_RAMP = 128  # model-rate samples (one hop, 8 ms) over which a revised gap fades in from its AR hint
# The reviser's change to the hint is kept below 0.47 x the model rate (7.5 kHz at 16 kHz, fading
# over 250 Hz): audio resampled to the model rate (soxr HQ) holds next to nothing above it, and
# the raw-frame networks put up to 30 dB more there than the reference has (MODEL_CARD.md).
CORRECTION_CUTOFF, CORRECTION_WIDTH = 0.46875, 0.015625
RESAMPLER_GUARD = 16  # model-rate samples next to a gap treated as unknown when resampling smears it


@dataclass(frozen=True)
class SampleGap:
    """A gap in samples at the input's rate: [start, end)."""

    start: int
    end: int


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
            log.warning(
                "gaps overlapping or touching at %.3f s were merged into one gap", start / sample_rate
            )
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [SampleGap(s, e) for s, e in merged]


def crossfade_margin(model: RevisionModel, sample_rate: int) -> int:
    """Samples of crossfade on each side of a gap, at `sample_rate`: one hop of the model."""
    return max(1, round(model.frame.hop_length * sample_rate / model.sample_rate))


def inpaint(
    audio: np.ndarray,
    sample_rate: int,
    gaps: list[tuple[float, float]],
    passes: int | None = None,
    model: RevisionModel | None = None,
    seed: int | None = None,
    schedule: ScheduleName | None = None,
) -> np.ndarray:
    """Fill `gaps` (pairs of seconds) in `audio` ([samples] or [samples, channels]).

    Returns an array of the same shape and dtype. Every sample outside the gaps and their
    crossfade margins is bit-identical to the input; samples inside the gaps are never read.
    """
    model = model if model is not None else default_model()
    passes = model.revision.passes if passes is None else passes
    schedule = schedule or model.revision.schedule
    array = np.asarray(audio)
    if array.ndim not in (1, 2) or array.shape[0] == 0:
        raise ValueError(f"audio must be [samples] or [samples, channels] with samples > 0, got {array.shape}.")
    frames = array.reshape(array.shape[0], -1)
    sample_gaps = gaps_to_samples(gaps, sample_rate, frames.shape[0])
    signal = to_float(frames)
    signal[np.asarray(sample_mask([(g.start, g.end) for g in sample_gaps], len(signal)))] = 0.0
    if not np.isfinite(signal).all():
        raise ValueError("audio holds NaN or infinite samples outside the gaps; clean them first.")
    out = frames.copy()
    margin = crossfade_margin(model, sample_rate)
    context = int(round(CONTEXT_SECONDS * sample_rate))
    generator = torch.Generator().manual_seed(0 if seed is None else seed)
    for group in _group(sample_gaps, context, len(signal)):
        _fill_group(model, signal, out, group, sample_rate, margin, context, passes, schedule, generator, sample_gaps)
    return out.reshape(array.shape)


def _group(gaps: list[SampleGap], context: int, length: int) -> list[list[SampleGap]]:
    """Gaps whose context windows overlap are filled together in one window."""
    groups: list[list[SampleGap]] = []
    for gap in gaps:
        if groups and gap.start - context < groups[-1][-1].end + context:
            groups[-1].append(gap)
        else:
            groups.append([gap])
    return groups


def search_seconds(model: RevisionModel) -> float:
    """Seconds on each side of a gap the similarity hint may read (its search plus its sides)."""
    return (model.match.search + model.match.context) / model.sample_rate


def _fill_group(model, signal, out, group, sample_rate, margin, context, passes, schedule, generator, all_gaps) -> None:
    """Fill one group of gaps in place in `out` (native dtype [samples, channels])."""
    reach = max(context, int(np.ceil(search_seconds(model) * sample_rate)))
    first = max(0, group[0].start - reach)
    last = min(len(signal), group[-1].end + reach)
    window = signal[first:last].T  # [C, n], every gap's samples already zeroed
    local = [(g.start - first, g.end - first) for g in group]
    others = [(max(g.start, first) - first, min(g.end, last) - first)
              for g in all_gaps if g not in group and g.start < last and g.end > first]
    filled = fill_at_model_rate(model, window, sample_rate, local, passes, schedule, generator, others)
    spliced = window
    for start, end in local:
        spliced = splice(torch.from_numpy(spliced), torch.from_numpy(filled), start, end, margin).numpy()
    for gap in group:
        a, b = max(first, gap.start - margin), min(last, gap.end + margin)
        out[a:b] = from_float(spliced[:, a - first : b - first].T, out.dtype)


def fill_at_model_rate(
    model: RevisionModel,
    window: np.ndarray,
    sample_rate: int,
    gaps: list[tuple[int, int]],
    passes: int,
    schedule: ScheduleName,
    generator: torch.Generator,
    unknown: list[tuple[int, int]] | None = None,
) -> np.ndarray:
    """Draft and revise `gaps` in `window` [C, n] (float, at `sample_rate`); returns [C, n].

    `unknown`: other missing ranges in the window, never copied by the similarity hint.
    """
    rate = model.sample_rate
    resampled = sample_rate != rate
    signal = resample(window.T, sample_rate, rate).T if resampled else window
    n = signal.shape[-1]
    guard = RESAMPLER_GUARD if resampled else 0

    def to_model_rate(ranges):
        return [(max(0, int(np.floor(s * rate / sample_rate)) - guard), min(n, int(np.ceil(e * rate / sample_rate)) + guard))
                for s, e in ranges]

    model_gaps, model_unknown = to_model_rate(gaps), to_model_rate(unknown or [])
    mask = sample_mask(model_gaps, n)
    known = np.where(mask.numpy(), 0.0, signal)
    hint = np.stack([ar_fill_many(channel, model_gaps, model.ar.order, model.ar.context) for channel in known])
    m = model.match
    match = hint if passes == 0 else np.stack(  # the draft alone never reads the match: skip its search
        [match_fill_many(channel, model_gaps, m.search, m.context, m.candidates, model_unknown) for channel in hint])
    # the networks see CONTEXT_SECONDS around the gaps; the wider window was for the search
    context = round(CONTEXT_SECONDS * rate)
    crop = slice(max(0, model_gaps[0][0] - context), min(n, model_gaps[-1][1] + context))
    filled = torch.from_numpy(hint.copy())
    filled[:, crop] = _revise_crop(model, known[:, crop], hint[:, crop], match[:, crop], mask[crop],
                                   passes, schedule, generator)
    if passes > 0:
        # the AR hint is continuous with the known audio by construction; the reviser's edges
        # are not always, so each gap starts and ends on the hint and fades to the reviser,
        # and the known samples around it are the known audio again
        anchor = torch.from_numpy(hint)
        for start, end in model_gaps:
            filled = anchor_edges(filled, anchor, start, end, EDGE_RAMP)
        change = torch.where(mask, filled - anchor, 0.0)  # zero at the gap edges, by the ramp
        filled = torch.where(mask, anchor + band_limit(change, CORRECTION_CUTOFF, CORRECTION_WIDTH), anchor)
    filled = filled.numpy()
    if resampled:
        filled = fit_length(resample(filled.T, rate, sample_rate).T, window.shape[-1])
    return filled


def _revise_crop(model, known, hint, match, mask, passes, schedule, generator) -> torch.Tensor:
    """Draft and revise the masked samples of known [C, n] with the hints [C, n]; float64 [C, n]."""
    frame = model.frame
    to_fill = frame_mask(mask, frame.frame_length, frame.hop_length).expand(len(known), -1)
    with torch.inference_mode():
        features = analyse(torch.from_numpy(known).float(), frame)
        drafted = draft(model.drafter, features, to_fill, generator=generator)
        hints = [analyse(torch.from_numpy(x).float(), frame) for x in (hint, match)]
        revised = revise(model.reviser, drafted, to_fill, passes, schedule, *hints)
        return synthesise(revised, known.shape[-1], frame).double()


def fit_length(x: np.ndarray, length: int) -> np.ndarray:
    """Crop or zero-pad the last axis to `length` (resampling can be off by a sample)."""
    if x.shape[-1] >= length:
        return x[..., :length]
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, length - x.shape[-1])])


def default_model() -> RevisionModel:
    return load_model(None)
