"""Causal similarity continuation: carry a prompt on from its own material.

Music repeats (beats, bars, riffs, held chords), so the best guess at what follows a prompt is
what followed the moment of the prompt that sounds most like its end. Written so far: y (the
prompt, then the continuation). Each jump scores every stretch of the prompt by the normalised
correlation of its `context` seconds with y's last `context` seconds (the mono mix),

    score(d) = <x[d-c:d], y[-c:]> / sqrt(E(x[d-c:d]) * E(y[-c:])),

draws one of the best `candidates` positions d (peaks at least `spacing` apart, weighted by
score**SCORE_POWER, from a seeded generator), and copies x[d:d+L] of every channel, its first
`crossfade` seconds faded in over y's last ones, with L drawn between `min_piece` and the rest of
the prompt: were every piece to run to the prompt's end, every later jump would match the same
template and a long continuation would cycle through the same few pieces. The correlation aligns the
jump to the sample, so the pieces meet in phase, on the beat, at the prompt's own level, with
its full band and its channels. Causal: it reads only the prompt and what it has written.
Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from revise.config import SILENT_RMS, ContinuationConfig
from revise.hints.autoregressive import crossfade_weights, extrapolate
from revise.hints.signal import fft_convolve
from revise.hints.similarity import MAX_GAIN, SCORE_POWER, spaced_best

_TINY = 1e-12
LEAD_ORDER_SECONDS = 0.004  # the AR model the first crossfade fades out of: 4 ms of memory (a 250 Hz period)
LEAD_CONTEXT_ORDERS = 8  # fitted on this many orders of the prompt's end


@dataclass(frozen=True)
class Continuation:
    """audio: float64 [samples, C], the new samples only; joins: where pieces meet, in samples
    from the continuation's start (the centre of each crossfade; the first, half a crossfade after
    the prompt's end, is where the first piece fades in over the prompt's AR continuation)."""

    audio: np.ndarray
    joins: tuple[int, ...]


def continue_by_similarity(
    prompt: np.ndarray, rate: int, samples: int, rng: np.random.Generator, config: ContinuationConfig
) -> Continuation:
    """Continue `prompt` (float [n, C]) by `samples` samples of its own material, at its rate.

    Raises ValueError with `prompt_problem`'s sentence when the prompt cannot be continued.
    """
    x = np.asarray(prompt, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"the prompt must be [samples, channels], got shape {x.shape}.")
    problem = prompt_problem(x, rate, config)
    if problem:
        raise ValueError(problem)
    context, piece, fade = (round(s * rate) for s in (config.context, config.min_piece, config.crossfade))
    mono = x.mean(axis=1)
    energy = _window_energy(mono, context)[: len(x) - context - piece + 1]  # of x[j : j + context], j = d - context
    if not (energy > _TINY).any():
        raise ValueError(f"the prompt holds no audible stretch to copy from before its last {config.min_piece:g} s; "
                         "give a prompt with more of the music in it.")
    fade_in = crossfade_weights(fade)[::-1]  # [fade], rising; the piece before gets 1 - fade_in
    # The first piece fades in over a short one-sided AR prediction of the prompt, so the prompt's
    # own samples stay exact; later pieces fade in over the end of the piece before them.
    written = [ar_lead(x, fade, rate)]  # [fade, C]
    joins, total, tail = [], fade, np.concatenate([x, written[0]])[-context:]
    while total < samples:
        start = _draw(mono, tail.mean(axis=1), energy, context, round(config.spacing * rate), config.candidates, rng)
        end = start + int(rng.integers(piece, len(x) - start + 1))  # a drawn length, so the next template varies
        copy = x[start - fade : end].copy()  # [fade + piece, C]: its first `fade` samples overlap the last written
        copy[:fade] = fade_in[:, None] * copy[:fade] + (1.0 - fade_in[:, None]) * written[-1][-fade:]
        written[-1] = written[-1][:-fade]
        joins.append(total - fade + fade // 2)
        written.append(copy)
        total += len(copy) - fade
        tail = np.concatenate([tail[:-fade], copy])[-context:]
    return Continuation(np.concatenate(written)[:samples], tuple(joins))


def prompt_problem(x: np.ndarray, rate: int, config: ContinuationConfig = ContinuationConfig()) -> str | None:
    """Why the prompt x (float [n, C]) cannot be continued, in one sentence, or None."""
    needed = round(config.context * rate) + round(config.min_piece * rate)
    if not np.isfinite(x).all():
        return "the prompt holds NaN or infinite samples."
    if len(x) < needed:
        return (f"the prompt is {len(x) / rate:.3f} s long; continuing a prompt from its own material needs at "
                f"least {needed / rate:.3f} s of it.")
    if float(np.sqrt(np.mean(x**2))) < SILENT_RMS:
        return "the prompt is silent or nearly (below -60 dBFS); give a prompt with audible music to continue."
    if float(np.sqrt(np.mean(x[-round(config.context * rate) :] ** 2))) < SILENT_RMS:
        return (f"the prompt's last {config.context:g} s are silent or nearly (below -60 dBFS), and the "
                "continuation follows on from them; end the prompt where the music still sounds.")
    return None


def ar_lead(x: np.ndarray, count: int, rate: int) -> np.ndarray:
    """The `count` samples after x [n, C] predicted by one-sided Burg AR per channel. [count, C]"""
    order = max(2, round(LEAD_ORDER_SECONDS * rate))
    context = x[-min(len(x), LEAD_CONTEXT_ORDERS * order) :]
    return np.stack([extrapolate(context[:, c], count, order) for c in range(x.shape[1])], axis=1)


def _draw(mono, template, energy, context: int, spacing: int, count: int, rng: np.random.Generator) -> int:
    """The sample d where a copied piece starts: one of the `count` best-scoring positions, drawn
    (the best alone when no score is positive)."""
    _, score = _match_scores(mono, template, energy)
    picks = np.asarray(spaced_best(score, count, spacing) or [int(np.argmax(score))])
    weights = np.maximum(score[picks], _TINY) ** SCORE_POWER
    return int(picks[rng.choice(len(picks), p=weights / weights.sum())]) + context


def _match_scores(signal: np.ndarray, template: np.ndarray, energy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The correlation of `template` [c] with each window signal[j : j + c], j < len(energy), and its
    normalised score, -inf where the window (of energy `energy[j]`) is silent. ([J], [J])"""
    correlation = fft_convolve(signal[: len(energy) + len(template) - 1], template[::-1], "valid")
    norm = np.sqrt(np.maximum(energy, _TINY) * max(float(template @ template), _TINY))
    return correlation, np.where(energy > _TINY, correlation / norm, -np.inf)


