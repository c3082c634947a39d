"""Burg autoregressive fit and two-sided gap fill: the classical baseline for 10-100 ms gaps.

An AR(p) model predicts each sample from the p before it, x[n] = -sum_{k=1..p} a[k] x[n-k],
with the prediction-error filter a = [1, a1, ..., ap]. Burg's method fits `a` by minimising the
forward and backward prediction errors together, which keeps the synthesis filter 1 / A(z)
stable, so extrapolation decays instead of exploding. A gap is filled by extrapolating forward
from the audio before it and backward (on the time-reversed signal) from the audio after it,
then crossfading the two predictions across the gap with a raised cosine whose weights sum to
one. Pure numpy: no torch, no scipy.
"""

from __future__ import annotations

import numpy as np

from revise.blas import one_blas_thread
from revise.config import ARConfig
from revise.hints.signal import all_pole_continuation

# Keep |k| strictly below one so the synthesis filter stays stable under rounding.
_MAX_REFLECTION = 1.0 - 1e-9
# An extrapolation louder than this times its context's peak has diverged: band-limited audio (a
# file with nothing above 16 kHz, as decoded MP3s are) is predicted almost exactly at high orders,
# and the rounding of the near-unit reflection coefficients in the Levinson update can leave roots
# outside the unit circle (seen: radius 1.04 at order 1654, a 0.2 s fill reaching 1e172). Such a
# fit is retried at half the order.
DIVERGED = 4.0


