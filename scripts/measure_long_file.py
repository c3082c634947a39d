"""Measure `revise inpaint` on a long file: peak resident memory and seconds, next to a plain copy.

Usage:
  python scripts/measure_long_file.py                    # 3 hours of 44.1 kHz stereo PCM_16 (1.9 GB), 10 gaps
  python scripts/measure_long_file.py --minutes 30 --detect

Writes a synthetic file (tones and noise, made in blocks so this script stays flat too) into
--folder, plants --gaps gaps of 100 ms of digital silence spread over it, and runs, each as a
child process whose peak RSS comes from os.wait4: `revise inpaint` with the shipped model and the
gaps given as --gap (or found with --detect), `cp` of the file, and a soundfile read and write of
it in blocks (what "one read and one write" costs from Python), once more with the fsync that
revise's atomic write does before its rename. Then it checks, in blocks, that
every sample outside the gaps and their crossfade margins is bit-identical and that every gap was
filled. The file was just written, so all three read it from the page cache; each starts after
os.sync().
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 44100
BLOCK = 1 << 20
GAP_SECONDS = 0.1
COPY = ("import os, sys, soundfile as sf\n"
        "with sf.SoundFile(sys.argv[1]) as i:\n"
        "    with sf.SoundFile(sys.argv[2], 'w', i.samplerate, i.channels, i.subtype) as o:\n"
        "        for block in i.blocks(1 << 16, dtype='int16'):\n"
        "            o.write(block)\n"
        "if len(sys.argv) > 3:\n"
        "    descriptor = os.open(sys.argv[2], os.O_RDONLY)\n"
        "    os.fsync(descriptor)\n")
# A child's peak RSS counts the memory of the process it was forked from, so each command is
# started by this small launcher (no numpy: a few MB) rather than by this script.
LAUNCH = ("import os, sys\n"
          "pid = os.fork()\n"
          "if pid == 0:\n"
          "    os.execvp(sys.argv[2], sys.argv[2:])\n"
          "_, status, usage = os.wait4(pid, 0)\n"
          "open(sys.argv[1], 'w').write(f'{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}')\n")


def write_music(path: Path, frames: int, gaps: list[tuple[int, int]]) -> None:
    """Stereo PCM_16 tones (a slow chord sweep, panned) and noise at about -12 dBFS, zeros in `gaps`."""
    with sf.SoundFile(path, "w", RATE, 2, "PCM_16") as f:
        for first in range(0, frames, BLOCK):
            t = np.arange(first, min(frames, first + BLOCK)) / RATE
            rng = np.random.default_rng(first)
            sweep = 20 * np.sin(2 * np.pi * t / 600)
            tone = sum(0.08 / k * np.sin(2 * np.pi * (110 * k + sweep) * t) for k in (1, 2, 3, 5))
            block = np.stack([tone, 0.8 * tone], axis=1) + 0.02 * rng.standard_normal((len(t), 2))
            for start, end in gaps:
                block[max(0, start - first) : max(0, end - first)] = 0.0
            f.write(np.round(block * 32767).astype(np.int16))


def measured(command: list[str], work: Path) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit status) of `command` run as a child process, started after
    os.sync(): otherwise a command pays for writing back the dirty pages of the one before it (the
    1.9 GB file just written made the first command's writes 2.5 times slower)."""
    result = work / "usage.txt"
    os.sync()
    began = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-S", "-c", LAUNCH, str(result), *command], stdout=subprocess.DEVNULL,
                   check=True)
    seconds = time.perf_counter() - began
    status, rss_kb = map(int, result.read_text().split())
    return seconds, rss_kb / 1024, status


def check_output(source: Path, output: Path, gaps: list[tuple[int, int]], margin: int) -> tuple[bool, bool]:
    """(every frame outside the gaps and their margins is bit-identical, every gap holds sound), in blocks."""
    identical, filled = True, []
    with sf.SoundFile(source) as a, sf.SoundFile(output) as b:
        if (a.frames, a.channels, a.subtype) != (b.frames, b.channels, b.subtype):
            return False, False
        for first in range(0, a.frames, BLOCK):
            x, y = a.read(BLOCK, dtype="int16"), b.read(BLOCK, dtype="int16")
            keep = np.ones(len(x), bool)
            for start, end in gaps:
                keep[max(0, start - margin - first) : max(0, end + margin - first)] = False
                if first <= start < first + len(x):
                    filled.append(bool(np.abs(y[start - first : end - first]).mean() > 100))
            identical &= bool(np.array_equal(x[keep], y[keep]))
    return identical, len(filled) == len(gaps) and all(filled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=180.0)
    parser.add_argument("--gaps", type=int, default=10)
    parser.add_argument("--detect", action="store_true", help="find the gaps with --detect instead of giving them")
    parser.add_argument("--fill", choices=["auto", "revise", "ar", "janssen"], default="auto",
                        help="revise inpaint's --fill (ar: the cheapest fill, to see the reading and writing)")
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--keep", action="store_true", help="keep the files written")
    args = parser.parse_args()
    frames = int(args.minutes * 60 * RATE)
    size = 44 + 4 * frames
    free = shutil.disk_usage(args.folder).free
    if free < 3.2 * size:
        fits = args.minutes * free / (3.2 * size)
        sys.exit(f"{args.folder} has {free / 1e9:.1f} GB free; the input, the output and a copy need "
                 f"{3.2 * size / 1e9:.1f} GB. Use --minutes {fits:.0f} or another --folder.")
    work = Path(tempfile.mkdtemp(prefix="revise-long-", dir=args.folder))
    starts = np.linspace(0.05, 0.95, args.gaps) * frames
    gaps = [(int(s), int(s) + round(GAP_SECONDS * RATE)) for s in starts]
    source, output = work / "long.wav", work / "fixed.wav"
    began = time.perf_counter()
    write_music(source, frames, gaps)
    print(f"wrote {source} ({args.minutes:g} min, {size / 1e6:.0f} MB, {args.gaps} gaps of {GAP_SECONDS * 1000:g} ms) "
          f"in {time.perf_counter() - began:.1f} s")
    options = ["--detect"] if args.detect else [f"--gap={s / RATE:.6f}:{e / RATE:.6f}" for s, e in gaps]
    options += [] if args.fill == "auto" else ["--fill", args.fill]
    label = " ".join(["revise inpaint", *(["--detect"] if args.detect else []), *options[-2:] * (args.fill != "auto")])
    runs = {
        label: [sys.executable, "-m", "revise", "inpaint", str(source), "-o", str(output), *options],
        "python -c 'import torch'": [sys.executable, "-c", "import torch"],
        "cp": ["cp", str(source), str(work / "copy.wav")],
        "soundfile block read + write": [sys.executable, "-c", COPY, str(source), str(work / "copy2.wav")],
        "the same + fsync, as revise's write": [sys.executable, "-c", COPY, str(source), str(work / "copy3.wav"), "1"],
    }
    for name, command in runs.items():
        seconds, rss, status = measured(command, work)
        print(f"{name:<40} {seconds:7.1f} s  peak RSS {rss:7.0f} MB" + (f"  EXIT {status}" if status else ""))
        for copy in work.glob("copy*.wav"):
            copy.unlink()
    from revise.inpainting import crossfade_margin
    from revise.runtime.model import load_inference_model

    identical, filled = check_output(source, output, gaps, crossfade_margin(load_inference_model(), RATE))
    print(f"outside the gaps bit-identical: {identical}; every gap filled: {filled}")
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
