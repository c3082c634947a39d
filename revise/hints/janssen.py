"""Gap-wise Janssen: fill a gap by alternating AR estimation and least-squares interpolation.

Janssen, Veldhuis and Vries (1986) fill missing samples by iterating two steps on a segment
around the gap: fit an AR(p) model (here by Burg's method) to the whole segment, the current
gap estimate included; then choose the gap samples that minimise the total prediction error
energy of the segment under that model. Mokrý and Rajmic ("On the Use of Autoregressive
Methods for Audio Inpainting", ICASSP 2025) run it gap by gap on the gap's own neighbourhood,
which is what this module does.

The least-squares step is cheap because of its structure. With the prediction errors
e = A x over the segment (A the valid convolution with the filter a, shape [N - p, N]), and the
gap at least p samples from both segment ends, the normal equations for the gap samples u are

    R u = -(A^T A x_known)[gap],   R[i, j] = r[|i - j|],   r[k] = sum_m a[m] a[m + k],

a symmetric positive definite Toeplitz system, solved by Levinson recursion
(`scipy.linalg.solve_toeplitz`, O(n^2) for n gap samples) instead of a dense O(n^3) solve. The
right-hand side is two FFT convolutions. Pure numpy/scipy: no torch.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_toeplitz

from revise.config import JANSSEN_ITERATIONS, ARConfig
from revise.hints.autoregressive import DIVERGED, ar_fill_many, burg, gap_neighbourhoods
from revise.hints.signal import fft_convolve


def janssen_fill_many(
    x: np.ndarray,
    gaps: list[tuple[int, int]],
    order: int = ARConfig.order,
    context: int = ARConfig.context,
    iterations: int = JANSSEN_ITERATIONS,
    ar_filled: np.ndarray | None = None,
) -> np.ndarray:
    """Fill non-overlapping gaps [(start, end), ...] in x [N] by gap-wise Janssen; a float64 copy [N].

    Each gap's segment is `context` samples on each side (its right side stops at the next gap, as
    in `ar_fill_many`; its left side may read earlier gaps' fills). Gap samples are never read:
    the iteration starts from silence (as in the published method), or from `ar_filled` [N] when
    given: x's gaps filled by `ar_fill_many` at the same order and context, as the AR hint is.
    From there 2-3 iterations score as 20 from silence do (MODEL_CARD.md). A gap with less than
    `order` samples of context on a side (a file's edge, or a neighbouring gap) uses the order
    that side allows; with no context on a side it falls back to the one-sided AR extrapolation.
    An iteration whose solve diverges is refused and the previous estimate kept (the AR fill
    when the first one does, from silence too; see `_janssen_segment`).
    """
    if iterations < 1:
        raise ValueError(f"janssen needs at least one iteration, got {iterations}.")
    from_ar = ar_filled is not None
    if not from_ar:
        ar_filled = ar_fill_many(x, gaps, order, context)  # the fallback where a side is empty
    elif np.shape(ar_filled) != np.shape(x):
        raise ValueError(f"the AR fill must have the signal's shape {np.shape(x)}, got {np.shape(ar_filled)}.")
    out = np.array(ar_filled, dtype=np.float64)
    for start, end, lo, hi in gap_neighbourhoods(gaps, len(out), context):
        p = min(order, start - lo, hi - end)
        if p < 1:
            continue  # one side only: keep the AR extrapolation
        known = out[lo:hi].copy()
        estimate = known.copy() if from_ar else None
        known[start - lo : end - lo] = 0.0
        filled = _janssen_segment(known, start - lo, end - lo, p, iterations, estimate)
        if filled is not None:
            out[start:end] = filled
    return out


def _janssen_segment(
    known: np.ndarray, start: int, end: int, order: int, iterations: int, estimate: np.ndarray | None = None
) -> np.ndarray | None:
    """The gap [start, end) of `known` [N] (zeros there) after `iterations` Janssen steps at `order`,
    starting from `estimate` [N] (None: `known`, silence in the gap). [end - start], or None when
    not one step could be kept from silence.

    The gap lies at least `order` samples from both ends, so its normal equations are Toeplitz.
    They can be nearly singular: on a pure, sustained tone (a horn) Burg's fit puts roots next to
    the unit circle, and a solve for a 500 ms gap reached 1e87 (the rounding of one dot product
    decided it). A step louder than DIVERGED times the segment's peak is refused, and the
    estimate before it kept.
    """
    bound = DIVERGED * float(np.max(np.abs(known)))
    stepped = estimate is not None
    estimate = known.copy() if estimate is None else estimate
    for _ in range(iterations):
        a = burg(estimate, order)
        r = np.correlate(a, a, "full")[order:]  # r[k] = sum_m a[m] a[m + k], k = 0..order
        if not r[0] > 0:
            break  # a silent segment: nothing to interpolate
        column = np.zeros(end - start)
        column[: min(len(r), len(column))] = r[: len(column)]
        errors = fft_convolve(known, a, "valid")  # e[n] = sum_k a[k] x[n + order - k]
        back = fft_convolve(errors, a[::-1], "full")  # (A^T e)[j]
        solved = solve_toeplitz(column, -back[start:end])
        if not np.max(np.abs(solved)) <= bound:  # also False for NaN
            break
        estimate[start:end] = solved
        stepped = True
    return estimate[start:end] if stepped else None
