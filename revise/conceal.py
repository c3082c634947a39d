"""Streaming packet-loss concealment: `Concealer.push(packet or None) -> packet`, `lookahead` packets late.

A real-time receiver gets audio in packets and must play something the moment a packet is missed.
The concealer keeps a buffer of fixed size: `history` samples already played, then the
`lookahead + 1` packets received but not yet played. Each push shifts one packet in and plays the
oldest pending one, so the output lags the input by exactly `lookahead` packets and memory does not
grow with the stream.

A lost packet is predicted by an AR model fitted, once per lost run, to the played history by the
autocorrelation (Yule-Walker) method: the history under an asymmetric window (a long rise, a short
fall over its last eighth, weighting the newest audio), its autocorrelation by FFT, and the normal
equations solved by Levinson recursion in compiled code (`scipy.linalg.solve_toeplitz`). The
windowed autocorrelation keeps the synthesis filter stable, and one fit costs well under a
millisecond at orders where Burg's recursion in numpy would take several (README has the figures).
One model serves every channel (the channels' autocorrelations are summed), so a stereo fit costs
one solve. Then:

- while the end of the run is not yet known (always with `lookahead=0`), the packet is the
  model's one-sided continuation of the history; a burst continues the same prediction, at full
  level for `fade_start_ms`, then fading to silence over `fade_ms`. With `lookahead=0` it is
  continued `crossfade_ms` into the next arrived packet, which it fades into: those margin samples
  are the only arrived samples that ever change.
- once the first arrived packet after the run is among the pending ones (`lookahead >= 1`), the
  rest of the run is filled from both sides: the forward continuation of the history and the
  backward continuation of the arrived packets after it, crossfaded by a raised cosine, as
  `revise.hints.autoregressive.ar_fill` does. Arrived packets are then never changed.

Pure numpy/scipy: no torch. The networks of `revise inpaint` run at 16 kHz and cost far more than
the 2 ms a 10 ms packet allows, so the concealer is classical (`model` must be None).
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache

import numpy as np
import scipy.fft
from scipy.linalg import solve_toeplitz
from scipy.signal import fftconvolve, lfilter

from revise.conceal_config import CONCEAL_RATES, ConcealConfig
from revise.hints.autoregressive import DIVERGED, crossfade_weights

_FALL = 8  # the analysis window falls over the last 1/_FALL of the history
_LOADING = 1e-6  # relative diagonal loading of the autocorrelation: a well-posed solve for pure tones
_SILENT = 1e-12  # an autocorrelation at lag 0 below this is silence: predict zeros


@lru_cache(maxsize=8)
def _analysis_window(length: int) -> np.ndarray:
    """A rise over the first 7/8 and a fall over the last 1/8 of `length` samples. [length]"""
    fall = max(1, length // _FALL)
    rise = length - fall
    up = np.sin(0.5 * np.pi * (np.arange(rise) + 0.5) / rise)
    down = np.cos(0.5 * np.pi * (np.arange(fall) + 0.5) / fall)
    return np.concatenate([up, down])


def autocorrelation(x: np.ndarray, order: int) -> np.ndarray:
    """Autocorrelation of the windowed x [N, C] at lags 0..order, summed over channels. [order + 1]"""
    windowed = x * _analysis_window(len(x))[:, None]
    size = scipy.fft.next_fast_len(len(x) + order + 1, real=True)
    spectrum = scipy.fft.rfft(windowed, size, axis=0)
    return scipy.fft.irfft(spectrum.real**2 + spectrum.imag**2, size, axis=0)[: order + 1].sum(axis=1)


def levinson(r: np.ndarray, order: int) -> np.ndarray:
    """Prediction-error filter a [order + 1] (a[0] = 1) for autocorrelation r [>= order + 1].

    x[n] is predicted as -sum_k a[k] x[n-k]. Silence gives a = [1, 0, ...]: a prediction of zeros.
    """
    a = np.zeros(order + 1)
    a[0] = 1.0
    if order == 0 or not r[0] > _SILENT:
        return a
    column = r[:order].copy()
    column[0] = r[0] * (1.0 + _LOADING)
    try:
        a[1:] = solve_toeplitz(column, -r[1 : order + 1])
    except np.linalg.LinAlgError:  # not positive definite after rounding: predict zeros
        pass
    return a


def filter_state(a: np.ndarray, context: np.ndarray) -> np.ndarray:
    """lfilter's state [p, C] for continuing context [N >= p, C] under 1 / A(z) on zero input."""
    p = len(a) - 1
    past = context[::-1][:p]  # y[-1], y[-2], ..., y[-p]
    # z[i] = -sum_j a[i + 1 + j] * y[-1 - j], as revise.hints.autoregressive._predict, per channel
    return -fftconvolve(a[1:, None], past[::-1], mode="full", axes=0)[p - 1 :]


