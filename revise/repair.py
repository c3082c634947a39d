"""Repairing one file: read it, find its dropouts if asked, fill its gaps, write it atomically.

The one home of what `revise inpaint FILE -o OUT` does, so the command line, a batch over many
files and a user's own script all repair a file the same way. User mistakes raise `ValueError`
(usually `AudioError`) with one sentence, before the output is touched.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from revise.audio import LOSSY_FORMATS, audio_format, check_output_path, read_audio, write_audio
from revise.config import CANDIDATES, MAX_GAP_SECONDS, ScheduleName
from revise.detect import Dropout, find_dropouts

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
    audio = read_audio(path, allow_nonfinite=True)
    return find_dropouts(audio.samples, audio.sample_rate), audio.sample_rate


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
    was. `model` is a loaded `RevisionModel` (default: the shipped one, loaded only when needed).
    """
    began = time.perf_counter()
    source, output = Path(source), Path(output)
    check_output_path(output, [source], force)
    warn_if_lossy(output)
    audio = read_audio(source, allow_nonfinite=True)  # NaN left in is found by detection or refused by inpaint
    dropouts = find_dropouts(audio.samples, audio.sample_rate) if detect else []
    check_fillable(dropouts, audio.sample_rate, source)
    every_gap = [*gaps, *(d.as_gap(audio.sample_rate) for d in dropouts)]
    if not every_gap:
        return Repair(source, None, 0, (), audio.sample_rate, time.perf_counter() - began)

    from revise.checkpoint import load_model
    from revise.inpainting import inpaint

    model = model if model is not None else load_model()
    filled = inpaint(audio.samples, audio.sample_rate, every_gap, passes=passes, model=model, schedule=schedule,
                     candidates=candidates)
    subtype = audio.subtype if output.suffix.lower() == source.suffix.lower() else None
    write_audio(output, filled, audio.sample_rate, subtype)
    return Repair(source, output, len(every_gap), tuple(dropouts), audio.sample_rate, time.perf_counter() - began)


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
