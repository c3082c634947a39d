"""Loss patterns for simulating a lossy packet stream, and the trace files that record them.

A pattern is a bool array [packets], True where a packet is lost. `loss_pattern` draws one from a
seeded generator: independent losses (`burst=1`), or runs of 2 to `burst` packets (lengths drawn
uniformly) separated by arrived stretches of geometric length, so that the expected fraction lost
is `rate` either way. A trace is a text file of lost packet indices (one or more per line, commas
or spaces between them, `#` starts a comment), or a WAV with the lost packets zeroed (every
sample of every channel exactly 0). Pure numpy; the WAV is read through `revise.audio`.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import numpy as np


def loss_pattern(packets: int, rate: float, burst: int, rng: np.random.Generator) -> np.ndarray:
    """Lost packets [packets] (bool): a fraction `rate` in expectation, in runs of 1 (`burst=1`) or 2..burst."""
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"the loss rate must be from 0 to below 1, got {rate:g}.")
    if burst < 1:
        raise ValueError(f"the burst length must be 1 or more packets, got {burst}.")
    if burst == 1 or rate == 0.0:
        return rng.random(packets) < rate
    lengths = np.arange(2, burst + 1)
    mean_gap = lengths.mean() * (1.0 - rate) / rate  # arrived packets between runs, on average
    lost = np.zeros(packets, dtype=bool)
    position = int(rng.geometric(1.0 / max(mean_gap, 1.0)))
    while position < packets:
        run = int(rng.choice(lengths))
        lost[position : position + run] = True
        position += run + int(rng.geometric(1.0 / max(mean_gap, 1.0)))
    return lost


def lost_from_text(text: str, packets: int, source: str = "the trace") -> np.ndarray:
    """The pattern [packets] of a text trace: lost packet indices, 0-based; refuses indices past the end."""
    indices = []
    for number, line in enumerate(text.splitlines(), 1):
        for token in re.split(r"[,\s]+", line.split("#", 1)[0].strip()):
            if not token:
                continue
            if not re.fullmatch(r"\d+", token):
                raise ValueError(f"{source} line {number} holds {token!r}; write lost packet indices as whole "
                                 "numbers from 0.")
            indices.append(int(token))
    lost = np.zeros(packets, dtype=bool)
    if indices and max(indices) >= packets:
        raise ValueError(f"{source} loses packet {max(indices)}, past the end of the audio ({packets} packets, "
                         "numbered from 0).")
    lost[indices] = True
    return lost


def lost_from_wav(samples: np.ndarray, packet_samples: int, packets: int, source: str = "the trace") -> np.ndarray:
    """The pattern [packets] of a zeroed-packet trace, samples [n, C]: lost where a whole packet is 0."""
    if len(samples) > packets * packet_samples:
        raise ValueError(f"{source} is {len(samples)} samples long, past the end of the audio "
                         f"({packets * packet_samples} samples in whole packets).")
    padded = np.zeros((packets * packet_samples, samples.shape[1]), dtype=samples.dtype)
    padded[: len(samples)] = samples
    lost = ~padded.reshape(packets, -1).any(axis=1)
    lost[(len(samples) + packet_samples - 1) // packet_samples :] = False  # beyond the trace: not lost
    return lost


def read_trace(path: Path, packets: int, packet_samples: int, sample_rate: int) -> np.ndarray:
    """The pattern [packets] of a trace file: .wav/.flac (zeroed packets) or text (indices)."""
    if path.suffix.lower() in (".wav", ".flac"):
        from revise.audio import read_audio

        trace = read_audio(path)
        if trace.sample_rate != sample_rate:
            raise ValueError(f"the trace {path} is at {trace.sample_rate} Hz but the audio is at {sample_rate} Hz; "
                             "give a trace at the audio's rate.")
        return lost_from_wav(trace.samples, packet_samples, packets, f"the trace {path}")
    if not path.is_file():
        raise ValueError(f"the trace {path} does not exist or is not a file; check the path.")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"the trace {path} cannot be read as text ({type(error).__name__}); give a text file of "
                         "lost packet indices or a WAV.") from None
    return lost_from_text(text, packets, f"the trace {path}")


def trace_text(lost: np.ndarray, header: dict[str, object]) -> str:
    """A text trace: `# key: value` header lines, then the lost packet indices, one per line."""
    lines = [f"# {key}: {value}" for key, value in header.items()]
    return "\n".join([*lines, *(str(i) for i in np.flatnonzero(lost))]) + "\n"


def write_trace(path: Path, text: str) -> None:
    """Write a text trace atomically: a temporary file beside `path`, then a rename."""
    temp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    try:
        temp.write_text(text)
        os.replace(temp, path)
    except OSError as error:
        raise ValueError(f"could not write the trace {path} ({error.strerror or error}); check the folder.") from None
    finally:
        temp.unlink(missing_ok=True)


def lost_runs(lost: np.ndarray) -> list[tuple[int, int]]:
    """The runs of lost packets [(first, end), ...] (end exclusive), in order."""
    edges = np.diff(np.concatenate([[0], np.asarray(lost, dtype=np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))
