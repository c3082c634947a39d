"""Files per minute for a batch of `revise inpaint`: a shell loop of one command per file, against
`revise inpaint FOLDER --jobs 1` and `--jobs 2`, each timed from the shell (start-up included).

Usage: python scripts/bench_batch.py [--clips DIR] [--files N] [--jobs 1,2] [--gap 5.0:5.05 ...] [--model DIR]
The first N audio files of DIR (default data/test/mix, 20 s clips; synthetic 20 s stereo clips at
44.1 kHz when it is missing) are copied to a temporary folder, and every file gets the same gaps
(default 5.0:5.05 and 12.0:12.1). It also says whether every way wrote the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from revise.audio import list_audio_files

REVISE = f"{shlex.quote(sys.executable)} -m revise"


def make_clips(source: Path, count: int, folder: Path) -> list[Path]:
    """`count` clips in `folder`: copies of `source`'s first files, or synthetic ones when it has none."""
    folder.mkdir()
    files = list_audio_files(source)[:count] if source.is_dir() else []
    if files:
        for path in files:
            (folder / path.name).write_bytes(path.read_bytes())
    else:
        rng = np.random.default_rng(0)
        t = np.arange(20 * 44100) / 44100
        for index in range(count):
            tone = 0.3 * np.sin(2 * np.pi * (110 + 20 * index) * t)[:, None] + 0.01 * rng.standard_normal((len(t), 2))
            sf.write(folder / f"clip{index:02d}.wav", tone, 44100, subtype="PCM_16")
    return sorted(p for p in folder.iterdir())


def timed(command: str) -> float:
    began = time.perf_counter()
    subprocess.run(["bash", "-c", command], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def digest(folder: Path) -> str:
    hashes = [hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*")) if p.suffix != ".json"]
    return hashlib.sha256("".join(hashes).encode()).hexdigest()[:12]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=Path, default=Path("data/test/mix"))
    parser.add_argument("--files", type=int, default=12)
    parser.add_argument("--jobs", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--gap", action="append", help="a gap in seconds, given to every file (repeatable)")
    parser.add_argument("--model", type=Path, help="a model folder (default: the shipped model)")
    args = parser.parse_args()
    options = " ".join(f"--gap {g}" for g in args.gap or ["5.0:5.05", "12.0:12.1"])
    if args.model is not None:
        options += f" --model {shlex.quote(str(args.model))}"
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        clips = make_clips(args.clips, args.files, root / "in")
        rows = []
        loop = (f"mkdir {root}/loop && for f in {root}/in/*; do {REVISE} inpaint \"$f\" -o {root}/loop/$(basename \"$f\") "
                f"{options}; done")
        rows.append(("shell loop, one `revise inpaint` per file", timed(loop), digest(root / "loop")))
        for jobs in [int(j) for j in args.jobs.split(",")]:
            out = root / f"jobs{jobs}"
            seconds = timed(f"{REVISE} inpaint {root}/in -o {out} {options} --jobs {jobs}")
            rows.append((f"`revise inpaint FOLDER --jobs {jobs}`", seconds, digest(out)))
    print(f"{len(clips)} files ({args.clips if clips and args.clips.is_dir() else 'synthetic'}), {options}")
    print("| run | seconds | files per minute | outputs (sha256) |\n|---|---|---|---|")
    for name, seconds, fingerprint in rows:
        print(f"| {name} | {seconds:.1f} | {60 * len(clips) / seconds:.1f} | {fingerprint} |")
    print("every run wrote the same bytes" if len({r[2] for r in rows}) == 1 else "the runs wrote different bytes")


if __name__ == "__main__":
    main()
