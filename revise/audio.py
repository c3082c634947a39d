"""Audio files: read, check, convert, resample and write atomically (whole, or from a stream of
blocks); `revise.audio_blocks` reads a file in pieces with the same checks. No other module opens one.

Samples are read in the file's native dtype (int16 for 8/16-bit PCM, int32 for 24/32-bit PCM,
float32 for float and compressed files, float64 for doubles) and written back in the same dtype.
Reading PCM as float and writing it back is not guaranteed exact in libsndfile; reading and
writing the integers is, which is what lets `inpaint` return every untouched sample bit-identical.

Every problem a user can cause (a wrong path, a file that is not audio, a truncated file, an
output that would overwrite the input, a full disk) raises `AudioError` with one sentence that
names the file and says what to do.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from revise.guarded_file import GuardedFile

log = logging.getLogger(__name__)

MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 192000

# Suffix -> (libsndfile format, subtype to use when none is given).
_FORMATS = {
    ".wav": ("WAV", None),
    ".flac": ("FLAC", None),
    ".ogg": ("OGG", "VORBIS"),
    ".opus": ("OGG", "OPUS"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
}
LOSSY_FORMATS = frozenset({"OGG", "MP3"})  # every sample written to these is re-encoded
# Subtypes read as integers so that a read-write round trip is bit-exact; anything else is float32.
_NATIVE_DTYPES = {
    "PCM_S8": np.int16,
    "PCM_U8": np.int16,
    "PCM_16": np.int16,
    "ULAW": np.int16,
    "ALAW": np.int16,
    "PCM_24": np.int32,
    "PCM_32": np.int32,
    "DOUBLE": np.float64,
}
LOSSY_SUBTYPES = {"VORBIS", "OPUS", "MPEG_LAYER_I", "MPEG_LAYER_II", "MPEG_LAYER_III"}
_INT_SCALE = {np.dtype(np.int16): 2.0**15, np.dtype(np.int32): 2.0**31}


class AudioError(ValueError):
    """A problem with an audio file the user gave; the message is one sentence saying what to do."""


@dataclass(frozen=True, eq=False)
class Audio:
    """Decoded audio exactly as stored in the file.

    samples: [samples, channels] in the native dtype (see module docstring).
    """

    samples: np.ndarray
    sample_rate: int
    subtype: str
    format: str

    @property
    def channels(self) -> int:
        return self.samples.shape[1]

    @property
    def frames(self) -> int:
        return self.samples.shape[0]

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate


def native_dtype(subtype: str) -> np.dtype:
    """The dtype `read_audio` uses for a libsndfile subtype such as "PCM_24"."""
    return np.dtype(_NATIVE_DTYPES.get(subtype, np.float32))


def read_audio(path: str | Path, allow_nonfinite: bool = False) -> Audio:
    """Read a whole audio file as [samples, channels] in its native dtype, refusing bad files.

    NaN and infinite samples are refused too unless `allow_nonfinite` (for a caller that finds
    and repairs them).
    """
    path = Path(path)
    check_input_file(path)
    try:
        with sf.SoundFile(str(path)) as f:
            dtype = native_dtype(f.subtype)
            declared = f.frames
            samples = f.read(dtype=dtype.name, always_2d=True)
            audio = Audio(samples, int(f.samplerate), f.subtype, f.format)
    except sf.LibsndfileError as error:
        raise AudioError(decode_message(path, error)) from None
    except MemoryError:
        raise AudioError(f"{path} is too large to decode in memory; cut it into shorter files.") from None
    check_decoded(path, audio.frames, audio.sample_rate)
    slack = declared // 100 if audio.subtype in LOSSY_SUBTYPES else 0  # lossy decoders only estimate the length
    if audio.frames < declared - slack:
        raise AudioError(truncated_message(path, declared, audio.frames))
    if not allow_nonfinite and audio.samples.dtype.kind == "f" and not np.isfinite(audio.samples).all():
        raise AudioError(f"{path} contains NaN or infinite samples; repair or re-export the file.")
    return audio


def check_input_file(path: Path) -> None:
    """Refuse paths that cannot be an audio file before handing them to libsndfile."""
    if not path.exists():
        raise AudioError(f"input file {path} does not exist; check the path.")
    if path.is_dir():
        raise AudioError(f"{path} is a folder, not an audio file; give the path of a file.")
    if not os.access(path, os.R_OK):
        raise AudioError(f"{path} cannot be read (permission denied); check its permissions.")
    if path.stat().st_size == 0:
        raise AudioError(f"{path} is empty (0 bytes); give a file that holds audio.")
    if _wav_data_missing(path):
        raise AudioError(f"{path} is truncated: its header promises more audio than the file holds; use a complete "
                         "copy.")


def decode_message(path: Path, error: sf.LibsndfileError) -> str:
    """The sentence for a file libsndfile cannot open or decode."""
    text = re.sub(r"^\s*error\s*:\s*", "", str(error.error_string), flags=re.IGNORECASE).strip().rstrip(".")
    if "not recognised" in text.lower() or "unknown format" in text.lower():
        return f"{path} is not an audio file that can be read; give a wav, flac, ogg, opus or mp3 file."
    return f"{path} could not be decoded ({text}); the file may be truncated or corrupt."


def check_decoded(path: Path, frames: int, sample_rate: int) -> None:
    """Refuse audio of no frames or of a sample rate outside MIN_SAMPLE_RATE-MAX_SAMPLE_RATE."""
    if frames == 0:
        raise AudioError(f"{path} holds no audio samples (zero length, or truncated before its first sample).")
    if not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise AudioError(f"{path} has a sample rate of {sample_rate} Hz; supported rates are "
                         f"{MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz, so resample it first.")


def truncated_message(path: Path, declared: int, decoded: int) -> str:
    return (f"{path} is truncated: it declares {declared} frames but only {decoded} could be decoded; use a "
            "complete copy.")


def _wav_data_missing(path: Path) -> bool:
    """True when a RIFF/WAVE file's data chunk declares more bytes than the file holds.

    libsndfile silently shortens such files to what is there, so truncation is found here.
    Unknown sizes (0 or 0xFFFFFFFF, written by streaming recorders) are not counted as truncation.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        header = f.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return False
        position = 12
        while position + 8 <= size:
            f.seek(position)
            chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
            if chunk_id == b"data":
                known = chunk_size not in (0, 0xFFFFFFFF)
                return known and position + 8 + chunk_size > size
            position += 8 + chunk_size + (chunk_size & 1)  # chunks are padded to even sizes
    return False


