"""`ConcealResults` as report.md, results.json and a plot of SNR against lookahead (latency in ms).

Plots use matplotlib's object API on an Agg canvas, as `revise.evaluate.report` does.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from revise.conceal_config import ConcealConfig
from revise.evaluate.conceal import ConcealResults, lookahead_name, patterns
from revise.evaluate.report import finish_axis, png_bytes, write_atomic, write_json

_METRICS = (("snr", "median SNR over lost packets (dB, higher is better)"),
            ("lsd", "median log-spectral distance over lost runs (dB, lower is better)"),
            ("click", "median edge click against the reference (dB, 0 or below: no louder)"))
DESCRIPTIONS = {
    "zero": "silence", "repeat": "the last packet played, repeated",
    "pitch": "G.711 Appendix I style pitch repetition, attenuated over bursts",
    "burg": "one-sided Burg AR at the AR baseline's settings (ar-causal)",
    "inpaint": "offline `revise inpaint` of the same gaps: the ceiling, it sees the whole file",
}


def write_conceal_report(results: ConcealResults, out_dir: str | Path) -> list[Path]:
    """Write report.md, results.json and snr_vs_lookahead.png into `out_dir` (created). Returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [write_atomic(out / "report.md", conceal_markdown(results).encode()),
            write_json(out / "results.json", results.to_json()),
            write_atomic(out / "snr_vs_lookahead.png", png_bytes(plot_snr_vs_lookahead(results)))]


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def _pattern_names(results: ConcealResults) -> list[str]:
    return [name for name, _ in patterns(results.settings["burst"])]


def _table(results: ConcealResults, packet: str) -> list[str]:
    """One row per method: each metric under each loss pattern."""
    names = _pattern_names(results)
    header = ["method", *(f"{m} {p}" for m, _ in _METRICS for p in names)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method in results.settings["methods"]:
        cells = [_cell(results.median(packet, p, method, m)) for m, _ in _METRICS for p in names]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return lines


def bar_lines(results: ConcealResults) -> list[str]:
    """The issue's quality bars, each met or missed with its figures (median SNR over lost packets)."""
    default = ConcealConfig().lookahead
    lines = []
    for packet in results.scores:
        for pattern in _pattern_names(results):
            def snr(method: str) -> float | None:
                return results.median(packet, pattern, method)
            where = f"{packet} ms, {pattern}"
            l0, best = snr(lookahead_name(0)), max(filter(None, (snr("repeat"), snr("pitch"))), default=None)
            if l0 is not None and best is not None:
                lines.append(f"- {where}: lookahead 0 beats repeat and pitch by >= 1 dB: "
                             f"{'met' if l0 - best >= 1 else 'MISSED'} ({l0:.2f} against {best:.2f})")
            if l0 is not None and snr("burg") is not None:
                lines.append(f"- {where}: lookahead 0 no worse than one-sided Burg: "
                             f"{'met' if l0 >= snr('burg') else 'MISSED'} ({l0:.2f} against {snr('burg'):.2f})")
            steps = [(k, snr(lookahead_name(k - 1)), snr(lookahead_name(k))) for k in range(1, default + 1)]
            if all(a is not None and b is not None for _, a, b in steps):
                ok = all(b > a for _, a, b in steps)
                figures = ", ".join(f"{b:.2f}" for _, _, b in steps)
                lines.append(f"- {where}: each lookahead up to {default} beats the one before: "
                             f"{'met' if ok else 'MISSED'} ({l0:.2f}, {figures})")
            two, ceiling = snr(lookahead_name(2)), snr("inpaint")
            if two is not None and ceiling is not None:
                lines.append(f"- {where}: lookahead 2 within 1 dB of offline inpainting: "
                             f"{'met' if two >= ceiling - 1 else 'MISSED'} ({two:.2f} against {ceiling:.2f})")
    return lines


def conceal_markdown(results: ConcealResults) -> str:
    s = results.settings
    lines = ["# revise concealment benchmark", "",
             f"{len(s['clips'])} clips (first {s['seconds_per_clip']:g} s each, own rate and channels), "
             f"{s['loss_rate']:.0%} of packets lost, independently (`random`) or in runs of 2 to {s['burst']} "
             f"packets, seed {s['seed']}. Methods: " + "; ".join(f"`{k}` {v}" for k, v in DESCRIPTIONS.items())
             + "; `lookahead=K` the streaming concealer K packets late (latency K × packet).", ""]
    for packet in results.scores:
        lines += [f"## {packet} ms packets ({results.lost_packets.get(packet, 0)} lost packets)", "",
                  *_table(results, packet), ""]
    lines += ["Metrics: " + "; ".join(f"{m}: {d}" for m, d in _METRICS) + ".", "", "## Bars", "",
              *bar_lines(results), "", "## Cost (CPU seconds per lost packet, all packet sizes)", "",
              "| method | ms per lost packet |", "|---|---|"]
    total = max(1, sum(results.lost_packets.values()))
    lines += [f"| {m} | {1000 * t / total:.3f} |" for m, t in results.seconds.items()]
    lines += ["", "![SNR against lookahead](snr_vs_lookahead.png)", ""]
    return "\n".join(lines)


def plot_snr_vs_lookahead(results: ConcealResults) -> Figure:
    """Median SNR over lost packets against the latency added (lookahead × packet, ms), one line per packet
    size and pattern; offline inpainting of the same gaps dashed in the same colour."""
    figure = Figure(figsize=(7, 4.4), layout="constrained")
    axis = figure.subplots()
    lookaheads = results.settings["lookaheads"]
    index = 0
    for packet in results.scores:
        for pattern in _pattern_names(results):
            colour = f"C{index}"
            index += 1
            values = [results.median(packet, pattern, lookahead_name(k)) for k in lookaheads]
            axis.plot([k * float(packet) for k in lookaheads], values, marker="o", color=colour,
                      label=f"{packet} ms, {pattern}")
            ceiling = results.median(packet, pattern, "inpaint")
            if ceiling is not None:
                axis.axhline(ceiling, color=colour, linestyle="--", alpha=0.6)
    finish_axis(axis, "latency added (lookahead × packet, ms)", "median SNR over lost packets (dB)",
                "streaming concealment against lookahead (dashed: offline inpaint)")
    return figure
