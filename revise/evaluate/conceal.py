"""`revise evaluate --conceal DIR`: the streaming concealer against the baselines on simulated packet loss.

Each clip (its first `seconds`, at its own rate and channels) is sent as packets of each size with
two seeded loss patterns, independent losses and bursts of 2 to `burst` packets, both losing a
`loss_rate` fraction (the first `history_ms` of packets always arrive, so every method has a past).
The concealer at each lookahead and the baselines of `revise.evaluate.conceal_methods` fill them.
Scored on the lost audio only: per lost packet the SNR over its samples and channels (packets
quieter than SILENT_RMS are left out); per lost run the log-spectral distance of the frames
touching it and the click at its two edges against the reference (mono mix, ±2 ms).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from revise.audio import read_audio, to_float
from revise.conceal import conceal_signal
from revise.conceal_config import ConcealConfig
from revise.config import SILENT_RMS
from revise.evaluate.conceal_methods import (
    burg_conceal,
    inpaint_conceal,
    pitch_conceal,
    repeat_conceal,
    zero_conceal,
)
from revise.evaluate.metrics import SNR_CAP_DB, click_db, log_spectral_distance
from revise.packet_loss import loss_pattern, lost_runs

BASELINE_NAMES = ("zero", "repeat", "pitch", "burg", "inpaint")
CLICK_HALF_MS = 2.0


def lookahead_name(k: int) -> str:
    return f"lookahead={k}"


@dataclass
class ConcealResults:
    """settings; scores: packet label ("10") -> pattern ("random", "burst 2-3") -> method -> metric ->
    list of values (snr per lost packet, lsd and click per lost run); seconds: method -> seconds spent."""

    settings: dict[str, Any]
    scores: dict[str, dict[str, dict[str, dict[str, list[float]]]]]
    seconds: dict[str, float] = field(default_factory=dict)
    lost_packets: dict[str, int] = field(default_factory=dict)  # packet label -> lost packets concealed

    def median(self, packet: str, pattern: str, method: str, metric: str = "snr") -> float | None:
        values = self.scores.get(packet, {}).get(pattern, {}).get(method, {}).get(metric, [])
        return float(np.median(values)) if values else None

    def to_json(self) -> dict[str, Any]:
        medians = {pk: {pat: {m: {metric: self.median(pk, pat, m, metric) for metric in values}
                              for m, values in methods.items()} for pat, methods in patterns.items()}
                   for pk, patterns in self.scores.items()}
        counts = {pk: {pat: {"lost_packets_scored": max((len(v.get("snr", [])) for v in methods.values()), default=0)}
                       for pat, methods in patterns.items()} for pk, patterns in self.scores.items()}
        return {"settings": self.settings, "medians": medians, "counts": counts}


def method_names(lookaheads: list[int]) -> list[str]:
    return [*BASELINE_NAMES[:4], *(lookahead_name(k) for k in lookaheads), BASELINE_NAMES[4]]


def conceal_with(name: str, x: np.ndarray, lost: np.ndarray, packet: int, packet_ms: float, rate: int,
                 model) -> np.ndarray:
    """x [n, C] with the `lost` packets concealed by the method `name`. [n, C]"""
    if name.startswith("lookahead="):
        return conceal_signal(x, rate, lost, packet_ms, int(name.partition("=")[2]))
    if name == "zero":
        return zero_conceal(x, lost, packet)
    if name == "repeat":
        return repeat_conceal(x, lost, packet)
    if name == "pitch":
        return pitch_conceal(x, lost, packet, rate)
    if name == "burg":
        return burg_conceal(x, lost, packet, rate)
    return inpaint_conceal(x, lost, packet, rate, model)


def score(reference: np.ndarray, estimate: np.ndarray, lost: np.ndarray, packet: int, rate: int) -> dict[str, list]:
    """SNR per audible lost packet, LSD and edge click per audible lost run, of estimate [n, C]."""
    out: dict[str, list[float]] = {"snr": [], "lsd": [], "click": []}
    for index in np.flatnonzero(lost):
        r = reference[index * packet : (index + 1) * packet]
        e = estimate[index * packet : (index + 1) * packet]
        if np.sqrt(np.mean(r**2)) < SILENT_RMS:
            continue
        noise = float(np.sum((r - e) ** 2))
        snr = SNR_CAP_DB if noise == 0 else 10 * np.log10(float(np.sum(r**2)) / noise)
        out["snr"].append(float(np.clip(snr, -SNR_CAP_DB, SNR_CAP_DB)))
    ref_mono, est_mono = reference.mean(axis=1), estimate.mean(axis=1)
    for first, end in lost_runs(lost):
        start, stop = first * packet, min(len(reference), end * packet)
        if np.sqrt(np.mean(reference[start:stop] ** 2)) < SILENT_RMS:
            continue
        out["lsd"].append(log_spectral_distance(ref_mono, est_mono, start, stop, rate))
        out["click"].append(click_db(est_mono, [start, stop], ref_mono, max(1, round(rate * CLICK_HALF_MS / 1000))))
    return out


def patterns(burst: int) -> list[tuple[str, int]]:
    return [("random", 1), (f"burst 2-{burst}", burst)]


def run_conceal_benchmark(clips: list[Path], packet_ms: list[float], lookaheads: list[int], loss_rate: float,
                          burst: int, seconds: float, seed: int, model, progress: bool = False) -> ConcealResults:
    """Measure every method on every clip, packet size and loss pattern (see the module docstring)."""
    names = method_names(lookaheads)
    scores: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(list))))
    spent: dict[str, float] = defaultdict(float)
    lost_total: dict[str, int] = defaultdict(int)
    history_ms = ConcealConfig().history_ms
    for clip_index, path in enumerate(clips):
        audio = read_audio(path)
        rate = audio.sample_rate
        x = to_float(audio.samples)[: round(seconds * rate)]
        for size_index, ms in enumerate(packet_ms):
            packet = round(rate * ms / 1000)
            packets = -(-len(x) // packet)
            for pattern_index, (pattern, length) in enumerate(patterns(burst)):
                rng = np.random.default_rng([seed, clip_index, size_index, pattern_index])
                lost = loss_pattern(packets, loss_rate, length, rng)
                lost[: int(np.ceil(history_ms / ms))] = False
                lost[-1] = False
                lost_total[f"{ms:g}"] += int(lost.sum())
                for name in names:
                    began = time.process_time()
                    estimate = conceal_with(name, x, lost, packet, ms, rate, model)
                    spent[name] += time.process_time() - began
                    for metric, values in score(x, estimate, lost, packet, rate).items():
                        scores[f"{ms:g}"][pattern][name][metric].extend(values)
        if progress:
            print(f"[{clip_index + 1}/{len(clips)}] {path.name}", flush=True)
    settings = {"clips": [str(p) for p in clips], "packet_ms": list(packet_ms), "lookaheads": list(lookaheads),
                "loss_rate": loss_rate, "burst": burst, "seconds_per_clip": seconds, "seed": seed,
                "methods": names, "concealer": ConcealConfig().__dict__}
    plain = {pk: {pat: {m: dict(v) for m, v in methods.items()} for pat, methods in by.items()}
             for pk, by in scores.items()}
    return ConcealResults(settings, plain, dict(spent), dict(lost_total))
