"""Gap and seam metrics shared by `revise evaluate`, the tests and the benchmarks.

Every function takes 1-D float arrays of samples and returns plain Python numbers, so results
go straight into JSON. Gap metrics compare an estimate with a reference over a gap [start, end);
seam metrics look for clicks at given sample positions or on a frame-boundary grid; level and
flatness describe generated audio against its prompt. Pure numpy: no torch, no project imports.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SNR_CAP_DB = 100.0  # reported for identical signals instead of +inf
_TINY = 1e-20  # keeps ratios of energies finite for silence without moving audible values


def _as_signal(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or len(x) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of samples, got shape {x.shape}.")
    return x


def _as_pair(reference: np.ndarray, estimate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    reference = _as_signal(reference, "reference")
    estimate = _as_signal(estimate, "estimate")
    if reference.shape != estimate.shape:
        raise ValueError(f"reference and estimate differ in length ({len(reference)} vs {len(estimate)}).")
    return reference, estimate


def _check_gap(start: int, end: int, length: int) -> None:
    if start < 0 or end > length or end <= start:
        raise ValueError(f"gap {start}:{end} must satisfy 0 <= start < end <= {length}.")


def gap_snr(reference: np.ndarray, estimate: np.ndarray, start: int, end: int) -> float:
    """Signal-to-noise ratio on the gap samples only, in dB.

    SNR = 10 log10( sum_{n in gap} r[n]^2 / sum_{n in gap} (r[n] - e[n])^2 ), clipped to
    [-100, 100] dB (100 for identical gaps; a silent reference gives -100 unless matched).
    Higher is better: 0 dB is what zero fill scores; > 10 dB is a close waveform match.
    """
    reference, estimate = _as_pair(reference, estimate)
    _check_gap(start, end, len(reference))
    signal = float(np.sum(reference[start:end] ** 2))
    noise = float(np.sum((reference[start:end] - estimate[start:end]) ** 2))
    if noise == 0.0:
        return SNR_CAP_DB
    with np.errstate(divide="ignore"):
        snr = 10.0 * np.log10(signal / noise)
    return float(np.clip(snr, -SNR_CAP_DB, SNR_CAP_DB))


def fft_size(sample_rate: int, milliseconds: float = 32.0) -> int:
    """The power of two closest to `milliseconds` of samples (512 for 32 ms at 16 kHz)."""
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}.")
    return int(2 ** round(np.log2(max(sample_rate * milliseconds / 1000.0, 2.0))))


def _gap_power_spectra(x: np.ndarray, start: int, end: int, n_fft: int, hop: int) -> np.ndarray:
    """Hann-windowed power spectra of the frames that overlap [start, end). [frames, n_fft/2+1]

    The frame grid is anchored on the gap (frame k starts at start - n_fft + (k+1)*hop), so the
    first and last frames overlap the gap by at least one hop; zeros stand in beyond the edges.
    """
    if n_fft < 2 or hop <= 0:
        raise ValueError(f"n_fft must be >= 2 and hop positive, got n_fft={n_fft}, hop={hop}.")
    starts = np.arange(start - n_fft + hop, end, hop)
    padded = np.pad(x, (n_fft, n_fft))
    index = starts[:, None] + n_fft + np.arange(n_fft)[None, :]  # [frames, n_fft]
    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann
    spectrum = np.fft.rfft(padded[index] * window, axis=-1)
    return spectrum.real**2 + spectrum.imag**2


def log_spectral_distance(
    reference: np.ndarray,
    estimate: np.ndarray,
    start: int,
    end: int,
    sample_rate: int,
    n_fft: int | None = None,
    eps: float = 1e-10,
) -> float:
    """Log-spectral distance over the STFT frames that touch the gap, in dB.

    LSD = mean_frames sqrt( mean_f ( 10 log10(P_r + eps) - 10 log10(P_e + eps) )^2 ), with P
    the Hann-windowed power spectrum of a frame (n_fft defaults to about 32 ms, hop n_fft / 4).
    0 is identical; lower is better. A few dB is a close spectral match; zero fill of a loud
    gap scores tens of dB (eps = 1e-10 is the -100 dB floor of a full-scale signal).
    """
    reference, estimate = _as_pair(reference, estimate)
    _check_gap(start, end, len(reference))
    n_fft = n_fft if n_fft is not None else fft_size(sample_rate, 32.0)
    hop = max(n_fft // 4, 1)
    ref_db = 10.0 * np.log10(_gap_power_spectra(reference, start, end, n_fft, hop) + eps)
    est_db = 10.0 * np.log10(_gap_power_spectra(estimate, start, end, n_fft, hop) + eps)
    per_frame = np.sqrt(np.mean((ref_db - est_db) ** 2, axis=-1))
    return float(np.mean(per_frame))


def multi_resolution_stft_distance(
    reference: np.ndarray,
    estimate: np.ndarray,
    start: int,
    end: int,
    sample_rate: int = 16000,
    milliseconds: tuple[float, ...] = (64.0, 32.0, 16.0),
    eps: float = 1e-7,
) -> float:
    """Spectral convergence plus log-magnitude L1, averaged over STFT resolutions.

    For each resolution (window of about `milliseconds`, hop a quarter of it; 1024, 512 and 256
    samples at 16 kHz) over the frames that touch the gap, with magnitudes R and E:
        SC = ||R - E||_F / ||R||_F,   LM = mean |log(R + eps) - log(E + eps)|,
    and the result is mean over resolutions of (SC + LM). 0 is identical; lower is better.
    Zero fill scores about 10 (SC near 1 plus a large LM); on white noise, a fill of fresh
    noise (right texture, wrong waveform) scores about 1.2.
    """
    reference, estimate = _as_pair(reference, estimate)
    _check_gap(start, end, len(reference))
    if len(milliseconds) == 0:
        raise ValueError("multi_resolution_stft_distance needs at least one resolution.")
    total = 0.0
    for duration in milliseconds:
        n_fft = fft_size(sample_rate, duration)
        hop = max(n_fft // 4, 1)
        ref_mag = np.sqrt(_gap_power_spectra(reference, start, end, n_fft, hop))
        est_mag = np.sqrt(_gap_power_spectra(estimate, start, end, n_fft, hop))
        difference = float(np.linalg.norm(ref_mag - est_mag))
        convergence = 0.0 if difference == 0.0 else difference / max(float(np.linalg.norm(ref_mag)), _TINY)
        log_l1 = float(np.mean(np.abs(np.log(ref_mag + eps) - np.log(est_mag + eps))))
        total += convergence + log_l1
    return total / len(milliseconds)


def highpass_energy(x: np.ndarray) -> np.ndarray:
    """Squared second difference, e[n] = (x[n+1] - 2 x[n] + x[n-1])^2, zero at both ends. [N]

    A fixed high-pass (+12 dB per octave, gain 16 at Nyquist) that turns a step or a kink in
    the waveform into a spike while smooth, band-limited music stays small.
    """
    energy = np.zeros_like(x)
    energy[1:-1] = (x[2:] - 2.0 * x[1:-1] + x[:-2]) ** 2
    return energy


def _window_peaks(energy: np.ndarray, positions: np.ndarray, half_width: int) -> np.ndarray:
    """Peak of `energy` [N] over [p - half_width, p + half_width) for each position p. [P]"""
    padded = np.pad(energy, (half_width, half_width))
    index = positions[:, None] + np.arange(2 * half_width)[None, :]  # [P, 2 * half_width]
    return np.max(padded[index], axis=1)


def click_db(
    signal: np.ndarray,
    positions: list[int] | np.ndarray,
    reference: np.ndarray | None = None,
    half_width: int = 32,
) -> float:
    """Loudest click at the seam `positions` (sample indices), in dB; the max over seams.

    Click energy C(p) = peak of the squared second difference of the signal over
    [p - half_width, p + half_width) (4 ms at 16 kHz by default). With a reference the value
    is max_p 10 log10( C_signal(p) / C_reference(p) ); without one, each seam is compared with
    the median of C over windows tiling the signal at least 4 * half_width from every seam.
    <= 0 dB means no seam is louder in the high band than the reference (or than the signal
    elsewhere). A step of a tenth of the amplitude planted in a 440 Hz tone scores about
    11 dB. The peak, not the window mean, so a two-sample click is not diluted by the window;
    the max over seams, not the mean, so one bad seam is not averaged away. Per seam the value
    scatters: a fresh-noise fill against white noise gives 0 dB median, about 1.7 dB spread.
    """
    signal = _as_signal(signal, "signal")
    positions = np.asarray(positions, dtype=np.int64).reshape(-1)
    if len(positions) == 0:
        raise ValueError("click_db needs at least one seam position.")
    if positions.min() < 0 or positions.max() > len(signal):
        raise ValueError(f"seam positions must lie in [0, {len(signal)}].")
    if half_width <= 0:
        raise ValueError(f"half_width must be positive, got {half_width}.")
    at_seams = _window_peaks(highpass_energy(signal), positions, half_width)
    if reference is not None:
        reference = _as_signal(reference, "reference")
        if reference.shape != signal.shape:
            raise ValueError(f"reference and signal differ in length ({len(reference)} vs {len(signal)}).")
        baseline = _window_peaks(highpass_energy(reference), positions, half_width)
    else:
        baseline = np.full(len(positions), _background_energy(signal, positions, half_width))
    return float(np.max(10.0 * np.log10((at_seams + _TINY) / (baseline + _TINY))))


def _background_energy(signal: np.ndarray, positions: np.ndarray, half_width: int) -> float:
    """Median click energy over windows tiling the signal, away from every seam."""
    centres = np.arange(half_width, len(signal) - half_width + 1, 2 * half_width)
    distance = np.min(np.abs(centres[:, None] - positions[None, :]), axis=1)
    centres = centres[distance >= 4 * half_width]
    if len(centres) == 0:
        raise ValueError("the signal has no room away from the seams; pass a reference instead.")
    return float(np.median(_window_peaks(highpass_energy(signal), centres, half_width)))


def boundary_discontinuity_ratio(signal: np.ndarray, hop: int, offset: int = 0) -> float:
    """High-pass energy on the frame-boundary grid over the energy off it.

    With e[n] the squared second difference and boundaries b = offset + k * hop (a boundary
    sits between samples b - 1 and b, so both are "on the grid"):
        ratio = mean_{n on grid} e[n] / mean_{n off grid} e[n].
    About 1 for seamless audio; frames butted end to end with jumps give 10 or far more (a
    440 Hz tone cut into 128-sample frames with random phases: about 2000). A silent signal
    gives 1. The estimate scatters: 4 s of white noise at hop 128 (500 boundaries) gives
    1.00 with a standard deviation of about 0.05, and heavy-tailed music scatters more, so
    judge a threshold such as 1.1 on several seconds.
    """
    signal = _as_signal(signal, "signal")
    if hop < 2:
        raise ValueError(f"hop must be at least 2 samples, got {hop}.")
    energy = highpass_energy(signal)
    boundaries = np.arange(offset % hop, len(signal), hop)
    boundaries = boundaries[boundaries > 0]  # position 0 has no sample before it
    if len(boundaries) == 0:
        raise ValueError(f"a signal of {len(signal)} samples has no frame boundary at hop {hop}.")
    on_grid = np.zeros(len(signal), dtype=bool)
    on_grid[boundaries] = True
    on_grid[boundaries - 1] = True
    on_grid[[0, -1]] = False  # the second difference is undefined at the ends
    off_grid = ~on_grid
    off_grid[[0, -1]] = False
    on_mean = float(np.mean(energy[on_grid])) if on_grid.any() else 0.0
    off_mean = float(np.mean(energy[off_grid])) if off_grid.any() else 0.0
    return (on_mean + _TINY) / (off_mean + _TINY)


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


def level_stability(signal: np.ndarray, sample_rate: int, reference_rms: float | None = None) -> dict:
    """RMS of every whole second and its largest departure from a reference level.

    Returns {"rms_per_second": [float, ...], "reference_rms": float, "max_ratio": float} with
    max_ratio = max_s max(rms_s / ref, ref / rms_s) >= 1 (so a drop counts like a rise). The
    reference is the prompt's RMS when given, else the median of the per-second RMS values.
    1 is perfectly steady; the generation target is every second within a factor of 4.
    """
    signal = _as_signal(signal, "signal")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}.")
    seconds = len(signal) // sample_rate
    if seconds == 0:
        raise ValueError(f"level_stability needs at least one second of audio, got {len(signal)} samples.")
    blocks = signal[: seconds * sample_rate].reshape(seconds, sample_rate)
    rms = np.sqrt(np.mean(blocks**2, axis=1))
    if reference_rms is not None and reference_rms < 0:
        raise ValueError(f"reference_rms must be >= 0, got {reference_rms}.")
    reference = float(np.median(rms)) if reference_rms is None else float(reference_rms)
    ratios = (np.maximum(rms, reference) + _TINY) / (np.minimum(rms, reference) + _TINY)
    return {"rms_per_second": rms.tolist(), "reference_rms": reference, "max_ratio": float(np.max(ratios))}


def spectral_flatness(signal: np.ndarray, n_fft: int = 512) -> float:
    """Spectral flatness of the frame-averaged (Welch) power spectrum, in [0, 1].

    With P[f] the mean over Hann frames (hop n_fft / 2) of the power spectrum, DC and Nyquist
    bins left out: flatness = exp(mean_f log P[f]) / mean_f P[f]. White noise is close to 1,
    a pure tone close to 0, music typically 0.001 to 0.3. Averaging the spectrum before the
    ratio is deliberate: the per-frame ratio of white noise is biased to about 0.56.
    """
    signal = _as_signal(signal, "signal")
    if n_fft < 4:
        raise ValueError(f"n_fft must be at least 4, got {n_fft}.")
    if len(signal) < n_fft:
        raise ValueError(f"spectral_flatness needs at least n_fft={n_fft} samples, got {len(signal)}.")
    hop = n_fft // 2
    starts = np.arange(0, len(signal) - n_fft + 1, hop)
    frames = signal[starts[:, None] + np.arange(n_fft)[None, :]]
    spectrum = np.fft.rfft(frames * np.hanning(n_fft + 1)[:-1], axis=-1)
    power = np.mean(spectrum.real**2 + spectrum.imag**2, axis=0)[1:-1] + _TINY
    return float(np.exp(np.mean(np.log(power))) / np.mean(power))


def spectral_flatness_difference(signal: np.ndarray, reference: np.ndarray, n_fft: int = 512) -> float:
    """flatness(signal) - flatness(reference): positive means noisier than the reference (e.g. prompt).

    0 is a match; the sign says which way the texture moved (towards noise, or towards tones).
    """
    return spectral_flatness(signal, n_fft) - spectral_flatness(reference, n_fft)


OCTAVE_LOWEST = 250.0  # Hz: the lowest octave's lower edge; a 20 ms gap resolves 50 Hz, so lower octaves hold 1-3 bins


def octave_energy_db(reference: np.ndarray, estimate: np.ndarray, start: int, end: int, rate: int) -> dict[str, float]:
    """The estimate's energy in the gap minus the reference's, per octave, in dB.

    Octaves [f, 2f) from OCTAVE_LOWEST up to the last that fits below Nyquist, keyed by f in Hz
    ("8000" is 8-16 kHz); energies from the Hann-windowed spectrum of the gap samples alone. A
    band above the model rate left empty shows here as a large negative figure.
    """
    reference, estimate = _as_pair(reference, estimate)
    _check_gap(start, end, len(reference))
    window = np.hanning(end - start)
    frequencies = np.fft.rfftfreq(end - start, 1.0 / rate)
    power = [np.abs(np.fft.rfft(x[start:end] * window)) ** 2 for x in (reference, estimate)]
    out = {}
    low = OCTAVE_LOWEST
    while 2 * low <= rate / 2:
        band = (frequencies >= low) & (frequencies < 2 * low)
        ref, est = (float(np.sum(p[band])) + 1e-20 for p in power)
        out[f"{low:g}"] = 10.0 * np.log10(est / ref)
        low *= 2
    return out


def gap_metrics(reference: np.ndarray, estimate: np.ndarray, start: int, end: int, rate: int) -> dict[str, Any]:
    """Gap and seam figures of one filled gap [start, end) in 1-D signals [n] (the functions above).

    gap_snr and lsd in dB, mrstft unitless; click_db (dB against the reference) is the louder of
    the two edges, click_db_left/right each edge alone; an edge at the signal's end gives None;
    octave_db: `octave_energy_db`.
    """
    clicks = {
        name: (click_db(estimate, [p], reference) if 0 < p < len(reference) else None)
        for name, p in (("click_db_left", start), ("click_db_right", end))
    }
    present = [value for value in clicks.values() if value is not None]
    return {
        "gap_snr": gap_snr(reference, estimate, start, end),
        "lsd": log_spectral_distance(reference, estimate, start, end, rate),
        "mrstft": multi_resolution_stft_distance(reference, estimate, start, end, rate),
        "click_db": max(present) if present else None,
        **clicks,
        "octave_db": octave_energy_db(reference, estimate, start, end, rate),
    }
