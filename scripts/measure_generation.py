"""Generation quality on validation prompts: level per second against the prompt, and the
boundary discontinuity ratio of the crossfade join beside the naive join.

Usage: python scripts/measure_generation.py [--model DIR] [--passes 0,1,2,4] [--tracks 4]
Each prompt is 2 s from 30 s into a validation track (configs/corpus_split.json, data/corpus);
4 s are generated after it with seed 0.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import soundfile as sf
import torch

from revise.audio import resample
from revise.checkpoint import load_model
from revise.dsp.framing import left_padding
from revise.evaluate.metrics import boundary_discontinuity_ratio, level_stability, spectral_flatness
from revise.generation import generate


def validation_prompts(count: int, rate: int) -> list[tuple[str, np.ndarray]]:
    split = json.load(open("configs/corpus_split.json"))
    prompts = []
    for relative in split["val"][:count]:
        path = f"data/corpus/{relative}"
        start = 30 * sf.info(path).samplerate
        x, file_rate = sf.read(path, start=start, stop=start + 2 * sf.info(path).samplerate, always_2d=True)
        prompts.append((relative.split("/")[-1], resample(x.mean(axis=1), file_rate, rate).astype(np.float32)))
    return prompts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model")
    parser.add_argument("--passes", default="0,1,2,4")
    parser.add_argument("--tracks", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_model(args.model)
    rate, hop, length = model.sample_rate, model.frame.hop_length, model.frame.frame_length
    worst: dict[int, list[float]] = {}
    for name, prompt in validation_prompts(args.tracks, rate):
        level = float(np.sqrt(np.mean(prompt**2)))
        # the naive join's frame edges, measured from the start of the continuation
        offset = ((-left_padding(length, hop) + (length - hop) // 2) - len(prompt)) % hop
        for passes in (int(p) for p in args.passes.split(",")):
            figures = {}
            for join in ("crossfade", "naive"):
                y = generate(4.0, prompt, rate, passes, model, seed=0, join=join, include_prompt=False)
                figures[join] = (level_stability(y, rate, level)["max_ratio"], boundary_discontinuity_ratio(y, hop, offset), y)
            ratio, crossfade, y = figures["crossfade"]
            naive = figures["naive"][1]
            print(f"{name[:24]:24s} passes={passes} level ratio={ratio:.2f} discontinuity crossfade={crossfade:.3f} "
                  f"naive={naive:.1f} peak={np.abs(y).max():.2f} flatness={spectral_flatness(y):.3f} "
                  f"(prompt {spectral_flatness(prompt):.3f})")
            worst.setdefault(passes, []).append((ratio, crossfade, naive))
    for passes, rows in worst.items():
        print(f"passes={passes}: worst level ratio {max(r[0] for r in rows):.2f}, worst crossfade ratio "
              f"{max(r[1] for r in rows):.3f}, lowest naive ratio {min(r[2] for r in rows):.1f}")


if __name__ == "__main__":
    main()
