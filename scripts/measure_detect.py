"""Precision and recall of `find_dropouts` on dropouts planted in real music, and its detections on
the same music left as it is (every one a false positive): the measurement behind `DetectConfig`.

Each whole track under DIR is measured as decoded and as three 16-bit copies: quantised, 30 dB
quieter (where natural audio holds a value longest) and 6 dB louder, clipped (where it holds the
full-scale value). Into each copy `--per-clip` seeded dropouts are planted, half zeros and half a
held last value (a stuck converter), 5-200 ms long (log-uniform), 50 ms apart at least. A detection
matches a planted dropout when both boundaries are within 1 ms. "natural held runs" counts the
runs of one value in the clean copies at least as long as a dropout (silence at track starts and
ends and in pauses, quiet 16-bit passages, clipping); "natural detections" counts those reported,
every one a false positive. "in music" counts the planted dropouts whose surroundings reach the
level threshold (the rest sit in silence or in passages too quiet to tell from it). The sweep
changes one setting at a time; a row without precision and recall was run on the clean copies only.

    python scripts/measure_detect.py data/detect --seed 0
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from revise.audio import from_float, list_audio_files, read_audio, to_float
from revise.config import DetectConfig
from revise.detect import Dropout, find_dropouts, rms, scan_runs

TOLERANCE_SECONDS = 0.001
SPACING_SECONDS = 0.05
LENGTH_MS = (5.0, 200.0)
VERSIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "as decoded": lambda x: x,
    "16-bit": lambda x: from_float(to_float(x), np.int16),
    "16-bit, -30 dB": lambda x: from_float(to_float(x) * 10 ** (-30 / 20), np.int16),
    "16-bit, +6 dB clipped": lambda x: from_float(to_float(x) * 2, np.int16),
}
DEFAULT = DetectConfig()
# (name, value, measured on the damaged copies too): the levels either side of the default on both
# copies, and on the clean ones how far down the level and the length go before natural audio is reported
SWEEP = [("level_db", -60.0, True), ("level_db", -40.0, True), ("level_db", -70.0, False), ("level_db", -80.0, False),
         ("min_seconds", 0.003, False), ("min_seconds", 0.002, False), ("min_seconds", 0.001, False)]
SETTINGS = [("default", DEFAULT, True)] + [
    (f"{name}={value:g}", dataclasses.replace(DEFAULT, **{name: value}), damaged) for name, value, damaged in SWEEP
]


@dataclass
class Tally:
    """Counts for one setting and one version, summed over the clips."""

    planted: int = 0
    in_music: int = 0
    detected: int = 0
    matched: int = 0
    matched_in_music: int = 0
    natural: int = 0
    held: int = 0
    seconds: float = 0.0


def plant(x: np.ndarray, rate: int, count: int, rng: np.random.Generator) -> tuple[np.ndarray, list[Dropout]]:
    """A copy of x [n, C] with `count` dropouts planted at random, and the dropouts, sorted."""
    out, planted = x.copy(), []
    spacing = round(SPACING_SECONDS * rate)
    for _ in range(100 * count):
        if len(planted) == count:
            break
        length = round(np.exp(rng.uniform(*np.log(LENGTH_MS))) * rate / 1000)
        start = int(rng.integers(1, len(x) - length))
        if any(start < d.end + spacing and d.start < start + length + spacing for d in planted):
            continue
        kind = "zeros" if rng.random() < 0.5 else "stuck"
        out[start : start + length] = 0 if kind == "zeros" else out[start - 1]
        planted.append(Dropout(start, start + length, kind))
    return out, sorted(planted, key=lambda d: d.start)


def matches(found: list[Dropout], planted: list[Dropout], rate: int) -> set[Dropout]:
    """The planted dropouts that a detection matches, boundaries within TOLERANCE_SECONDS."""
    tolerance = TOLERANCE_SECONDS * rate
    return {p for p in planted for d in found
            if d.start < p.end and p.start < d.end and abs(d.start - p.start) <= tolerance
            and abs(d.end - p.end) <= tolerance}


def held_runs(x: np.ndarray, rate: int, config: DetectConfig) -> int:
    """How many runs of one held value in x [n, C] are long enough to be dropouts, whatever is around them."""
    return len(scan_runs([x], config.min_samples(rate))[1])


def in_music(x: np.ndarray, rate: int, planted: list[Dropout], config: DetectConfig) -> set[Dropout]:
    """The planted dropouts whose surroundings in the clean x [n, C] reach the config's level."""
    context = round(config.context_seconds * rate)
    threshold = 10 ** (config.level_db / 20)
    return {d for d in planted
            if min(rms(x[max(0, d.start - context) : d.start]), rms(x[d.end : d.end + context])) >= threshold}


