"""Pure mask builders: training gaps, frame masks, and per-pass revision schedules.

Gaps are half-open sample ranges [start, end). A frame is "to fill" when its support touches a
gap; every other frame holds only known samples and is never changed by the models.
"""

from __future__ import annotations

import torch

from revise.config import ScheduleName
from revise.framing import left_padding, num_frames

SCHEDULES: tuple[str, ...] = ("all", "shrink", "alternate")


def frame_mask(samples: torch.Tensor, frame_length: int, hop_length: int) -> torch.Tensor:
    """Bool [..., T] from a bool sample mask [..., N]: True for every frame whose support touches it."""
    pad_left = left_padding(frame_length, hop_length)
    count = num_frames(samples.shape[-1], frame_length, hop_length)
    pad_right = (count - 1) * hop_length + frame_length - pad_left - samples.shape[-1]
    padded = torch.nn.functional.pad(samples.to(torch.float32), (pad_left, pad_right))
    return padded.unfold(-1, frame_length, hop_length).amax(dim=-1) > 0


def sample_mask(gaps: list[tuple[int, int]], length: int) -> torch.Tensor:
    """Bool [N]: True inside the gaps."""
    mask = torch.zeros(length, dtype=torch.bool)
    for start, end in gaps:
        mask[start:end] = True
    return mask


def draw_training_gaps(
    length: int,
    hop_length: int,
    max_span: int,
    scattered_fraction: float,
    generator: torch.Generator,
    to_end_probability: float = 0.1,
) -> list[tuple[int, int]]:
    """Random non-overlapping gaps in a [length] excerpt, sorted by start.

    One span from one hop to `max_span` samples (running to the end of the excerpt with
    `to_end_probability`, as in generation), plus scattered one-hop gaps covering about
    `scattered_fraction` of the excerpt. Every gap leaves at least one hop of known audio
    at the excerpt's start so the drafter has something to start from.
    """
    if length < 2 * hop_length:
        raise ValueError(f"an excerpt of {length} samples is shorter than two hops ({2 * hop_length}).")

    def uniform(low: int, high: int) -> int:
        return int(torch.randint(low, max(high, low + 1), (1,), generator=generator))

    span = uniform(hop_length, min(max_span, length - 2 * hop_length) + 1)
    if torch.rand(1, generator=generator).item() < to_end_probability:
        gaps = [(length - span, length)]
    else:
        start = uniform(hop_length, length - span - hop_length)
        gaps = [(start, start + span)]
    for _ in range(round(scattered_fraction * length / hop_length)):
        start = uniform(hop_length, length - hop_length)
        candidate = (start, start + hop_length)
        # keep a hop of known audio between gaps so each gap has its own context
        if all(candidate[1] + hop_length <= s or candidate[0] >= e + hop_length for s, e in gaps):
            gaps.append(candidate)
    return sorted(gaps)


def revision_masks(to_fill: torch.Tensor, passes: int, schedule: ScheduleName) -> list[torch.Tensor]:
    """The frames each revision pass re-masks: a list of `passes` bool masks shaped like `to_fill`.

    to_fill: bool [..., T], the frames under work (never known audio). Every mask is a subset of it.
      - "all": every pass re-predicts every frame to fill.
      - "shrink": pass 1 re-predicts all of them; pass k keeps the outer frames of each run (next
        to known audio) fixed and re-predicts the central (1 - (k-1)/passes) share, so late
        passes work on shorter inner gaps framed by already revised frames.
      - "alternate": pass 1 re-predicts all; later passes alternate between the even and the odd
        frames of each run, so every re-predicted frame has revised neighbours on both sides.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown schedule {schedule!r}; choose one of {', '.join(SCHEDULES)}.")
    if passes < 0:
        raise ValueError(f"the number of passes must be >= 0, got {passes}.")
    masks = []
    for k in range(1, passes + 1):
        if k == 1 or schedule == "all":
            masks.append(to_fill.clone())
        elif schedule == "shrink":
            masks.append(_run_centres(to_fill, 1.0 - (k - 1) / passes))
        else:
            masks.append(_run_parity(to_fill, parity=k % 2))
    return masks


def _runs(row: torch.Tensor) -> list[tuple[int, int]]:
    """[first, last) index pairs of the True runs in a 1-D bool tensor."""
    # the runs are read on the host anyway (.tolist()), so find them there, whatever the device
    zero = torch.zeros(1, dtype=torch.int8)
    padded = torch.cat([zero, row.to("cpu", torch.int8), zero])
    edges = torch.diff(padded)
    starts = torch.nonzero(edges == 1).flatten().tolist()
    ends = torch.nonzero(edges == -1).flatten().tolist()
    return list(zip(starts, ends))


def _per_row(mask: torch.Tensor, build) -> torch.Tensor:
    flat = mask.reshape(-1, mask.shape[-1])
    out = torch.zeros_like(flat)
    for row, source in zip(out, flat):
        for first, last in _runs(source):
            build(row, first, last)
    return out.reshape(mask.shape)


def _run_centres(mask: torch.Tensor, share: float) -> torch.Tensor:
    """Keep the central `share` of each True run (at least one frame)."""
    def build(row: torch.Tensor, first: int, last: int) -> None:
        # never the frames at the run's ends: they stay as the first pass left them
        keep = max(1, min(round((last - first) * share), last - first - 2))
        begin = first + (last - first - keep) // 2
        row[begin : begin + keep] = True

    return _per_row(mask, build)


def _run_parity(mask: torch.Tensor, parity: int) -> torch.Tensor:
    """Keep every other frame of each True run, starting at offset `parity` (runs of one stay)."""
    def build(row: torch.Tensor, first: int, last: int) -> None:
        offset = parity if last - first > 1 else 0
        row[first + offset : last : 2] = True

    return _per_row(mask, build)
