"""Musical features of a whole stretch of audio, for judging a generated continuation against the
recording's true one: long-term spectrum, harmony (chroma), timbre (MFCC means), tempo, and
tones at the model's frame rate. Pure numpy/scipy; every input is a float signal [n] at `rate`.

The harmonic and rhythmic features are computed on a common grid (ANALYSIS_RATE, STFT of N_FFT
samples, hop HOP) so that files at any rate compare alike.
"""

from __future__ import annotations

import numpy as np
from scipy.fft import dct
from scipy.signal import stft, welch

from revise.audio import resample

ANALYSIS_RATE = 22050
N_FFT = 2048  # 93 ms: the timbre and onset grid
CHROMA_N_FFT = 8192  # 372 ms, 2.7 Hz bins: a semitone resolved from CHROMA_LOWEST_HZ up
CHROMA_LOWEST_HZ = 65.0  # C2: a semitone there is 3.9 Hz wide
HOP = 512  # 23 ms between onset-strength values
MEL_BANDS = 40
MFCC_COEFFICIENTS = 13  # c1..c13; c0 (the level) is left to the level figures
TEMPO_RANGE_BPM = (40.0, 240.0)
TEMPO_PRIOR_BPM = 120.0  # the beat period is picked with a one-octave log-Gaussian preference for this
THIRD_OCTAVE_RANGE_HZ = (50.0, 16000.0)
_TINY = 1e-20


def third_octave_db(x: np.ndarray, rate: int) -> dict[float, float]:
    """Long-term average power per third-octave band, in dB, by band centre (Hz, 50 Hz up to
    16 kHz or the top band below Nyquist). Welch PSD with 2**15-sample-long segments at most."""
    frequencies, power = welch(x, rate, nperseg=min(len(x), 2**15))
    bands = {}
    centres = 1000.0 * 2.0 ** (np.arange(-13, 13) / 3.0)
    for centre in centres[(centres >= THIRD_OCTAVE_RANGE_HZ[0]) & (centres <= THIRD_OCTAVE_RANGE_HZ[1])]:
        low, high = centre * 2 ** (-1 / 6), centre * 2 ** (1 / 6)
        inside = (frequencies >= low) & (frequencies < high)
        if high <= rate / 2 and inside.any():
            bands[round(float(centre), 1)] = float(10 * np.log10(power[inside].sum() + _TINY))
    return bands


def third_octave_difference_db(x: np.ndarray, reference: np.ndarray, rate: int) -> float:
    """The largest |difference| in dB over third-octave bands between x's and the reference's long-term spectra."""
    a, b = third_octave_db(x, rate), third_octave_db(reference, rate)
    return float(max(abs(a[c] - b[c]) for c in a))


def _power_spectrogram(x: np.ndarray, rate: int, n_fft: int = N_FFT) -> tuple[np.ndarray, np.ndarray]:
    """(bin frequencies [K], power [K, frames]) of x on the common analysis grid, frames every HOP."""
    y = np.asarray(resample(np.asarray(x, dtype=np.float64), rate, ANALYSIS_RATE), dtype=np.float64)
    frequencies, _, spectrum = stft(y, ANALYSIS_RATE, nperseg=n_fft, noverlap=n_fft - HOP, boundary=None,
                                    padded=False)
    return frequencies, np.abs(spectrum) ** 2


def mean_chroma(x: np.ndarray, rate: int) -> np.ndarray:
    """The pitch-class profile [12] (C = 0), unit length: each frame's power from CHROMA_LOWEST_HZ
    to 5 kHz folded onto the nearest semitone's pitch class, frames normalised, then averaged."""
    frequencies, power = _power_spectrogram(x, rate, CHROMA_N_FFT)
    keep = (frequencies >= CHROMA_LOWEST_HZ) & (frequencies <= 5000.0)
    pitch_class = np.round(12 * np.log2(frequencies[keep] / 440.0)).astype(int) % 12
    pitch_class = (pitch_class + 9) % 12  # A -> 9, C -> 0
    chroma = np.zeros((12, power.shape[1]))
    np.add.at(chroma, pitch_class, power[keep])
    chroma /= chroma.sum(axis=0, keepdims=True) + _TINY
    profile = chroma.mean(axis=1)
    return profile / (np.linalg.norm(profile) + _TINY)


def chroma_distance(x: np.ndarray, reference: np.ndarray, rate: int) -> float:
    """1 - cosine similarity of the two mean chroma profiles: 0 the same harmony, up to 1."""
    return float(1.0 - mean_chroma(x, rate) @ mean_chroma(reference, rate))


