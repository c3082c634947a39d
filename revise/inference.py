"""Inpainting and generation with a trained `RevisionModel`: plain torch and numpy, no Lightning.

Inpainting works gap by gap: a window of context around each gap (or group of nearby gaps) is
resampled to the model rate, the AR fill gives the hint, the drafter drafts, the reviser runs
its passes, and the result is resampled back and crossfaded into the original. Samples outside
each gap and its crossfade margin are copied from the input untouched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from revise.audio import from_float, resample, to_float
from revise.autoregressive import ar_fill_many
from revise.checkpoint import load_model
from revise.config import FrameConfig, ScheduleName
from revise.framing import analyse, analysis_window, decode, encode, naive_join, splice, synthesise
from revise.masking import frame_mask, sample_mask
from revise.model import RevisionModel
from revise.passes import draft, revise

log = logging.getLogger(__name__)

MAX_GAP_SECONDS = 1.0  # the longest single gap filled in one piece (the reviser trains on up to 0.5 s)
MAX_GENERATE_SECONDS = 600.0  # the longest generation in one call (the whole draft is held in memory)
CONTEXT_SECONDS = 0.3  # audio taken on each side of a gap
RESAMPLER_GUARD = 16  # model-rate samples next to a gap treated as unknown when resampling smears it
REVISION_WINDOW = 512  # frames revised at once in generation; memory stays flat with length
REVISION_OVERLAP = 64
GENERATION_NOISE = 1.0  # innovation scale in generation: 1 samples the drafter's own error on the prompt
MIN_PROMPT_FRAMES = 16  # prompt frames needed to measure that error; shorter prompts use the defaults below
NO_PROMPT_RMS = 0.13  # innovation level without a prompt: the corpus's median RMS per second (mono, 16 kHz)
NO_PROMPT_CORNER_HZ = 500.0  # the no-prompt innovation spectrum falls 6 dB per octave above this


@dataclass(frozen=True)
class SampleGap:
    """A gap in samples at the input's rate: [start, end)."""

    start: int
    end: int


def gaps_to_samples(gaps: list[tuple[float, float]], sample_rate: int, length: int) -> list[SampleGap]:
    """Check gaps given in seconds, turn them into sample ranges and merge overlapping ones.

    Raises ValueError for negative, empty or out-of-range gaps and for gaps longer than
    MAX_GAP_SECONDS after merging.
    """
    if not gaps:
        raise ValueError("no gap given; pass at least one START:END in seconds.")
    duration = length / sample_rate
    ranges = []
    for start, end in gaps:
        if not (np.isfinite(start) and np.isfinite(end)):
            raise ValueError(f"gap {start}:{end} is not a pair of finite numbers of seconds.")
        if start < 0 or end <= start:
            raise ValueError(f"gap {start}:{end} is malformed: it needs 0 <= START < END (seconds).")
        if end > duration + 1e-9:
            raise ValueError(f"gap {start}:{end} ends beyond the end of the audio ({duration:.3f} s).")
        ranges.append((int(np.floor(start * sample_rate)), min(length, int(np.ceil(end * sample_rate)))))
    merged = _merge(sorted(ranges), sample_rate)
    for gap in merged:
        seconds = (gap.end - gap.start) / sample_rate
        if seconds > MAX_GAP_SECONDS + 1e-9:
            raise ValueError(
                f"the gap from {gap.start / sample_rate:.3f} s is {seconds:.3f} s long; "
                f"revise fills gaps of at most {MAX_GAP_SECONDS} s. Split it or shorten it."
            )
    return merged


