"""Milliseconds per gap for revise inpainting and for the two-sided AR baseline, on CPU.

Usage: python scripts/bench_inpaint.py [--model DIR] [--passes N] [--clip FILE] [--repeats R]
Without --model the shipped default model is used (or, with --untrained, a default-size
untrained model, which runs at the same speed).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from revise.audio import read_audio, resample, to_float, to_mono
from revise.checkpoint import load_model
from revise.config import FrameConfig, ModelConfig
from revise.hints.autoregressive import ar_fill
from revise.inpainting import inpaint
from revise.nn.model import RevisionModel


def clip_at_model_rate(path: str | None, rate: int) -> np.ndarray:
    if path is None:
        t = np.arange(3 * rate) / rate
        noise = np.random.default_rng(0).standard_normal(len(t))
        return 0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 331 * t) + 0.01 * noise
    audio = read_audio(path)
    return resample(to_mono(to_float(audio.samples)), audio.sample_rate, rate)


def median_ms(function, repeats: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model")
    parser.add_argument("--untrained", action="store_true", help="time a default-size untrained model")
    parser.add_argument("--passes", type=int)
    parser.add_argument("--clip")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = RevisionModel(FrameConfig(), ModelConfig()).eval() if args.untrained else load_model(args.model)
    passes = model.revision.passes if args.passes is None else args.passes
    rate = model.sample_rate
    audio = clip_at_model_rate(args.clip, rate)
    print(f"{args.threads} threads, model rate {rate} Hz, passes {passes} ({model.revision.schedule})")
    print(f"{'gap':>8} {'revise ms':>10} {'AR ms':>8}")
    for gap_ms in (20, 50, 100, 200):
        start = len(audio) // 2
        end = start + gap_ms * rate // 1000
        revise_ms = median_ms(lambda: inpaint(audio, rate, [(start / rate, end / rate)], passes, model), args.repeats)
        ar_ms = median_ms(lambda: ar_fill(audio, start, end, model.ar.order, model.ar.context), args.repeats)
        print(f"{gap_ms:>6}ms {revise_ms:>10.1f} {ar_ms:>8.1f}")


if __name__ == "__main__":
    main()
