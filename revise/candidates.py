"""The fills inpainting can give a window at the model rate: the reviser's, the AR fill and Janssen's.

A `ModelRateWindow` is a window of the input resampled to the model rate, with its gaps zeroed and
its hints built; `candidate_fills` fills its gaps with each named candidate:

- "revise": the networks on CONTEXT_SECONDS around the gaps: the reviser's passes, or at zero
  passes the drafter's draft from the causal hints; the reviser's change to its hint fades in
  from each gap edge and is kept below the band edge;
- "ar": the two-sided Burg AR fill;
- "janssen": gap-wise Janssen at the model's AR order and context, started from the AR fill (the
  reviser's own hint where the model refines its hint by Janssen iterations, `ARConfig`);
- "ar-causal": one-sided Burg extrapolation of the audio before each gap (what the drafter starts from).

`revise.probe` chooses among them on pseudo-gaps; `revise.inpainting` splices the choice in.
Numpy only: the networks run as `revise.runtime`'s `InferenceModel`, so inpainting imports no torch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from revise.config import CANDIDATE_JANSSEN_ITERATIONS, RevisionConfig
from revise.dsp.splice import anchor_edges, band_limit
from revise.hints.build import Hints, causal_hints, window_hints
from revise.hints.janssen import janssen_fill_many
from revise.runtime.framing import analyse, frame_mask, sample_mask, synthesise
from revise.runtime.model import InferenceModel

CONTEXT_SECONDS = 0.3  # audio the networks see on each side of a gap
# The reviser's change to the hint is kept below 0.47 x the model rate (7.5 kHz at 16 kHz, fading
# over 250 Hz): audio resampled to the model rate (soxr HQ) holds next to nothing above it, and
# the raw-frame networks put far more there than the reference has (MODEL_CARD.md).
CORRECTION_CUTOFF, CORRECTION_WIDTH = 0.46875, 0.015625

Ranges = list[tuple[int, int]]


@dataclass(frozen=True, eq=False)
class ModelRateWindow:
    """A window at the model rate with its hints, ready for the networks.

    known: float64 [C, n] with the gaps zeroed; gaps: the (start, end)
    ranges to fill; unknown: other missing audio in the window (never read as context by the
    probes, never copied by the similarity hint); mask: bool [n], True in the gaps.
    """

    known: np.ndarray
    gaps: Ranges
    unknown: Ranges
    mask: np.ndarray
    hints: Hints


def model_rate_window(
    model: InferenceModel, known: np.ndarray, gaps: Ranges, unknown: Ranges = (), with_match: bool = True
) -> ModelRateWindow:
    """Build the hints of `gaps` in `known` [C, n] (model rate; gap samples are never read).

    `with_match=False` skips the two-sided similarity search and the Janssen refinement of the AR
    hint (`reviser_hints_needed`: without the reviser's passes nothing reads them; the "janssen"
    candidate then computes its own, the same fill).
    """
    mask = sample_mask(gaps, known.shape[-1])
    known = np.where(mask, 0.0, known)
    ar = model.ar if with_match else dataclasses.replace(model.ar, janssen_iterations=0)
    hints = window_hints(known, gaps, ar, model.match if with_match else None, unknown)
    return ModelRateWindow(known, list(gaps), list(unknown), mask, hints)


def reviser_hints_needed(revision: RevisionConfig, names: Sequence[str]) -> bool:
    """Whether filling with `names` reads the reviser's two-sided hints (the similarity search and the
    Janssen refinement): only the reviser's passes do; `--fill ar` or `janssen` skips their cost."""
    return revision.passes > 0 and "revise" in names


def candidate_fills(
    model: InferenceModel, w: ModelRateWindow, revision: RevisionConfig, names: Sequence[str]
) -> dict[str, np.ndarray]:
    """Each named candidate's fill of `w`'s gaps: name -> float64 [C, n]."""
    makers = {"revise": lambda: revised_fill(model, w, revision), "ar": lambda: w.hints.ar,
              "janssen": lambda: janssen_fill(model, w),
              "ar-causal": lambda: causal_hints(w.known, w.gaps, model.ar, None, 0, w.unknown).ar}
    unknown = [name for name in names if name not in makers]
    if unknown:
        raise ValueError(f"unknown fill {unknown[0]!r}; choose from {', '.join(makers)}.")
    return {name: makers[name]() for name in names}