def _merge(ranges: list[tuple[int, int]], sample_rate: int) -> list[SampleGap]:
    merged: list[list[int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            log.warning(
                "gaps overlapping or touching at %.3f s were merged into one gap", start / sample_rate
            )
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [SampleGap(s, e) for s, e in merged]


def crossfade_margin(model: RevisionModel, sample_rate: int) -> int:
    """Samples of crossfade on each side of a gap, at `sample_rate`: one hop of the model."""
    return max(1, round(model.frame.hop_length * sample_rate / model.sample_rate))


def inpaint(
    audio: np.ndarray,
    sample_rate: int,
    gaps: list[tuple[float, float]],
    passes: int | None = None,
    model: RevisionModel | None = None,
    seed: int | None = None,
    schedule: ScheduleName | None = None,
) -> np.ndarray:
    """Fill `gaps` (pairs of seconds) in `audio` ([samples] or [samples, channels]).

    Returns an array of the same shape and dtype. Every sample outside the gaps and their
    crossfade margins is bit-identical to the input; samples inside the gaps are never read.
    """
    model = model if model is not None else _default_model()
    passes = model.revision.passes if passes is None else passes
    schedule = schedule or model.revision.schedule
    array = np.asarray(audio)
    if array.ndim not in (1, 2) or array.shape[0] == 0:
        raise ValueError(f"audio must be [samples] or [samples, channels] with samples > 0, got {array.shape}.")
    frames = array.reshape(array.shape[0], -1)
    sample_gaps = gaps_to_samples(gaps, sample_rate, frames.shape[0])
    signal = to_float(frames)
    signal[np.asarray(sample_mask([(g.start, g.end) for g in sample_gaps], len(signal)))] = 0.0
    if not np.isfinite(signal).all():
        raise ValueError("audio holds NaN or infinite samples outside the gaps; clean them first.")
    out = frames.copy()
    margin = crossfade_margin(model, sample_rate)
    context = int(round(CONTEXT_SECONDS * sample_rate))
    generator = torch.Generator().manual_seed(0 if seed is None else seed)
    for group in _group(sample_gaps, context, len(signal)):
        _fill_group(model, signal, out, group, sample_rate, margin, context, passes, schedule, generator)
    return out.reshape(array.shape)


def _group(gaps: list[SampleGap], context: int, length: int) -> list[list[SampleGap]]:
    """Gaps whose context windows overlap are filled together in one window."""
    groups: list[list[SampleGap]] = []
    for gap in gaps:
        if groups and gap.start - context < groups[-1][-1].end + context:
            groups[-1].append(gap)
        else:
            groups.append([gap])
    return groups


def _fill_group(model, signal, out, group, sample_rate, margin, context, passes, schedule, generator) -> None:
    """Fill one group of gaps in place in `out` (native dtype [samples, channels])."""
    first = max(0, group[0].start - context)
    last = min(len(signal), group[-1].end + context)
    window = signal[first:last].T  # [C, n], gap samples already zeroed
    local = [(g.start - first, g.end - first) for g in group]
    filled = fill_at_model_rate(model, window, sample_rate, local, passes, schedule, generator)
    spliced = window
    for start, end in local:
        spliced = splice(torch.from_numpy(spliced), torch.from_numpy(filled), start, end, margin).numpy()
    for gap in group:
        a, b = max(first, gap.start - margin), min(last, gap.end + margin)
        out[a:b] = from_float(spliced[:, a - first : b - first].T, out.dtype)


def fill_at_model_rate(
    model: RevisionModel,
    window: np.ndarray,
    sample_rate: int,
    gaps: list[tuple[int, int]],
    passes: int,
    schedule: ScheduleName,
    generator: torch.Generator,
) -> np.ndarray:
    """Draft and revise `gaps` in `window` [C, n] (float, at `sample_rate`); returns [C, n]."""
    rate = model.sample_rate
    resampled = sample_rate != rate
    signal = resample(window.T, sample_rate, rate).T if resampled else window
    n = signal.shape[-1]
    guard = RESAMPLER_GUARD if resampled else 0
    model_gaps = [
        (max(0, int(np.floor(s * rate / sample_rate)) - guard), min(n, int(np.ceil(e * rate / sample_rate)) + guard))
        for s, e in gaps
    ]
    mask = sample_mask(model_gaps, n)
    known = np.where(mask.numpy(), 0.0, signal)
    hint = np.stack([ar_fill_many(channel, model_gaps, model.ar.order, model.ar.context) for channel in known])
    to_fill = frame_mask(mask, model.frame.frame_length, model.frame.hop_length).expand(len(known), -1)
    with torch.inference_mode():
        features = analyse(torch.from_numpy(known).float(), model.frame)
        drafted = draft(model.drafter, features, to_fill, generator=generator)
        revised = revise(model.reviser, drafted, to_fill, passes, schedule, analyse(torch.from_numpy(hint).float(), model.frame))
        filled = synthesise(revised, n, model.frame).double().numpy()
    if resampled:
        filled = _fit_length(resample(filled.T, rate, sample_rate).T, window.shape[-1])
    return filled


def _fit_length(x: np.ndarray, length: int) -> np.ndarray:
    """Crop or zero-pad the last axis to `length` (resampling can be off by a sample)."""
    if x.shape[-1] >= length:
        return x[..., :length]
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, length - x.shape[-1])])


