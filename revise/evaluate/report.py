"""Turn `BenchmarkResults` into report.md, results.json and PNG plots.

Plots use matplotlib's object API on an Agg canvas (no pyplot, no global backend change), so
writing a report never opens a window or disturbs a caller's matplotlib setup.
"""

from __future__ import annotations

import io
import json
import math
import os
import secrets
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from revise.evaluate.benchmark import BenchmarkResults, WorstSeam, gap_label
from revise.evaluate.metrics import fft_size

_TABLES = (
    ("gap_snr", "Median gap SNR (dB, higher is better)"),
    ("lsd", "Median log-spectral distance on the frames touching the gap (dB, lower is better)"),
    ("mrstft", "Median multi-resolution STFT distance (lower is better)"),
    ("click_db", "Median click at the gap edges (dB against the reference; 0 or below: no louder than it)"),
)


def write_report(results: BenchmarkResults, out_dir: str | Path) -> list[Path]:
    """Write report.md, results.json and the PNG plots into `out_dir` (created); returns the paths.

    Each file is written to a temporary name and renamed, so none is ever left half-written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [
        write_atomic(out / "report.md", markdown_report(results).encode()),
        write_json(out / "results.json", results.to_json()),
        write_atomic(out / "metrics_vs_gap.png", png_bytes(_plot_metrics_vs_gap(results))),
        write_atomic(out / "snr_vs_passes.png", png_bytes(_plot_snr_vs_passes(results))),
    ]
    if results.worst_seam is not None:
        written.append(write_atomic(out / "worst_seam.png", png_bytes(_plot_worst_seam(results.worst_seam))))
    return written


def write_atomic(path: Path, data: bytes) -> Path:
    temp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    try:
        temp.write_bytes(data)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def write_json(path: Path, value: Any) -> Path:
    """`value` as indented JSON with its floats `rounded`, written atomically (`write_atomic`)."""
    return write_atomic(path, (json.dumps(rounded(value), indent=1) + "\n").encode())


def rounded(value: Any) -> Any:
    """Floats rounded to 6 decimals (None for NaN or infinity) all through nested lists and dicts."""
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: rounded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(item) for item in value]
    return value


def _labels(results: BenchmarkResults) -> list[str]:
    return [gap_label(g) for g in results.settings["gap_ms"]]


def _median(results: BenchmarkResults, method: str, label: str, metric: str = "gap_snr") -> float | None:
    return results.aggregates[method][label][metric]["median"]


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{0.0 if abs(value) < 0.005 else value:.2f}"


def _header(first: str, columns: list[str]) -> list[str]:
    """A Markdown table's header row and rule: `first` then `columns`."""
    return ["| " + " | ".join([first, *columns]) + " |", "|---" * (len(columns) + 1) + "|"]


def _table(results: BenchmarkResults, metric: str) -> list[str]:
    labels = _labels(results)
    lines = _header("method", [f"{label} ms" for label in labels])
    for method in results.methods:
        cells = [_cell(_median(results, method.name, label, metric)) for label in labels]
        lines.append(f"| {method.name} | " + " | ".join(cells) + " |")
    return lines


def _octave_tables(results: BenchmarkResults) -> list[str]:
    """One table per gap length: a row per method, a column per octave (lower edge in Hz)."""
    lines = []
    for label in _labels(results):
        bands = list(results.aggregates["ar"][label]["octave_db"])
        lines += [f"{label} ms:", "", *_header("method", [f"{band} Hz" for band in bands])]
        for method in results.methods:
            if method.kind == "zero":
                continue  # silence: minus infinity in every band
            octaves = results.aggregates[method.name][label]["octave_db"]
            lines.append(f"| {method.name} | " + " | ".join(f"{octaves[band]:+.1f}" for band in bands) + " |")
        lines.append("")
    return lines


def _cost_table(results: BenchmarkResults) -> list[str]:
    labels, cost = _labels(results), results.seconds_per_gap
    lines = _header("method", [f"{label} ms" for label in labels])
    for method in results.methods:
        lines.append(f"| {method.name} | " + " | ".join(f"{1000 * cost[method.name][label]:.0f}" for label in labels) + " |")
    return lines


def _passes_table(results: BenchmarkResults) -> list[str]:
    labels = _labels(results)
    lines = _header("passes", [f"{label} ms" for label in labels])
    lines.append("| AR baseline | " + " | ".join(_cell(_median(results, "ar", label)) for label in labels) + " |")
    for passes, method in _passes_methods(results):
        lines.append(f"| {passes} | " + " | ".join(_cell(_median(results, method, label)) for label in labels) + " |")
    return lines


