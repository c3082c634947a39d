"""Real-time factor of `revise generate` on CPU: compute seconds per second of generated audio.

Usage: python scripts/bench_generate.py [--model DIR | --untrained] [--seconds S] [--prompt FILE]
                                        [--passes 0 1 4 8] [--repeats R] [--threads T]
Without --model the shipped default model is used; --untrained times a default-size untrained
model (the same speed as a trained one of that size). The prompt (2 s of a synthetic chord
unless --prompt is given) is continued by --seconds of audio at each number of passes; the
figure is the median over --repeats runs after one warm-up run. Below 1 is faster than real
time; the target is at most 0.1 at the model's default passes on 2 cores. Timings are only
comparable on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from revise.audio import read_audio, resample, to_float, to_mono
from revise.checkpoint import load_model
from revise.config import FrameConfig, ModelConfig
from revise.generation import generate
from revise.nn.model import RevisionModel


def prompt_at_model_rate(path: str | None, rate: int) -> np.ndarray:
    if path is None:
        t = np.arange(2 * rate) / rate
        noise = np.random.default_rng(0).standard_normal(len(t))
        chord = sum(np.sin(2 * np.pi * f * t) / (k + 1) for k, f in enumerate((220.0, 277.2, 329.6, 440.0)))
        return (0.15 * chord + 0.01 * noise).astype(np.float32)
    audio = read_audio(path)
    return resample(to_mono(to_float(audio.samples)), audio.sample_rate, rate).astype(np.float32)


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
    parser.add_argument("--untrained", action="store_true", help="time a default-size untrained model")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of audio to generate")
    parser.add_argument("--prompt", help="an audio file to continue (default: a synthetic chord)")
    parser.add_argument("--passes", type=int, nargs="+", default=[0, 1, 4, 8])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.untrained:
        torch.manual_seed(0)
        model = RevisionModel(FrameConfig(), ModelConfig()).eval()
    else:
        model = load_model(args.model)
    rate = model.sample_rate
    prompt = prompt_at_model_rate(args.prompt, rate)
    print(f"{args.threads} threads; {args.seconds:g} s generated after a {len(prompt) / rate:g} s prompt at "
          f"{rate} Hz; hidden {model.model.hidden_size}, L={model.frame.frame_length}, H={model.frame.hop_length}; "
          f"default passes {model.revision.passes} ({model.revision.schedule})")
    print(f"{'passes':>6} {'seconds':>8} {'RTF':>7}")
    for passes in args.passes:
        seconds = median_seconds(lambda: generate(args.seconds, prompt, rate, passes, model, seed=0), args.repeats)
        print(f"{passes:>6} {seconds:>8.2f} {seconds / args.seconds:>7.3f}")


if __name__ == "__main__":
    main()
