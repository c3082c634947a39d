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
from revise.masking import frame_mask, revision_masks, sample_mask
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
MIN_PROMPT_FRAMES = 16  # prompt frames needed to calibrate the networks; shorter prompts use the defaults below
CALIBRATION_FRAMES = 64  # prompt frames drafted and revised to calibrate the reviser (half the prompt at most)
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

    Both networks are first calibrated on the prompt (`Calibration`). The drafter then samples
    the continuation frame by frame, its calibrated prediction plus an innovation shaped like its
    error on the prompt, so the draft keeps the prompt's level and texture instead of regressing
    to silence or to a fixed frame; the reviser runs `passes` passes over it in overlapping
    windows. The result is at `sample_rate` when a prompt is given (the prompt's samples kept
    exactly), else at the model's rate. `join="naive"` butts the frames end to end: a baseline
    to hear and measure the clicks that the crossfade removes. The same `seed`, the same output.
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
    to_fill = frame_mask(sample_mask([(start, total)], total), model.frame.frame_length, model.frame.hop_length)
    first = int(to_fill.int().argmax())  # the continuation is one run of frames to the end
    generator = torch.Generator().manual_seed(0 if seed is None else seed)
    with torch.inference_mode():
        features = analyse(signal, model.frame)
        level = float(np.sqrt(np.mean(prompt_model.astype(np.float64) ** 2))) if start else NO_PROMPT_RMS
        calibration = calibrate(model, features[:, :first], start, level, generator)
        noise = innovation(model.frame, calibration, total, generator)
        drafted = sample_draft(model.drafter, features, first, calibration.draft_gain, noise, model.frame)
        revised = revise_windowed(model, drafted, to_fill.unsqueeze(0), passes, schedule, calibration.revision_gain)
        joiner = synthesise if join == "crossfade" else naive_join
        wave = joiner(revised, total, model.frame)
    out = splice(signal.double(), wave.double(), start, total, model.frame.hop_length)[0].numpy()
    out = np.clip(out, -1.0, 1.0)  # a guard for fixed-point files; the level itself is never rescaled
    return _finish_generation(out, start, prompt, prompt_rate, rate, include_prompt, seconds)


@dataclass(frozen=True)
class Calibration:
    """How far to trust each network on this prompt, and the spread of what the drafter misses.

    Gains are per rfft bin of a frame, in [0, 1]: the least-squares scale that best maps the
    drafter's prediction (draft_gain) or the reviser's correction (revision_gain) onto the
    prompt, so a bin a network gets wrong (a learned fixed frame, a bias) is attenuated instead
    of fed back and reinforced. A well-trained model gets gains near 1.
    """

    draft_gain: torch.Tensor  # [L/2+1]
    revision_gain: torch.Tensor  # [L/2+1]
    error_power: torch.Tensor  # [L/2+1], mean power spectrum of the calibrated drafter's error
    error_rms: float  # the level of the innovation signal giving that error energy per frame