def _passes_methods(results: BenchmarkResults) -> list[tuple[int, str]]:
    """(passes, name) of every model method as users get it, in the benchmark's order (increasing passes)."""
    return [(m.passes, m.name) for m in results.methods if m.kind == "revise" and m.guard]


def _winner_lines(results: BenchmarkResults) -> list[str]:
    """Per gap length: the best method, its margin over AR, and revise at the default passes against AR."""
    default = results.settings["default_method"]
    lines = []
    for label in _labels(results):
        ar = _median(results, "ar", label)
        best = max((m.name for m in results.methods), key=lambda name: _median(results, name, label))
        gain = results.aggregates[default][label]["snr_gain_vs_ar"]
        own = _median(results, default, label) - ar
        top = _median(results, best, label)
        head = (f"best is the AR baseline at {ar:.2f} dB" if best == "ar" else
                f"best is `{best}` at {top:.2f} dB, {top - ar:+.2f} dB against the AR baseline ({ar:.2f} dB)")
        lines.append(f"- **{label} ms**: {head}; `{default}` (the default) is {own:+.2f} dB against AR "
                     f"(paired median {gain['median']:+.2f} dB, better than AR on "
                     f"{100 * gain['share_better']:.0f}% of gaps).")
    return lines


def _passes_lines(results: BenchmarkResults) -> list[str]:
    """Per gap length: the best number of passes and whether any number of passes falls below passes 0."""
    lines = []
    for label in _labels(results):
        runs = [(k, _median(results, m, label)) for k, m in _passes_methods(results)]
        zero = dict(runs)[0]
        best_k, best = max(runs, key=lambda run: run[1])
        worse = [f"{k} ({v - zero:+.2f} dB)" for k, v in runs if v < zero]
        tail = f"below passes 0: {', '.join(worse)}" if worse else "no number of passes is below passes 0"
        lines.append(f"- **{label} ms**: best is {_count_passes(best_k)} at {best:.2f} dB, "
                     f"{best - zero:+.2f} dB over passes 0; {tail}.")
    return lines


def markdown_report(results: BenchmarkResults) -> str:
    """The report as Markdown: settings, one table per metric, SNR against passes, who wins, plots."""
    s = results.settings
    lines = [
        "# revise benchmark", "",
        f"{s['gaps_per_length']} gaps per gap length from {len(s['clips'])} clips in `{s['clips_dir']}`, mono at "
        f"{s['sample_rate']} Hz (the model's rate is {s.get('model_rate', s['sample_rate'])} Hz), "
        f"{s['context_seconds']} s of context on each side, seed {s['seed']}.",
        f"Methods: `zero` fills silence; `ar` is two-sided Burg AR extrapolation (order {s['ar_baseline']['order']}, "
        f"{s['ar_baseline']['context']} samples of context per side) with a raised-cosine crossfade; `janssen` is "
        f"gap-wise Janssen at the same order and context ({s['janssen_iterations']} iterations of AR estimation "
        f"and least-squares interpolation); `match` is the "
        f"similarity fill alone (the best-matching stretch of the same clip, cut in at the gap edges); `ar+match` is "
        f"the mean of the two; `passes=0` is the drafter's draft joined by crossfade with no revision; "
        f"`revise passes=K` adds K revision passes "
        f"(schedule `{s['schedule']}`) and keeps, per gap, whichever of its own fill, `ar` and `janssen` fills "
        f"pseudo-gaps cut beside the gap best (what `revise inpaint` does); `reviser only passes=K` always keeps "
        f"its own fill. The model's default is {_count_passes(s['default_passes'])}"
        + (f"; model `{s['model_path']}`." if "model_path" in s else "."), "",
    ]
    for metric, title in _TABLES:
        lines += [f"## {title}", "", *_table(results, metric), ""]
    lines += ["## Energy in the gap per octave against the reference (median dB, 0 is right)", "",
              *_octave_tables(results), ""]
    lines += ["## Median gap SNR against the number of passes (dB)", "", *_passes_table(results), ""]
    if results.seconds_per_gap:
        lines += ["## Cost (milliseconds per gap, filled in batches on one thread)", "", *_cost_table(results), ""]
    lines += ["## Who wins (median gap SNR)", "", *_winner_lines(results), "", "## Do more passes help?", "",
              *_passes_lines(results), "", "## Plots", "", "![metrics against gap length](metrics_vs_gap.png)", "",
              "![gap SNR against passes](snr_vs_passes.png)", ""]
    if results.worst_seam is not None:
        w = results.worst_seam
        lines += ["![worst seam](worst_seam.png)", "",
                  f"Worst seam of `{w.method}`: {w.gap_ms:g} ms gap in `{w.clip}`, click {w.click_db:+.2f} dB "
                  "against the reference.", ""]
    return "\n".join(lines)


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _plot_metrics_vs_gap(results: BenchmarkResults) -> Figure:
    """Median gap SNR, LSD and edge click against gap length, one line per method.

    Zero fill is left off the LSD and click panels, where its values would flatten the rest.
    """
    figure = Figure(figsize=(14, 4.2), layout="constrained")
    axes = figure.subplots(1, 3)
    gaps = results.settings["gap_ms"]
    panels = (("gap_snr", "median gap SNR (dB)"), ("lsd", "median LSD (dB)"), ("click_db", "median edge click (dB)"))
    for axis, (metric, name) in zip(axes, panels):
        for index, method in enumerate(results.methods):
            if method.kind == "zero" and metric != "gap_snr":
                continue
            values = [_median(results, method.name, label, metric) for label in _labels(results)]
            axis.plot(gaps, [np.nan if v is None else v for v in values], marker="o", label=method.name,
                      color=f"C{index}")
        axis.set_xscale("log")
        axis.minorticks_off()
        axis.set_xticks(gaps, _labels(results))
        axis.set_xlabel("gap length (ms)")
        axis.set_ylabel(name)
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    return figure