def generate(
    seconds: float,
    prompt: np.ndarray | None = None,
    sample_rate: int | None = None,
    passes: int | None = None,
    model: RevisionModel | None = None,
    seed: int | None = None,
    schedule: ScheduleName | None = None,
    join: str = "crossfade",
    include_prompt: bool = True,
) -> np.ndarray:
    """Continue `prompt` (or start from nothing) by `seconds` of audio; returns mono float32 [samples].

    The drafter samples the continuation frame by frame: its prediction plus an innovation drawn
    from its own one-step error on the prompt (see `innovation`), so the draft keeps the prompt's
    level and texture instead of regressing towards silence or a fixed frame. The reviser then
    runs `passes` passes over the continuation in overlapping windows. The result is at
    `sample_rate` when a prompt is given (the prompt's samples kept exactly), else at the model's
    rate. `join="naive"` butts the frames end to end: a baseline to hear and measure the clicks
    that the crossfade removes. The same `seed` gives the same output.
    """
    model = model if model is not None else _default_model()
    passes = model.revision.passes if passes is None else passes
    schedule = schedule or model.revision.schedule
    if not (np.isfinite(seconds) and 0 < seconds <= MAX_GENERATE_SECONDS):
        raise ValueError(f"--seconds must be a positive number up to {MAX_GENERATE_SECONDS:g}, got {seconds}.")
    if join not in ("crossfade", "naive"):
        raise ValueError(f"join must be 'crossfade' or 'naive', got {join!r}.")
    rate = model.sample_rate
    prompt_model, prompt_rate = _prompt_at_model_rate(prompt, sample_rate, rate)
    start, total = len(prompt_model), len(prompt_model) + int(round(seconds * rate))
    signal = torch.zeros(1, total, dtype=torch.float32)
    signal[0, :start] = torch.from_numpy(prompt_model)
    mask = sample_mask([(start, total)], total)
    to_fill = frame_mask(mask, model.frame.frame_length, model.frame.hop_length).unsqueeze(0)
    first = int(to_fill[0].int().argmax())  # the continuation is one run of frames to the end
    generator = torch.Generator().manual_seed(0 if seed is None else seed)
    with torch.inference_mode():
        features = analyse(signal, model.frame)
        drafted = sample_draft(model, features, first, total, generator)
        revised = revise_windowed(model, drafted, to_fill, passes, schedule)
        joiner = synthesise if join == "crossfade" else naive_join
        wave = joiner(revised, total, model.frame)
    out = splice(signal.double(), wave.double(), start, total, model.frame.hop_length)[0].numpy()
    out = np.clip(out, -1.0, 1.0)  # a guard for file formats; a level far off the prompt's is a bug, not clipped
    return _finish_generation(out, start, prompt, prompt_rate, rate, include_prompt, seconds)


