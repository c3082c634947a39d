"""Generation: continue a prompt with its own material, revised where the pieces meet.

The draft is causal similarity continuation (`revise.hints.continuation`): after the prompt,
the stretch of the prompt that best matches what was just written is copied on, at the prompt's
rate, band and channels, and the pieces meet through a crossfade aligned to the sample. Asked
for (`passes` >= 1; GENERATION_PASSES says why not by default), the revision treats each place
where two pieces meet as a short gap and fills it as `revise inpaint` fills a gap (the choice
among the reviser, AR and Janssen fills).
"""

from __future__ import annotations

import dataclasses
import logging
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np

from revise.audio import Audio, read_audio, to_float
from revise.config import GENERATION_PASSES, MAX_GENERATE_SECONDS, ContinuationConfig, ScheduleName
from revise.hints.continuation import continue_by_similarity, prompt_problem

log = logging.getLogger(__name__)

Join = Literal["crossfade", "naive"]
Progress = Callable[[int, int], None]  # (done, total), after each unit of work
EXAMPLE = Path(__file__).parent / "assets" / "example.flac"  # continued when no prompt is given
SEAM_GAP_SECONDS = 0.02  # the gap revised where two pieces meet: the crossfade's length
LIMITER_KNEE = 0.9  # generated peaks above this are bent smoothly below full scale instead of clipped


def generate(
    seconds: float,
    prompt: np.ndarray | None = None,
    sample_rate: int | None = None,
    passes: int | None = None,
    model=None,
    seed: int | None = None,
    schedule: ScheduleName | None = None,
    join: Join = "crossfade",
    include_prompt: bool = True,
    config: ContinuationConfig = ContinuationConfig(),
    progress: Progress | None = None,
) -> np.ndarray:
    """Continue `prompt` ([samples] or [samples, channels], at `sample_rate`) by `seconds` of audio.

    Returns float32 of the prompt's shape (channels kept) at its rate, starting with its exact
    samples unless `include_prompt` is False. Without a prompt the bundled example clip
    (`EXAMPLE`, 48 kHz stereo) is continued, and a warning says so. `passes` (default
    GENERATION_PASSES: none) revise each seam; 0 leaves the crossfaded draft. `join="naive"`
    switches from piece to piece within one sample, a baseline for the seams. The same `seed`,
    the same output. A prompt `prompt_problem` refuses raises a ValueError with its sentence.
    `progress(done, total)` is called as seams are revised.
    """
    if not (np.isfinite(seconds) and 0 < seconds <= MAX_GENERATE_SECONDS):
        raise ValueError(f"seconds must be a positive number up to {MAX_GENERATE_SECONDS:g}, got {seconds}.")
    if join not in typing.get_args(Join):
        raise ValueError(f"join must be 'crossfade' or 'naive', got {join!r}.")
    if prompt is None:
        audio = default_prompt()
        prompt, sample_rate = audio.samples, audio.sample_rate
    x = _checked_prompt(prompt, sample_rate, config)
    out, _ = continue_prompt(x, sample_rate, seconds, passes, model, seed, schedule, join, config, progress)
    out = out.astype(np.float32) if include_prompt else out[len(x) :].astype(np.float32)
    return out.reshape(-1) if np.ndim(prompt) == 1 else out


def continue_prompt(
    x: np.ndarray, rate: int, seconds: float, passes: int | None = None, model=None, seed: int | None = None,
    schedule: ScheduleName | None = None, join: Join = "crossfade", config: ContinuationConfig = ContinuationConfig(),
    progress: Progress | None = None,
) -> tuple[np.ndarray, tuple[int, ...]]:
    """The prompt x (float [n, C]) continued by `seconds` ([n + m, C] float64, soft-limited) and
    where the pieces meet (samples after the prompt's end). What `generate` does past its checks;
    the continuation's peaks are soft-limited, the prompt is left exact."""
    passes = GENERATION_PASSES if passes is None else passes
    revising = passes > 0 and join == "crossfade"
    if revising:
        from revise.runtime.model import as_inference_model

        model = as_inference_model(model)
    if join == "naive":  # a one-sample "crossfade": the pieces butt
        config = dataclasses.replace(config, crossfade=1.0 / rate)
    rng = np.random.default_rng(0 if seed is None else seed)
    continuation = continue_by_similarity(x, rate, round(seconds * rate), rng, config)
    log.info("continued %.2f s of prompt by %.2f s in %d piece(s)", len(x) / rate, seconds, len(continuation.joins))
    out = np.concatenate([x, continuation.audio])
    if revising:
        out = revise_seams(out, len(x), continuation.joins, rate, model, passes, schedule, progress)
    out[len(x) :] = soft_limit(out[len(x) :])  # the prompt's samples stay exact
    return out, continuation.joins


