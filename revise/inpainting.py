"""Inpainting with a trained model: gaps -> windows -> candidates -> choice -> splice.

Nearby gaps are grouped into one `Window` of the input; the window is resampled to the model
rate, where `revise.candidates` builds the hints and the candidate fills (the reviser's, the AR
hint, gap-wise Janssen) and `revise.probe` chooses one per channel on pseudo-gaps beside the gaps.
The choice is resampled back; in a file above the model rate the band the model rate cannot hold
comes from an AR fill at the file's own rate; the fill is crossfaded into the original. Samples
outside each gap and its crossfade margin are copied from the input untouched. Numpy only: no
torch is imported (the networks run as `revise.runtime`'s `InferenceModel`).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from revise.audio import fit_length, from_float, resample, to_float
from revise.candidates import (
    CONTEXT_SECONDS,
    CORRECTION_CUTOFF,
    CORRECTION_WIDTH,
    ModelRateWindow,
    candidate_fills,
    model_rate_window,
    reviser_hints_needed,
)
from revise.config import (
    CANDIDATES,
    DRAFT_CANDIDATES,
    MAX_GAP_SECONDS,
    SILENT_RMS,
    ARConfig,
    RevisionConfig,
    ScheduleName,
)
from revise.dsp.splice import band_limit, splice
from revise.hints.autoregressive import ar_fill_many
from revise.hints.noise import top_up_energy
from revise.probe import choose
from revise.runtime.model import InferenceModel, as_inference_model

if TYPE_CHECKING:
    from revise.nn.model import RevisionModel

log = logging.getLogger(__name__)

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


def crossfade_margin(model: InferenceModel, sample_rate: int) -> int:
    """Samples of crossfade on each side of a gap, at `sample_rate`: one hop of the model."""
    return max(1, round(model.frame.hop_length * sample_rate / model.sample_rate))


def reach_seconds(model: InferenceModel) -> float:
    """Seconds on each side of a gap that filling it may read: the networks' context or the search."""
    return max(CONTEXT_SECONDS, search_seconds(model))


def search_seconds(model: InferenceModel) -> float:
    """Seconds on each side of a gap the similarity hint may read (its search plus its sides)."""
    return model.match.reach / model.sample_rate


@dataclass(frozen=True, eq=False)
class Span:
    """Repaired frames [start, start + len(samples)) of the input: `samples` [n, C] in the input's dtype."""

    start: int
    samples: np.ndarray

    @property
    def end(self) -> int:
        return self.start + len(self.samples)


Reader = Callable[[int, int], np.ndarray]  # (first, last) -> frames [first, last) of the input, [n, C] native dtype

CHECK_FRAMES = 1 << 16  # frames checked for NaN at a time: memory stays flat in the input's length


def inpaint(
    audio: np.ndarray,
    sample_rate: int,
    gaps: list[tuple[float, float]],
    passes: int | None = None,
    model: InferenceModel | RevisionModel | None = None,
    schedule: ScheduleName | None = None,
    candidates: Sequence[str] = CANDIDATES,
) -> np.ndarray:
    """Fill `gaps` (pairs of seconds) in `audio` ([samples] or [samples, channels]).

    `passes` and `schedule` default to the model's. Each channel of each window of nearby gaps is
    filled by the one of `candidates` ("revise", "ar", "janssen") that fills pseudo-gaps cut from
    the audio beside the gaps best (`revise.probe`); `candidates=("revise",)` always uses the
    reviser, and so does `passes=0` (the draft alone) unless `candidates` names one fill.
    Deterministic: the one random part (the noise that keeps the upper band's energy in a file
    above the model rate) is seeded.
    Returns an array of the same shape and dtype. Every sample outside the gaps and their
    crossfade margins is bit-identical to the input; samples inside the gaps are never read.
    """
    array = np.asarray(audio)
    if array.ndim not in (1, 2) or array.shape[0] == 0:
        raise ValueError(f"audio must be [samples] or [samples, channels] with samples > 0, got {array.shape}.")
    samples = array.reshape(array.shape[0], -1)
    model, revision, candidates = fill_settings(model, passes, schedule, candidates)
    out = samples.copy()
    for span in inpaint_spans(lambda first, last: samples[first:last], len(samples), sample_rate, gaps, model,
                              revision, candidates):
        out[span.start : span.end] = span.samples
    return out.reshape(array.shape)


