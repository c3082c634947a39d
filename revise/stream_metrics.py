"""Seam metrics of a whole file (e.g. a generated one) on the model's frame-boundary grid.

Where frames were butted end to end (the naive join), every frame boundary carries a step in
the waveform; where they were crossfaded, the boundaries look like any other sample. The grid is
the one `revise.framing.naive_join` produces: boundaries at samples b with b % hop == offset.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from revise.audio import resample, to_float, to_mono
from revise.config import FrameConfig
from revise.framing import left_padding
from revise.metrics import boundary_discontinuity_ratio, fft_size, highpass_energy, level_stability, spectral_flatness

_TINY = 1e-20


def grid_offset(frame_length: int, hop: int) -> int:
    """Where the naive join's frame boundaries fall: samples b with b % hop == offset."""
    return ((frame_length - hop) // 2 - left_padding(frame_length, hop)) % hop


def boundary_click_db(signal: np.ndarray, hop: int, offset: int) -> float:
    """Median click energy at the frame boundaries over that half a hop away, in dB.

    signal: float [n]; boundaries at samples b with b % hop == offset. Click energy is the peak
    of the squared second difference within hop / 8 samples of a position. About 0 dB for
    seamless audio (boundaries look like the samples between them; medians keep it steady,
    about +-0.2 dB on tonal music), large and positive when frames meet with steps.
    """
    peaks, half = _click_peaks(signal, hop)
    return _median_ratio_db(peaks, half, hop, offset)


def worst_offset_click_db(signal: np.ndarray, hop: int) -> tuple[float, int]:
    """The largest `boundary_click_db` over every grid offset 0..hop-1, and that offset.

    Finds periodic seams wherever they sit (e.g. a file made by another frame layout); on
    seamless audio it reads a little above 0 dB, being the maximum over `hop` noisy values.
    """
    peaks, half = _click_peaks(signal, hop)
    values = [_median_ratio_db(peaks, half, hop, offset) for offset in range(hop)]
    best = int(np.argmax(values))
    return values[best], best


def _click_peaks(signal: np.ndarray, hop: int) -> tuple[np.ndarray, int]:
    """peaks[i] = max of the squared second difference over [i, i + 2 half), half = hop // 8. [n - 2 half + 1]"""
    if len(signal) < 2 * hop:
        raise ValueError(f"a signal of {len(signal)} samples is too short to hold frame boundaries at hop {hop}.")
    half = max(1, hop // 8)
    energy = highpass_energy(np.asarray(signal, dtype=np.float64))
    return sliding_window_view(energy, 2 * half).max(axis=1), half


def _median_ratio_db(peaks: np.ndarray, half: int, hop: int, offset: int) -> float:
    length = len(peaks) + 2 * half - 1
    boundaries = np.arange(offset % hop, length, hop)
    boundaries = boundaries[(boundaries >= half + hop // 2) & (boundaries + half + hop // 2 <= length)]
    if len(boundaries) == 0:
        raise ValueError(f"a signal of {length} samples is too short to hold frame boundaries at hop {hop}.")
    on_grid = np.median(peaks[boundaries - half])
    off_grid = np.median(peaks[boundaries - half + hop // 2])
    return float(10.0 * np.log10((on_grid + _TINY) / (off_grid + _TINY)))



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
        result["flatness_vs_prompt"] = flatness - spectral_flatness(prompt, n_fft)
    if len(after) >= rate:
        reference = float(np.sqrt(np.mean(prompt**2))) if len(prompt) else None
        level = level_stability(after, rate, reference)
        result["level_max_ratio"], result["rms_per_second"] = level["max_ratio"], level["rms_per_second"]
    return result