def calibrate(
    model: RevisionModel, prompt: torch.Tensor, samples: int, level: float, generator: torch.Generator
) -> Calibration:
    """Fit a `Calibration` on the prompt's frames. prompt: [1, n, F], n frames within its `samples` samples.

    The drafter is teacher-forced over the prompt; then the prompt's last CALIBRATION_FRAMES
    frames (half at most) are drafted from the frames before them and revised once, as the
    continuation will be, and the reviser's correction is fitted to the truth. Too short a
    prompt (or none): gains of 1 and an innovation of RMS `level` (the prompt's, or
    NO_PROMPT_RMS) whose spectrum falls 6 dB per octave above NO_PROMPT_CORNER_HZ.
    """
    frame, skip = model.frame, model.frame.frame_length // model.frame.hop_length
    count = prompt.shape[1]
    span = min(CALIBRATION_FRAMES, (count - skip) // 2)
    if span < MIN_PROMPT_FRAMES:
        hertz = torch.fft.rfftfreq(frame.frame_length, 1.0 / frame.sample_rate, dtype=torch.float64)
        ones = torch.ones_like(hertz)
        return Calibration(ones, ones, 1.0 / (1.0 + (hertz / NO_PROMPT_CORNER_HZ) ** 2), level)
    predictions, _ = model.drafter(prompt)
    truth = _spectrum(prompt[0, 1 + skip :], frame)  # the first frames hold the zero padding
    guess = _spectrum(predictions[0, skip:-1], frame)
    draft_gain = _fit_gain(truth, guess)
    error = truth - draft_gain * guess
    window_energy = analysis_window(frame.frame_length, frame.hop_length, torch.float64).pow(2).sum()
    error_rms = float(torch.fft.irfft(error, n=frame.frame_length, norm="ortho").pow(2).sum(-1).mean().div(window_energy).sqrt())
    calibration = Calibration(draft_gain, torch.ones_like(draft_gain), error.abs().pow(2).mean(0), error_rms)
    noise = innovation(frame, calibration, samples, generator)
    cut = count - span
    drafted = sample_draft(model.drafter, prompt, cut, draft_gain, noise, frame)
    mask = torch.zeros(1, count, dtype=torch.bool)
    mask[:, cut:] = True
    correction = _spectrum(model.reviser(drafted, mask, drafted)[0, cut:] - drafted[0, cut:], frame)
    revision_gain = _fit_gain(_spectrum(prompt[0, cut:] - drafted[0, cut:], frame), correction)
    return Calibration(draft_gain, revision_gain, calibration.error_power, error_rms)


def _spectrum(features: torch.Tensor, frame: FrameConfig) -> torch.Tensor:
    """Features [..., F] to the rfft of their frames [..., L/2+1] (float64, orthonormal)."""
    return torch.fft.rfft(decode(features.double(), frame.encoding, frame.frame_length), norm="ortho")


def _scaled(features: torch.Tensor, gain: torch.Tensor, frame: FrameConfig) -> torch.Tensor:
    """Features [..., F] with each frame's rfft bins multiplied by `gain` [L/2+1]."""
    frames = torch.fft.irfft(gain * _spectrum(features, frame), n=frame.frame_length, norm="ortho")
    return encode(frames, frame.encoding).to(features.dtype)


def _fit_gain(target: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """Per bin, the least-squares real scale of `source` towards `target` ([n, K] each), clamped to [0, 1]."""
    fit = (target * source.conj()).real.sum(dim=0) / source.abs().pow(2).sum(dim=0).clamp_min(1e-12)
    return fit.clamp(0.0, 1.0)


def sample_draft(
    drafter, features: torch.Tensor, first: int, gain: torch.Tensor, noise: torch.Tensor, frame: FrameConfig
) -> torch.Tensor:
    """Draft frames `first`.. of `features` by sampling, each draw fed back. [1, T, F] -> [1, T, F]

    Frames before `first` are teacher-forced in one call; frame t >= first is the calibrated
    prediction (`gain` [L/2+1] on its bins) plus `noise[:, t]` (noise: [1, >= T, F]).
    """
    out = features.clone()
    if first > 0:
        predictions, state = drafter(out[:, :first])
        prediction = predictions[:, -1]
    else:
        prediction, state = drafter.step(drafter.start_frame(1), None)
    for t in range(first, out.shape[1]):
        out[:, t] = _scaled(prediction, gain, frame) + noise[:, t]
        prediction, state = drafter.step(out[:, t], state)
    return out


def innovation(frame: FrameConfig, calibration: Calibration, total: int, generator: torch.Generator) -> torch.Tensor:
    """Gaussian noise with the drafter's calibrated error spectrum, one signal of `total` samples in frames. [1, T, F]

    White noise is coloured by a filter whose magnitude response follows `error_power`, scaled
    to `error_rms` and cut into frames by `analyse`. Being one signal, overlapping frames share
    their noise, so overlap-add returns it at an even level (no frame-rate modulation), and each
    frame is windowed like the audio the drafter learnt from.
    """
    length = frame.frame_length
    shaping = torch.fft.irfft(calibration.error_power.sqrt(), n=length).roll(length // 2)
    shaping = shaping * torch.hann_window(length, dtype=torch.float64)
    shaping = shaping / shaping.norm().clamp_min(1e-12)  # unit energy: the noise keeps the white variance
    white = torch.randn(1, 1, total + length - 1, generator=generator, dtype=torch.float64)
    coloured = torch.nn.functional.conv1d(white, shaping.view(1, 1, -1))[0]  # [1, total]
    return analyse((GENERATION_NOISE * calibration.error_rms * coloured).float(), frame)


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
    """Back to the prompt's rate (round(seconds * rate) new samples) with the prompt's samples
    kept exactly; drop the prompt if asked."""
    continuation = out[start:]
    if prompt is not None and prompt_rate != rate:
        length = int(round(seconds * prompt_rate))
        continuation = np.clip(_fit_length(resample(continuation, rate, prompt_rate), length), -1.0, 1.0)
    if not include_prompt or prompt is None:
        return continuation.astype(np.float32)
    original = to_float(np.asarray(prompt).reshape(len(prompt), -1)).mean(axis=1)
    return np.concatenate([original, continuation]).astype(np.float32)


def revise_windowed(
    model: RevisionModel,
    features: torch.Tensor,
    to_fill: torch.Tensor,
    passes: int,
    schedule: ScheduleName,
    gain: torch.Tensor | None = None,
) -> torch.Tensor:
    """Revision in overlapping windows of frames, left to right, the draft as hint. [B, T, F] -> [B, T, F]

    Each window after the first starts REVISION_OVERLAP frames back: the first half of that
    overlap is held fixed as revised context, the second half is revised again with its left
    neighbours final. Memory stays flat with length; an output that fits in one window is revised
    exactly as `revise_calibrated` revises it whole. `gain` [L/2+1] scales each correction.
    """
    count = features.shape[1]
    out, hint, start = features.clone(), features, 0
    while True:
        end = min(count, start + REVISION_WINDOW)
        keep = start if start == 0 else start + REVISION_OVERLAP // 2
        work = to_fill[:, start:end].clone()
        work[:, : keep - start] = False
        chunk = revise_calibrated(model, out[:, start:end], work, passes, schedule, hint[:, start:end], gain)
        out[:, keep:end] = chunk[:, keep - start :]
        if end == count:
            return out
        start = end - REVISION_OVERLAP


def revise_calibrated(
    model: RevisionModel,
    features: torch.Tensor,
    to_fill: torch.Tensor,
    passes: int,
    schedule: ScheduleName,
    hint: torch.Tensor,
    gain: torch.Tensor | None = None,
) -> torch.Tensor:
    """`revise.passes.revise` with the reviser's correction of the hint scaled by `gain` [L/2+1] on each
    pass (None: unscaled, the same as `revise`). features, hint: [B, T, F]; to_fill: bool [B, T]."""
    if gain is None:
        return revise(model.reviser, features, to_fill, passes, schedule, hint)
    for mask in revision_masks(to_fill, passes, schedule):
        revised = hint + _scaled(model.reviser(features, mask, hint) - hint, gain, model.frame)
        features = torch.where(mask.unsqueeze(-1), revised, features)
    return features


def _default_model() -> RevisionModel:
    return load_model(None)