@dataclass(frozen=True)
class Predictive:
    """The drafter's predictive distribution for one generation, calibrated on the prompt.

    A frame is drawn as gain * prediction (per rfft bin of the frame) plus Gaussian noise with
    the spectrum and energy of what that calibrated prediction missed on the prompt.
    """

    gain: torch.Tensor  # [L/2+1] in [0, 1]: the prompt regressed on the prediction, bin by bin
    power: torch.Tensor  # [L/2+1]: mean power spectrum of the calibrated one-step error (windowed frames)
    rms: float  # the level of the innovation signal that gives that error energy per frame


def calibrate(frame: FrameConfig, truth: torch.Tensor | None, predicted: torch.Tensor | None) -> Predictive:
    """Fit `Predictive` from the drafter's teacher-forced predictions on the prompt.

    truth, predicted: [n, F] features of the prompt frames and the drafter's predictions of them
    (None without a prompt). gain_k = clamp(Re sum X conj(P) / sum |P|^2, 0, 1): the least-squares
    scale of the prediction, so a bin the drafter gets wrong is predicted as zero rather than
    added as a wrong, self-reinforcing pattern. With fewer than MIN_PROMPT_FRAMES frames: gain
    1 and noise falling 6 dB per octave above NO_PROMPT_CORNER_HZ at NO_PROMPT_RMS.
    """
    length, hop = frame.frame_length, frame.hop_length
    window_energy = analysis_window(length, hop, torch.float64).pow(2).sum()
    if truth is None or truth.shape[0] < MIN_PROMPT_FRAMES:
        hertz = torch.fft.rfftfreq(length, 1.0 / frame.sample_rate, dtype=torch.float64)
        power = 1.0 / (1.0 + (hertz / NO_PROMPT_CORNER_HZ) ** 2)
        return Predictive(torch.ones_like(power), power, NO_PROMPT_RMS)
    spectrum = torch.fft.rfft(decode(truth.double(), frame.encoding, length), norm="ortho")  # [n, L/2+1]
    guess = torch.fft.rfft(decode(predicted.double(), frame.encoding, length), norm="ortho")
    fit = (spectrum * guess.conj()).real.sum(dim=0) / guess.abs().pow(2).sum(dim=0).clamp_min(1e-12)
    gain = fit.clamp(0.0, 1.0)
    error = torch.fft.irfft(spectrum - gain * guess, n=length, norm="ortho")  # [n, L]
    rms = float(error.pow(2).sum(dim=-1).mean().div(window_energy).sqrt())
    return Predictive(gain, (spectrum - gain * guess).abs().pow(2).mean(dim=0), rms)


def sample_draft(
    model: RevisionModel, features: torch.Tensor, first: int, total: int, generator: torch.Generator
) -> torch.Tensor:
    """Draft frames `first`.. by sampling from the calibrated drafter, each draw fed back. [1, T, F] -> [1, T, F]

    Frames before `first` hold the prompt (all of `total` samples' frames are in `features`):
    the drafter is teacher-forced over them in one call, which also gives the predictions that
    `calibrate` fits. The first frames (the zero padding before the prompt) are left out of the fit.
    """
    drafter, frame, out = model.drafter, model.frame, features.clone()
    skip = frame.frame_length // frame.hop_length
    truth = predicted = None
    if first > 0:
        predictions, state = drafter(out[:, :first])
        truth, predicted = out[0, 1 + skip : first], predictions[0, skip : first - 1]
        prediction = predictions[:, -1]
    else:
        prediction, state = drafter.step(drafter.start_frame(1), None)
    predictive = calibrate(frame, truth, predicted)
    noise = innovation(frame, predictive, total, generator)  # [1, T, F]
    gain = predictive.gain.to(features.dtype)
    for t in range(first, out.shape[1]):
        mean = torch.fft.irfft(gain * torch.fft.rfft(decode(prediction, frame.encoding, frame.frame_length)),
                               n=frame.frame_length)
        out[:, t] = encode(mean, frame.encoding) + noise[:, t]
        prediction, state = drafter.step(out[:, t], state)
    return out