def fill_settings(
    model: InferenceModel | RevisionModel | None, passes: int | None, schedule: ScheduleName | None,
    candidates: Sequence[str],
) -> tuple[InferenceModel, RevisionConfig, tuple[str, ...]]:
    """`inpaint`'s options made explicit: the model (default: the shipped one, loaded without torch;
    a torch `RevisionModel` is converted to its numpy twin), its revision
    settings with `passes` and `schedule` applied, and the candidate fills."""
    model = as_inference_model(model)
    revision = RevisionConfig(model.revision.passes if passes is None else passes,
                              schedule or model.revision.schedule)
    if not candidates:
        raise ValueError("give at least one candidate fill.")
    if revision.passes == 0 and len(candidates) > 1:
        candidates = DRAFT_CANDIDATES  # passes 0 asks for a fill that reads only the past, as the benchmark's passes=0
    return model, revision, tuple(candidates)


def inpaint_spans(
    read: Reader, length: int, sample_rate: int, gaps: list[tuple[float, float]], model: InferenceModel,
    revision: RevisionConfig, candidates: Sequence[str],
) -> list[Span]:
    """What `inpaint` does, for an input of `length` frames known only through `read` (settings from
    `fill_settings`): the repaired spans, sorted, each a gap and its crossfade margins; every other
    frame of the output is the input's. `read` is asked only for the windows around the gaps, and
    for blocks of CHECK_FRAMES to look for NaN when the input holds floats: memory stays flat in `length`.
    """
    sample_gaps = gaps_to_samples(gaps, sample_rate, length)
    check_finite_outside(read, length, sample_gaps, sample_rate)
    spans = []
    for window in windows(sample_gaps, model, sample_rate, length):
        spans += repair_window(read(window.first, window.last), window, sample_rate, model, revision, candidates)
    return spans


def check_finite_outside(read: Reader, length: int, gaps: list[SampleGap], sample_rate: int) -> None:
    """Raise ValueError naming the first NaN or infinite frame outside `gaps`; integer audio has none."""
    for first in range(0, length, CHECK_FRAMES):
        block = read(first, min(length, first + CHECK_FRAMES))
        if block.dtype.kind != "f":
            return
        finite = np.isfinite(block).all(axis=1)
        for gap in gaps:
            finite[max(0, gap.start - first) : max(0, gap.end - first)] = True
        damaged = np.flatnonzero(~finite)
        if len(damaged):
            raise ValueError(f"audio holds NaN or infinite samples outside the gaps, the first at "
                             f"{(first + damaged[0]) / sample_rate:.3f} s; cover them with gaps (`revise inpaint "
                             "--detect` finds them).")


def repair_window(
    samples: np.ndarray, window: Window, sample_rate: int, model: InferenceModel, revision: RevisionConfig,
    candidates: Sequence[str],
) -> list[Span]:
    """Fill `window`'s gaps in `samples` [last - first, C] (the input's frames of the window, native
    dtype) and splice the fill in; returns one `Span` per gap, the gap and its crossfade margins."""
    chunk = to_float(samples).T  # [C, n]
    for start, end in [*window.gaps, *window.unknown]:
        chunk[:, start:end] = 0.0  # never read: neither this window's gaps nor other gaps reaching into it
    began = time.perf_counter()
    _warn_if_silent(chunk, window, sample_rate)
    filled = fill_window(model, chunk, sample_rate, window, revision, candidates)
    log.info("%s filled in %.0f ms", _describe(window, sample_rate), 1000 * (time.perf_counter() - began))
    margin = crossfade_margin(model, sample_rate)
    spliced = chunk
    for start, end in window.gaps:
        spliced = splice(spliced, filled, start, end, margin)
    spans = []
    for start, end in window.gaps:
        a, b = max(0, start - margin), min(chunk.shape[1], end + margin)
        spans.append(Span(window.first + a, from_float(spliced[:, a:b].T, samples.dtype)))
    return spans


def _describe(window: Window, sample_rate: int) -> str:
    """'gap 1.200-1.250 s' or '3 gaps 1.200-1.610 s', for log lines."""
    start, end = (window.first + window.gaps[0][0]) / sample_rate, (window.first + window.gaps[-1][1]) / sample_rate
    count = len(window.gaps)
    return f"{'gap' if count == 1 else f'{count} gaps'} {start:.3f}-{end:.3f} s"


def _warn_if_silent(chunk: np.ndarray, window: Window, sample_rate: int) -> None:
    """Warn when the CONTEXT_SECONDS around a window's gaps are (near) silent: so is every fill."""
    context = round(CONTEXT_SECONDS * sample_rate)
    near = chunk[:, max(0, window.gaps[0][0] - context) : window.gaps[-1][1] + context]
    if float(np.sqrt(np.mean(near**2))) < SILENT_RMS:
        log.warning("the audio around %s is silent or nearly (below -60 dBFS): its fill is too",
                    _describe(window, sample_rate))


