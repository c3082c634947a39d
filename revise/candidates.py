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
Plain torch and numpy, no Lightning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from revise.config import CANDIDATE_JANSSEN_ITERATIONS, RevisionConfig
from revise.dsp.framing import analyse, frame_mask, sample_mask, synthesise
from revise.dsp.splice import anchor_edges, band_limit
from revise.hints.build import Hints, causal_hints, window_hints
from revise.hints.janssen import janssen_fill_many
from revise.nn.model import RevisionModel
from revise.revision.loops import draft, first_estimate, revise

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
    mask: torch.Tensor
    hints: Hints


def model_rate_window(
    model: RevisionModel, known: np.ndarray, gaps: Ranges, unknown: Ranges = (), with_match: bool = True
) -> ModelRateWindow:
    """Build the hints of `gaps` in `known` [C, n] (model rate; gap samples are never read).

    `with_match=False` skips the two-sided similarity search and the Janssen refinement of the AR
    hint (no revision pass, nothing reads them; the "janssen" candidate then computes its own).
    """
    mask = sample_mask(gaps, known.shape[-1])
    known = np.where(mask.numpy(), 0.0, known)
    ar = model.ar if with_match else dataclasses.replace(model.ar, janssen_iterations=0)
    hints = window_hints(known, gaps, ar, model.match if with_match else None, unknown)
    return ModelRateWindow(known, list(gaps), list(unknown), mask, hints)


def candidate_fills(
    model: RevisionModel, w: ModelRateWindow, revision: RevisionConfig, names: Sequence[str]
) -> dict[str, np.ndarray]:
    """Each named candidate's fill of `w`'s gaps: name -> float64 [C, n]."""
    makers = {"revise": lambda: revised_fill(model, w, revision), "ar": lambda: w.hints.ar,
              "janssen": lambda: janssen_fill(model, w),
              "ar-causal": lambda: causal_hints(w.known, w.gaps, model.ar, None, 0, w.unknown).ar}
    unknown = [name for name in names if name not in makers]
    if unknown:
        raise ValueError(f"unknown fill {unknown[0]!r}; choose from {', '.join(makers)}.")
    return {name: makers[name]() for name in names}


def janssen_fill(model: RevisionModel, w: ModelRateWindow) -> np.ndarray:
    """Gap-wise Janssen at the model's AR order and context, started from the AR fill, each channel
    on its own: the reviser's hint where the model refines it so. [C, n]"""
    if w.hints.janssen is not None:
        return w.hints.janssen  # the reviser's own hint
    ar = model.ar
    return np.stack([janssen_fill_many(channel, w.gaps, ar.order, ar.context, CANDIDATE_JANSSEN_ITERATIONS, hint)
                     for channel, hint in zip(w.known, w.hints.ar)])


def revised_fill(model: RevisionModel, w: ModelRateWindow, revision: RevisionConfig) -> np.ndarray:
    """The networks' fill on CONTEXT_SECONDS around the gaps, its hint elsewhere. [C, n]

    At zero passes the drafter's draft, from the causal hints; else the reviser's passes, from the
    two-sided ones.
    """
    n = w.known.shape[-1]
    # the networks see CONTEXT_SECONDS around the gaps; the wider window was for the search
    context = round(CONTEXT_SECONDS * model.sample_rate)
    crop = slice(max(0, w.gaps[0][0] - context), min(n, w.gaps[-1][1] + context))
    filled = torch.from_numpy(w.hints.hint.copy())
    if revision.passes == 0:
        # the drafter reads what precedes each gap, a frame past its end (so no frame it drafts sees the audio after it)
        hints = causal_hints(w.known, w.gaps, model.ar, model.match, model.frame.frame_length, w.unknown)
    else:
        hints = w.hints
    filled[:, crop] = _network_fill(model, w.known[:, crop], hints.hint[:, crop], hints.match[:, crop], w.mask[crop],
                                    revision)
    if revision.passes > 0:
        filled = _anchored(filled, torch.from_numpy(w.hints.hint), w.gaps, w.mask, model.frame.hop_length)
    return filled.numpy()


def _anchored(filled: torch.Tensor, anchor: torch.Tensor, gaps: Ranges, mask: torch.Tensor, ramp: int) -> torch.Tensor:
    """The revised fill [C, n] held to its anchor [C, n] (the reviser's hint) at the gap edges and in the top band.

    The hint (the AR fill, or Janssen's) is continuous with the known audio by construction; the reviser's edges are not
    always, so each gap starts and ends on the hint and fades to the reviser over `ramp` samples
    (one hop), and the known samples around it are the known audio again.
    """
    for start, end in gaps:
        filled = anchor_edges(filled, anchor, start, end, ramp)
    change = torch.where(mask, filled - anchor, 0.0)  # zero at the gap edges, by the ramp
    return torch.where(mask, anchor + band_limit(change, CORRECTION_CUTOFF, CORRECTION_WIDTH), anchor)


def _network_fill(model: RevisionModel, known: np.ndarray, hint: np.ndarray, match: np.ndarray, mask: torch.Tensor,
                  revision: RevisionConfig) -> torch.Tensor:
    """The draft (zero passes) or the revision of the masked samples of known [C, n]; float64 [C, n].

    hint, match [C, n]: the drafter's causal hints at zero passes, else the reviser's two-sided ones.
    """
    frame = model.frame
    to_fill = frame_mask(mask, frame.frame_length, frame.hop_length).expand(len(known), -1)
    with torch.inference_mode():
        features = analyse(torch.from_numpy(known).float(), frame)
        hint, match = (analyse(torch.from_numpy(x).float(), frame) for x in (hint, match))
        if revision.passes == 0:
            filled = draft(model.drafter, features, to_fill, hint, match)
        else:
            filled = revise(model.reviser, first_estimate(features, to_fill), to_fill, revision.passes,
                            revision.schedule, hint, match)
        return synthesise(filled, known.shape[-1], frame).double()
