"""The generation benchmark: cut a prompt from each clip, continue it with every method, and
compare each continuation with the recording's true continuation and with the prompt.

Methods: `revise` (what `revise generate` does: the crossfaded similarity draft), `revise
passes=1` (its seams revised as gaps are), `naive join` (the same pieces butted, switched within one
sample), `loop last bar` (the prompt's last bar
repeated: a strong, honest baseline), `prompt's end` and `true continuation` (the recording
itself: the ceiling). `prompt's end` is a reference, not a continuation: the prompt's own last
seconds, as many as the continuation has (the whole prompt where it is shorter). Its spectrum,
harmony and timbre distances say how far the music itself moves on, where any continuation made
of the prompt's material starts from; its seam figures mean nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from revise.audio import read_audio, to_float
from revise.config import GENERATION_PASSES
from revise.evaluate.benchmark import find_clips
from revise.evaluate.metrics import click_db, fft_size, spectral_flatness
from revise.evaluate.music import (
    chroma_distance,
    frame_rate_peak_excess_db,
    mfcc_distance,
    tempo,
    third_octave_difference_db,
)
from revise.evaluate.seams import evaluate_stream
from revise.generation import continue_prompt
from revise.hints.autoregressive import crossfade_weights
from revise.hints.continuation import ar_lead, prompt_problem

log = logging.getLogger(__name__)

CLEAR_BEAT = 0.4  # onset autocorrelation at the beat period above which a prompt "has a clear beat"
NEAR_FULL_SCALE = 0.999  # a sample this loud counts as clipped (or squashed by a limiter)
LOOP_FADE_SECONDS = 0.02
BARLESS_LOOP_SECONDS = 2.0  # the loop's length when the prompt has no clear beat
SEAM_HALF_WIDTH_SECONDS = 0.002
METHODS = ("revise", "revise passes=1", "naive join", "loop last bar", "prompt's end", "true continuation")


@dataclass
class GenerationResults:
    """Per clip: {"clip", "rate", "channels", "prompt_bpm", "prompt_clarity", "methods": {name: metrics}}."""

    clips: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    spectrograms: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # clip -> method -> mono audio

    def to_json(self) -> dict[str, Any]:
        return {"settings": self.settings, "clips": self.clips, "summary": summarise(self.clips)}


def run_generation_benchmark(
    clips_dir: str | Path, model, prompt_seconds: float, seconds: float, seed: int = 0,
    max_clips: int | None = None, progress: bool = False,
) -> GenerationResults:
    """Benchmark every method on each clip of `clips_dir` long enough for the prompt and the continuation."""
    if not (prompt_seconds > 0 and seconds >= 1.0):
        raise ValueError("the prompt must be longer than 0 s and the continuation at least 1 s (level is per second).")
    paths = find_clips(clips_dir, "--generation")[:max_clips]
    results = GenerationResults(settings={"clips_dir": str(clips_dir), "prompt_seconds": prompt_seconds,
                                          "seconds": seconds, "seed": seed, "passes": GENERATION_PASSES,
                                          "clear_beat": CLEAR_BEAT, "frame_rate_hz": _frame_rate(model)})
    for path in tqdm(paths, desc="clips", unit="clip", disable=not progress):
        audio = read_audio(path)
        x, rate = to_float(audio.samples).astype(np.float64), audio.sample_rate
        cut, end = round(prompt_seconds * rate), round((prompt_seconds + seconds) * rate)
        if len(x) < end:
            log.info("%s: %.1f s, shorter than prompt and continuation; skipped", path.name, audio.seconds)
            continue
        prompt, truth = x[:cut], x[cut:end]
        problem = prompt_problem(prompt, rate)
        if problem:
            log.warning("%s skipped: %s", path.name, problem)
            continue
        bpm, clarity = tempo(prompt.mean(axis=1), rate)
        continuations = continue_every_way(prompt, truth, rate, seconds, model, seed, bpm, clarity)
        metrics = {name: continuation_metrics(audio_, seams, prompt, truth, rate, model, bpm, clarity)
                   for name, (audio_, seams) in continuations.items()}
        name = str(path.relative_to(clips_dir))
        results.clips.append({"clip": name, "rate": rate, "channels": x.shape[1], "prompt_bpm": bpm,
                              "prompt_clarity": clarity, "methods": metrics})
        results.spectrograms[name] = {"prompt": prompt.mean(axis=1),
                                      **{m: _mono(continuations[m][0]) for m in METHODS}}
    if not results.clips:
        raise ValueError(f"no clip in {clips_dir} holds {prompt_seconds:g} s of prompt and {seconds:g} s after it.")
    return results


def continue_every_way(prompt, truth, rate: int, seconds: float, model, seed: int, bpm: float,
                       clarity: float) -> dict[str, tuple]:
    """{method: (continuation [m, C] or [m], seams in samples from its start or None)} for METHODS;
    the prompt's own end is a seam of every method and is not listed."""
    def similarity(passes: int | None, join: str = "crossfade") -> tuple:
        out, joins = continue_prompt(prompt, rate, seconds, passes, model, seed, join=join)
        return out[len(prompt) :], joins[1:]  # the first join is the prompt's end

    runs: dict[str, Callable[[], tuple]] = {
        "revise": lambda: similarity(None), "revise passes=1": lambda: similarity(1),
        "naive join": lambda: similarity(0, "naive"),
        "loop last bar": lambda: loop_last_bar(prompt, rate, len(truth), bpm if clarity >= CLEAR_BEAT else None),
        "prompt's end": lambda: (prompt[-len(truth) :], ()),
        "true continuation": lambda: (truth, ()),
    }
    return {name: runs[name]() for name in METHODS}