def innovation(frame: FrameConfig, predictive: Predictive, total: int, generator: torch.Generator) -> torch.Tensor:
    """Gaussian noise with the predictive spread, as one signal of `total` samples cut into frames. [1, T, F]

    White noise is coloured by a filter whose magnitude response follows `predictive.power`,
    scaled to `predictive.rms` and framed by `analyse`. Being one signal, overlapping frames share
    their noise, so overlap-add returns it at an even level (no frame-rate modulation) and every
    frame is windowed like the audio the drafter learnt from.
    """
    length = frame.frame_length
    shaping = torch.fft.irfft(predictive.power.sqrt(), n=length).roll(length // 2)
    shaping = shaping * torch.hann_window(length, dtype=torch.float64)
    shaping = shaping / shaping.norm().clamp_min(1e-12)  # unit energy: the noise keeps the white variance
    white = torch.randn(1, 1, total + length - 1, generator=generator, dtype=torch.float64)
    coloured = torch.nn.functional.conv1d(white, shaping.view(1, 1, -1))[0]  # [1, total]
    return analyse((GENERATION_NOISE * predictive.rms * coloured).float(), frame)


def _prompt_at_model_rate(prompt, sample_rate, rate) -> tuple[np.ndarray, int]:
    if prompt is None:
        return np.zeros(0, dtype=np.float32), rate
    if sample_rate is None:
        raise ValueError("a prompt needs its sample_rate.")
    array = to_float(np.asarray(prompt).reshape(len(prompt), -1)).mean(axis=1)
    if not np.isfinite(array).all():
        raise ValueError("the prompt holds NaN or infinite samples.")
    return resample(array, sample_rate, rate).astype(np.float32), sample_rate


def _finish_generation(out, start, prompt, prompt_rate, rate, include_prompt, seconds) -> np.ndarray:
    """Back to the prompt's rate (round(seconds * rate) new samples) with the prompt's samples kept
    exactly; drop the prompt if asked."""
    continuation = out[start:]
    if prompt is not None and prompt_rate != rate:
        length = int(round(seconds * prompt_rate))
        continuation = np.clip(_fit_length(resample(continuation, rate, prompt_rate), length), -1.0, 1.0)
    if not include_prompt or prompt is None:
        return continuation.astype(np.float32)
    original = to_float(np.asarray(prompt).reshape(len(prompt), -1)).mean(axis=1)
    return np.concatenate([original, continuation]).astype(np.float32)


def revise_windowed(
    model: RevisionModel, features: torch.Tensor, to_fill: torch.Tensor, passes: int, schedule: ScheduleName
) -> torch.Tensor:
    """Revision in overlapping windows of frames, left to right, the draft as hint. [B, T, F] -> [B, T, F]

    Each window after the first starts REVISION_OVERLAP frames back: the first half of that
    overlap is held fixed as already revised context, the second half is revised again with its
    left neighbours final. Memory stays flat with length; an output that fits in one window is
    revised exactly as `revise` would.
    """
    count = features.shape[1]
    out, hint, start = features.clone(), features, 0
    while True:
        end = min(count, start + REVISION_WINDOW)
        keep = start if start == 0 else start + REVISION_OVERLAP // 2
        work = to_fill[:, start:end].clone()
        work[:, : keep - start] = False  # revised context on the left
        chunk = revise(model.reviser, out[:, start:end], work, passes, schedule, hint[:, start:end])
        out[:, keep:end] = chunk[:, keep - start :]
        if end == count:
            return out
        start = end - REVISION_OVERLAP


def _default_model() -> RevisionModel:
    return load_model(None)