def _window_energy(x: np.ndarray, width: int) -> np.ndarray:
    """Sum of x**2 over each window [j, j + width). [len(x) - width + 1]"""
    cumulative = np.concatenate([[0.0], np.cumsum(x**2)])
    return cumulative[width:] - cumulative[:-width]


def causal_match_fill(x: np.ndarray, start: int, end: int, context: int, search: int) -> np.ndarray | None:
    """What followed the earlier stretch that best matches the `context` samples before a gap. [end - start]

    Causal: reads only x[:start] (float [N]). The candidate continuations lie within `search`
    samples before the gap and end before it; the best (normalised correlation of its own
    `context` samples with the template) is scaled by its least-squares gain (at most MAX_GAIN).
    None when the past holds no candidate (too little audio before the gap, or silence).
    """
    n = end - start
    past = np.asarray(x[max(0, start - context - search - n) : start], dtype=np.float64)
    template = past[-context:]
    if len(past) < 2 * context + n or float(template @ template) <= _TINY:
        return None
    energy = _window_energy(past, context)[: len(past) - context - n + 1]  # windows j with j + context + n <= len
    correlation, score = _match_scores(past, template, energy)
    best = int(np.argmax(score))
    if not np.isfinite(score[best]) or score[best] <= 0:
        return None
    gain = min(correlation[best] / energy[best], MAX_GAIN)
    return gain * past[best + context : best + context + n]