def burg(x: np.ndarray, order: int) -> np.ndarray:
    """Fit an AR model of `order` to `x` [N] by Burg's method.

    Returns the prediction-error filter `a` [order + 1], float64, with a[0] == 1, so that
    `x[n] + sum_k a[k] x[n-k]` is the prediction error. Silent (all-zero) input, or input that
    is predicted exactly at a lower order, leaves the remaining coefficients at zero.
    Cost: O(order * N), vectorised within each order step, on one BLAS thread (`revise.blas`).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"burg expects a 1-D signal, got shape {x.shape}.")
    if order < 0 or order >= len(x):
        raise ValueError(f"burg order must be in [0, {len(x) - 1}] for {len(x)} samples, got {order}.")
    with one_blas_thread():
        return _burg(x, order)


def _burg(x: np.ndarray, order: int) -> np.ndarray:
    a = np.zeros(order + 1)
    a[0] = 1.0
    forward = x[1:].copy()  # f_m[n]: error of predicting x[n] from the m samples before it
    backward = x[:-1].copy()  # b_m[n]: error of predicting x[n-m-1] from the m samples after it
    spare = np.empty_like(forward)  # the update below runs in place, in these three buffers
    for m in range(order):
        # Recomputed each step rather than updated recursively: two dot products cost little
        # next to the update below, and do not drift for high orders.
        denominator = float(np.dot(forward, forward) + np.dot(backward, backward))
        # Only an exactly zero error stops the recursion (silence, or a signal predicted
        # exactly): a relative floor cost gap SNR on clean sinusoids (MODEL_CARD.md), because
        # Burg's low-order fit of a sinusoid is biased and the high orders, though they reduce a
        # tiny error, correct that bias.
        if not denominator > 0.0:
            break
        k = -2.0 * float(np.dot(backward, forward)) / denominator
        k = min(max(k, -_MAX_REFLECTION), _MAX_REFLECTION)
        # Levinson update: a_new[j] = a[j] + k * a[m + 1 - j] for j = 1..m+1.
        a[1 : m + 2] = a[1 : m + 2] + k * a[m::-1]
        # forward + k * backward and backward + k * forward, without temporaries (the same roundings)
        new_forward = np.multiply(backward, k, out=spare[: len(forward)])
        new_forward += forward
        forward *= k
        forward += backward
        forward, backward, spare = new_forward, forward, backward
        # The next order predicts from one more sample, so each error sequence loses one end.
        forward, backward = forward[1:], backward[:-1]
    return a


def extrapolate(context: np.ndarray, count: int, order: int) -> np.ndarray:
    """Predict the `count` samples that follow `context` [N] with a Burg AR model. [count]

    The order is reduced to at most N // 2 so a short context still gives a well-posed fit;
    an empty context, or `count == 0`, gives zeros. The prediction runs the synthesis filter
    1 / A(z) on zero input, started from the last samples of the context
    (`revise.hints.signal.all_pole_continuation`); a
    prediction that diverges (louder than DIVERGED times the context's peak) is made again at
    half the order.
    """
    if count < 0:
        raise ValueError(f"extrapolate count must be >= 0, got {count}.")
    if order < 0:
        raise ValueError(f"extrapolate order must be >= 0, got {order}.")
    context = np.asarray(context, dtype=np.float64)
    if context.ndim != 1:
        raise ValueError(f"extrapolate expects a 1-D context, got shape {context.shape}.")
    order = min(order, len(context) // 2)
    if count == 0 or order == 0:
        return np.zeros(count)
    bound = DIVERGED * float(np.max(np.abs(context)))
    while True:
        prediction = _predict(context, count, order)
        if order == 1 or np.max(np.abs(prediction)) <= bound:  # False for NaN too
            return prediction
        order //= 2


def _predict(context: np.ndarray, count: int, order: int) -> np.ndarray:
    """The `count` samples after `context` [N] under a Burg fit of `order`, on zero input. [count]"""
    return all_pole_continuation(burg(context, order), context, count)


def crossfade_weights(length: int) -> np.ndarray:
    """Weight of the forward prediction across a gap: raised cosine from 1 down to 0. [length]

    The backward prediction gets `1 - w`, so the two always sum to one. The ramp of
    `revise.dsp.splice.fade_in`, reversed (a test holds them equal); here because `dsp` builds on
    the hints, not the other way round.
    """
    position = (np.arange(length, dtype=np.float64) + 0.5) / max(length, 1)
    return np.cos(0.5 * np.pi * position) ** 2


def _check_signal(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"the signal must be 1-D, got shape {x.shape}.")
    return x.astype(np.float64)  # always a copy


def _check_gap(start: int, end: int, length: int) -> None:
    if start < 0 or end > length or end <= start:
        raise ValueError(f"gap {start}:{end} must satisfy 0 <= start < end <= {length}.")


def _two_sided(left: np.ndarray, right: np.ndarray, count: int, order: int) -> np.ndarray:
    """Fill `count` samples between `left` [Nl] and `right` [Nr]; either side may be empty. [count]"""
    has_left, has_right = len(left) > 0, len(right) > 0
    if not has_left and not has_right:
        return np.zeros(count)
    forward = extrapolate(left, count, order) if has_left else None
    backward = extrapolate(right[::-1], count, order)[::-1] if has_right else None
    if backward is None:
        return forward
    if forward is None:
        return backward
    weight = crossfade_weights(count)
    return weight * forward + (1.0 - weight) * backward


def ar_fill(x: np.ndarray, start: int, end: int, order: int = ARConfig.order, context: int = ARConfig.context) -> np.ndarray:
    """Fill x[start:end] by two-sided Burg AR extrapolation with a raised-cosine crossfade.

    x: [N] float. Returns a float64 copy [N] in which only [start, end) differs. The fit reads
    at most `context` samples on each side of the gap and never the gap's own samples. At the
    signal's edges the one available side is used alone; with no context at all the gap is
    zeros. The defaults are `ARConfig`'s.
    """
    return ar_fill_many(x, [(start, end)], order, context)


def ar_fill_many(
    x: np.ndarray, gaps: list[tuple[int, int]], order: int = ARConfig.order, context: int = ARConfig.context
) -> np.ndarray:
    """Fill several non-overlapping gaps [(start, end), ...] in x [N]; returns a float64 copy [N].

    Gaps are filled left to right. A gap's left context may include earlier gaps' fills; its
    right context stops at the next gap, so no gap's original samples are ever read.
    """
    out = _check_signal(x)
    if order <= 0 or context <= 0:
        raise ValueError(f"order and context must be positive, got order={order}, context={context}.")
    for start, end, lo, hi in gap_neighbourhoods(gaps, len(out), context):
        out[start:end] = _two_sided(out[lo:start], out[end:hi], end - start, order)
    return out


def gap_neighbourhoods(gaps: list[tuple[int, int]], length: int, context: int) -> list[tuple[int, int, int, int]]:
    """(start, end, lo, hi) of each gap, left to right: the gap [start, end) and the stretch
    [lo, hi) a fill may read, `context` samples each side, its right side stopping at the next gap.

    Refuses gaps outside [0, length) and overlapping gaps.
    """
    ordered = sorted((int(s), int(e)) for s, e in gaps)
    for start, end in ordered:
        _check_gap(start, end, length)
    for (_, end), (next_start, _) in zip(ordered, ordered[1:]):
        if next_start < end:
            raise ValueError(f"gaps must not overlap: one ends at {end}, the next starts at {next_start}.")
    limits = [s for s, _ in ordered[1:]] + [length]
    return [(start, end, max(0, start - context), min(end + context, limit))
            for (start, end), limit in zip(ordered, limits)]
