"""Fingerprint what users get, to prove a refactor changed no output bit.

Usage:
  python scripts/fingerprint.py record FILE    # run the commands below, write their SHA-256s to FILE
  python scripts/fingerprint.py check FILE     # run them again; exit 1 unless every digest matches

The commands, all through `revise` (this Python's, or `--command`) with the shipped model:
  - `revise inpaint` of the bundled example with the README's gaps, and with 3 passes of `alternate`;
  - `revise generate` with a fixed seed, from the example as prompt and from no prompt;
  - `revise evaluate --benchmark` on a folder holding the example four times over (results.json);
  - `revise train` of configs/tiny.yaml for 4 steps on three cuts of that (the exported weights).
Each digest covers the decoded samples (or results.json's, or the weights' bytes), so it is
independent of file metadata. Run `record` before a change and `check` after it, on the same machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "revise" / "assets" / "example.flac"
GAPS = ["--gap", "1.50:1.60", "--gap", "2.80:2.85"]
COMMANDS = {
    "inpaint_readme": ["inpaint", "example.flac", *GAPS, "-o", "out.flac"],
    "inpaint_alternate_3": ["inpaint", "example.flac", *GAPS, "--passes", "3", "--schedule", "alternate",
                            "-o", "out.wav"],
    "generate_prompt_seed7": ["generate", "--prompt", "example.flac", "--seconds", "2", "--seed", "7",
                              "-o", "out.wav"],
    "generate_no_prompt_seed3": ["generate", "--seconds", "1.5", "--seed", "3", "--passes", "2", "-o", "out.wav"],
    "benchmark_results": ["evaluate", "--benchmark", "clips", "--gaps-per-clip", "2", "--passes", "0,1,2",
                          "--gap-ms", "20,100", "--out", "bench"],
    "train_tiny_weights": ["train", "--config", str(ROOT / "configs" / "tiny.yaml"), "--data-root", "music",
                           "--max-steps", "4", "--output-dir", "run"],
}


def digest(name: str, work: Path) -> str:
    """SHA-256 of what command `name` wrote in `work`: decoded samples, or results.json."""
    if name.startswith("benchmark"):
        return hashlib.sha256((work / "bench" / "results.json").read_bytes()).hexdigest()
    if name.startswith("train"):
        return hashlib.sha256((work / "run" / "model" / "model.safetensors").read_bytes()).hexdigest()
    output = next(work.glob("out.*"))
    samples, rate = sf.read(str(output), dtype="float64", always_2d=True)
    return hashlib.sha256(samples.tobytes() + str(rate).encode()).hexdigest()


def run_all(command: list[str]) -> dict[str, str]:
    digests = {}
    for name, args in COMMANDS.items():
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            shutil.copy(EXAMPLE, work / "example.flac")
            (work / "clips").mkdir()
            samples, rate = sf.read(str(EXAMPLE), dtype="int16", always_2d=True)
            # the benchmark needs 6.3 s around each gap: four copies make room for two
            long = np.concatenate([samples] * 4)
            sf.write(str(work / "clips" / "example4.wav"), long, rate, subtype="PCM_16")
            (work / "music").mkdir()
            for index, part in enumerate(np.array_split(long, 3)):
                sf.write(str(work / "music" / f"part{index}.wav"), part, rate, subtype="PCM_16")
            subprocess.run([*command, *args], cwd=work, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            digests[name] = digest(name, work)
        print(f"{name:<28} {digests[name][:16]}")
    return digests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["record", "check"])
    parser.add_argument("file", type=Path)
    parser.add_argument("--command", default=f"{sys.executable} -m revise",
                        help="how to run revise (default: this Python's; e.g. an older checkout's `python -m revise.cli`)")
    args = parser.parse_args()
    digests = run_all(shlex.split(args.command))
    if args.action == "record":
        args.file.write_text(json.dumps(digests, indent=1) + "\n")
        return 0
    expected = json.loads(args.file.read_text())
    differing = [name for name in expected if digests.get(name) != expected[name]]
    for name in differing:
        print(f"DIFFERS: {name}")
    print("bit-identical" if not differing else f"{len(differing)} of {len(expected)} outputs differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
