"""Choose each channel's fill by trying every candidate on pseudo-gaps cut from the known audio.

Which fill is best differs from recording to recording: on music unlike its training material the
reviser can make its own AR hint worse, and gap-wise Janssen leads on sustained solo instruments.
The window's own audio says which is which. Beside the window's gaps, a pseudo-gap as long as its
longest gap is cut from known audio on each side where there is room: just left of the first gap
and just right of the last, one AR context away, so that no candidate's fill of a pseudo-gap reads
the real gaps (the AR fits and Janssen read `ar.context` samples on each side, the networks
CONTEXT_SECONDS). Each candidate fills both pseudo-gaps, and the one with the lowest error
relative to the pseudo-gap's own energy, in dB averaged over the two, fills the real gaps, per
channel. Averaging in dB keeps one pseudo-gap that no fill can predict (a note starting in it)
from outvoting one that tells the candidates apart; summing error energies did that (on the solo
test set, trumpet gaps went to the reviser at 4 dB where Janssen scored 29). With no room on
either side, or only digital silence in the pseudo-gaps, the first candidate (the reviser's) is kept;
so it is where no candidate beats UNPREDICTABLE_DB of SNR there (long gaps, speech) and the
reviser is within RECKLESS_DB of the best: the choice would be noise, and the classical fills fade
out where the reviser keeps the sound.
At zero passes the draft and one-sided AR are chosen between on the pseudo-gap before the gaps
alone, so the fill still reads nothing after them: a causal draft cannot know how long the gap is
and holds back, which costs it on audio one-sided AR predicts well (solo instruments at 20 ms).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from revise.candidates import ModelRateWindow, candidate_fills, model_rate_window, reviser_hints_needed
from revise.config import RECKLESS_DB, UNPREDICTABLE_DB, RevisionConfig
from revise.runtime.model import InferenceModel

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


def choose(model: InferenceModel, w: ModelRateWindow, revision: RevisionConfig, names: Sequence[str]) -> list[str]:
    """The candidate (one of `names`) with the least error on `w`'s pseudo-gaps, per channel.

    At zero passes only the pseudo-gap before the gaps counts. With no pseudo-gap that fits,
    `names[0]` for every channel.
    """
    channels = w.known.shape[0]
    found = probes(w, model.ar.context)
    if revision.passes == 0:  # a fill that reads only the past is chosen on the past alone
        found = [probe for probe in found if probe.end <= w.gaps[0][0]]
    if len(names) < 2 or not found:
        return [names[0]] * channels
    scores = np.zeros((len(names), channels))  # mean over pseudo-gaps of the error in dB re the signal
    counted = np.zeros(channels)
    for probe in found:
        truth = w.known[:, probe.first : probe.last]
        gap = (probe.start - probe.first, probe.end - probe.first)
        trial = model_rate_window(model, truth, [gap], with_match=reviser_hints_needed(revision, names))
        fills = candidate_fills(model, trial, revision, names)
        signal = np.sum(truth[:, gap[0] : gap[1]] ** 2, axis=1)
        heard = signal > 0  # digital silence tells the candidates apart by nothing
        counted += heard
        for row, name in enumerate(names):
            error = np.sum((fills[name][:, gap[0] : gap[1]] - truth[:, gap[0] : gap[1]]) ** 2, axis=1)
            error = np.where(np.isfinite(error), error, np.inf)  # a fill that blew up is never chosen
            relative = np.maximum(error, 1e-12 * signal) / np.where(heard, signal, 1.0)
            scores[row] += np.where(heard, 10 * np.log10(np.where(heard, relative, 1.0)), 0.0)
    mean = scores / np.maximum(counted, 1)
    chosen = pick(mean, counted > 0, names, revision.passes > 0 and names[0] == "revise")
    log.debug("pseudo-gaps %s: error %s dB -> %s", [(p.start, p.end) for p in found], np.round(mean, 2).tolist(), chosen)
    return chosen


def pick(error_db: np.ndarray, heard: np.ndarray, names: Sequence[str], reviser_first: bool) -> list[str]:
    """The candidate per channel from its mean error on the pseudo-gaps, dB re their energy,
    error_db [names, channels]: the least, or `names[0]` where no pseudo-gap was heard (heard: bool
    [channels]); with `reviser_first` (names[0] is the reviser's passes) also where no candidate
    beats UNPREDICTABLE_DB of SNR and the reviser is within RECKLESS_DB of the best: there the
    choice is noise, and the classical fills fade out where the reviser keeps the sound."""
    best = error_db.min(axis=0)
    keep = (best > -UNPREDICTABLE_DB) & (error_db[0] - best <= RECKLESS_DB) & reviser_first
    return [names[0] if (not h or k) else names[int(row)]
            for row, h, k in zip(np.argmin(error_db, axis=0), heard, keep)]
