"""Similarity fill: copy the stretch of the same recording whose surroundings best match a gap's.

Music repeats (beats, bars, loops, held notes), and a gap of 100 ms or more is usually better
predicted by the bar before it than by any extrapolation. For a gap [s, e) with `context`
known samples on each side, every candidate offset d within `search` samples is scored by the
normalised correlation of its own two sides with the gap's two sides,

    score(d) = (<x[d-c:d], left> + <x[d+n:d+n+c], right>) / sqrt(E_candidate * E_template),

and the best `candidates` offsets (each scaled by its least-squares gain on the sides, at most
MAX_GAIN) are averaged, weighted by score**4: averaging keeps what the matches agree on and
shrinks what they do not, which scored better than the single best match on the validation
tracks (MODEL_CARD.md).

The result is a hint for the reviser, not a fill on its own: it writes the matched sides too
(the candidates' `context` samples on each side of the gap), so the reviser, seeing them next to
the true audio, can judge how well the match fits before it decides how far to trust it.
Pure numpy: no torch (the only project import is the settings' defaults).
"""

from __future__ import annotations

import numpy as np

from revise.config import MatchConfig
from revise.hints.signal import fft_convolve

_TINY = 1e-12
# Candidates are averaged with weights score**4: a near-perfect match (a loop) outweighs a poor
# one by orders of magnitude, while similar scores average almost equally. On the validation
# tracks this beat both the equal mean and the single best match (MODEL_CARD.md).
SCORE_POWER = 4
# A candidate much quieter than the gap's sides (a fade, a near-silent bar) can still correlate
# well, and its least-squares gain then blows its interior up; 4 (12 dB) bounds that.
MAX_GAIN = 4.0


def match_fill_many(
    x: np.ndarray,
    gaps: list[tuple[int, int]],
    search: int = MatchConfig.search,
    context: int = MatchConfig.context,
    candidates: int = MatchConfig.candidates,
    unknown: list[tuple[int, int]] | None = None,
) -> np.ndarray:
    """Write the matched audio over each gap of `gaps` and its sides in a float64 copy of x [N].

    Gap samples and `unknown` ranges (other missing audio) are never read or copied. A gap with
    no candidate (no known audio around it, or none within `search`) keeps x's own samples, so
    passing the AR fill as x makes that the fallback. Sides are written before interiors so one
    gap's sides never overwrite another gap's fill. Returns [N].
    """
    if search <= 0 or context <= 0 or candidates <= 0:
        raise ValueError(f"search, context and candidates must be positive, got {search}, {context}, {candidates}.")
    out = np.array(x, dtype=np.float64)
    if out.ndim != 1:
        raise ValueError(f"the signal must be 1-D, got shape {out.shape}.")
    holes = [(int(s), int(e)) for s, e in [*gaps, *(unknown or [])]]
    missing = np.zeros(len(out), dtype=bool)
    for start, end in holes:
        if not 0 <= start < end <= len(out):
            raise ValueError(f"gap {start}:{end} must satisfy 0 <= start < end <= {len(out)}.")
        missing[start:end] = True
    known = np.where(missing, 0.0, out)
    matches = [_match(known, missing, int(s), int(e), search, context, candidates) for s, e in gaps]
    for match in matches:  # sides first, interiors last
        if match is not None:
            first, segment = match
            keep = ~missing[first : first + len(segment)]
            out[first : first + len(segment)][keep] = segment[keep]
    for (start, end), match in zip(gaps, matches):
        if match is not None:
            first, segment = match
            out[start:end] = segment[start - first : end - first]
    return out


def _match(known, missing, start: int, end: int, search: int, context: int, count: int):
    """(first sample, aligned averaged candidate [left + n + right]) or None. Picks have positive
    scores, so their least-squares gains are positive too and MAX_GAIN bounds them."""
    n, total = end - start, len(known)
    left, right = _known_run(missing[max(0, start - context) : start][::-1]), _known_run(missing[end : end + context])
    if left + right == 0:
        return None
    lo, hi = max(0, start - left - search), min(total, end + right + search)
    y, holes = known[lo:hi], missing[lo:hi]
    span = left + n + right
    if len(y) < span:
        return None
    template_left, template_right = known[start - left : start], known[end : end + right]
    template_energy = float(np.dot(template_left, template_left) + np.dot(template_right, template_right))
    if template_energy <= _TINY:
        return None
    # numerator[d]: correlation of the candidate window starting at d (its left side) with the template
    # one correlation with the two sides and zeros between them scores both sides at once
    template = np.concatenate([template_left, np.zeros(n), template_right])
    numerator = fft_convolve(y, template[::-1], "valid")
    energy = _window_sums(y**2, left, n, right)
    valid = (_window_sums(holes.astype(np.float64), left, n, right, whole=True) == 0) & (energy > _TINY)
    if not valid.any():
        return None
    score = np.full(len(numerator), -np.inf)
    score[valid] = numerator[valid] / np.sqrt(energy[valid] * template_energy)
    picks = spaced_best(score, count, max(1, n // 2))
    if not picks:
        return None
    weights = score[picks] ** SCORE_POWER
    weights = weights / weights.sum()
    gains = np.minimum(numerator[picks] / energy[picks], MAX_GAIN)
    segment = sum(w * g * y[d : d + span] for w, g, d in zip(weights, gains, picks))
    return start - left, segment


def _known_run(missing: np.ndarray) -> int:
    """How many samples from the start of `missing` (bool) are known: a side stops at the next hole."""
    holes = np.flatnonzero(missing)
    return int(holes[0]) if len(holes) else len(missing)


def _window_sums(values: np.ndarray, left: int, n: int, right: int, whole: bool = False) -> np.ndarray:
    """For each window start d: sum of values over the two sides [d, d+left) and [d+left+n, d+span),
    or over the whole window [d, d+span) when `whole`. [len(values) - span + 1]"""
    span = left + n + right
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    starts = np.arange(len(values) - span + 1)
    if whole:
        return cumulative[starts + span] - cumulative[starts]
    return (cumulative[starts + left] - cumulative[starts]) + (cumulative[starts + span] - cumulative[starts + left + n])


def spaced_best(score: np.ndarray, count: int, spacing: int) -> list[int]:
    """Up to `count` best finite positive-score indices, each at least `spacing` from the others."""
    score = score.copy()
    picks = []
    for _ in range(count):
        best = int(np.argmax(score))
        if not np.isfinite(score[best]) or score[best] <= 0:
            break
        picks.append(best)
        score[max(0, best - spacing) : best + spacing + 1] = -np.inf
    return picks
