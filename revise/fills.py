"""The fill methods the benchmark compares, all with one signature: `fill(window, gaps, rate)`.

window: float [n] or [n, B] at `rate` (B windows sharing one gap layout, filled together as
channels); gaps: (start, end) sample pairs; returns float64 of the window's shape with the gaps
filled. Zero fill, the two-sided Burg AR fill, the similarity fill alone (the best-matching
stretch of the window, hard-spliced) and the mean of those two are the classical baselines; the model methods
run the real `revise.inference.inpaint` (draft, revision passes, crossfade splice), so the
benchmark measures exactly what users get.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from revise.autoregressive import ar_fill_many
from revise.config import ARConfig, MatchConfig
from revise.inference import inpaint
from revise.model import RevisionModel
from revise.similarity import match_fill_many

FillFn = Callable[[np.ndarray, list[tuple[int, int]], int], np.ndarray]

AR_REFERENCE_RATE = 16000  # ARConfig's defaults are stated at this rate

def method_name(passes: int) -> str:
    """The benchmark's name for the model at `passes`: "passes=0" (draft + crossfade) or "revise passes=K"."""
    return "passes=0" if passes == 0 else f"revise passes={passes}"


def zero_fill(window: np.ndarray, gaps: list[tuple[int, int]], rate: int) -> np.ndarray:
    """Baseline: silence in every gap. window float [n] or [n, B] -> float64, same shape."""
    out = np.array(window, dtype=np.float64)
    for start, end in gaps:
        out[start:end] = 0.0
    return out


def ar_settings(rate: int) -> tuple[int, int]:
    """(order, context) of the AR baseline at `rate`: ARConfig's 600 and 3000 samples scaled from 16 kHz."""
    scale, reference = rate / AR_REFERENCE_RATE, ARConfig()
    return max(1, round(reference.order * scale)), max(2, round(reference.context * scale))


def ar_baseline(
    window: np.ndarray, gaps: list[tuple[int, int]], rate: int, order: int | None = None, context: int | None = None
) -> np.ndarray:
    """Baseline: two-sided Burg AR with a raised-cosine crossfade. window [n] or [n, B] -> float64, same shape."""
    default_order, default_context = ar_settings(rate)
    order, context = order or default_order, context or default_context
    columns = np.asarray(window, dtype=np.float64).reshape(len(window), -1)  # [n, B]
    filled = np.stack([ar_fill_many(column, gaps, order, context) for column in columns.T], axis=1)
    return filled.reshape(np.shape(window))


def match_baseline(
    window: np.ndarray, gaps: list[tuple[int, int]], rate: int, match: MatchConfig, model_rate: int
) -> np.ndarray:
    """Baseline: the similarity fill alone (the AR fill where nothing matches), cut in at the gap edges.

    window [n] or [n, B] -> float64, same shape; `match` is in samples at `model_rate`. Only the
    gaps change: the matched sides the reviser sees are not written, so this is the copy a
    classical patch-based repair would make.
    """
    scale = rate / model_rate
    m = MatchConfig(max(1, round(match.search * scale)), max(1, round(match.context * scale)), match.candidates)
    columns = ar_baseline(window, gaps, rate).reshape(len(window), -1)  # [n, B]; gap samples never read
    filled = columns.copy()
    for j, column in enumerate(columns.T):
        matched = match_fill_many(column, gaps, m.search, m.context, m.candidates)
        for start, end in gaps:
            filled[start:end, j] = matched[start:end]
    return filled.reshape(np.shape(window))


def blend_baseline(
    window: np.ndarray, gaps: list[tuple[int, int]], rate: int, match: MatchConfig, model_rate: int
) -> np.ndarray:
    """Baseline: the mean of the AR and similarity fills, the two hints without any learning.

    window [n] or [n, B] -> float64, same shape. Outside the gaps both fills are the window, so
    only the gaps change.
    """
    return 0.5 * (ar_baseline(window, gaps, rate) + match_baseline(window, gaps, rate, match, model_rate))


def model_fill(
    window: np.ndarray, gaps: list[tuple[int, int]], rate: int, model: RevisionModel, passes: int, seed: int
) -> np.ndarray:
    """Draft, `passes` revision passes and the crossfade splice, by `revise.inference.inpaint`.

    window float [n] or [n, B] (B windows sharing the gaps run as channels) -> float64, same shape.
    The quarter-sample nudge makes inpaint's floor/ceil of seconds land exactly on the sample gaps.
    """
    seconds = [((start + 0.25) / rate, (end - 0.25) / rate) for start, end in gaps]
    return inpaint(np.asarray(window, dtype=np.float64), rate, seconds, passes=passes, model=model, seed=seed)


def fill_methods(model: RevisionModel, passes_list: Sequence[int], seed: int = 0) -> dict[str, FillFn]:
    """Every method the benchmark compares, by name, each `fill(window, gaps, rate) -> filled`.

    "zero", "ar" (Burg, 600/3000 at 16 kHz scaled to the rate), "match" (the similarity fill
    alone, the model's settings scaled to the rate), "ar+match" (their mean), "passes=0" (always, a baseline)
    and "revise passes=K" for each K > 0 in `passes_list`, in increasing K.
    """
    if any(int(k) != k or k < 0 for k in passes_list):
        raise ValueError(f"passes must be whole numbers >= 0, got {list(passes_list)}.")
    methods: dict[str, FillFn] = {"zero": zero_fill, "ar": ar_baseline,
                                  "match": partial(match_baseline, match=model.match, model_rate=model.sample_rate),
                                  "ar+match": partial(blend_baseline, match=model.match, model_rate=model.sample_rate)}
    for passes in sorted({0, *(int(k) for k in passes_list)}):
        methods[method_name(passes)] = partial(model_fill, model=model, passes=passes, seed=seed)
    return methods