def janssen_fill(model: InferenceModel, w: ModelRateWindow) -> np.ndarray:
    """Gap-wise Janssen at the model's AR order and context, started from the AR fill, each channel
    on its own: the reviser's hint where the model refines it so. [C, n]"""
    if w.hints.janssen is not None:
        return w.hints.janssen  # the reviser's own hint
    ar = model.ar
    iterations = ar.janssen_iterations or CANDIDATE_JANSSEN_ITERATIONS  # the reviser's hint where it has one
    return np.stack([janssen_fill_many(channel, w.gaps, ar.order, ar.context, iterations, hint)
                     for channel, hint in zip(w.known, w.hints.ar)])


def revised_fill(model: InferenceModel, w: ModelRateWindow, revision: RevisionConfig) -> np.ndarray:
    """The networks' fill on CONTEXT_SECONDS around the gaps, its hint elsewhere. [C, n]

    At zero passes the drafter's draft, from the causal hints; else the reviser's passes, from the
    two-sided ones.
    """
    n = w.known.shape[-1]
    # the networks see CONTEXT_SECONDS around the gaps; the wider window was for the search
    context = round(CONTEXT_SECONDS * model.sample_rate)
    crop = slice(max(0, w.gaps[0][0] - context), min(n, w.gaps[-1][1] + context))
    filled = w.hints.hint.copy()
    if revision.passes == 0:
        # the drafter reads what precedes each gap, a frame past its end (so no frame it drafts sees the audio after it)
        hints = causal_hints(w.known, w.gaps, model.ar, model.match, model.frame.frame_length, w.unknown)
    else:
        hints = w.hints
    filled[:, crop] = _network_fill(model, w.known[:, crop], hints.hint[:, crop], hints.match[:, crop], w.mask[crop],
                                    revision)
    if revision.passes > 0:
        filled = _anchored(filled, w.hints.hint, w.gaps, w.mask, model.frame.hop_length)
    return filled


def _anchored(filled: np.ndarray, anchor: np.ndarray, gaps: Ranges, mask: np.ndarray, ramp: int) -> np.ndarray:
    """The revised fill [C, n] held to its anchor [C, n] (the reviser's hint) at the gap edges and in the top band.

    The hint (the AR fill, or Janssen's) is continuous with the known audio by construction; the reviser's edges are not
    always, so each gap starts and ends on the hint and fades to the reviser over `ramp` samples
    (one hop), and the known samples around it are the known audio again.
    """
    for start, end in gaps:
        filled = anchor_edges(filled, anchor, start, end, ramp)
    change = np.where(mask, filled - anchor, 0.0)  # zero at the gap edges, by the ramp
    return np.where(mask, anchor + band_limit(change, CORRECTION_CUTOFF, CORRECTION_WIDTH), anchor)


def _network_fill(model: InferenceModel, known: np.ndarray, hint: np.ndarray, match: np.ndarray, mask: np.ndarray,
                  revision: RevisionConfig) -> np.ndarray:
    """The draft (zero passes) or the revision of the masked samples of known [C, n]; float64 [C, n].

    hint, match [C, n]: the drafter's causal hints at zero passes, else the reviser's two-sided ones.
    """
    frame = model.frame
    frames = frame_mask(mask, frame.frame_length, frame.hop_length)
    to_fill = np.broadcast_to(frames, (len(known), len(frames)))
    features, hint, match = (analyse(x, frame) for x in (known, hint, match))
    if revision.passes == 0:
        filled = model.draft(features, to_fill, hint, match)
    else:
        filled = model.revise(features, to_fill, revision.passes, revision.schedule, hint, match)
    return synthesise(filled, known.shape[-1], frame)
