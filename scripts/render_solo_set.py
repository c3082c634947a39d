"""Render a test set of solo instruments that no training run has seen: seeded melodies played by
the sampled instruments of Debian's FluidR3 General MIDI SoundFont, through FluidSynth.

Usage: python scripts/render_solo_set.py OUT_DIR [--seconds 20] [--rate 44100] [--takes 2]
Needs: apt-get install fluidsynth fluid-soundfont-gm (the SoundFont's samples are real recordings).
Writes OUT_DIR/<instrument>_<take>.wav, mono 16-bit; keep OUT_DIR out of every training folder.
"""

from __future__ import annotations

import argparse
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
# General MIDI programs (0-based) and the range each plays in
INSTRUMENTS = {"piano": (0, 48, 84), "violin": (40, 55, 88), "clarinet": (71, 50, 82), "flute": (73, 60, 93),
               "cello": (42, 36, 67), "guitar": (24, 40, 76), "trumpet": (56, 55, 82)}
SCALE = (0, 2, 4, 5, 7, 9, 11)
TICKS = 480  # per quarter note


def melody(low: int, high: int, seconds: float, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """(pitch, start tick, length in ticks) of a seeded scale-wise walk at 100 bpm, notes of 1/8 to 1/2."""
    notes, tick, pitch = [], 0, (low + high) // 2
    total = int(seconds * 100 / 60 * TICKS)
    while tick < total:
        length = int(rng.choice([TICKS // 2, TICKS, TICKS, 2 * TICKS]))
        step = int(rng.integers(-2, 3))
        candidates = [p for p in range(low, high) if p % 12 in SCALE]
        index = min(range(len(candidates)), key=lambda i: abs(candidates[i] - pitch))
        pitch = candidates[int(np.clip(index + step, 0, len(candidates) - 1))]
        notes.append((pitch, tick, length))
        tick += length
    return notes


def midi_file(program: int, notes: list[tuple[int, int, int]]) -> bytes:
    """A format-0 standard MIDI file: tempo 100 bpm, one program, the notes on channel 0."""
    events = [(0, bytes([0xFF, 0x51, 0x03]) + (600000).to_bytes(3, "big")), (0, bytes([0xC0, program]))]
    for pitch, start, length in notes:
        velocity = 70 + (pitch * 7) % 30
        events += [(start, bytes([0x90, pitch, velocity])), (start + length - 10, bytes([0x80, pitch, 0]))]
    events.sort(key=lambda event: event[0])
    track, now = b"", 0
    for tick, data in events + [(events[-1][0] + TICKS, bytes([0xFF, 0x2F, 0x00]))]:
        track += _variable_length(tick - now) + data
        now = tick
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS) + b"MTrk" + struct.pack(">I", len(track)) + track


def _variable_length(value: int) -> bytes:
    out = [value & 0x7F]
    while value > 0x7F:
        value >>= 7
        out.insert(0, (value & 0x7F) | 0x80)
    return bytes(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=int, default=44100)
    parser.add_argument("--takes", type=int, default=2)
    args = parser.parse_args()
    if not SOUNDFONT.is_file():
        raise SystemExit(f"{SOUNDFONT} is missing: apt-get install fluidsynth fluid-soundfont-gm")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        for seed, (name, (program, low, high)) in enumerate(INSTRUMENTS.items()):
            for take in range(args.takes):
                rng = np.random.default_rng([seed, take])
                midi = Path(folder) / f"{name}_{take}.mid"
                midi.write_bytes(midi_file(program, melody(low, high, args.seconds, rng)))
                wav = args.out / f"{name}_{take}.wav"
                subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.8", "-r", str(args.rate), "-T", "wav",
                                "-O", "s16", "-F", str(wav), str(SOUNDFONT), str(midi)], check=True)
                print(wav)


if __name__ == "__main__":
    main()
