"""Wall-clock seconds of `revise --help` and of a one-gap `revise inpaint`, start-up included.

Usage: python scripts/bench_start.py [--repeats R] [--gap-ms 50]
Each command runs R times in a fresh process (`sys.executable -m revise`); the median is printed,
with whether the inpaint process imported torch. The clip is 10 s of seeded tones and noise,
written to a temporary folder as 16 kHz mono and as 44.1 kHz stereo PCM_16.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf


def clip(path: Path, rate: int, channels: int) -> None:
    t = np.arange(10 * rate) / rate
    noise = np.random.default_rng(0).standard_normal(len(t))
    mono = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 331 * t) + 0.01 * noise
    sf.write(path, np.repeat(mono[:, None], channels, axis=1), rate, subtype="PCM_16")


def median_seconds(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def imports_torch(arguments: list[str]) -> bool:
    script = ("import sys; from revise.cli.main import main; main(sys.argv[1:]); "
              "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script, *arguments], check=True, capture_output=True, text=True)
    return result.stdout.strip().endswith("True")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--gap-ms", type=float, default=50.0)
    args = parser.parse_args()
    revise = [sys.executable, "-m", "revise"]
    print(f"revise --help: {median_seconds([*revise, '--help'], args.repeats):.2f} s")
    with tempfile.TemporaryDirectory() as folder:
        for rate, channels in ((16000, 1), (44100, 2)):
            source, output = Path(folder) / f"clip-{rate}.wav", Path(folder) / f"out-{rate}.wav"
            clip(source, rate, channels)
            gap = f"5.0:{5.0 + args.gap_ms / 1000:.3f}"
            arguments = ["inpaint", str(source), "-o", str(output), "--gap", gap, "--force"]
            seconds = median_seconds([*revise, *arguments], args.repeats)
            print(f"revise inpaint, one {args.gap_ms:g} ms gap in 10 s at {rate} Hz x {channels}: {seconds:.2f} s "
                  f"(imports torch: {imports_torch(arguments)})")


if __name__ == "__main__":
    main()
