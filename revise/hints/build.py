"""The one place a window's hints are built, for inpainting, training examples and the baselines.

"Train as you infer" needs the networks to see in training exactly the hints they get at
inference, and the benchmark's classical baselines are those same hints used alone; all three call
`window_hints` (the reviser's two-sided hints) and `causal_hints` (the drafter's one-sided ones),
so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from revise.config import ARConfig, MatchConfig
from revise.hints.autoregressive import ar_fill_many, extrapolate
from revise.hints.continuation import causal_match_fill
from revise.hints.janssen import janssen_fill_many
from revise.hints.similarity import match_fill_many

Ranges = Sequence[tuple[int, int]]


@dataclass(frozen=True, eq=False)
class Hints:
    """The classical fills of a window's gaps, each float64 [C, n].

    From `window_hints`: ar, the window with each gap filled by two-sided Burg AR extrapolation;
    janssen, `ar` refined by gap-wise Janssen iterations (None unless the AR settings ask for
    them); match, `hint` with the similarity fill written over each gap and its matched sides
    (`hint` itself where nothing matched, or where the match was not asked for). From
    `causal_hints`: ar and match from the audio before each gap only.
    """

    ar: np.ndarray
    match: np.ndarray
    janssen: np.ndarray | None = None

    @property
    def hint(self) -> np.ndarray:
        """The fill the reviser starts from and is anchored to: Janssen's where computed, else the AR fill. [C, n]"""
        return self.ar if self.janssen is None else self.janssen


def window_hints(
    window: np.ndarray, gaps: Ranges, ar: ARConfig, match: MatchConfig | None, unknown: Ranges = ()
) -> Hints:
    """The hints of `gaps` in `window` [C, n], each channel on its own.

    gaps and unknown: (start, end) sample ranges in the window; `unknown` marks other missing audio
    (another gap, or beyond the recording) that the similarity search must neither read nor copy.
    Gap samples are never read. `ar` and `match` are in samples at the window's rate; with
    `match=None` the search is skipped and `match` is the hint. With `ar.janssen_iterations`, the
    AR fill is refined by that many Janssen iterations, and the refinement is the reviser's hint.
    """
    gaps = [(int(s), int(e)) for s, e in gaps]
    filled = np.stack([ar_fill_many(channel, gaps, ar.order, ar.context) for channel in window])
    janssen = None
    if ar.janssen_iterations:
        janssen = np.stack([janssen_fill_many(channel, gaps, ar.order, ar.context, ar.janssen_iterations, start)
                            for channel, start in zip(window, filled)])
    hint = filled if janssen is None else janssen
    if match is None:
        return Hints(filled, hint, janssen)
    matched = np.stack([
        match_fill_many(channel, gaps, match.search, match.context, match.candidates, list(unknown))
        for channel in hint
    ])
    return Hints(filled, matched, janssen)


def causal_hints(window: np.ndarray, gaps: Ranges, ar: ARConfig, match: MatchConfig | None, reach: int = 0,
                 unknown: Ranges = ()) -> Hints:
    """What the audio before each gap of `window` [C, n] tells of it, each channel on its own.

    ar: one-sided Burg extrapolation of the `ar.context` samples before the gap; match: the
    continuation of the best-matching earlier stretch (`causal_match_fill`, searching `match.search`
    samples back), the AR extrapolation where the past holds no match or `match` is None. Gaps are
    filled left to right, each from the audio and the fills before it (each kind from its own
    fills). Each fill runs `reach` samples on past its gap, over the known audio there, so that a
    frame touching the gap holds nothing from after it: what a causal drafter may read. Gaps closer
    than `reach` are one run, filled as one from before the first, since a frame touching the first
    may not read the audio between them. Neither the gap samples nor anything before the last
    `unknown` range (e.g. beyond the recording) is read.
    """
    gaps = sorted((int(s), int(e)) for s, e in gaps)
    pairs = [_causal_channel(channel, gaps, ar, match, reach, unknown)
             for channel in np.asarray(window, dtype=np.float64)]
    return Hints(np.stack([a for a, _ in pairs]), np.stack([m for _, m in pairs]))


def _runs(gaps: Ranges, reach: int) -> list[list[tuple[int, int]]]:
    """Sorted `gaps` grouped into runs: a gap starting less than `reach` after the previous one's end joins its run."""
    runs: list[list[tuple[int, int]]] = []
    for gap in gaps:
        if runs and gap[0] < runs[-1][-1][1] + reach:
            runs[-1].append(gap)
        else:
            runs.append([gap])
    return runs


def _causal_channel(x: np.ndarray, gaps: Ranges, ar: ARConfig, match: MatchConfig | None, reach: int,
                    unknown: Ranges) -> tuple[np.ndarray, np.ndarray]:
    """`causal_hints` of one channel x [n]: (ar, match), each [n]."""
    known = x.copy()
    for start, end in gaps:
        known[start:end] = 0.0
    # the context each later run reads: the known audio and the fills in the gaps (not past them)
    # without a match the match fill is the AR fill, from the same context: computed once
    kinds = ("ar",) if match is None else ("ar", "match")
    context = {kind: known.copy() for kind in kinds}
    out = {kind: known.copy() for kind in kinds}
    for run in _runs(gaps, reach):
        first, stop = run[0][0], min(len(x), run[-1][1] + reach)
        floor = max([e for s, e in unknown if e <= first], default=0)
        for kind in kinds:
            past = context[kind][floor:first]
            found = None
            if kind == "match":
                found = causal_match_fill(past, len(past), len(past) + stop - first, match.context, match.search)
            fill = extrapolate(past[-ar.context :], stop - first, ar.order) if found is None else found
            out[kind][first:stop] = fill
            for start, end in run:
                context[kind][start:end] = fill[start - first : end - first]
    return out["ar"], out.get("match", out["ar"])
