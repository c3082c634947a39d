"""The two inner loops of the AR fills, compiled by numba: Burg's recursion in its fast form, and
the all-pole continuation.

Both are thousands of small steps. In numpy each step is a few calls of about 1 us, and Burg's
classic form also sweeps the whole segment per order (O(N p)). Here:

- `fast_burg_recursion` is Burg's method in the form of K. Vos, "A Fast Implementation of Burg's
  Method" (2013): the forward and backward error energies of each order are quadratic forms in
  the filter, g = R a, over the segment's autocorrelation R, updated per order by the Levinson
  step and two rank-one corrections for the samples that leave the sums at the segment's ends.
  O(p^2) after the autocorrelation (an FFT), instead of O(N p). The same reflection coefficients
  as the classic recursion up to rounding, as long as the prediction error stays well above the
  rounding of those quadratic forms; `revise.hints.autoregressive.burg` checks that and falls back.
- `continue_all_pole` runs y[n] = -sum_k a[k] y[n - k] sample by sample.

numba compiles each on first use and caches the machine code beside this file (or in the user's
cache directory when that is not writable), so only the first run after an install pays about
1.5 s. `nogil`: threads filling at once (a Dask worker with several threads) run in parallel.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def fast_burg_recursion(x: np.ndarray, lags: np.ndarray, order: int,
                        max_reflection: float) -> tuple[np.ndarray, float]:
    """Burg's prediction-error filter a [order + 1] (a[0] == 1) of x [N] from its autocorrelation
    lags [order + 2] (lags[k] = sum_n x[n] x[n + k], zero past N - 1), and the forward plus backward
    error energy of the final order as the recursion tracked it (0 where it stopped early).

    At order m, with the filter padded to m + 2 taps (ab), g = R_m ab where R_m is the sum of the
    forward and backward covariance matrices of the samples the order-m errors cover; the
    reflection is k = -(J ab)^T g / ab^T g (J reverses), and the next order's error energy
    (1 - k^2) ab^T g. A zero error energy stops the recursion, as in the classic form, leaving the
    remaining coefficients at zero.
    """
    n = len(x)
    a = np.zeros(order + 1)
    a[0] = 1.0
    g = np.zeros(order + 2)
    g[0] = 2.0 * lags[0] - x[0] * x[0] - x[n - 1] * x[n - 1]
    g[1] = 2.0 * lags[1]
    r = np.zeros(order + 1)  # the last row of the next R, less its newest column
    r[0] = 2.0 * lags[1]
    tracked = g[0]
    for m in range(order):
        numerator = 0.0
        energy = 0.0
        for i in range(m + 2):
            numerator += a[i] * g[m + 1 - i]
            energy += a[i] * g[i]
        if not energy > 0.0:
            tracked = 0.0
            break
        k = min(max(-numerator / energy, -max_reflection), max_reflection)
        tracked = (1.0 - k * k) * energy
        for i in range((m + 3) // 2):  # a[i] += k a[m + 1 - i], pairwise in place
            j = m + 1 - i
            ai, aj = a[i], a[j]
            a[i] = ai + k * aj
            if i != j:
                a[j] = aj + k * ai
        if m == order - 1:
            break
        # R_{m+1}: R_m less the samples x[m + 1 - i] and x[n - 2 - m + i] leaving the sums, and one new row
        for j in range(m, -1, -1):
            r[j + 1] = r[j] - x[j] * x[m + 1] - x[n - m - 2] * x[n - 1 - j]
        r[0] = 2.0 * lags[m + 2]
        u = 0.0
        v = 0.0
        last = 0.0
        for i in range(m + 2):
            u += x[m + 1 - i] * a[i]
            v += x[n - 2 - m + i] * a[i]
            last += r[i] * a[i]
        for i in range((m + 3) // 2):  # g = R_m a (= g + k J g, R_m being persymmetric) less the corrections
            j = m + 1 - i
            gi, gj = g[i], g[j]
            g[i] = gi + k * gj - x[m + 1 - i] * u - x[n - 2 - m + i] * v
            if i != j:
                g[j] = gj + k * gi - x[m + 1 - j] * u - x[n - 2 - m + j] * v
        g[m + 2] = last
    return a, tracked


@numba.njit(cache=True, nogil=True)
def continue_all_pole(weights: np.ndarray, out: np.ndarray) -> None:
    """Fill out[p:] in place by out[t] = sum_j weights[j] out[t - p + j], from out[:p] (p = len(weights))."""
    p = len(weights)
    for t in range(p, len(out)):
        total = 0.0
        for j in range(p):
            total += weights[j] * out[t - p + j]
        out[t] = total
