"""The fill methods the benchmark compares: each a `Method` (data), filled by `fill`.

A fill takes window float [n] or [n, B] at `rate` (B windows sharing one gap layout, filled
together as channels) and gaps as (start, end) sample pairs, and returns float64 of the window's
shape with the gaps filled. Zero fill, the two-sided Burg AR fill, gap-wise Janssen (iterated AR
estimation and least-squares interpolation), the similarity fill alone (the best-matching stretch
of the window, cut in at the gap edges), the mean of the AR and similarity fills, and two causal
fills that see only the audio before a gap (one-sided Burg AR; the continuation of the best
earlier match) are the classical baselines (all but Janssen built by `revise.hints.build.window_hints` as the model's hints are); the
model methods run the real `revise.inpainting.inpaint` (draft, revision passes, the choice among
fills on pseudo-gaps, crossfade splice),
so the benchmark measures exactly what users get.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from revise.config import CANDIDATES, DRAFT_CANDIDATES, ARConfig, FrameConfig, MatchConfig, ScheduleName
from revise.hints.build import Hints, causal_hints, window_hints
from revise.hints.janssen import janssen_fill_many
from revise.inpainting import inpaint
from revise.runtime.model import InferenceModel

MethodKind = Literal["zero", "ar", "janssen", "match", "ar+match", "ar-causal", "match-causal", "revise"]
AR_REFERENCE_RATE = FrameConfig().sample_rate  # ARConfig's defaults are stated at the default model rate


@dataclass(frozen=True)
class Method:
    """One method of the benchmark. `passes` (and `schedule`, None: the model's) only for "revise".

    `guard`: inpaint's choice among its candidate fills on pseudo-gaps, as users get it; without
    it the networks' own fill. At passes 0 the choice is between the draft and one-sided AR, on
    the pseudo-gap before the gap; without it, the draft alone.
    """

    kind: MethodKind
    passes: int | None = None
    schedule: ScheduleName | None = None
    guard: bool = True

    @property
    def name(self) -> str:
        """The name in tables and results.json: "ar", "passes=0" (what inpaint gives at zero passes),
        "draft only", "revise passes=2", "reviser only passes=2" (no choice among fills)."""
        if self.kind != "revise":
            return self.kind
        if self.passes == 0:
            name = "passes=0" if self.guard else "draft only"
        else:
            name = f"{'revise' if self.guard else 'reviser only'} passes={self.passes}"
        return name if self.schedule is None else f"{name} schedule={self.schedule}"

    @property
    def candidates(self) -> tuple[str, ...]:
        """The fills `inpaint` may choose among for this method."""
        if not self.guard:
            return ("revise",)
        return DRAFT_CANDIDATES if self.passes == 0 else CANDIDATES


BASELINES = (Method("zero"), Method("ar"), Method("janssen"), Method("match"), Method("ar+match"), Method("ar-causal"),
             Method("match-causal"))


def benchmark_methods(
    passes: Sequence[int], schedule: ScheduleName | None = None, baselines: Sequence[Method] = BASELINES,
    reviser_only: Sequence[int] = (),
) -> list[Method]:
    """The baselines, then the model at passes 0 (always: a baseline) and at each K in `passes`, increasing,
    then the networks without the choice among fills: the draft alone (always) and the reviser at
    each K in `reviser_only`."""
    guarded = [Method("revise", k, schedule) for k in sorted({0, *(int(k) for k in passes)})]
    alone = [Method("revise", k, schedule, guard=False) for k in sorted({0, *(int(k) for k in reviser_only)})]
    return [*baselines, *guarded, *alone]


def fill(method: Method, window: np.ndarray, gaps: list[tuple[int, int]], rate: int, model: InferenceModel) -> np.ndarray:
    """Fill `gaps` in `window` [n] or [n, B] at `rate` with `method`. Returns float64 of the window's shape."""
    if method.kind == "zero":
        return zero_fill(window, gaps)
    if method.kind == "revise":
        return model_fill(window, gaps, rate, model, method.passes, method.schedule, method.candidates)
    if method.kind == "janssen":
        return janssen_baseline(window, gaps, rate, model)
    if method.kind in ("ar-causal", "match-causal"):
        return causal_baseline(method.kind, window, gaps, rate, model)
    hints = baseline_hints(window, gaps, rate, model, with_match=method.kind != "ar")
    if method.kind == "ar":
        filled = hints.ar
    elif method.kind == "match":
        filled = _gaps_only(hints.ar, hints.match, gaps)
    else:  # the two hints without any learning
        filled = 0.5 * (hints.ar + _gaps_only(hints.ar, hints.match, gaps))
    return filled.T.reshape(np.shape(window))


def zero_fill(window: np.ndarray, gaps: list[tuple[int, int]]) -> np.ndarray:
    """Baseline: silence in every gap. window float [n] or [n, B] -> float64, same shape."""
    out = np.array(window, dtype=np.float64)
    for start, end in gaps:
        out[start:end] = 0.0
    return out


def baseline_settings(rate: int, model: InferenceModel) -> tuple[ARConfig, MatchConfig]:
    """The classical baselines' settings in samples at `rate`.

    AR: ARConfig's defaults scaled from AR_REFERENCE_RATE, so the baseline is the same at any
    model; match: the model's own similarity settings scaled from its rate.
    """
    ar = ARConfig().scaled(rate / AR_REFERENCE_RATE)
    scale, m = rate / model.sample_rate, model.match
    return ar, MatchConfig(max(1, round(m.search * scale)), max(1, round(m.context * scale)), m.candidates)


def janssen_baseline(window: np.ndarray, gaps: list[tuple[int, int]], rate: int, model: InferenceModel) -> np.ndarray:
    """Baseline: gap-wise Janssen at the AR baseline's order and context. window [n] or [n, B] -> float64, same shape."""
    ar, _ = baseline_settings(rate, model)
    filled = np.stack([janssen_fill_many(column, gaps, ar.order, ar.context) for column in _columns(window).T], axis=1)
    return filled.reshape(np.shape(window))


def causal_baseline(kind: str, window: np.ndarray, gaps: list[tuple[int, int]], rate: int,
                    model: InferenceModel) -> np.ndarray:
    """Baselines that see only the audio before each gap, as a real-time concealer does, and what the
    drafter starts from (`revise.hints.build.causal_hints`): "ar-causal", one-sided Burg extrapolation
    of the AR baseline's left context; "match-causal", the continuation of the best-matching earlier
    stretch (the similarity baseline's context, searching its reach before the gap), falling back to
    ar-causal where the past holds no match. window [n] or [n, B] -> float64, same shape."""
    ar, match = baseline_settings(rate, model)
    hints = causal_hints(_columns(window).T, gaps, ar, match if kind == "match-causal" else None)
    return (hints.match if kind == "match-causal" else hints.ar).T.reshape(np.shape(window))


def baseline_hints(
    window: np.ndarray, gaps: list[tuple[int, int]], rate: int, model: InferenceModel, with_match: bool = True
) -> Hints:
    """The hints of a window [n] or [n, B] at the baselines' settings, as [B, n] each."""
    ar, match = baseline_settings(rate, model)
    return window_hints(_columns(window).T, gaps, ar, match if with_match else None)


def _columns(window: np.ndarray) -> np.ndarray:
    """A window [n] or [n, B] as float64 columns [n, B]."""
    return np.asarray(window, dtype=np.float64).reshape(len(window), -1)


def _gaps_only(outside: np.ndarray, inside: np.ndarray, gaps: list[tuple[int, int]]) -> np.ndarray:
    """`outside` [B, n] with `inside`'s samples in the gaps: only the gaps change, not the matched sides."""
    out = outside.copy()
    for start, end in gaps:
        out[:, start:end] = inside[:, start:end]
    return out


def model_fill(
    window: np.ndarray, gaps: list[tuple[int, int]], rate: int, model: InferenceModel, passes: int,
    schedule: ScheduleName | None = None, candidates: Sequence[str] = CANDIDATES,
) -> np.ndarray:
    """Draft, `passes` revision passes, the choice among `candidates` and the crossfade splice, by
    `revise.inpainting.inpaint`.

    window float [n] or [n, B] (B windows sharing the gaps run as channels) -> float64, same shape.
    The quarter-sample nudge makes inpaint's floor/ceil of seconds land exactly on the sample gaps.
    """
    seconds = [((start + 0.25) / rate, (end - 0.25) / rate) for start, end in gaps]
    return inpaint(np.asarray(window, dtype=np.float64), rate, seconds, passes=passes, model=model, schedule=schedule,
                   candidates=candidates)
