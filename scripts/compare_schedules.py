"""Median gap SNR (dB) for each revision schedule and number of passes, beside the AR baseline.

This is the measurement behind the default schedule and passes. Usage:
    python scripts/compare_schedules.py CLIPS_DIR [--model DIR] [--passes 1,2,4,8] [--gaps-per-clip 4]
"""

from __future__ import annotations

import argparse
import dataclasses

from revise.config import SCHEDULES
from revise.evaluate.benchmark import run_benchmark
from revise.runtime.model import load_inference_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clips")
    parser.add_argument("--model")
    parser.add_argument("--passes", default="1,2,4,8")
    parser.add_argument("--gap-ms", default="20,50,100,200")
    parser.add_argument("--gaps-per-clip", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    loaded = load_inference_model(args.model)
    passes = [int(p) for p in args.passes.split(",")]
    gap_ms = [float(g) for g in args.gap_ms.split(",")]
    labels = None
    for schedule in SCHEDULES:
        model = dataclasses.replace(loaded, revision=dataclasses.replace(loaded.revision, schedule=schedule))
        results = run_benchmark(args.clips, model, gap_ms, passes, args.gaps_per_clip, args.seed, progress=False)
        aggregates = results.aggregates
        if labels is None:
            labels = list(aggregates["ar"])
            print(f"{'method':<24}" + "".join(f"{label + ' ms':>10}" for label in labels))
            for method in ("ar", "passes=0"):
                print(f"{method:<24}" + "".join(f"{aggregates[method][l]['gap_snr']['median']:>10.2f}" for l in labels))
        for method in results.methods:
            if method.kind == "revise" and method.passes > 0:
                row = "".join(f"{aggregates[method.name][l]['gap_snr']['median']:>10.2f}" for l in labels)
                print(f"{schedule + ' ' + method.name:<24}" + row)


if __name__ == "__main__":
    main()
