"""The methods the concealment benchmark compares, each on a whole signal with its lost packets known.

Every function takes x float64 [n, C] (the lost packets' samples are never read), the loss
pattern `lost` [packets] (bool) and the packet size in samples, and returns the concealed signal
[n, C]. All but `inpaint_conceal` are causal: a lost run is filled from the audio played before
it. Baselines: zero fill; the last packet repeated; G.711 Appendix I style pitch repetition; the
one-sided Burg AR extrapolation at the AR baseline's settings (`ar-causal` of `revise evaluate
--benchmark`); and offline `revise.inpaint` of the same gaps, the ceiling (it sees the whole file).
"""

from __future__ import annotations

import numpy as np

from revise.config import ARConfig, FrameConfig
from revise.hints.autoregressive import crossfade_weights, extrapolate
from revise.packet_loss import lost_runs

PITCH_MIN_MS, PITCH_MAX_MS, PITCH_WINDOW_MS = 5.0, 15.0, 20.0  # G.711 Appendix I: 40-120 samples at 8 kHz
PITCH_FULL_MS, PITCH_DECAY_PER_10MS = 10.0, 0.2  # full level for 10 ms, then 20 % less each 10 ms (silent at 60 ms)


def _zeroed(x: np.ndarray, lost: np.ndarray, packet: int) -> np.ndarray:
    """A copy of x [n, C] with the lost packets silent, so no method can read them."""
    out = np.array(x, dtype=np.float64)
    for start, end in lost_runs(lost):
        out[start * packet : end * packet] = 0.0
    return out


def zero_conceal(x: np.ndarray, lost: np.ndarray, packet: int) -> np.ndarray:
    """Silence in every lost packet. [n, C]"""
    return _zeroed(x, lost, packet)


def repeat_conceal(x: np.ndarray, lost: np.ndarray, packet: int) -> np.ndarray:
    """Each lost packet is the packet played before it (a burst repeats the last arrived one). [n, C]"""
    out = _zeroed(x, lost, packet)
    for index in np.flatnonzero(lost):
        if index > 0:
            out[index * packet : (index + 1) * packet] = out[(index - 1) * packet : index * packet][: len(
                out[index * packet : (index + 1) * packet])]
    return out


def pitch_period(past: np.ndarray, rate: int) -> int:
    """The pitch period in samples of past [N] (mono): the lag from PITCH_MIN_MS to PITCH_MAX_MS whose
    normalised correlation over the last PITCH_WINDOW_MS is highest."""
    low, high, window = (round(rate * ms / 1000) for ms in (PITCH_MIN_MS, PITCH_MAX_MS, PITCH_WINDOW_MS))
    if len(past) < high + window:
        return low
    recent = past[-window:]
    lags = np.arange(low, high + 1)
    candidates = np.stack([past[len(past) - window - lag : len(past) - lag] for lag in lags])  # [lags, window]
    energy = np.einsum("ij,ij->i", candidates, candidates)
    score = candidates @ recent / np.sqrt(np.maximum(energy, 1e-20))
    return int(lags[int(np.argmax(score))])


def pitch_conceal(x: np.ndarray, lost: np.ndarray, packet: int, rate: int) -> np.ndarray:
    """G.711 Appendix I style: repeat the last pitch period of the played audio, attenuated over long
    bursts, overlap-added over a quarter period into the next arrived packet. [n, C]

    Simplified: one period is repeated throughout (G.711 widens to 2 and 3 periods after 10 and
    20 ms), and there is no overlap-add at the run's start (G.711 delays its output 3.75 ms for it).
    """
    out = _zeroed(x, lost, packet)
    full = round(rate * PITCH_FULL_MS / 1000)
    for run_start, run_end in lost_runs(lost):
        start, end = run_start * packet, min(len(out), run_end * packet)
        if start == 0:
            continue
        period = pitch_period(out[:start].mean(axis=1), rate)
        period = min(period, start)
        fade = period // 4 if end < len(out) else 0
        count = end - start + fade
        cycle = out[start - period : start]
        fill = cycle[np.arange(count) % period]
        steps = np.maximum(np.arange(count) - full, 0) / (rate / 100)  # tens of ms past the first 10
        fill *= np.clip(1.0 - PITCH_DECAY_PER_10MS * steps, 0.0, 1.0)[:, None]
        out[start:end] = fill[: end - start]
        if fade:
            weight = crossfade_weights(fade)[:, None]
            out[end : end + fade] = weight * fill[end - start :] + (1.0 - weight) * out[end : end + fade]
    return out


def burg_conceal(x: np.ndarray, lost: np.ndarray, packet: int, rate: int) -> np.ndarray:
    """One-sided Burg AR extrapolation of each lost run from the audio played before it, per channel,
    at the AR baseline's order and context scaled to `rate` (order 1654 at 44.1 kHz). [n, C]"""
    ar = ARConfig().scaled(rate / FrameConfig().sample_rate)
    out = _zeroed(x, lost, packet)
    for run_start, run_end in lost_runs(lost):
        start, end = run_start * packet, min(len(out), run_end * packet)
        for c in range(out.shape[1]):
            out[start:end, c] = extrapolate(out[max(0, start - ar.context) : start, c], end - start, ar.order)
    return out


def inpaint_conceal(x: np.ndarray, lost: np.ndarray, packet: int, rate: int, model) -> np.ndarray:
    """The ceiling: offline `revise.inpaint` of every lost run, seeing the audio on both sides. [n, C]"""
    from revise.inpainting import inpaint

    # The quarter-sample nudge makes inpaint's floor/ceil of seconds land exactly on the packet edges.
    gaps = [((s * packet + 0.25) / rate, (min(len(x), e * packet) - 0.25) / rate) for s, e in lost_runs(lost)]
    return inpaint(_zeroed(x, lost, packet), rate, gaps, model=model) if gaps else np.array(x, dtype=np.float64)