def _mel_filterbank(frequencies: np.ndarray, bands: int = MEL_BANDS) -> np.ndarray:
    """Triangular filters [bands, K] evenly spaced on the mel scale from 0 to ANALYSIS_RATE / 2."""
    mel = 2595.0 * np.log10(1.0 + frequencies / 700.0)
    edges = np.linspace(0.0, mel[-1], bands + 2)
    rising = (mel[None, :] - edges[:-2, None]) / (edges[1:-1, None] - edges[:-2, None])
    falling = (edges[2:, None] - mel[None, :]) / (edges[2:, None] - edges[1:-1, None])
    return np.maximum(0.0, np.minimum(rising, falling))


def _log_mel(x: np.ndarray, rate: int) -> np.ndarray:
    """Log mel power [MEL_BANDS, frames], in dB."""
    frequencies, power = _power_spectrogram(x, rate)
    return 10.0 * np.log10(_mel_filterbank(frequencies) @ power + 1e-10)


def mean_mfcc(x: np.ndarray, rate: int) -> np.ndarray:
    """The mean over frames of MFCCs c1..c13 (DCT-II of the log mel power in dB). [13]"""
    return dct(_log_mel(x, rate), type=2, norm="ortho", axis=0)[1 : MFCC_COEFFICIENTS + 1].mean(axis=1)


def mfcc_distance(x: np.ndarray, reference: np.ndarray, rate: int) -> float:
    """Euclidean distance between the two MFCC means (dB units): 0 the same timbre."""
    return float(np.linalg.norm(mean_mfcc(x, rate) - mean_mfcc(reference, rate)))


def onset_strength(x: np.ndarray, rate: int) -> np.ndarray:
    """Spectral flux of the log mel power: the summed rises from frame to frame. [frames - 1]"""
    return np.maximum(0.0, np.diff(_log_mel(x, rate), axis=1)).sum(axis=0)


def tempo(x: np.ndarray, rate: int) -> tuple[float, float]:
    """(beats per minute, clarity) from the autocorrelation of the onset strength.

    The beat period is the lag in TEMPO_RANGE_BPM where the autocorrelation, weighted by a
    log-Gaussian of one octave around TEMPO_PRIOR_BPM, peaks; clarity is the unweighted
    autocorrelation there over its value at lag 0, in [0, 1]: near 0 for no steady beat.
    """
    onsets = onset_strength(x, rate)
    onsets = onsets - onsets.mean()
    frame_rate = ANALYSIS_RATE / HOP
    lags = np.arange(int(np.ceil(frame_rate * 60 / TEMPO_RANGE_BPM[1])), int(frame_rate * 60 / TEMPO_RANGE_BPM[0]) + 1)
    lags = lags[lags < len(onsets) // 2]
    if len(lags) < 3 or not onsets.any():
        return 0.0, 0.0
    correlation = np.array([onsets[:-lag] @ onsets[lag:] for lag in lags]) / float(onsets @ onsets)
    weighted = correlation * np.exp(-0.5 * np.log2(60.0 * frame_rate / lags / TEMPO_PRIOR_BPM) ** 2)
    best = int(np.clip(np.argmax(weighted), 1, len(lags) - 2))
    # a parabola through the peak and its neighbours places it between whole onset frames (23 ms apart)
    before, at, after = correlation[best - 1 : best + 2]
    curvature = before - 2 * at + after
    shift = 0.5 * (before - after) / curvature if curvature < 0 else 0.0
    return float(60.0 * frame_rate / (lags[best] + np.clip(shift, -0.5, 0.5))), float(max(0.0, at))


def frame_rate_peak_excess_db(x: np.ndarray, prompt: np.ndarray, rate: int, frame_rate: float,
                              top_hz: float = 8000.0) -> float:
    """How far the tones at multiples of `frame_rate` stand out of x's spectrum more than out of the
    prompt's, in dB: the median over multiples k of prominence_x(k) - prominence_prompt(k), where
    prominence is the PSD at k * frame_rate (the largest of its 3 nearest bins) over the median
    of the PSD within 25 Hz of it. Welch PSD at 2 Hz resolution. The median, not the max: a
    frame-rate comb lifts every multiple, while a note of the music lifts one, and the max over
    dozens of multiples reads 5-15 dB between a recording's prompt and its own true continuation.
    About 0 when x has no comb the prompt lacks."""
    def prominences(signal: np.ndarray) -> np.ndarray:
        frequencies, power = welch(signal, rate, nperseg=min(len(signal), rate // 2))
        step = frequencies[1] - frequencies[0]
        result = []
        for k in range(1, int(min(top_hz, rate / 2 - 30) / frame_rate) + 1):
            centre = int(round(k * frame_rate / step))
            near = power[max(0, centre - 1) : centre + 2].max()
            around = power[max(0, centre - int(25 / step)) : centre + int(25 / step) + 1]
            result.append(10 * np.log10((near + _TINY) / (np.median(around) + _TINY)))
        return np.asarray(result)

    return float(np.median(prominences(x) - prominences(prompt)))