def measure(paths: list[Path], per_clip: int, seed: int) -> tuple[dict, list[str]]:
    """Tallies by (setting label, version), and one line per natural detection with the defaults."""
    tallies = {(label, version): Tally() for label, _, _ in SETTINGS for version in VERSIONS}
    natural_lines = []
    for index, path in enumerate(paths):
        audio = read_audio(path)
        rate = audio.sample_rate
        for version, make in VERSIONS.items():
            clean = make(audio.samples)
            damaged, planted = plant(clean, rate, per_clip, np.random.default_rng([seed, index]))
            music = in_music(clean, rate, planted, DEFAULT)
            for label, config, with_damaged in SETTINGS:
                t = tallies[label, version]
                natural = find_dropouts(clean, rate, config)
                t.natural += len(natural)
                t.seconds += len(clean) / rate
                if label == "default":
                    t.held += held_runs(clean, rate, config)
                    natural_lines += [f"{path.name} ({version}): {d.start / rate:.3f}-{d.end / rate:.3f} s {d.kind}"
                                      for d in natural]
                if with_damaged:
                    found = find_dropouts(damaged, rate, config)
                    hit = matches(found, planted, rate)
                    t.planted += len(planted)
                    t.in_music += len(music)
                    t.detected += len(found)
                    t.matched += len(hit)
                    t.matched_in_music += len(hit & music)
        print(f"{index + 1}/{len(paths)} {path.name}", flush=True)
    return tallies, natural_lines


def ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder of whole music tracks (searched recursively)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-clip", type=int, default=20, help="dropouts planted in each track and version")
    args = parser.parse_args()
    paths = list_audio_files(args.folder)
    if not paths:
        raise SystemExit(f"{args.folder} holds no audio files")
    tallies, natural_lines = measure(paths, args.per_clip, args.seed)
    hours = tallies["default", next(iter(VERSIONS))].seconds / 3600
    print(f"\n{len(paths)} tracks, {hours:.2f} h of music per version, seed {args.seed}; defaults {DEFAULT}")
    print("| version | planted | precision | recall | in music | recall in music | natural held runs | "
          "natural detections | per hour |")
    print("|---|---|---|---|---|---|---|---|---|")
    for version in VERSIONS:
        t = tallies["default", version]
        print(f"| {version} | {t.planted} | {ratio(t.matched, t.detected)} | {ratio(t.matched, t.planted)} | "
              f"{t.in_music} | {ratio(t.matched_in_music, t.in_music)} | {t.held} | {t.natural} | "
              f"{t.natural / hours:.2f} |")
    print("\nAll versions together, one setting changed at a time (recall in music: with the default level):")
    print("| setting | precision | recall | recall in music | natural detections | per hour |")
    print("|---|---|---|---|---|---|")
    for label, _, _ in SETTINGS:
        t = Tally()
        for version in VERSIONS:
            for field in dataclasses.fields(Tally):
                setattr(t, field.name, getattr(t, field.name) + getattr(tallies[label, version], field.name))
        print(f"| {label} | {ratio(t.matched, t.detected)} | {ratio(t.matched, t.planted)} | "
              f"{ratio(t.matched_in_music, t.in_music)} | {t.natural} | {t.natural * 3600 / t.seconds:.2f} |")
    print("\nNatural detections with the defaults:" if natural_lines else "\nNo natural detections with the defaults.")
    for line in natural_lines:
        print(line)


if __name__ == "__main__":
    main()