def _plot_snr_vs_passes(results: BenchmarkResults) -> Figure:
    """Median gap SNR against passes, one line per gap length, the AR baseline dashed in the same colour."""
    figure = Figure(figsize=(6.5, 4.2), layout="constrained")
    axis = figure.subplots()
    runs = _passes_methods(results)
    for index, label in enumerate(_labels(results)):
        colour = f"C{index}"
        axis.plot([k for k, _ in runs], [_median(results, m, label) for _, m in runs], marker="o", color=colour,
                  label=f"{label} ms")
        axis.axhline(_median(results, "ar", label), color=colour, linestyle="--", alpha=0.6)
    finish_axis(axis, "revision passes", "median gap SNR (dB)", "revise against passes (dashed: AR baseline)")
    return figure


def finish_axis(axis, xlabel: str, ylabel: str, title: str) -> None:
    """Labels, title, a light grid and a small legend: how every line plot of a report ends."""
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)


def _plot_worst_seam(w: WorstSeam) -> Figure:
    """Waveforms around the louder edge of the worst gap, and both spectrograms of its window."""
    figure = Figure(figsize=(10, 8), layout="constrained")
    wave, ref_spec, est_spec = figure.subplots(3, 1)
    edge, half = w.edge, round(0.02 * w.rate)
    a, b = max(0, edge - half), min(len(w.reference), edge + half)
    t = (np.arange(a, b) - w.start) / w.rate * 1000
    wave.plot(t, w.reference[a:b], label="reference", linewidth=1)
    wave.plot(t, w.estimate[a:b], label=w.method, linewidth=1)
    wave.axvspan(0, (w.end - w.start) / w.rate * 1000, color="grey", alpha=0.15, label="gap")
    wave.set_xlim(t[0], t[-1])
    wave.set_xlabel("time from the gap's start (ms)")
    wave.set_title(f"worst seam: {w.clip}, {w.gap_ms:g} ms gap, click {w.click_db:+.2f} dB")
    wave.legend(fontsize=8)
    n_fft = fft_size(w.rate)
    limits = None
    for axis, signal, name in ((ref_spec, w.reference, "reference"), (est_spec, w.estimate, w.method)):
        image = axis.specgram(signal, NFFT=n_fft, Fs=w.rate, noverlap=n_fft * 3 // 4, cmap="magma")[3]
        limits = limits or image.get_clim()  # one colour scale for both, the reference's
        image.set_clim(*limits)
        for sample in (w.start, w.end):
            axis.axvline(sample / w.rate, color="white", linestyle="--", linewidth=1)
        axis.set_ylabel("Hz")
        axis.set_title(f"spectrogram: {name}")
    est_spec.set_xlabel("time in the window (s)")
    return figure


def _count_passes(count: int) -> str:
    """1 -> "1 pass", 2 -> "2 passes"."""
    return f"{count} pass" if count == 1 else f"{count} passes"
