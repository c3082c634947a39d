"""Revision schedules: which of the frames to fill each revision pass re-masks.

The frames to fill come from `revise.dsp.framing.frame_mask`; every mask built here is a subset
of them, so known audio is never changed. The schedule names live in `revise.config.SCHEDULES`.
Numpy on the host (masks are small): the torch revision loop and the numpy inference path both
build their masks here.
"""

from __future__ import annotations

import numpy as np

from revise.config import SCHEDULES, ScheduleName


def revision_masks(to_fill: np.ndarray, passes: int, schedule: ScheduleName) -> list[np.ndarray]:
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
            masks.append(np.array(to_fill, dtype=bool))
        elif schedule == "shrink":
            masks.append(_run_centres(to_fill, 1.0 - (k - 1) / passes))
        else:
            masks.append(_run_parity(to_fill, parity=k % 2))
    return masks


def _runs(row: np.ndarray) -> list[tuple[int, int]]:
    """[first, last) index pairs of the True runs in a 1-D bool array."""
    edges = np.diff(np.concatenate([[0], row.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def _per_row(mask: np.ndarray, build) -> np.ndarray:
    flat = np.asarray(mask, dtype=bool).reshape(-1, np.shape(mask)[-1])
    out = np.zeros_like(flat)
    for row, source in zip(out, flat):
        for first, last in _runs(source):
            build(row, first, last)
    return out.reshape(np.shape(mask))


def _run_centres(mask: np.ndarray, share: float) -> np.ndarray:
    """Keep the central `share` of each True run (at least one frame)."""
    def build(row: np.ndarray, first: int, last: int) -> None:
        # never the frames at the run's ends: they stay as the first pass left them
        keep = max(1, min(round((last - first) * share), last - first - 2))
        begin = first + (last - first - keep) // 2
        row[begin : begin + keep] = True

    return _per_row(mask, build)


def _run_parity(mask: np.ndarray, parity: int) -> np.ndarray:
    """Keep every other frame of each True run, starting at offset `parity` (runs of one stay)."""
    def build(row: np.ndarray, first: int, last: int) -> None:
        offset = parity if last - first > 1 else 0
        row[first + offset : last : 2] = True

    return _per_row(mask, build)