def continue_ar(a: np.ndarray, state: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The next `count` samples [count, C] of the prediction in `state` [p, C], and the new state."""
    if len(a) == 1:
        return np.zeros((count, state.shape[1])), state
    return lfilter([1.0], a, np.zeros((count, state.shape[1])), axis=0, zi=state)


def predict(a: np.ndarray, context: np.ndarray, count: int) -> np.ndarray:
    """The `count` samples after context [N, C] under the model `a`. [count, C]"""
    if len(a) == 1:
        return np.zeros((count, context.shape[1]))
    return continue_ar(a, filter_state(a, context), count)[0]


def bounded(prediction: np.ndarray, context: np.ndarray) -> np.ndarray:
    """`prediction` [n, C], or zeros if it grew past DIVERGED times its context's peak (or is not finite)."""
    peak = np.max(np.abs(prediction)) if prediction.size else 0.0
    return prediction if peak <= DIVERGED * float(np.max(np.abs(context))) else np.zeros_like(prediction)


class Concealer:
    """Conceal lost packets of a stream, `lookahead` packets late.

    `push(packet)` takes the next packet, float [packet_samples] (mono) or [packet_samples,
    channels], or None for a lost one, and returns the packet `lookahead` pushes older in the same
    layout (silence for the first `lookahead` pushes). Arrived packets come out unchanged except
    the `crossfade_ms` margin at the start of one that follows a causally concealed run
    (`lookahead=0` only). `packet_samples` is round(sample_rate * packet_ms / 1000).
    """

    def __init__(self, model=None, sample_rate: int = 48000, packet_ms: float | None = None,
                 lookahead: int | None = None, channels: int = 1, config: ConcealConfig | None = None):
        if model is not None:
            raise ValueError("the concealer is classical (the networks run at 16 kHz and cost more than a packet "
                             "allows); pass model=None.")
        base = config or ConcealConfig()
        overrides = {k: v for k, v in (("packet_ms", packet_ms), ("lookahead", lookahead)) if v is not None}
        self.config = ConcealConfig(**{**base.__dict__, **overrides})
        low, high = CONCEAL_RATES
        if not (isinstance(sample_rate, (int, np.integer)) and low <= sample_rate <= high):
            raise ValueError(f"sample_rate must be a whole number of Hz from {low} to {high}, got {sample_rate!r}.")
        if not (isinstance(channels, (int, np.integer)) and 1 <= channels <= 64):
            raise ValueError(f"channels must be a whole number from 1 to 64, got {channels!r}.")
        c = self.config
        self.sample_rate, self.channels, self.lookahead = int(sample_rate), int(channels), c.lookahead
        self.packet_samples = round(sample_rate * c.packet_ms / 1000)
        self.history = round(sample_rate * c.history_ms / 1000)
        self.order = min(c.max_order, round(sample_rate * c.order_ms / 1000), self.history // 2)
        self.margin = min(self.packet_samples, round(sample_rate * c.crossfade_ms / 1000))
        self._fade_start, self._fade = (round(sample_rate * ms / 1000) for ms in (c.fade_start_ms, c.fade_ms))
        slots = self.lookahead + 1
        self._buffer = np.zeros((self.history + slots * self.packet_samples, self.channels))  # [history | pending]
        self._lost = np.zeros(slots, dtype=bool)  # the pending packets that were lost
        self._run: _Run | None = None  # the lost run being played, if any
        self._starts: deque[_Run | None] = deque(maxlen=slots)  # the pending runs' models, None: fit when played

    @property
    def latency_ms(self) -> float:
        """The delay the concealer adds: `lookahead` packets."""
        return 1000.0 * self.lookahead * self.packet_samples / self.sample_rate

    @property
    def state_bytes(self) -> int:
        """Bytes held by the buffers: constant for the stream's whole life."""
        runs = [run for run in (self._run, *self._starts) if run is not None]
        models = sum(r.a.nbytes + r.r.nbytes + r.state.nbytes + sum(b.nbytes for b in r._backward.values())
                     for r in runs)
        return self._buffer.nbytes + self._lost.nbytes + models

    def push(self, packet: np.ndarray | None) -> np.ndarray:
        """Take the next packet (None: lost) and return the one `lookahead` packets older. [P] or [P, C]"""
        incoming = None if packet is None else self._checked(packet)
        n, p = len(self._buffer), self.packet_samples
        self._buffer[: n - p] = self._buffer[p:]
        self._lost[:-1] = self._lost[1:]
        self._lost[-1] = incoming is None
        self._buffer[n - p :] = 0.0 if incoming is None else incoming
        if incoming is None and (len(self._lost) == 1 or not self._lost[-2]):
            self._starts.append(self._early_fit())
        self._release()
        out = self._buffer[self.history : self.history + p].copy()
        return out[:, 0] if self.channels == 1 else out

    def _checked(self, packet: np.ndarray) -> np.ndarray:
        """The packet as float64 [P, C], or ValueError in one sentence."""
        x = np.asarray(packet)
        p, c = self.packet_samples, self.channels
        if x.ndim == 1 and c == 1:
            x = x[:, None]
        if x.shape != (p, c):
            layout = f"[{p}] or [{p}, 1]" if c == 1 else f"[{p}, {c}]"
            raise ValueError(f"a packet must have shape {layout} ({self.config.packet_ms:g} ms at "
                             f"{self.sample_rate} Hz, {c} channel(s)), got {list(np.shape(packet))}.")
        if x.dtype.kind not in "biuf":
            raise ValueError(f"a packet must hold real numbers, got dtype {x.dtype}.")
        x = x.astype(np.float64)
        if not np.isfinite(x).all():
            raise ValueError("a packet holds NaN or infinite samples; pass None for a lost packet instead.")
        return x

    def _release(self) -> None:
        """Settle the oldest pending packet (slot 0) in the buffer before it is played."""
        h, p = self.history, self.packet_samples
        if not self._lost[0]:
            if self._run is not None:  # a causal run ends here (lookahead 0): fade its prediction into this packet
                self._fade_into_arrived()
            self._run = None
            return
        if self._run is None:
            self._run = self._starts.popleft() or _Run.fit(self._buffer[:h], self.order)
        arrived = np.flatnonzero(~self._lost)
        if len(arrived):  # the run's end is pending: fill the rest of it from both sides
            self._fill_two_sided(int(arrived[0]))
            return
        y, self._run.state = continue_ar(self._run.a, self._run.state, p)
        self._buffer[h : h + p] = self._run.gained(y, self._fade_start, self._fade)
        self._run.played += p

    def _fill_two_sided(self, first: int) -> None:
        """Fill slots [0, first) from the history and the arrived slots from `first` up to the next lost one."""
        h, p = self.history, self.packet_samples
        stop = first + int(np.argmax(self._lost[first:])) if self._lost[first:].any() else len(self._lost)
        left, right = self._buffer[:h], self._buffer[h + first * p : h + stop * p]
        count = first * p
        # Only slot 0 is played now: the forward prediction needs its P samples, the backward one all
        # `count` (it runs from the right edge); the later slots are filled again with more future.
        forward = bounded(predict(self._run.a, left, p), left)
        # The model comes from the history, so the right side only has to hold its state: any order below
        # its length (half of it, as a fit on the right side would need, scored 0.4-0.8 dB lower on mixes).
        backward = bounded(predict(self._run.backward(len(right) - 1), right[::-1], count)[::-1][:p], right)
        weight = crossfade_weights(count)[:p, None]
        self._buffer[h : h + p] = weight * forward + (1.0 - weight) * backward
        self._run.two_sided = True

    def _early_fit(self) -> _Run | None:
        """The model of a run whose first packet just arrived lost in slot `lookahead`, fitted now on the
        `history` samples before it when they are all final (no earlier pending loss), else None.

        Arrived pending packets are played unchanged, so this is the fit the run would get when played,
        done `lookahead` pushes early: the fit and the two-sided fill then cost different pushes."""
        if self._lost[:-1].any():
            return None
        end = len(self._buffer) - self.packet_samples
        return _Run.fit(self._buffer[end - self.history : end], self.order)

    def _fade_into_arrived(self) -> None:
        """Crossfade the causal prediction, continued `margin` samples, into slot 0's first samples."""
        h, m, run = self.history, self.margin, self._run
        if run.two_sided:
            return
        y, run.state = continue_ar(run.a, run.state, m)
        tail = run.gained(y, self._fade_start, self._fade)
        weight = crossfade_weights(m)[:, None]
        self._buffer[h : h + m] = weight * tail + (1.0 - weight) * self._buffer[h : h + m]


class _Run:
    """The model of one lost run: a [p + 1], the history's autocorrelation r [p + 1], the causal
    prediction's filter state [p, C], the samples of it played, and whether the run was filled two-sided."""

    def __init__(self, a: np.ndarray, r: np.ndarray, state: np.ndarray, peak: float):
        self.a, self.r, self.state, self.peak = a, r, state, peak
        self.played, self.two_sided = 0, False
        self._backward: dict[int, np.ndarray] = {}

    def backward(self, order: int) -> np.ndarray:
        """The model at min(order, p) for predicting backwards from a right side shorter than p samples
        (the history's autocorrelation serves both directions), solved once per order. [order + 1]"""
        order = min(order, len(self.a) - 1)
        if order not in self._backward:
            self._backward[order] = levinson(self.r, order)
        return self._backward[order]

    @classmethod
    def fit(cls, history: np.ndarray, order: int) -> _Run:
        r = autocorrelation(history, order)
        a = levinson(r, order)
        return cls(a, r, filter_state(a, history), float(np.max(np.abs(history))))

    def gained(self, y: np.ndarray, fade_start: int, fade: int) -> np.ndarray:
        """The causal prediction y [n, C] at the level it is played: full, then fading to silence."""
        position = self.played + np.arange(len(y))
        gain = np.clip(1.0 - (position - fade_start) / fade, 0.0, 1.0)[:, None]
        out = y * gain
        return out if np.max(np.abs(out), initial=0.0) <= DIVERGED * self.peak else np.zeros_like(out)


def conceal_signal(x: np.ndarray, sample_rate: int, lost: np.ndarray, packet_ms: float | None = None,
                   lookahead: int | None = None, config: ConcealConfig | None = None) -> np.ndarray:
    """Stream x (float [n] or [n, C]) through a Concealer with packets `lost` [packets] (bool) dropped.

    Returns the concealed audio, float64 of x's shape, aligned with x (the concealer's lag taken
    out). The last partial packet is padded with zeros for the stream and cut off again; `lost` must
    have one entry per packet, the last partial one included. Lost packets' samples are never read.
    """
    columns = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    concealer = Concealer(None, sample_rate, packet_ms, lookahead, columns.shape[1], config)
    p, delay = concealer.packet_samples, concealer.lookahead
    packets = -(-len(columns) // p)
    if len(lost) != packets:
        raise ValueError(f"the loss pattern has {len(lost)} entries for {packets} packets.")
    padded = np.zeros((packets * p, columns.shape[1]))
    padded[: len(columns)] = columns
    out = np.empty((packets * p, columns.shape[1]))
    silence = np.zeros((p, columns.shape[1]))
    for index in range(packets + delay):
        if index < packets:
            packet = None if lost[index] else padded[index * p : (index + 1) * p]
        else:
            packet = silence  # flushes the last `lookahead` packets out
        played = concealer.push(packet).reshape(p, -1)
        if index >= delay:
            out[(index - delay) * p : (index - delay + 1) * p] = played
    return out[: len(columns)].reshape(np.shape(x))