def check_samples(x: np.ndarray, what: str = "the audio") -> None:
    """Raise AudioError when `x` (any shape) holds NaN or infinite values."""
    if x.dtype.kind in "fc" and not np.isfinite(x).all():
        raise AudioError(f"{what} contains NaN or infinite samples after processing; nothing was written.")


def to_float(samples: np.ndarray) -> np.ndarray:
    """Native samples (any shape) to float64: integers scaled into [-1, 1), floats unchanged."""
    scale = _INT_SCALE.get(samples.dtype)
    if scale is not None:
        return samples.astype(np.float64) / scale
    if samples.dtype.kind != "f":
        raise ValueError(f"unsupported sample dtype {samples.dtype}; use int16, int32 or a float type.")
    return samples.astype(np.float64)


def from_float(x: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """The exact inverse of `to_float`: round and clip to the integer range, or cast to float.

    `from_float(to_float(s), s.dtype)` equals `s` bit for bit; values outside [-1, 1) clip.
    """
    dtype = np.dtype(dtype)
    scale = _INT_SCALE.get(dtype)
    if scale is None:
        if dtype.kind != "f":
            raise ValueError(f"unsupported sample dtype {dtype}; use int16, int32 or a float type.")
        return x.astype(dtype)
    return np.clip(np.round(x * scale), -scale, scale - 1).astype(dtype)


def to_mono(x: np.ndarray) -> np.ndarray:
    """Mix float [samples, channels] down to [samples] by the channel mean; [samples] passes through."""
    if x.ndim == 1:
        return x
    return x.mean(axis=1, dtype=np.float64).astype(x.dtype if x.dtype.kind == "f" else np.float64)


def resample(x: np.ndarray, rate_in: int, rate_out: int, quality: str = "HQ") -> np.ndarray:
    """Resample float [samples] or [samples, channels] from `rate_in` to `rate_out` Hz with soxr.

    The output has round(samples * rate_out / rate_in) samples; equal rates return `x` itself.
    """
    if rate_in <= 0 or rate_out <= 0:
        raise ValueError(f"sample rates must be positive, got {rate_in} and {rate_out}.")
    if rate_in == rate_out:
        return x
    return soxr.resample(np.ascontiguousarray(x), rate_in, rate_out, quality=quality)


def fit_length(x: np.ndarray, length: int) -> np.ndarray:
    """Crop or zero-pad the last axis to `length` (resampling can be off by a sample)."""
    if x.shape[-1] >= length:
        return x[..., :length]
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, length - x.shape[-1])])


