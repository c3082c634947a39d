"""Per-packet CPU time and memory of the streaming concealer (`revise.Concealer`), on one thread.

    OMP_NUM_THREADS=1 taskset -c 0 python scripts/bench_conceal.py [--seconds 20] [--memory-minutes 10]

For each rate (16 and 48 kHz), channel count (1, 2), packet size (2.5, 5, 10, 20, 40 ms) and
lookahead (0 and the default), streams `--seconds` of a synthetic music-like signal (tones with
vibrato and noise) with 10 % of packets lost in runs of 2-3 (seeded), timing every push with
time.thread_time (CPU time of this thread: what a real-time thread needs) and time.perf_counter
(wall). Prints the CPU median and 99th percentile per packet, in ms and as a share of the packet's
duration, the wall-clock 99th percentile, and the latency added. Then streams `--memory-minutes` of
48 kHz stereo at 10 ms and reports the concealer's buffers and the Python heap (tracemalloc) after each minute: bounded
memory shows as flat figures. Wall-clock times on a shared machine include other jobs' turns on the
core; the CPU times do not.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")  # one thread, before numpy loads

import argparse  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

from revise.conceal import Concealer  # noqa: E402
from revise.conceal_config import ConcealConfig  # noqa: E402
from revise.packet_loss import loss_pattern  # noqa: E402

PACKET_MS = (2.5, 5.0, 10.0, 20.0, 40.0)


def music(rate: int, seconds: float, channels: int, seed: int = 0) -> np.ndarray:
    """Tones with vibrato and a little noise, float64 [n, channels]."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(rate * seconds)) / rate
    base = sum(0.1 * np.sin(2 * np.pi * f * t + 3 * np.sin(2 * np.pi * 5 * t)) for f in (220, 330, 554, 880))
    return np.stack([base + 0.01 * rng.standard_normal(len(t)) for _ in range(channels)], axis=1)


def time_stream(rate: int, channels: int, packet_ms: float, lookahead: int, x: np.ndarray) -> tuple[np.ndarray, ...]:
    """CPU seconds of this thread per push [packets] (time.thread_time: time the scheduler gave other jobs
    is not counted) and wall seconds per push [packets], for x [n, C] with 10 % loss in runs of 2-3."""
    concealer = Concealer(sample_rate=rate, packet_ms=packet_ms, lookahead=lookahead, channels=channels)
    p = concealer.packet_samples
    packets = len(x) // p
    lost = loss_pattern(packets, 0.1, 3, np.random.default_rng(1))
    cpu, wall = np.empty(packets), np.empty(packets)
    for i in range(packets):
        packet = None if lost[i] else x[i * p : (i + 1) * p]
        began, began_cpu = time.perf_counter(), time.thread_time()
        concealer.push(packet)
        cpu[i], wall[i] = time.thread_time() - began_cpu, time.perf_counter() - began
    return cpu, wall


def memory(minutes: int) -> None:
    rate, channels = 48000, 2
    concealer = Concealer(sample_rate=rate, packet_ms=10, channels=channels)
    chunk = music(rate, 60.0, channels)
    lost = loss_pattern(6000, 0.1, 3, np.random.default_rng(2))
    tracemalloc.start()
    print("| minute | concealer buffers (bytes) | Python heap now (KiB) | heap peak (KiB) |\n|---|---|---|---|")
    for minute in range(1, minutes + 1):
        for i in range(6000):
            concealer.push(None if lost[i] else chunk[i * 480 : (i + 1) * 480])
        now, peak = tracemalloc.get_traced_memory()
        print(f"| {minute} | {concealer.state_bytes} | {now / 1024:.0f} | {peak / 1024:.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds streamed per setting (default 20)")
    parser.add_argument("--memory-minutes", type=int, default=10, help="minutes streamed for memory (default 10)")
    args = parser.parse_args()
    default = ConcealConfig().lookahead
    print("| rate | channels | packet ms | lookahead | latency added ms | CPU median ms | CPU p99 ms "
          "| CPU p99 / packet | wall p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for rate in (16000, 48000):
        for channels in (1, 2):
            x = music(rate, args.seconds, channels)
            for packet_ms in PACKET_MS:
                for lookahead in sorted({0, default}):
                    cpu, wall = (t * 1000 for t in time_stream(rate, channels, packet_ms, lookahead, x))
                    median, p99 = np.median(cpu), np.percentile(cpu, 99)
                    print(f"| {rate} | {channels} | {packet_ms:g} | {lookahead} | {lookahead * packet_ms:g} | "
                          f"{median:.3f} | {p99:.3f} | {100 * p99 / packet_ms:.1f} % | {np.percentile(wall, 99):.3f} |",
                          flush=True)
    if args.memory_minutes:
        memory(args.memory_minutes)


if __name__ == "__main__":
    main()