def default_prompt() -> Audio:
    """The bundled example clip, continued when no prompt is given; a warning says so."""
    audio = read_audio(EXAMPLE)
    log.warning("no prompt given: continuing the bundled example %s (%.1f s at %d Hz; its licence is in "
                "EXAMPLE_LICENSE.md beside it)", EXAMPLE, audio.seconds, audio.sample_rate)
    return audio


def _checked_prompt(prompt: np.ndarray, sample_rate: int | None, config: ContinuationConfig) -> np.ndarray:
    """The prompt as float64 [samples, channels], refused in one sentence when unusable."""
    if sample_rate is None or sample_rate <= 0:
        raise ValueError("a prompt needs its sample_rate, a positive number of Hz.")
    array = np.asarray(prompt)
    if array.ndim not in (1, 2) or array.shape[0] == 0:
        raise ValueError(f"the prompt must be [samples] or [samples, channels] with samples > 0, got {array.shape}.")
    x = to_float(array.reshape(array.shape[0], -1)).astype(np.float64)
    problem = prompt_problem(x, sample_rate, config)
    if problem:
        raise ValueError(problem)
    return x


def revise_seams(
    audio: np.ndarray, start: int, joins: tuple[int, ...], rate: int, model, passes: int,
    schedule: ScheduleName | None, progress: Progress | None = None,
) -> np.ndarray:
    """Fill a SEAM_GAP_SECONDS gap at each join (samples after `start`) of `audio` [n, C] as `inpaint` does.

    Seams are revised one at a time, left to right, each on the stretch of audio inpainting may
    read around it (so the cost does not grow with the output's length), and `progress(done,
    total)` is called after each. The first seam's gap starts one crossfade margin after the
    prompt, so the prompt's samples stay exact; a seam too close to the end is left as crossfaded.
    """
    from revise.inpainting import crossfade_margin, inpaint, reach_seconds

    gap, margin = round(SEAM_GAP_SECONDS * rate), crossfade_margin(model, rate)
    reach = int(np.ceil(reach_seconds(model) * rate)) + margin
    gaps = []
    for join in joins:
        first = max(start + margin, start + join - gap // 2)
        if first + gap + margin <= len(audio) and (not gaps or first >= gaps[-1][1] + 2 * margin):
            gaps.append((first, first + gap))
    out = audio.copy()
    for done, (first, last) in enumerate(gaps, start=1):
        lo, hi = max(0, first - reach), min(len(out), last + reach)
        seconds = [((first - lo + 0.25) / rate, (last - lo - 0.25) / rate)]  # maps back to exactly the gap
        out[lo:hi] = inpaint(out[lo:hi], rate, seconds, passes=passes, model=model, schedule=schedule)
        if progress is not None:
            progress(done, len(gaps))
    return out


def soft_limit(x: np.ndarray, knee: float = LIMITER_KNEE) -> np.ndarray:
    """Leave |x| <= knee alone and bend larger peaks smoothly (tanh) towards full scale.

    Only peaks are touched, never the level: a crossfade between two different pieces or a revised
    seam can reach above the prompt's peaks, and a loud prompt's continuation would clip now and then.
    The result stays within the largest 16-bit sample, 1 - 2**-15.
    """
    over = np.abs(x) > knee
    if not over.any():
        return x
    out = x.copy()
    excess = (np.abs(x[over]) - knee) / (1.0 - knee)
    out[over] = np.sign(x[over]) * np.minimum(knee + (1.0 - knee) * np.tanh(excess), 1.0 - 2.0**-15)
    return out