def windows(gaps: list[SampleGap], model: InferenceModel, sample_rate: int, length: int) -> list[Window]:
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


def at_model_rate(
    model: InferenceModel, chunk: np.ndarray, sample_rate: int, window: Window, with_match: bool = True
) -> ModelRateWindow:
    """Resample `chunk` [C, n] (float, at `sample_rate`) to the model rate and build the hints of
    `window`'s gaps; gaps are widened by RESAMPLER_GUARD when resampled."""
    rate = model.sample_rate
    resampled = sample_rate != rate
    signal = resample(chunk.T, sample_rate, rate).T if resampled else chunk
    n = signal.shape[-1]
    guard = RESAMPLER_GUARD if resampled else 0

    def to_model_rate(ranges: Ranges) -> Ranges:
        return [(max(0, int(np.floor(s * rate / sample_rate)) - guard),
                 min(n, int(np.ceil(e * rate / sample_rate)) + guard)) for s, e in ranges]

    return model_rate_window(model, signal, to_model_rate(window.gaps), to_model_rate(window.unknown), with_match)


def fill_window(
    model: InferenceModel, chunk: np.ndarray, sample_rate: int, window: Window, revision: RevisionConfig,
    candidates: Sequence[str] = CANDIDATES,
) -> np.ndarray:
    """Fill the gaps of `window` in `chunk` [C, n] (float, at `sample_rate`, gaps zeroed); returns [C, n].

    At the model rate each channel gets the candidate of `candidates` that fills pseudo-gaps beside
    the gaps best (`revise.probe`; the first when there is one); above it, the band the model rate
    cannot hold comes from a two-sided AR fill at the file's own rate.
    """
    rate = model.sample_rate
    w = at_model_rate(model, chunk, sample_rate, window, with_match=reviser_hints_needed(revision, candidates))
    chosen = choose(model, w, revision, candidates)
    log.info("%s: %s (of %s, on pseudo-gaps beside it); %d pass(es)", _describe(window, sample_rate),
             ", ".join(chosen), ", ".join(candidates), revision.passes)
    fills = candidate_fills(model, w, revision, sorted(set(chosen)))
    filled = np.stack([fills[name][c] for c, name in enumerate(chosen)])
    if sample_rate == rate:
        return filled
    filled = fit_length(resample(filled.T, rate, sample_rate).T, chunk.shape[-1])
    return with_native_band(filled, chunk, sample_rate, window, model) if sample_rate > rate else filled


def with_native_band(
    filled: np.ndarray, chunk: np.ndarray, sample_rate: int, window: Window, model: InferenceModel
) -> np.ndarray:
    """`filled` [C, n] (resampled from the model rate) below the model's band edge, a two-sided AR
    fill of the gaps at `sample_rate` above it, crossing over where the reviser's change fades out.

    The AR fill at the file's rate (the model's AR order, its context scaled to the same time)
    carries the whole band: without it a gap in a 44.1 kHz file would hold nothing above 7.6 kHz. Its upper band
    decays towards the middle of a long gap, so its energy is topped up with shaped noise
    (`revise.hints.noise`, seeded: the output stays deterministic).
    """
    # the upper band needs the spectral envelope, not a long memory: the model's order, the context scaled
    ar = ARConfig(model.ar.order, max(model.ar.order + 1, round(model.ar.context * sample_rate / model.sample_rate)))
    native = np.stack([ar_fill_many(channel, window.gaps, ar.order, ar.context) for channel in chunk])
    scale = model.sample_rate / sample_rate
    cutoff, width = CORRECTION_CUTOFF * scale, CORRECTION_WIDTH * scale
    high = native - _low_band(native, cutoff, width)
    rng = np.random.default_rng(0)
    topped = np.stack([top_up_energy(channel, window.gaps, ar.context, rng) for channel in high])
    low = _low_band(filled - native, cutoff, width)  # mirrored like `high`, so the two bands sum up
    return native + low + (topped - high)


def _low_band(x: np.ndarray, cutoff: float, width: float) -> np.ndarray:
    """`band_limit` of x [C, n] with its ends mirrored out first, so the filter sees no step at them."""
    pad = min(x.shape[-1] - 1, 4096)
    padded = np.pad(x, [(0, 0), (pad, pad)], mode="reflect")
    return band_limit(padded, cutoff, width)[:, pad : pad + x.shape[-1]]
