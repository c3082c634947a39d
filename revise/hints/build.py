"""The one place a window's hints are built, for inpainting, training examples and the baselines.

"Train as you infer" needs the reviser to see in training exactly the hints it gets at inference,
and the benchmark's classical baselines are those same hints used alone; all three call
`window_hints`, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from revise.config import ARConfig, MatchConfig
from revise.hints.autoregressive import ar_fill_many
from revise.hints.similarity import match_fill_many

Ranges = Sequence[tuple[int, int]]


@dataclass(frozen=True, eq=False)
class Hints:
    """The classical fills of a window's gaps, both float64 [C, n].

    ar: the window with each gap filled by two-sided Burg AR extrapolation.
    match: `ar` with the similarity fill written over each gap and its matched sides (`ar` itself
    where nothing matched, or where the match was not asked for).
    """

    ar: np.ndarray
    match: np.ndarray


def window_hints(
    window: np.ndarray, gaps: Ranges, ar: ARConfig, match: MatchConfig | None, unknown: Ranges = ()
) -> Hints:
    """The hints of `gaps` in `window` [C, n], each channel on its own.

    gaps and unknown: (start, end) sample ranges in the window; `unknown` marks other missing audio
    (another gap, or beyond the recording) that the similarity search must neither read nor copy.
    Gap samples are never read. `ar` and `match` are in samples at the window's rate; with
    `match=None` the search is skipped and `match` is the AR fill.
    """
    gaps = [(int(s), int(e)) for s, e in gaps]
    filled = np.stack([ar_fill_many(channel, gaps, ar.order, ar.context) for channel in window])
    if match is None:
        return Hints(filled, filled)
    matched = np.stack([
        match_fill_many(channel, gaps, match.search, match.context, match.candidates, list(unknown))
        for channel in filled
    ])
    return Hints(filled, matched)
