"""Milliseconds per gap for `revise inpaint` at its defaults and for the classical fills, on CPU.

Usage: python scripts/bench_inpaint.py [--model DIR] [--clip FILE] [--rate HZ] [--channels C]
                                       [--repeats R] [--threads T] [--gap-ms 20,50,...]
Columns: `revise` (the default: the choice among fills on pseudo-gaps), `reviser only`
(--fill revise), and the benchmark's `ar` and `janssen` baselines at the same rate, each channel
filled on its own. Without --clip a synthetic 4 s clip is timed; with --untrained, a default-size
untrained model, which runs at the same speed as the shipped one.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from revise.audio import read_audio, resample, to_float
from revise.config import FrameConfig, ModelConfig
from revise.evaluate.methods import Method, fill
from revise.inpainting import inpaint
from revise.runtime.model import InferenceModel, load_inference_model


def clip(path: str | None, rate: int, channels: int) -> np.ndarray:
    """[samples, channels] float64 at `rate`: the file's first channels (repeated if it has fewer)."""
    if path is None:
        t = np.arange(4 * rate) / rate
        noise = np.random.default_rng(0).standard_normal(len(t))
        mono = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 331 * t) + 0.01 * noise
        return np.repeat(mono[:, None], channels, axis=1)
    audio = read_audio(path)
    samples = resample(to_float(audio.samples), audio.sample_rate, rate)
    return samples[:, np.arange(channels) % samples.shape[1]]


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
    parser.add_argument("--clip")
    parser.add_argument("--rate", type=int, help="the file's rate (default: the model's)")
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--gap-ms", default="20,50,100,200,500,1000")
    args = parser.parse_args()
    threadpool_limits(args.threads)
    if args.untrained:
        from revise.nn.model import RevisionModel

        model = InferenceModel.from_torch(RevisionModel(FrameConfig(), ModelConfig()))
    else:
        model = load_inference_model(args.model)
    rate = args.rate or model.sample_rate
    audio = clip(args.clip, rate, args.channels)
    print(f"{args.threads} threads, {rate} Hz x {args.channels}, model rate {model.sample_rate} Hz, "
          f"passes {model.revision.passes}")
    print(f"{'gap':>8} {'revise':>9} {'reviser only':>13} {'ar':>8} {'janssen':>9}   (ms per gap)")
    for gap_ms in (float(g) for g in args.gap_ms.split(",")):
        start = len(audio) // 2
        end = start + round(gap_ms * rate / 1000)
        seconds = [((start + 0.25) / rate, (end - 0.25) / rate)]
        figures = [
            median_ms(lambda: inpaint(audio, rate, seconds, model=model), args.repeats),
            median_ms(lambda: inpaint(audio, rate, seconds, model=model, candidates=("revise",)), args.repeats),
            *(median_ms(lambda kind=kind: fill(Method(kind), audio, [(start, end)], rate, model), args.repeats)
              for kind in ("ar", "janssen")),
        ]
        print(f"{gap_ms:>6g}ms " + " ".join(f"{v:>{w}.0f}" for v, w in zip(figures, (9, 13, 8, 9))))


if __name__ == "__main__":
    main()
