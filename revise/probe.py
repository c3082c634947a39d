"""Choose each channel's fill by trying every candidate on pseudo-gaps cut from the known audio.

Which fill is best differs from recording to recording: on music unlike its training material the
reviser can make its own AR hint worse, and gap-wise Janssen leads on sustained solo instruments.
The window's own audio says which is which. Beside the window's gaps, a pseudo-gap as long as its
longest gap is cut from known audio on each side where there is room: just left of the first gap
and just right of the last, one AR context away, so that no candidate's fill of a pseudo-gap reads
the real gaps (the AR fits and Janssen read `ar.context` samples on each side, the networks
CONTEXT_SECONDS). Each candidate fills both pseudo-gaps, and the one with the least error energy
over them, per channel, fills the real gaps. With no room on either side the first candidate
(the reviser's) is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from revise.candidates import ModelRateWindow, candidate_fills, model_rate_window
from revise.config import RevisionConfig
from revise.nn.model import RevisionModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Probe:
    """Known audio [first, last) of a window with a pseudo-gap [start, end) inside it, all in
    samples of the window at the model rate."""

    first: int
    last: int
    start: int
    end: int


def probes(w: ModelRateWindow, context: int) -> list[Probe]:
    """The pseudo-gaps beside `w`'s gaps: left of the first, right of the last, where they fit.

    A pseudo-gap keeps `context` samples of known audio between it and the real gap and needs as
    much on its far side, inside the stretch bounded by the nearest gap or unknown range.
    """
    length = max(end - start for start, end in w.gaps)
    missing = sorted([*w.gaps, *w.unknown])
    first_gap, last_gap = w.gaps[0][0], w.gaps[-1][1]
    lo = max([end for _, end in missing if end <= first_gap], default=0)
    hi = min([start for start, _ in missing if start >= last_gap], default=w.known.shape[-1])
    out = []
    if first_gap - lo >= 2 * context + length:
        end = first_gap - context
        out.append(Probe(lo, first_gap, end - length, end))
    if hi - last_gap >= 2 * context + length:
        start = last_gap + context
        out.append(Probe(last_gap, hi, start, start + length))
    return out


def choose(model: RevisionModel, w: ModelRateWindow, revision: RevisionConfig, names: Sequence[str]) -> list[str]:
    """The candidate (one of `names`) with the least error on `w`'s pseudo-gaps, per channel.

    With no pseudo-gap that fits, `names[0]` for every channel.
    """
    channels = w.known.shape[0]
    found = probes(w, model.ar.context)
    if len(names) < 2 or not found:
        return [names[0]] * channels
    errors = np.zeros((len(names), channels))
    for probe in found:
        truth = w.known[:, probe.first : probe.last]
        gap = (probe.start - probe.first, probe.end - probe.first)
        trial = model_rate_window(model, truth, [gap], with_match=revision.passes > 0)
        fills = candidate_fills(model, trial, revision, names)
        for row, name in enumerate(names):
            error = fills[name][:, gap[0] : gap[1]] - truth[:, gap[0] : gap[1]]
            errors[row] += np.sum(error**2, axis=1)
    chosen = [names[int(row)] for row in np.argmin(errors, axis=0)]
    log.debug("pseudo-gaps %s: error energy %s -> %s", [(p.start, p.end) for p in found],
              np.round(errors, 6).tolist(), chosen)
    return chosen
