"""Measure one fill or a whole folder: `evaluate_fill` and `run_benchmark`.

`evaluate_fill` scores one fill against its reference (gap and seam metrics per gap);
`run_benchmark` cuts seeded gaps into a folder of clips at one rate (the model's by default), fills them with every
method of `revise.evaluate.methods` and gathers the metrics of `revise.evaluate.metrics`;
`revise.evaluate.report` turns its results into a Markdown table, JSON and plots. Never imports
Lightning; logs, never prints (the CLI owns the terminal, and the progress bar goes to stderr).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from revise.audio import AUDIO_SUFFIXES, AudioError, list_audio_files, read_audio, resample, to_float, to_mono
from revise.config import (
    BENCHMARK_GAP_MS,
    BENCHMARK_GAPS_PER_CLIP,
    BENCHMARK_PASSES,
    JANSSEN_ITERATIONS,
    MAX_GAP_SECONDS,
    SILENT_RMS,  # a gap or context this quiet says nothing about a method
)
from revise.evaluate.methods import BASELINES, Method, baseline_settings, benchmark_methods, fill
from revise.evaluate.metrics import gap_metrics
from revise.inpainting import reach_seconds
from revise.model_files import model_settings
from revise.runtime.model import InferenceModel, as_inference_model

if TYPE_CHECKING:
    from revise.nn.model import RevisionModel

log = logging.getLogger(__name__)

BATCH = 64  # gap windows filled in one call (they share one layout, so they run as channels)
METRICS = ("gap_snr", "lsd", "mrstft", "click_db")


def evaluate_fill(
    reference: np.ndarray, estimate: np.ndarray, rate: int, gaps: Sequence[tuple[int, int]]
) -> list[dict[str, Any]]:
    """Gap and seam metrics of one fill, one dict per gap (start, end and `gap_metrics`' keys).

    reference, estimate: [n] or [n, C] of one shape, native or float samples (mixed to mono);
    gaps: (start, end) sample pairs at `rate`.
    """
    reference, estimate = np.asarray(reference), np.asarray(estimate)
    if reference.shape != estimate.shape:
        raise ValueError(f"reference and estimate differ in shape ({reference.shape} vs {estimate.shape}).")
    if not gaps:
        raise ValueError("no gap given; pass at least one START:END.")
    reference = to_mono(to_float(reference))
    estimate = to_mono(to_float(estimate))
    results = []
    for start, end in gaps:
        if not 0 <= start < end <= len(reference):
            raise ValueError(f"gap {start}:{end} (samples) does not lie inside the {len(reference)} samples of audio.")
        results.append({"start": int(start), "end": int(end), **gap_metrics(reference, estimate, start, end, rate)})
    return results


@dataclass
class WorstSeam:
    """The gap with the loudest edge for one method, with its window, for the report's plot."""

    method: str
    clip: str
    gap_ms: float
    start: int  # the gap [start, end) inside the window, in samples at `rate`
    end: int
    edge: int  # the louder edge: start or end
    click_db: float
    rate: int
    reference: np.ndarray  # [n]
    estimate: np.ndarray  # [n]


@dataclass
class BenchmarkResults:
    """What `run_benchmark` measured.

    gaps: one dict per gap: clip, gap_ms, start_s, end_s (seconds in the clip)
    and metrics {method: gap_metrics}. aggregates: method -> gap label ("20") -> metric ->
    {median, mean, q25, q75, count}, plus snr_gain_vs_ar {median, share_better} (paired with AR)
    and octave_db {octave: median dB of the fill's energy against the reference's}.
    """

    settings: dict[str, Any]
    gaps: list[dict[str, Any]]
    aggregates: dict[str, dict[str, dict[str, Any]]]
    methods: list[Method] = field(default_factory=list)
    worst_seam: WorstSeam | None = None
    seconds_per_gap: dict[str, dict[str, float]] = field(default_factory=dict)  # method -> gap label -> s

    def to_json(self) -> dict[str, Any]:
        """Plain data for results.json (the worst seam's waveforms and the timings, which differ from
        run to run, left out: the same seed gives the same file)."""
        worst = None
        if self.worst_seam is not None:
            w = self.worst_seam
            worst = {"method": w.method, "clip": w.clip, "gap_ms": w.gap_ms, "click_db": w.click_db}
        return {"settings": self.settings, "methods": [m.name for m in self.methods], "aggregates": self.aggregates,
                "worst_seam": worst, "gaps": self.gaps}


def gap_label(gap_ms: float) -> str:
    """20.0 -> "20", 12.5 -> "12.5": the key of a gap length in tables and JSON."""
    return f"{gap_ms:g}"


def find_clips(clips_dir: str | Path, option: str = "--benchmark") -> list[Path]:
    """Audio files under `clips_dir` (recursively, hidden ones skipped), sorted by relative path;
    `option` names the command-line option in the error for an empty folder."""
    root = Path(clips_dir)
    if not root.is_dir():
        raise ValueError(f"the benchmark folder {root} does not exist or is not a folder.")
    files = list_audio_files(root)
    if not files:
        raise ValueError(
            f"{root} holds no audio files ({', '.join(AUDIO_SUFFIXES)}); point {option} at a folder of clips.")
    return files


def load_clip(path: Path, rate: int) -> np.ndarray:
    """A clip as mono float64 [n] at `rate`."""
    audio = read_audio(path)
    return np.asarray(resample(to_mono(to_float(audio.samples)), audio.sample_rate, rate), dtype=np.float64)


def place_gaps(
    signal: np.ndarray, min_gap: int, max_gap: int, context: int, count: int, rng: np.random.Generator
) -> list[int]:
    """Centres (samples) of up to `count` gaps in `signal` [n], shared by every gap length.

    The windows [c - max_gap/2 - context, c + max_gap/2 + context) lie inside the signal and are
    disjoint, so no two gaps share context. Slots where the central `min_gap` samples or either
    context are near-silent (RMS < SILENT_RMS) are skipped; the rest are drawn at random.
    """
    width = max_gap + 2 * context
    slots = len(signal) // width
    if slots == 0:
        return []
    base = int(rng.integers(0, len(signal) - slots * width + 1))
    centres = [base + k * width + width // 2 for k in range(slots)]
    loud = [c for c in centres if not _quiet(signal, c, min_gap, max_gap, context)]
    if len(loud) > count:
        loud = sorted(int(c) for c in rng.choice(loud, size=count, replace=False))
    return loud


def _quiet(signal: np.ndarray, centre: int, min_gap: int, max_gap: int, context: int) -> bool:
    inner, left = centre - min_gap // 2, centre - max_gap // 2
    parts = [(inner, inner + min_gap), (left - context, left), (left + max_gap, left + max_gap + context)]
    return any(float(np.sqrt(np.mean(signal[a:b] ** 2))) < SILENT_RMS for a, b in parts)


def run_benchmark(
    clips_dir: str | Path,
    model: InferenceModel | RevisionModel,
    gap_ms: Sequence[float] = BENCHMARK_GAP_MS,
    passes: Sequence[int] = BENCHMARK_PASSES,
    gaps_per_clip: int = BENCHMARK_GAPS_PER_CLIP,
    seed: int = 0,
    progress: bool = True,
    max_clips: int | None = None,
    threads: int | None = 1,
    baselines: Sequence[Method] = BASELINES,
    rate: int | None = None,
) -> BenchmarkResults:
    """Cut seeded gaps into every clip of `clips_dir`, fill them with every method, measure them.

    Clips are mixed to mono and resampled to `rate` (None: the model's), where every method fills
    and is scored (at 44.1 kHz the band above the model's is scored too). Up to `gaps_per_clip` centres per
    clip (the first `max_clips` clips, sorted) are drawn with numpy seeded by (seed, clip index);
    every gap length is cut at each centre, with `window_context_seconds` of audio on each side. The
    model's default passes are always run, with and without the choice among fills, and passes 0
    as a baseline, beside `baselines`. Same seed, same figures.
    `threads` caps the BLAS threads while filling (None leaves them): the RNN steps are too small
    to gain from more, and on a shared 2-core machine two threads ran many times slower than one
    (each op waits for a descheduled thread; MODEL_CARD.md). `model` may be a torch `RevisionModel`
    (converted once) or an `InferenceModel`.
    """
    model = as_inference_model(model)
    _check_settings(gap_ms, passes, gaps_per_clip, max_clips)
    if not 0 <= seed < 2**63:
        raise ValueError(f"the seed must be a whole number from 0 to 2**63 - 1, got {seed}.")
    rate = model.sample_rate if rate is None else rate
    if rate < 8000:
        raise ValueError(f"the benchmark's rate must be at least 8000 Hz, got {rate}.")
    layout = GapLayout(rate, round(window_context_seconds(model) * rate),
                       {float(g): max(1, round(g * rate / 1000)) for g in gap_ms})
    cuts = cut_windows(find_clips(clips_dir)[:max_clips], Path(clips_dir), layout, gaps_per_clip, seed)
    if not cuts.gaps:
        seconds = (max(layout.lengths.values()) + 2 * layout.context) / rate
        raise ValueError(f"no clip in {clips_dir} has a loud enough stretch of {seconds:.2f} s for a gap with its "
                         "context; give longer or louder clips.")
    default = Method("revise", model.revision.passes)
    methods = benchmark_methods(sorted({default.passes, *passes}), baselines=baselines, reviser_only=[default.passes])
    with _blas_threads(threads):
        worst, seconds = _fill_all(methods, model, cuts, layout, default, progress)
    settings = _settings(clips_dir, cuts, gap_ms, methods, default, gaps_per_clip, seed, model, rate)
    aggregates = aggregate(cuts.gaps, [m.name for m in methods], list(layout.lengths))
    return BenchmarkResults(settings, cuts.gaps, aggregates, methods, worst, seconds)


@dataclass(frozen=True)
class GapLayout:
    """Where the benchmark's gaps sit in their windows: `context` samples on each side of a gap of
    `lengths[gap_ms]` samples, at `rate` (the model's)."""

    rate: int
    context: int
    lengths: dict[float, int]


@dataclass
class Cuts:
    """What `cut_windows` cut: one record per gap (clip order), and per gap length (ms) the
    reference windows [n] in record order; `clips` names the clips used."""

    gaps: list[dict[str, Any]]
    windows: dict[float, list[np.ndarray]]
    clips: list[str]


def window_context_seconds(model: InferenceModel) -> float:
    """Audio the benchmark keeps on each side of a gap: all that inpainting may read."""
    return reach_seconds(model)


@contextmanager
def _blas_threads(count: int | None) -> Iterator[None]:
    """Run the block with the BLAS libraries limited to `count` threads, then restore the setting."""
    if count is None:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=count):
        yield


def _check_settings(gap_ms, passes, gaps_per_clip: int, max_clips: int | None) -> None:
    if len(gap_ms) == 0 or any(not (np.isfinite(g) and 0 < g <= MAX_GAP_SECONDS * 1000) for g in gap_ms):
        raise ValueError(f"gap lengths must lie in (0, {MAX_GAP_SECONDS * 1000:g}] ms, got {list(gap_ms)}.")
    if len(set(gap_label(g) for g in gap_ms)) != len(gap_ms):
        raise ValueError(f"gap lengths must not repeat, got {list(gap_ms)}.")
    if len(passes) == 0 or any(int(k) != k or k < 0 for k in passes):
        raise ValueError(f"passes must be whole numbers >= 0, got {list(passes)}.")
    if gaps_per_clip < 1 or (max_clips is not None and max_clips < 1):
        raise ValueError("gaps per clip and the number of clips must be at least 1.")


def cut_windows(clips: Sequence[Path], root: Path, layout: GapLayout, count: int, seed: int) -> Cuts:
    """Up to `count` gap centres per clip, each cut at every gap length of `layout` (see `place_gaps`)."""
    rate, lengths, context = layout.rate, layout.lengths, layout.context
    gaps: list[dict[str, Any]] = []
    windows: dict[float, list[np.ndarray]] = {gap_ms: [] for gap_ms in lengths}
    used = []
    for index, path in enumerate(clips):
        name = path.relative_to(root).as_posix()
        try:
            signal = load_clip(path, rate)
        except AudioError as error:
            log.warning("skipping %s: %s", name, error)
            continue
        rng = np.random.default_rng([seed, index])
        centres = place_gaps(signal, min(lengths.values()), max(lengths.values()), context, count, rng)
        if not centres:
            log.info("no loud stretch long enough in %s; skipped", name)
            continue
        used.append(name)
        for centre in centres:
            for gap_ms, n in lengths.items():
                start = centre - n // 2
                windows[gap_ms].append(signal[start - context : start + n + context])
                gaps.append({"clip": name, "gap_ms": gap_ms, "start_s": start / rate,
                             "end_s": (start + n) / rate, "metrics": {}})
    return Cuts(gaps, windows, used)


def _fill_all(methods: list[Method], model: InferenceModel, cuts: Cuts, layout: GapLayout, worst_method: Method,
              progress: bool) -> tuple[WorstSeam | None, dict[str, dict[str, float]]]:
    """Fill every window with every method in batches; store gap_metrics in the records; find the worst
    seam; measure each method's seconds per gap (method -> gap label -> seconds; batched, one thread)."""
    gaps, windows, context, rate = cuts.gaps, cuts.windows, layout.context, layout.rate
    worst: WorstSeam | None = None
    total = len(gaps) * len(methods)
    seconds = {m.name: {gap_label(g): 0.0 for g in layout.lengths} for m in methods}
    with tqdm(total=total, desc="benchmark", unit="fill", disable=not progress, leave=False) as bar:
        for gap_ms, n in layout.lengths.items():
            records = [g for g in gaps if g["gap_ms"] == gap_ms]
            stack = np.stack(windows[gap_ms], axis=1)  # [window, gaps of this length]
            start, end = context, context + n
            for method in methods:
                name = method.name
                for first in range(0, stack.shape[1], BATCH):
                    batch = stack[:, first : first + BATCH]
                    began = time.perf_counter()
                    filled = fill(method, batch, [(start, end)], rate, model)
                    seconds[name][gap_label(gap_ms)] += time.perf_counter() - began
                    for j in range(batch.shape[1]):
                        figures = gap_metrics(batch[:, j], filled[:, j], start, end, rate)
                        records[first + j]["metrics"][name] = figures
                        if method == worst_method and (worst is None or figures["click_db"] > worst.click_db):
                            edge = start if figures["click_db_left"] == figures["click_db"] else end
                            worst = WorstSeam(name, records[first + j]["clip"], gap_ms, start, end, edge,
                                              figures["click_db"], rate, batch[:, j].copy(), filled[:, j].copy())
                    bar.update(batch.shape[1])
    for name, per_length in seconds.items():
        for label, total_seconds in per_length.items():
            count = sum(1 for g in gaps if gap_label(g["gap_ms"]) == label)
            per_length[label] = total_seconds / max(count, 1)
    return worst, seconds


def _stats(values: list[float | None]) -> dict[str, Any]:
    data = np.array([v for v in values if v is not None], dtype=np.float64)
    if len(data) == 0:
        return {"median": None, "mean": None, "q25": None, "q75": None, "count": 0}
    q25, median, q75 = np.percentile(data, [25, 50, 75])
    return {"median": float(median), "mean": float(np.mean(data)), "q25": float(q25), "q75": float(q75),
            "count": int(len(data))}


def aggregate(gaps: list[dict[str, Any]], methods: list[str], gap_ms: list[float]) -> dict[str, Any]:
    """method -> gap label -> {metric: stats, snr_gain_vs_ar: {median, share_better}} over the gaps."""
    out: dict[str, Any] = {}
    for method in methods:
        out[method] = {}
        for length in gap_ms:
            rows = [g["metrics"] for g in gaps if g["gap_ms"] == length]
            stats: dict[str, Any] = {metric: _stats([r[method][metric] for r in rows]) for metric in METRICS}
            gains = np.array([r[method]["gap_snr"] - r["ar"]["gap_snr"] for r in rows])
            stats["snr_gain_vs_ar"] = {"median": float(np.median(gains)), "share_better": float(np.mean(gains > 0))}
            stats["octave_db"] = {band: float(np.median([r[method]["octave_db"][band] for r in rows]))
                                  for band in rows[0][method]["octave_db"]}
            out[method][gap_label(length)] = stats
    return out


def _settings(clips_dir, cuts: Cuts, gap_ms, methods: list[Method], default: Method, gaps_per_clip, seed,
              model, rate: int) -> dict[str, Any]:
    ar, _ = baseline_settings(rate, model)
    return {
        "clips_dir": str(clips_dir), "clips": cuts.clips, "gap_ms": [float(g) for g in gap_ms],
        "gaps_per_length": len(cuts.gaps) // len(gap_ms), "gaps_per_clip": gaps_per_clip, "seed": seed,
        "methods": [m.name for m in methods],
        "passes": sorted(m.passes for m in methods if m.kind == "revise" and m.guard),
        "default_passes": default.passes, "default_method": default.name, "schedule": model.revision.schedule,
        "sample_rate": rate, "model_rate": model.sample_rate, "context_seconds": window_context_seconds(model), "silent_rms": SILENT_RMS,
        "ar_baseline": {"order": ar.order, "context": ar.context}, "janssen_iterations": JANSSEN_ITERATIONS,
        "model": model_settings(model),
    }
