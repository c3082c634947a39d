"""The generation benchmark's report: report.md (medians over clips, per-clip harmony and timbre,
the bars), results.json, and one spectrogram PNG per clip (prompt end + each continuation)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from scipy.signal import stft

from revise.evaluate.generation import CLEAR_BEAT, METHODS, GenerationResults, summarise
from revise.evaluate.report import png_bytes, write_atomic, write_json

SPECTROGRAM_METHODS = ("true continuation", "revise", "loop last bar", "naive join")
PROMPT_SHOWN_SECONDS = 3.0
# (key, column, format, what it is)
COLUMNS = (
    ("level_max_ratio", "level ×", "{:.2f}", "max over whole seconds of max(rms / prompt rms, prompt rms / rms); 1 is steady"),
    ("clipped", "clipped", "{:.0f}", "samples at or above 0.999 of full scale"),
    ("flatness_ratio", "flatness ×", "{:.2f}", "spectral flatness over the true continuation's; 1 is the same texture"),
    ("third_octave_db", "LTAS dB", "{:.1f}", "largest |difference| of the long-term spectrum per third-octave band, 50 Hz-16 kHz, from the true continuation's"),
    ("chroma_distance", "chroma", "{:.3f}", "1 - cosine of the mean chroma (harmony) against the true continuation's"),
    ("mfcc_distance", "MFCC", "{:.1f}", "distance of the MFCC means (timbre, c1-c13, dB) from the true continuation's"),
    ("tempo_error", "tempo err", "{:.1%}", f"|bpm - prompt bpm| / prompt bpm, on prompts with a clear beat (onset autocorrelation >= {CLEAR_BEAT})"),
    ("frame_comb_db", "comb dB", "{:.2f}", "median over multiples of the model's frame rate of how far each stands out of the spectrum more than in the prompt's"),
    ("boundary_ratio", "grid ratio", "{:.2f}", "second-difference energy on the model's frame grid over that off it; about 1 seamless"),
    ("seam_click_db", "seam dB", "{:.1f}", "median over the method's seams (the prompt's end and where pieces meet) of the click against the audio away from them"),
)


def write_generation_report(results: GenerationResults, out_dir: str | Path) -> list[Path]:
    """report.md, results.json and spectrograms/<clip>.png in `out_dir` (created), each written atomically."""
    out = Path(out_dir)
    (out / "spectrograms").mkdir(parents=True, exist_ok=True)
    written = [write_atomic(out / "report.md", generation_markdown(results).encode()),
               write_json(out / "results.json", results.to_json())]
    rate_of = {clip["clip"]: clip["rate"] for clip in results.clips}
    for index, (clip, audio) in enumerate(results.spectrograms.items()):
        name = f"{index:02d}_" + clip.replace("/", "_").rsplit(".", 1)[0] + ".png"  # numbered: names never collide
        written.append(write_atomic(out / "spectrograms" / name, png_bytes(_spectrogram_figure(clip, audio, rate_of[clip]))))
    return written


def generation_markdown(results: GenerationResults) -> str:
    s, summary = results.settings, summarise(results.clips)
    lines = [f"# Generation benchmark: {len(results.clips)} clips of {s['clips_dir']}", "",
             f"A {s['prompt_seconds']:g} s prompt from each clip's start, continued by {s['seconds']:g} s (seed "
             f"{s['seed']}, {s['passes']} pass(es)); each continuation against the recording's true one and the "
             "prompt. Median over clips:", ""]
    lines += ["| method | " + " | ".join(c[1] for c in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for method in METHODS:
        row = summary[method]
        cells = ["–" if row[key] is None else fmt.format(row[key]) for key, _, fmt, _ in COLUMNS]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    lines += ["", "| metric | what it is |", "|---|---|"] + [f"| {c[1]} | {c[3]} |" for c in COLUMNS]
    lines += ["", "## Per clip: chroma / MFCC distance from the true continuation", "",
              "| clip | prompt bpm (clarity) | " + " | ".join(METHODS[:-1]) + " |", "|---" * (len(METHODS) + 1) + "|"]
    for clip in results.clips:
        cells = [f"{clip['methods'][m]['chroma_distance']:.3f} / {clip['methods'][m]['mfcc_distance']:.1f}"
                 for m in METHODS[:-1]]
        lines.append(f"| {clip['clip']} | {clip['prompt_bpm']:.0f} ({clip['prompt_clarity']:.2f}) | "
                     + " | ".join(cells) + " |")
    lines += ["", "Spectrograms (the prompt's last seconds, then each continuation): `spectrograms/`.", ""]
    return "\n".join(lines)


def _spectrogram_figure(clip: str, audio: dict[str, np.ndarray], rate: int) -> Figure:
    """One row per SPECTROGRAM_METHODS: the prompt's last PROMPT_SHOWN_SECONDS, then the continuation."""
    figure = Figure(figsize=(11, 2.1 * len(SPECTROGRAM_METHODS)), layout="constrained")
    tail = audio["prompt"][-round(PROMPT_SHOWN_SECONDS * rate) :]
    n_fft = 1 << int(np.ceil(np.log2(0.046 * rate)))
    for row, method in enumerate(SPECTROGRAM_METHODS):
        axes = figure.add_subplot(len(SPECTROGRAM_METHODS), 1, row + 1)
        signal = np.concatenate([tail, audio[method]])
        frequencies, times, spectrum = stft(signal, rate, nperseg=n_fft, noverlap=n_fft * 3 // 4)
        power = 10 * np.log10(np.abs(spectrum) ** 2 + 1e-12)
        axes.pcolormesh(times - len(tail) / rate, frequencies / 1000, power, vmin=power.max() - 90,
                        vmax=power.max(), shading="auto", cmap="magma", rasterized=True)
        axes.axvline(0.0, color="cyan", linewidth=1)
        axes.set_ylabel("kHz")
        axes.set_title(f"{clip}: {method}", fontsize=9, loc="left")
    axes.set_xlabel("seconds from the prompt's end")
    return figure
