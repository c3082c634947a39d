"""Cut the held-out test clips (music mixes and recorded speech) out of extracted Debian packages.

Usage:
  python scripts/cut_test_clips.py cut EXTRACTED OUT   # EXTRACTED/<package>/ is `dpkg -x` of each package,
                                                       # EXTRACTED/versions.tsv holds "package<TAB>version"
  python scripts/cut_test_clips.py summary OUT         # check and summarise OUT/{mix,speech} and OUT/SOURCES.tsv

Normally run by scripts/fetch_test_sets.sh, which downloads and extracts the packages. `cut` writes
OUT/mix/<package>_<track>.wav (one 20 s excerpt per chosen track, at the file's own rate and channels),
OUT/speech/<package>_<speaker>.wav (recorded utterances of one speaker, each trimmed of its silent
ends and joined with 0.3 s pauses, mono, at the recordings' rate) and OUT/SOURCES.tsv (one line per
clip). Every choice is fixed (sorted names, fixed seeds), so two runs on the same packages write the
same samples. All clips are 16-bit PCM WAV; a clip quieter than -40 dBFS RMS is left out and reported.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

AUDIO_SUFFIXES = {".ogg", ".oga", ".opus", ".flac", ".wav"}
TRACKER_SUFFIXES = {".it", ".xm", ".mod", ".s3m"}

# --- music mixes -----------------------------------------------------------------------------------
EXCERPT_S = 20.0
EXCERPT_START_S = 30.0  # excerpts start here, or in the middle of tracks shorter than START + EXCERPT
MIN_TRACK_S = 25.0
MAX_TRACKS = 8  # per package; more tracks than this and every k-th (evenly spread over the sorted names)
# package -> (music folder inside the package, file-name pattern the tracks match)
MIX = {
    "extremetuxracer-data": ("usr/share/games/etr/music", r".*"),
    "xmoto-data": ("usr/share/games/xmoto/Textures/Musics", r".*"),
    "lincity-ng-data": ("usr/share/games/lincity-ng/music/default", r".*"),
    "frozen-bubble-data": ("usr/share/games/frozen-bubble/snd", r".*zik.*"),  # the rest of snd/ is effects
}

# --- speech ----------------------------------------------------------------------------------------
PAUSE_S = 0.3
SPEECH_TARGET_S = 15.0  # a clip is closed once it reaches this length ...
SPEECH_MAX_S = 20.0  # ... or when the next utterance would take it past this one
SPEECH_MIN_S = 10.0  # a shorter remainder is dropped
CLIPPED_PEAK = 0.99  # utterances that reach this peak are clipped recordings and are skipped


@dataclass(frozen=True)
class SpeechGroup:
    name: str  # the clip name after the package, e.g. "en" -> ktuberling-data_en_1.wav
    package: str
    folder: str
    exclude: tuple[str, ...] = ()
    shuffle_seed: int | None = None  # None: utterances in sorted order (a reading in sequence)
    clips: int = 1


# ktuberling: each translation team recorded the game's words (one speaker per language); only the
# languages whose recordings are mostly unclipped and at 44.1 kHz. pocketsphinx-testdata: read speech,
# a LibriVox reading of Sense and Sensibility (its cards/ recordings are too short and partly clipped).
# alsa-utils: the speaker-test channel names.
SPEECH = [
    *(SpeechGroup(lang, "ktuberling-data", f"usr/share/ktuberling/sounds/{lang}", shuffle_seed=seed, clips=clips)
      for seed, (lang, clips) in enumerate([("en", 2), ("fr", 2), ("de", 1), ("ru", 1), ("el", 1), ("lt", 1)])),
    SpeechGroup("librivox", "pocketsphinx-testdata", "usr/share/pocketsphinx/test/data/librivox"),
    SpeechGroup("channels", "alsa-utils", "usr/share/sounds/alsa", exclude=("Noise.wav",)),
]

SOURCES_HEADER = "set\tfile\tpackage\tversion\tsource\tstart_s\tseconds\tsample_rate\tchannels"


def rms_dbfs(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def safe_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", stem).strip("_")


def audio_files(folder: Path, pattern: str = r".*", exclude: tuple[str, ...] = ()) -> list[Path]:
    if not folder.is_dir():
        sys.exit(f"cut_test_clips: error: {folder} is missing; the package layout changed.")
    files = sorted(p for p in folder.iterdir() if p.is_file() and re.fullmatch(pattern, p.name)
                   and p.name not in exclude)
    if any(p.suffix.lower() in TRACKER_SUFFIXES for p in files):
        sys.exit(f"cut_test_clips: error: {folder} holds tracker modules; choose another package.")
    return [p for p in files if p.suffix.lower() in AUDIO_SUFFIXES]


def spread(items: list, count: int) -> list:
    """`count` items evenly spaced over `items` (all of them when there are no more than `count`)."""
    if len(items) <= count:
        return items
    return [items[i] for i in np.round(np.linspace(0, len(items) - 1, count)).astype(int)]


def cut_mix(root: Path, package: str, version: str, out: Path) -> list[str]:
    folder, pattern = MIX[package]
    tracks = [p for p in audio_files(root / folder, pattern) if sf.info(str(p)).duration >= MIN_TRACK_S]
    if not tracks:
        sys.exit(f"cut_test_clips: error: {package} has no track of {MIN_TRACK_S:g} s or more.")
    rows = []
    for path in spread(tracks, MAX_TRACKS):
        info = sf.info(str(path))
        start_s = EXCERPT_START_S if info.duration >= EXCERPT_START_S + EXCERPT_S else (info.duration - EXCERPT_S) / 2
        start, frames = round(start_s * info.samplerate), round(EXCERPT_S * info.samplerate)
        audio, rate = sf.read(str(path), start=start, frames=frames, dtype="float32", always_2d=True)
        name = f"{package}_{safe_name(path.stem)}.wav"
        if (level := rms_dbfs(audio)) <= -40:
            print(f"cut_test_clips: skipping {name}: {level:.1f} dBFS RMS")
            continue
        sf.write(str(out / "mix" / name), np.clip(audio, -1, 1), rate, subtype="PCM_16")
        rows.append("\t".join(["mix", name, package, version, str(path.relative_to(root)), f"{start / rate:.3f}",
                               f"{len(audio) / rate:.3f}", str(rate), str(audio.shape[1])]))
    return rows


def trimmed(audio: np.ndarray, rate: int, floor_db: float = 35.0, margin_s: float = 0.05) -> np.ndarray:
    """The utterance without its silent ends: from the first to the last 10 ms frame within floor_db of the
    loudest frame, plus margin_s either side, with 5 ms fades so that the cuts do not click."""
    hop = max(1, rate // 100)
    frames = len(audio) // hop
    if frames == 0:
        return audio
    level = 10 * np.log10(np.mean(audio[: frames * hop].reshape(frames, hop) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(level >= level.max() - floor_db)
    margin = int(margin_s * rate)
    start, stop = max(0, loud[0] * hop - margin), min(len(audio), (loud[-1] + 1) * hop + margin)
    piece = audio[start:stop].copy()
    fade = min(len(piece) // 2, int(0.005 * rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=piece.dtype)
        piece[:fade] *= ramp
        piece[-fade:] *= ramp[::-1]
    return piece


def cut_speech(root: Path, group: SpeechGroup, version: str, out: Path) -> list[str]:
    files = audio_files(root / group.folder, exclude=group.exclude)
    if not files:
        sys.exit(f"cut_test_clips: error: {group.package} has no recordings in {group.folder}.")
    rates = Counter(sf.info(str(p)).samplerate for p in files)
    rate = max(rates, key=lambda r: (rates[r], r))  # the recordings' usual rate; the odd ones out are skipped
    files = [p for p in files if sf.info(str(p)).samplerate == rate]
    if group.shuffle_seed is not None:
        files = [files[i] for i in np.random.default_rng(group.shuffle_seed).permutation(len(files))]
    pause = np.zeros(round(PAUSE_S * rate), dtype=np.float32)
    clips: list[tuple[list[Path], list[np.ndarray]]] = []
    sources: list[Path] = []
    pieces: list[np.ndarray] = []
    length = 0
    for path in files:
        audio, _ = sf.read(str(path), dtype="float32", always_2d=True)
        if np.abs(audio).max() >= CLIPPED_PEAK:
            continue
        piece = trimmed(audio.mean(axis=1), rate)
        extra = len(piece) + (len(pause) if pieces else 0)
        if pieces and (length + extra) / rate > SPEECH_MAX_S:
            clips.append((sources, pieces))
            sources, pieces, length, extra = [], [], 0, len(piece)
            if len(clips) == group.clips:
                break
        if pieces:
            pieces.append(pause)
        pieces.append(piece)
        sources.append(path)
        length += extra
        if length / rate >= SPEECH_TARGET_S:
            clips.append((sources, pieces))
            sources, pieces, length = [], [], 0
            if len(clips) == group.clips:
                break
    if pieces and len(clips) < group.clips:
        clips.append((sources, pieces))
    rows = []
    for number, (sources, pieces) in enumerate(clips, start=1):
        audio = np.concatenate(pieces)
        name = f"{group.package}_{group.name}" + (f"_{number}" if group.clips > 1 else "") + ".wav"
        if len(audio) / rate < SPEECH_MIN_S:
            print(f"cut_test_clips: skipping {name}: only {len(audio) / rate:.1f} s of recordings")
            continue
        if (level := rms_dbfs(audio)) <= -40:
            print(f"cut_test_clips: skipping {name}: {level:.1f} dBFS RMS")
            continue
        sf.write(str(out / "speech" / name), np.clip(audio, -1, 1), rate, subtype="PCM_16")
        source = ",".join(str(p.relative_to(root)) for p in sources)
        rows.append("\t".join(["speech", name, group.package, version, source, "0.000", f"{len(audio) / rate:.3f}",
                               str(rate), "1"]))
    return rows


def cut(extracted: Path, out: Path) -> None:
    versions = dict(line.split("\t") for line in (extracted / "versions.tsv").read_text().splitlines() if line)
    needed = set(MIX) | {group.package for group in SPEECH}
    if missing := sorted(needed - set(versions)):
        sys.exit(f"cut_test_clips: error: not extracted: {' '.join(missing)}")
    (out / "mix").mkdir(parents=True, exist_ok=True)
    (out / "speech").mkdir(parents=True, exist_ok=True)
    rows = []
    for package in MIX:
        rows += cut_mix(extracted / package, package, versions[package], out)
    for group in SPEECH:
        rows += cut_speech(extracted / group.package, group, versions[group.package], out)
    (out / "SOURCES.tsv").write_text(SOURCES_HEADER + "\n" + "\n".join(rows) + "\n")


def summary(out: Path) -> None:
    """Check that every clip SOURCES.tsv lists is there, matches its line and is not silent; print totals."""
    lines = (out / "SOURCES.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in lines[1:] if line]
    problems = []
    for name in ("mix", "speech"):
        listed = {row["file"] for row in rows if row["set"] == name}
        present = {p.name for p in (out / name).glob("*.wav")}
        problems += [f"{name}/{f}: listed in SOURCES.tsv but missing" for f in sorted(listed - present)]
        problems += [f"{name}/{f}: not listed in SOURCES.tsv" for f in sorted(present - listed)]
    for name in ("mix", "speech"):
        chosen = [row for row in rows if row["set"] == name and (out / name / row["file"]).is_file()]
        seconds, rates, quietest, packages = 0.0, Counter(), 0.0, Counter()
        for row in chosen:
            audio, rate = sf.read(str(out / name / row["file"]), dtype="float32", always_2d=True)
            level = rms_dbfs(audio)
            if level <= -40:
                problems.append(f"{name}/{row['file']}: {level:.1f} dBFS RMS")
            if rate != int(row["sample_rate"]) or audio.shape[1] != int(row["channels"]):
                problems.append(f"{name}/{row['file']}: does not match its SOURCES.tsv line")
            seconds += len(audio) / rate
            rates[f"{rate} Hz x{audio.shape[1]}"] += 1
            packages[f"{row['package']} {row['version']}"] += 1
            quietest = min(quietest, level)
        print(f"{name}: {len(chosen)} clips, {seconds:.1f} s; "
              + ", ".join(f"{count} at {key}" for key, count in sorted(rates.items()))
              + f"; quietest {quietest:.1f} dBFS RMS")
        for package, count in sorted(packages.items()):
            print(f"  {package}: {count}")
    if problems:
        sys.exit("cut_test_clips: error:\n  " + "\n  ".join(problems))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    cut_parser = commands.add_parser("cut", help="cut the clips and write SOURCES.tsv")
    cut_parser.add_argument("extracted", type=Path)
    cut_parser.add_argument("out", type=Path)
    summary_parser = commands.add_parser("summary", help="check the clips and print totals")
    summary_parser.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.command == "cut":
        cut(args.extracted, args.out)
    else:
        summary(args.out)


if __name__ == "__main__":
    main()
