"""Median gap SNR of the two-sided Burg AR fill at several orders and contexts, on the benchmark's gaps.

The benchmark's AR baseline (and the reviser's AR hint) should run at the AR fill's best
settings; this is the measurement behind `ARConfig`'s defaults. It cuts the same seeded gaps as
`revise evaluate --benchmark` and prints one row per (order, context), in samples at 16 kHz.

    python scripts/sweep_ar.py data/validation --gaps-per-clip 12
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from revise.config import BENCHMARK_GAP_MS, ARConfig
from revise.evaluate.benchmark import GapLayout, cut_windows, find_clips, gap_label
from revise.evaluate.metrics import gap_snr
from revise.hints.build import window_hints

RATE = 16000
SETTINGS = [(256, 1500), (370, 1500), (512, 1500), (370, 3000), (600, 3000), (800, 3000), (800, 4000)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clips", type=Path, help="folder of audio clips (e.g. data/validation)")
    parser.add_argument("--gaps-per-clip", type=int, default=12)
    parser.add_argument("--context-seconds", type=float, default=3.1, help="audio kept on each side of a gap")
    args = parser.parse_args()
    lengths = {g: round(g * RATE / 1000) for g in BENCHMARK_GAP_MS}
    context = round(args.context_seconds * RATE)
    cuts = cut_windows(find_clips(args.clips), args.clips, GapLayout(RATE, context, lengths), args.gaps_per_clip, 0)
    windows = cuts.windows
    count = len(windows[next(iter(lengths))])
    print(f"{count} gaps per length in {len(cuts.clips)} clips; median gap SNR (dB)")
    print("| order / context | " + " | ".join(f"{gap_label(g)} ms" for g in lengths) + " |")
    print("|---" * (len(lengths) + 1) + "|")
    for order, ar_context in SETTINGS:
        cells = []
        for gap_ms, n in lengths.items():
            stack = np.stack(windows[gap_ms], axis=1)  # [window, gaps]
            filled = window_hints(stack.T, [(context, context + n)], ARConfig(order, ar_context), None).ar.T
            snrs = [gap_snr(stack[:, j], filled[:, j], context, context + n) for j in range(stack.shape[1])]
            cells.append(f"{np.median(snrs):.2f}")
        print(f"| {order} / {ar_context} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
