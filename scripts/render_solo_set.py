"""Render solo instruments through FluidSynth: seeded melodies played by a SoundFont's sampled instruments.

The test set (the defaults) is Debian's FluidR3 General MIDI SoundFont; the training material
(`--training`) is another SoundFont's recordings (TimGM6mb), more instruments, other seeds and
tempos, so no test take, sample or melody is ever trained on.

Usage: python scripts/render_solo_set.py OUT_DIR [--seconds 20] [--rate 44100] [--takes 2] [--training]
Needs: apt-get install fluidsynth fluid-soundfont-gm (--training: timgm6mb-soundfont); the
SoundFonts' samples are real recordings. Writes OUT_DIR/<instrument>_<take>.wav (16-bit stereo, as
FluidSynth renders); keep the test set out of every training folder.
"""

from __future__ import annotations

import argparse
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
TRAINING_SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
# General MIDI programs (0-based) and the range each plays in
INSTRUMENTS = {"piano": (0, 48, 84), "violin": (40, 55, 88), "clarinet": (71, 50, 82), "flute": (73, 60, 93),
               "cello": (42, 36, 67), "guitar": (24, 40, 76), "trumpet": (56, 55, 82)}
TRAINING_INSTRUMENTS = {**INSTRUMENTS, "viola": (41, 48, 81), "oboe": (68, 58, 89), "bassoon": (70, 34, 65),
                        "horn": (60, 41, 72), "trombone": (57, 40, 70), "sax": (65, 49, 80), "harp": (46, 36, 90),
                        "marimba": (12, 48, 84), "organ": (19, 36, 84), "choir": (52, 48, 79),
                        "pizzicato": (45, 40, 80), "epiano": (4, 40, 84)}
TRAINING_SEED = 1000  # far from the test set's seeds (0 to the number of instruments)
SCALE = (0, 2, 4, 5, 7, 9, 11)
TICKS = 480  # per quarter note


def melody(low: int, high: int, seconds: float, rng: np.random.Generator, bpm: float = 100.0) -> list[tuple[int, int, int]]:
    """(pitch, start tick, length in ticks) of a seeded scale-wise walk at `bpm`, notes of 1/8 to 1/2."""
    notes, tick, pitch = [], 0, (low + high) // 2
    total = int(seconds * bpm / 60 * TICKS)
    while tick < total:
        length = int(rng.choice([TICKS // 2, TICKS, TICKS, 2 * TICKS]))
        step = int(rng.integers(-2, 3))
        candidates = [p for p in range(low, high) if p % 12 in SCALE]
        index = min(range(len(candidates)), key=lambda i: abs(candidates[i] - pitch))
        pitch = candidates[int(np.clip(index + step, 0, len(candidates) - 1))]
        notes.append((pitch, tick, length))
        tick += length
    return notes


def midi_file(program: int, notes: list[tuple[int, int, int]], bpm: float = 100.0) -> bytes:
    """A format-0 standard MIDI file: tempo `bpm`, one program, the notes on channel 0."""
    tempo = round(60_000_000 / bpm).to_bytes(3, "big")  # microseconds per quarter note
    events = [(0, bytes([0xFF, 0x51, 0x03]) + tempo), (0, bytes([0xC0, program]))]
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
    parser.add_argument("--training", action="store_true",
                        help="the training material: TimGM6mb, more instruments, other seeds, tempos of 70-140 bpm")
    args = parser.parse_args()
    soundfont, instruments, first = SOUNDFONT, INSTRUMENTS, 0
    if args.training:
        soundfont, instruments, first = TRAINING_SOUNDFONT, TRAINING_INSTRUMENTS, TRAINING_SEED
    if not soundfont.is_file():
        raise SystemExit(f"{soundfont} is missing: apt-get install fluidsynth fluid-soundfont-gm timgm6mb-soundfont")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        for seed, (name, (program, low, high)) in enumerate(instruments.items(), start=first):
            for take in range(args.takes):
                rng = np.random.default_rng([seed, take])
                bpm = float(rng.uniform(70, 140)) if args.training else 100.0
                midi = Path(folder) / f"{name}_{take}.mid"
                midi.write_bytes(midi_file(program, melody(low, high, args.seconds, rng, bpm), bpm))
                wav = args.out / f"{name}_{take}.wav"
                subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.8", "-r", str(args.rate), "-T", "wav",
                                "-O", "s16", "-F", str(wav), str(soundfont), str(midi)], check=True)
                print(wav)


if __name__ == "__main__":
    main()