def loop_last_bar(prompt: np.ndarray, rate: int, samples: int, bpm: float | None) -> tuple[np.ndarray, tuple]:
    """The prompt's last bar (4 beats at `bpm`, or BARLESS_LOOP_SECONDS without a beat) repeated to
    `samples`. Each repeat's end fades over LOOP_FADE_SECONDS into what precedes the bar in the
    prompt, so the next repeat starts as the bar did; the first repeat fades in over the prompt's
    AR-predicted continuation, as `revise`'s first piece does. ([samples, C], seams)"""
    fade = round(LOOP_FADE_SECONDS * rate)
    bar = min(round((240.0 / bpm if bpm else BARLESS_LOOP_SECONDS) * rate), len(prompt) - fade - 1)
    fade = min(fade, bar // 2)
    loop = prompt[-bar:].copy()
    fade_in = crossfade_weights(fade)[::-1, None]  # rising; the sound faded out gets 1 - fade_in
    loop[-fade:] = (1 - fade_in) * loop[-fade:] + fade_in * prompt[-bar - fade : -bar]
    out = np.tile(loop, (-(-samples // bar), 1))[:samples]
    out[:fade] = fade_in * out[:fade] + (1 - fade_in) * ar_lead(prompt, fade, rate)[: len(out)]
    return out, tuple(range(bar - fade // 2, samples, bar))  # the centres of the repeats' crossfades


def continuation_metrics(audio, seams, prompt, truth, rate: int, model, prompt_bpm: float,
                         prompt_clarity: float) -> dict[str, Any]:
    """Every figure of one continuation (see the report's metric table)."""
    c, p, t = _mono(audio), prompt.mean(axis=1), truth.mean(axis=1)
    bpm = tempo(c, rate)[0]
    # level against the prompt's RMS, flatness and the frame-grid ratio, as `revise evaluate AUDIO` gives them
    stream = evaluate_stream(np.concatenate([p, c]), rate, model.frame.frame_length, model.frame.hop_length,
                             model.sample_rate, len(p) / rate)
    return {
        "level_max_ratio": stream["level_max_ratio"],
        "clipped": int(np.sum(np.abs(np.asarray(audio)) >= NEAR_FULL_SCALE)),
        "flatness_ratio": stream["spectral_flatness"] / max(spectral_flatness(t, fft_size(rate)), 1e-12),
        "third_octave_db": third_octave_difference_db(c, t, rate),
        "chroma_distance": chroma_distance(c, t, rate),
        "mfcc_distance": mfcc_distance(c, t, rate),
        "bpm": bpm,
        "tempo_error": abs(bpm - prompt_bpm) / prompt_bpm if prompt_clarity >= CLEAR_BEAT else None,
        "frame_comb_db": frame_rate_peak_excess_db(c, p, rate, _frame_rate(model)),
        "boundary_ratio": stream["boundary_discontinuity_ratio"],
        "seam_click_db": _seam_click(p, c, rate, seams),
    }


def _seam_click(prompt: np.ndarray, continuation: np.ndarray, rate: int, seams) -> float:
    """Median over the seams (the prompt's end, then `seams`: samples after it) of each seam's click
    against the audio away from the seams (`click_db`)."""
    tail = prompt[-rate:]
    signal = np.concatenate([tail, continuation])
    positions = sorted({len(tail), *(len(tail) + s for s in (seams or ()))})
    half = max(1, round(SEAM_HALF_WIDTH_SECONDS * rate))
    return float(np.median([click_db(signal, [p], half_width=half) for p in positions]))


def summarise(clips: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Median over clips of every metric, per method (None where no clip gives a value)."""
    summary: dict[str, dict[str, float | None]] = {}
    for method in METHODS:
        rows = [clip["methods"][method] for clip in clips]
        summary[method] = {}
        for metric in rows[0]:
            values = [row[metric] for row in rows if row[metric] is not None]
            summary[method][metric] = float(np.median(values)) if values else None
    return summary


def _mono(audio) -> np.ndarray:
    array = np.asarray(audio, dtype=np.float64)
    return array if array.ndim == 1 else array.mean(axis=1)


def _frame_rate(model) -> float:
    return model.sample_rate / model.frame.hop_length
