"""Seam, level and texture figures of a whole file (e.g. a generated one) on the model's frame grid.

Where frames were butted end to end (the naive join), every frame boundary carries a step in
the waveform; where they were crossfaded, the boundaries look like any other sample. The grid is
the one `revise.dsp.framing.naive_join` produces: boundaries at samples b with b % hop == offset.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from revise.audio import resample, to_float, to_mono
from revise.config import FrameConfig
from revise.dsp.framing import naive_join_lead
from revise.evaluate.metrics import (
    boundary_click_db,
    boundary_discontinuity_ratio,
    fft_size,
    level_stability,
    spectral_flatness,
    spectral_flatness_difference,
    worst_offset_click_db,
)


def grid_offset(frame_length: int, hop: int) -> int:
    """Where the naive join's frame boundaries fall: samples b with b % hop == offset."""
    return -naive_join_lead(frame_length, hop) % hop


def evaluate_stream(
    audio: np.ndarray,
    rate: int,
    frame_length: int | None = None,
    hop: int | None = None,
    grid_rate: int | None = None,
    prompt_seconds: float | None = None,
) -> dict[str, Any]:
    """Seam, level and texture figures of a whole file.

    audio: [n] or [n, C] (native or float samples; mixed to mono). frame_length and hop are in
    samples at `grid_rate` (defaults: the default model's 256, 128 at 16 kHz); the grid metrics
    (boundary_discontinuity_ratio, boundary_click_db) are measured after resampling to that rate.
    With `prompt_seconds`, everything is measured after the prompt, and the prompt gives the
    references: its own grid metrics (prompt_*: what this audio scores with no frame seams),
    level_max_ratio against its RMS, flatness_vs_prompt = flatness(after) - flatness(prompt).
    Level and flatness use the file's own rate; level needs at least one second (else None).
    """
    defaults = FrameConfig()
    frame_length, hop = frame_length or defaults.frame_length, hop or defaults.hop_length
    grid_rate = grid_rate or defaults.sample_rate
    if hop < 2 or frame_length % hop != 0 or frame_length < 2 * hop or grid_rate <= 0:
        raise ValueError(f"the frame length ({frame_length}) must be a multiple of the hop ({hop}), at least twice it, "
                         "and the hop at least 2 samples.")
    signal = to_mono(to_float(np.asarray(audio))).astype(np.float64)
    if signal.ndim != 1 or len(signal) == 0 or not np.isfinite(signal).all():
        raise ValueError(
            f"audio must be finite [samples] or [samples, channels] with samples > 0, got {np.shape(audio)}.")
    split = round((prompt_seconds or 0.0) * rate)
    if not 0 <= split < len(signal):
        raise ValueError(
            f"--prompt-seconds {prompt_seconds} leaves nothing to measure in {len(signal) / rate:.2f} s of audio.")
    on_grid = np.asarray(resample(signal, rate, grid_rate), dtype=np.float64)
    grid_split, offset = round(split * grid_rate / rate), grid_offset(frame_length, hop)
    result: dict[str, Any] = {
        "seconds": len(signal) / rate, "measured_from_s": split / rate, "grid_rate": grid_rate,
        "frame_length": frame_length, "hop": hop, "grid_offset": (offset - grid_split) % hop,
        **_grid_figures(on_grid[grid_split:], hop, (offset - grid_split) % hop),
        **{f"prompt_{k}": v for k, v in _grid_figures(on_grid[:grid_split], hop, offset).items()},
        **_level_and_texture(signal[split:], signal[:split], rate),
    }
    return result


def _grid_figures(signal: np.ndarray, hop: int, offset: int) -> dict[str, float | None]:
    """Grid seam figures of `signal` [n] at `offset`, and the worst offset's click; None when too short."""
    if len(signal) < 4 * hop:
        return {"boundary_discontinuity_ratio": None, "boundary_click_db": None, "worst_offset_click_db": None,
                "worst_offset": None}
    worst, worst_offset = worst_offset_click_db(signal, hop)
    return {"boundary_discontinuity_ratio": boundary_discontinuity_ratio(signal, hop, offset),
            "boundary_click_db": boundary_click_db(signal, hop, offset), "worst_offset_click_db": worst,
            "worst_offset": worst_offset}


def _level_and_texture(after: np.ndarray, prompt: np.ndarray, rate: int) -> dict[str, Any]:
    """spectral_flatness, flatness_vs_prompt, level_max_ratio, rms_per_second of `after` [n] (None where too short)."""
    n_fft = fft_size(rate)
    flatness = spectral_flatness(after, n_fft) if len(after) >= n_fft else None
    result = {"spectral_flatness": flatness, "flatness_vs_prompt": None, "level_max_ratio": None,
              "rms_per_second": None}
    if len(prompt) >= n_fft and flatness is not None:
        result["flatness_vs_prompt"] = spectral_flatness_difference(after, prompt, n_fft)
    if len(after) >= rate:
        reference = float(np.sqrt(np.mean(prompt**2))) if len(prompt) else None
        level = level_stability(after, rate, reference)
        result["level_max_ratio"], result["rms_per_second"] = level["max_ratio"], level["rms_per_second"]
    return result
