"""Does revising generation's seams pay? Clicks and level dips at the inner seams of long continuations.

Usage: python scripts/measure_generation_seams.py [CLIPS_DIR] [--every 3] [--prompt 6] [--seconds 12]
Every --every-th clip of CLIPS_DIR (default data/test/mix) gives a --prompt s prompt from its start,
continued by --seconds with seed 0, once as the crossfaded draft (passes 0) and once with each seam
revised (passes 1). At every seam where two pieces meet (not the prompt's end) it prints the click
(`click_db` at the seam against the audio away from it, 2 ms windows) and the level dip (RMS within
10 ms of the seam against within 100 ms, dB), then the medians.
"""

from __future__ import annotations

import argparse

import numpy as np
from threadpoolctl import threadpool_limits

from revise.audio import read_audio, to_float
from revise.evaluate.benchmark import find_clips
from revise.evaluate.metrics import click_db
from revise.generation import continue_prompt
from revise.runtime.model import load_inference_model


def dip_db(y: np.ndarray, seam: int, rate: int) -> float:
    near, around = round(0.01 * rate), round(0.1 * rate)
    rms = [np.sqrt(np.mean(y[seam - w : seam + w] ** 2)) for w in (near, around)]
    return float(20 * np.log10(rms[0] / rms[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clips", nargs="?", default="data/test/mix")
    parser.add_argument("--every", type=int, default=3)
    parser.add_argument("--prompt", type=float, default=6.0)
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    threadpool_limits(2)
    model = load_inference_model()
    rows = []
    for path in find_clips(args.clips)[:: args.every]:
        audio = read_audio(path)
        x, rate = to_float(audio.samples).astype(np.float64), audio.sample_rate
        prompt = x[: round(args.prompt * rate)]
        draft, joins = continue_prompt(prompt, rate, args.seconds, 0, model, 0)
        revised, _ = continue_prompt(prompt, rate, args.seconds, 1, model, 0)
        half = round(0.002 * rate)
        for join in joins[1:]:
            seam = len(prompt) + join
            if seam + rate > len(draft):
                continue
            a, b = draft.mean(axis=1), revised.mean(axis=1)
            row = (click_db(a, [seam], half_width=half), click_db(b, [seam], half_width=half),
                   dip_db(a, seam, rate), dip_db(b, seam, rate))
            rows.append(row)
            print(f"{path.name[:32]:32s} {seam / rate:7.2f} s  click {row[0]:6.1f} -> {row[1]:6.1f} dB  "
                  f"dip {row[2]:6.2f} -> {row[3]:6.2f} dB")
    median = np.median(np.array(rows), axis=0)
    print(f"median over {len(rows)} seams: click {median[0]:.1f} dB (draft) -> {median[1]:.1f} dB (revised); "
          f"dip {median[2]:.2f} -> {median[3]:.2f} dB")


if __name__ == "__main__":
    main()