def audio_format(path: str | Path) -> tuple[str, str | None]:
    """(libsndfile format, default subtype) for an output path, from its suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in _FORMATS:
        raise AudioError(f"cannot tell the audio format of {path}; end the name in {', '.join(_FORMATS)}.")
    return _FORMATS[suffix]


def write_audio(
    path: str | Path,
    samples: np.ndarray,
    sample_rate: int,
    subtype: str | None = None,
    format: str | None = None,
) -> None:
    """Write [samples] or [samples, channels] atomically: a temporary file, fsync, then rename.

    The format comes from the suffix unless given; the subtype defaults to the format's default.
    Integer samples are written as is (bit-exact for the matching PCM subtype). On any failure the
    temporary file is removed, `path` is left as it was, and AudioError is raised.
    """
    check_samples(samples, f"the audio for {path}")
    frames = samples.reshape(samples.shape[0], -1)
    write_blocks(path, [frames], sample_rate, frames.shape[1], subtype, format)


def write_blocks(
    path: str | Path,
    blocks: Iterable[np.ndarray],
    sample_rate: int,
    channels: int,
    subtype: str | None = None,
    format: str | None = None,
) -> None:
    """Write the consecutive `blocks` ([m, channels] each) as one file, atomically as `write_audio` does,
    holding one block at a time; an AudioError raised making them passes through, the file unwritten."""
    path = Path(path)
    if format is None:
        format, default_subtype = audio_format(path)
        subtype = subtype or default_subtype
    with atomic_output(path) as sink:
        with sf.SoundFile(sink, "w", sample_rate, channels, subtype, format=format) as f:
            for block in blocks:
                f.write(block)


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[GuardedFile]:
    """A new temporary file beside `path` to write; on success it is fsynced and renamed to `path`.

    On any failure, or an interrupt, the temporary file is removed and `path` is left as it was; a
    failure to write raises AudioError naming `path` and the cause (a full disk, a missing folder).
    """
    temp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}{path.suffix}")
    sink, done = None, False
    try:
        with temp.open("xb") as handle:
            sink = GuardedFile(handle)
            yield sink
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        done = True
        _fsync_folder(path.parent)
    except AudioError:
        raise
    except (OSError, RuntimeError, ValueError, TypeError, AssertionError) as error:  # soundfile asserts if short
        cause = sink.error if sink is not None and sink.error is not None else error
        full = isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
        advice = "free some space or choose another folder" if full else "check the folder and the format"
        raise AudioError(f"could not write {path} ({reason(cause)}); {advice}.") from None
    finally:
        if not done:  # also on KeyboardInterrupt: never leave the temporary file behind
            with contextlib.suppress(OSError):
                temp.unlink()


def reason(error: BaseException) -> str:
    """The cause an error gives, as words for a sentence: "No space left on device"."""
    text = getattr(error, "strerror", None) or str(error) or "the write came up short"
    return re.sub(r"\s+", " ", text).strip().rstrip(".")


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable; not every platform or filesystem allows it."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def check_output_path(output: str | Path, inputs: Iterable[str | Path] = (), force: bool = False) -> None:
    """Refuse an output path before any work is done, so no run ends by failing to save.

    Raises AudioError when the output's suffix names no audio format, the output is one of
    `inputs`, is a folder, sits in a folder that does not exist or cannot be written, or already
    exists and `force` is False.
    """
    output = Path(output)
    resolved = output.resolve()
    for item in inputs:
        if Path(item).resolve() == resolved:
            raise AudioError(f"output {output} is the input file; choose another output path so the input stays "
                             "untouched.")
    if output.is_dir():
        raise AudioError(f"output {output} is a folder; give a file name inside it.")
    audio_format(output)
    folder = resolved.parent
    if folder.exists() and not folder.is_dir():
        raise AudioError(f"{output.parent} is a file, not a folder; choose another output path.")
    if not folder.is_dir():
        raise AudioError(f"the output folder {output.parent} does not exist; create it first or choose another path.")
    if output.exists() and not force:
        raise AudioError(f"output {output} already exists; pass --force to overwrite it.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise AudioError(f"the output folder {output.parent} is not writable; choose another path.")
    check_folder_writable(folder)


def check_folder_writable(folder: str | Path) -> None:
    """Create and remove a hidden file in `folder`, raising AudioError when that fails.

    A real write, because os.access cannot tell: permission bits do not stop root, yet a
    read-only or virtual filesystem still refuses.
    """
    probe = Path(folder) / f".revise-write-test-{secrets.token_hex(4)}"
    try:
        probe.open("xb").close()
    except OSError as error:
        raise AudioError(f"the folder {folder} cannot be written ({reason(error)}); choose another path.") from None
    with contextlib.suppress(OSError):
        probe.unlink()


AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".opus", ".mp3")


def list_audio_files(root: Path) -> list[Path]:
    """Audio files under the folder `root`, recursively, sorted by relative path; hidden files and
    folders (temp files, macOS `._` forks) are skipped. Callers say what an empty list means."""
    files = [
        path
        for path in root.rglob("*")
        if path.suffix.lower() in AUDIO_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(root).parts)
        and path.is_file()
    ]
    return sorted(files, key=lambda path: path.relative_to(root).as_posix())
