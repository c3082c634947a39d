"""Real-time factor of `revise generate` on CPU: compute seconds per second of generated audio.

Usage: python scripts/bench_generate.py [--model DIR] [--prompt FILE] [--seconds S]
                                        [--passes 0 1 2] [--repeats R] [--threads T]
The prompt (--prompt at its own rate and channels, or 10 s of a synthetic stereo riff at 44.1 kHz)
is continued by --seconds of audio for each number of passes; the figure is the median
over --repeats runs after one warm-up run. Below 1 is faster than real time; the target is at most
0.1 at the default passes on 2 cores. Timings are only comparable on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from revise.audio import read_audio, to_float
from revise.config import GENERATION_PASSES
from revise.generation import generate
from revise.runtime.model import load_inference_model


def load_prompt(path: str | None) -> tuple[np.ndarray, int]:
    if path is None:
        rate = 44100
        t = np.arange(10 * rate) / rate
        frequency = np.array([220.0, 277.2, 329.6, 440.0])[(t // 0.3).astype(int) % 4]
        mono = 0.3 * np.exp(-6 * (t % 0.3)) * np.sin(2 * np.pi * frequency * (t % 0.3))
        noise = 0.01 * np.random.default_rng(0).standard_normal((len(t), 2))
        return np.stack([mono, 0.8 * mono], axis=1) + noise, rate
    audio = read_audio(path)
    return to_float(audio.samples), audio.sample_rate


def median_seconds(function, repeats: int) -> float:
    function()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="an exported model folder (default: the shipped model)")
    parser.add_argument("--seconds", type=float, default=30.0, help="seconds of audio to generate")
    parser.add_argument("--prompt", help="an audio file to continue (default: a synthetic stereo riff)")
    parser.add_argument("--passes", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    threadpool_limits(args.threads)
    model = load_inference_model(args.model)
    prompt, rate = load_prompt(args.prompt)
    print(f"{args.threads} threads; {args.seconds:g} s generated after a {len(prompt) / rate:g} s prompt at "
          f"{rate} Hz x{prompt.shape[1]}; generation's default passes {GENERATION_PASSES}")
    print(f"{'passes':>6} {'seconds':>8} {'RTF':>7}")
    for passes in args.passes:
        seconds = median_seconds(lambda: generate(args.seconds, prompt, rate, passes, model, seed=0), args.repeats)
        print(f"{passes:>6} {seconds:>8.2f} {seconds / args.seconds:>7.3f}")


if __name__ == "__main__":
    main()
