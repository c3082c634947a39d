"""Repairing one file: read it, find its dropouts if asked, fill its gaps, write it atomically.

The one home of what `revise inpaint FILE -o OUT` does, so the command line, a batch over many
files and a user's own script all repair a file the same way. User mistakes raise `ValueError`
(usually `AudioError`) with one sentence, and the output is left as it was.

The file is never decoded whole: detection reads it in blocks, each group of gaps reads only its
window, and the output is streamed block by block from the input with the repaired spans written
over it, so memory stays flat in the file's length and the time is about one read and one write.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from revise.audio import LOSSY_FORMATS, audio_format, check_output_path, check_samples, write_blocks
from revise.audio_blocks import BLOCK_FRAMES, AudioFile, open_blocks
from revise.config import CANDIDATES, MAX_GAP_SECONDS, ScheduleName
from revise.detect import Dropout, scan_dropouts

if TYPE_CHECKING:
    from revise.inpainting import Span

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Repair:
    """What repairing one file did: `gaps` filled (given plus found), the `dropouts` found by
    detection (in samples at `sample_rate`), and the wall-clock `seconds`. `output` is None when
    there was nothing to fill and nothing was written."""

    input: Path
    output: Path | None
    gaps: int
    dropouts: tuple[Dropout, ...]
    sample_rate: int
    seconds: float


def file_dropouts(path: str | Path) -> tuple[list[Dropout], int]:
    """The dropouts of the audio file at `path` and its sample rate."""
    with open_blocks(path) as audio:
        return _dropouts(audio), audio.sample_rate


def _dropouts(audio: AudioFile) -> list[Dropout]:
    return scan_dropouts(audio.blocks(BLOCK_FRAMES), audio.read, audio.sample_rate)


def repair_file(
    source: str | Path,
    output: str | Path,
    gaps: Sequence[tuple[float, float]] = (),
    detect: bool = False,
    model=None,
    passes: int | None = None,
    schedule: ScheduleName | None = None,
    candidates: Sequence[str] = CANDIDATES,
    force: bool = False,
) -> Repair:
    """Fill `gaps` (pairs of seconds) in the file `source`, and its dropouts when `detect`; write `output`.

    The output keeps the input's sample format when both are the same kind of file, so every
    sample outside the gaps and their crossfade margins is bit-identical (for lossless formats).
    The output is checked before any work and written atomically: on any failure it is left as it
    was. `model` is a loaded `InferenceModel` or `RevisionModel` (default: the shipped one, loaded
    without torch only when needed).
    """
    began = time.perf_counter()
    source, output = Path(source), Path(output)
    check_output_path(output, [source], force)
    warn_if_lossy(output)
    with open_blocks(source) as audio:
        dropouts = _dropouts(audio) if detect else []  # NaN left in is found here or refused by inpaint_spans
        check_fillable(dropouts, audio.sample_rate, source)
        every_gap = [*gaps, *(d.as_gap(audio.sample_rate) for d in dropouts)]
        if not every_gap:
            return Repair(source, None, 0, (), audio.sample_rate, time.perf_counter() - began)

        from revise.inpainting import fill_settings, inpaint_spans

        settings = fill_settings(model, passes, schedule, candidates)
        spans = inpaint_spans(audio.read, audio.frames, audio.sample_rate, every_gap, *settings)
        for span in spans:
            check_samples(span.samples, f"the audio for {output}")
        subtype = audio.subtype if output.suffix.lower() == source.suffix.lower() else None
        write_blocks(output, repaired_blocks(audio, spans), audio.sample_rate, audio.channels, subtype)
    return Repair(source, output, len(every_gap), tuple(dropouts), audio.sample_rate, time.perf_counter() - began)


def repaired_blocks(audio: AudioFile, spans: Sequence[Span]) -> Iterator[np.ndarray]:
    """The frames of `audio` in blocks of BLOCK_FRAMES, [m, channels], with `spans` (sorted by
    start) written over the frames they cover; every other frame is the input's, as read."""
    done = 0  # spans before this one end before the current block
    for block_start in range(0, audio.frames, BLOCK_FRAMES):
        block = audio.read(block_start, block_start + BLOCK_FRAMES)
        block_end = block_start + len(block)
        while done < len(spans) and spans[done].end <= block_start:
            done += 1
        for span in spans[done:]:
            if span.start >= block_end:
                break
            first, last = max(block_start, span.start), min(block_end, span.end)
            if first < last:
                block[first - block_start : last - block_start] = span.samples[first - span.start : last - span.start]
        yield block


def check_fillable(dropouts: Sequence[Dropout], sample_rate: int, source: Path) -> None:
    """NaN or infinite samples are found whatever their length; refuse a run too long to fill before any work."""
    for d in dropouts:
        if d.kind == "nonfinite" and (d.end - d.start) / sample_rate > MAX_GAP_SECONDS + 1e-9:
            raise ValueError(f"{source} holds NaN or infinite samples from {d.start / sample_rate:.3f} s to "
                             f"{d.end / sample_rate:.3f} s, longer than the {MAX_GAP_SECONDS:g} s revise can fill; "
                             "repair or re-export the file.")


def warn_if_lossy(output: Path) -> None:
    if audio_format(output)[0] in LOSSY_FORMATS:
        log.warning("%s is a lossy format: every sample is re-encoded, not only the gaps; write wav or flac to keep "
                    "the untouched samples bit-identical", output.name)
