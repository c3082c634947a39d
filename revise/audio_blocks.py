"""Reading an audio file in pieces: any frames by seeking, in the native dtype, the rest left undecoded.

What lets a long file be repaired in flat memory. `open_blocks` refuses a bad file with the
sentences `revise.audio.read_audio` uses; a read that fails (an I/O error) or comes up short (a
truncated file) raises AudioError naming the file and the cause.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from revise.audio import (
    LOSSY_SUBTYPES,
    AudioError,
    check_decoded,
    check_input_file,
    decode_message,
    native_dtype,
    reason,
    truncated_message,
)
from revise.guarded_file import GuardedFile

BLOCK_FRAMES = 1 << 16  # 1.5 s at 44.1 kHz: 256 KiB of 16-bit stereo, few enough calls to cost nothing


@dataclass(frozen=True, eq=False)
class AudioFile:
    """An open audio file of `frames` frames; `read` and `blocks` give samples [n, channels] in
    the native dtype of `subtype` (`revise.audio.native_dtype`), as `read_audio` would."""

    path: Path
    sound: sf.SoundFile
    guard: GuardedFile
    frames: int
    sample_rate: int
    channels: int
    subtype: str
    format: str

    def read(self, first: int, last: int) -> np.ndarray:
        """Frames [first, last), clipped to the file: [n, channels]."""
        first, last = max(0, first), min(self.frames, last)
        dtype = native_dtype(self.subtype)
        if last <= first:
            return np.zeros((0, self.channels), dtype)
        try:
            if self.sound.tell() != first:  # a seek, even to where it is, costs a FLAC decoder a frame
                self.sound.seek(first)
            samples = self.sound.read(last - first, dtype=dtype.name, always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as error:
            raise AudioError(read_failure(self.path, self.guard, error)) from None
        if len(samples) < last - first:
            raise AudioError(read_failure(self.path, self.guard, None, self.frames, first + len(samples)))
        return samples

    def blocks(self, size: int = BLOCK_FRAMES) -> Iterator[np.ndarray]:
        """The whole file in consecutive blocks of `size` frames (the last one shorter)."""
        for first in range(0, self.frames, size):
            yield self.read(first, first + size)


@contextlib.contextmanager
def open_blocks(path: str | Path) -> Iterator[AudioFile]:
    """Open the audio file at `path` for reading in pieces, refusing what `read_audio` refuses but
    NaN (found in blocks by the caller). A lossy file is decoded through once to count its frames,
    which its headers only estimate."""
    path = Path(path)
    check_input_file(path)
    try:
        handle = path.open("rb")
    except OSError as error:
        raise AudioError(f"could not read {path} ({reason(error)}); check the file and its disk.") from None
    with handle:
        guard = GuardedFile(handle)
        try:
            sound = sf.SoundFile(guard)
        except (sf.LibsndfileError, RuntimeError) as error:
            raise AudioError(read_failure(path, guard, error)) from None
        with sound:
            frames = _count_frames(path, sound, guard) if sound.subtype in LOSSY_SUBTYPES else sound.frames
            check_decoded(path, frames, int(sound.samplerate))
            yield AudioFile(path, sound, guard, frames, int(sound.samplerate), sound.channels, sound.subtype,
                            sound.format)


def _count_frames(path: Path, sound: sf.SoundFile, guard: GuardedFile) -> int:
    """Decode `sound` through to count its frames; refuse it as `read_audio` does when 1 % fewer
    frames than declared come out."""
    declared, counted = sound.frames, 0
    try:
        while len(block := sound.read(BLOCK_FRAMES, dtype="float32", always_2d=True)):
            counted += len(block)
        sound.seek(0)
    except (sf.LibsndfileError, RuntimeError) as error:
        raise AudioError(read_failure(path, guard, error)) from None
    if guard.error is not None or counted < declared - declared // 100:
        raise AudioError(read_failure(path, guard, None, declared, counted))
    return counted


def read_failure(path: Path, guard: GuardedFile, error: Exception | None, declared: int = 0, read: int = 0) -> str:
    """The sentence for a failed or short read: the I/O error when there was one, else libsndfile's
    `error`, else truncation (`read` frames of `declared`)."""
    if guard.error is not None:
        return f"could not read {path} ({reason(guard.error)}); check the file and its disk."
    if isinstance(error, sf.LibsndfileError):
        return decode_message(path, error)
    if error is not None:
        return f"{path} could not be decoded ({reason(error)}); the file may be truncated or corrupt."
    return truncated_message(path, declared, read)
