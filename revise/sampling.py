"""Sampled generation: the drafter network writes past a prompt (or seeded noise), frame by
frame, and the reviser revises. A baseline beside `revise.generation`'s continuation from the
prompt's own material (`generate(..., draft="network")`), and what `--join naive` butts.

Both run the package's one draft loop and one revision loop (`revise.revision.loops`), with
generation's sampling and gains plugged into their hooks.

The drafter is calibrated on the prompt (per-bin gains of its predictions against the truth)
and each drafted frame gets fresh noise shaped like the drafter's own error on the prompt, so
the continuation keeps the prompt's level and texture instead of decaying to a fixed frame.
Revision runs in overlapping windows of frames, so memory stays flat with length, and the
revised frames are brought back to the draft's level (`keep_level`).
"""

from __future__ import annotations

import logging
import typing
from dataclasses import dataclass

import numpy as np
import torch

from revise.audio import fit_length, resample, to_float
from revise.checkpoint import load_model
from revise.config import MAX_GENERATE_SECONDS, SILENT_RMS, FrameConfig, RevisionConfig, ScheduleName
from revise.dsp.framing import (
    analyse,
    analysis_window,
    decode,
    encode,
    frame_mask,
    naive_join,
    num_frames,
    sample_mask,
    synthesise,
)
from revise.dsp.splice import splice
from revise.generation import Join, soft_limit
from revise.nn.model import RevisionModel
from revise.revision.loops import draft, revise

log = logging.getLogger(__name__)

REVISION_WINDOW = 512  # frames revised at once in generation; memory stays flat with length
REVISION_OVERLAP = 64
GENERATION_NOISE = 1.0  # innovation scale in generation: 1 samples the drafter's own error on the prompt
MIN_PROMPT_FRAMES = 16  # prompt frames needed to calibrate the networks; shorter prompts use the defaults below
CALIBRATION_FRAMES = 64  # prompt frames drafted and revised to calibrate the reviser (half the prompt at most)
NO_PROMPT_RMS = 0.13  # innovation level without a prompt: the corpus's median RMS per second (mono, 16 kHz)
NO_PROMPT_CORNER_HZ = 500.0  # the no-prompt innovation spectrum falls 6 dB per octave above this
NO_PROMPT_SECONDS = 1.0  # without a prompt, generation continues this much seeded noise (then dropped)
LOUD_QUANTILE = 0.95  # drafted predictions are held below the energy of the prompt's loudest 5% of frames
# The reviser is trained for gap SNR, so where it cannot predict it returns something near the
# conditional mean, quieter than music: on a loud prompt one pass left generation far quieter than
# the draft (MODEL_CARD.md). Revised frames are brought back to the draft's level, smoothed over this many frames.
LEVEL_FRAMES = 25


def generate_sampled(
    seconds: float,
    prompt: np.ndarray | None = None,
    sample_rate: int | None = None,
    passes: int | None = None,
    model: RevisionModel | None = None,
    seed: int | None = None,
    schedule: ScheduleName | None = None,
    join: Join = "crossfade",
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
    model = model if model is not None else load_model()
    revision = RevisionConfig(model.revision.passes if passes is None else passes, schedule or model.revision.schedule)
    if not (np.isfinite(seconds) and 0 < seconds <= MAX_GENERATE_SECONDS):
        raise ValueError(f"seconds must be a positive number up to {MAX_GENERATE_SECONDS:g}, got {seconds}.")
    if join not in typing.get_args(Join):
        raise ValueError(f"join must be 'crossfade' or 'naive', got {join!r}.")
    rate = model.sample_rate
    generator = torch.Generator().manual_seed(0 if seed is None else seed)
    prompt = _mono_prompt(prompt, sample_rate)
    prompt_rate = rate if prompt is None else sample_rate
    prompt_model = np.zeros(0, np.float32) if prompt is None else resample(prompt, sample_rate, rate).astype(np.float32)
    if prompt is None:  # a seeded start: continue a moment of noise at a typical level, then drop it
        prompt_model = _default_noise(model.frame, int(NO_PROMPT_SECONDS * rate), NO_PROMPT_RMS, generator)[0].numpy()
    start, total = len(prompt_model), len(prompt_model) + int(round(seconds * rate))
    signal = torch.zeros(1, total, dtype=torch.float32)
    signal[0, :start] = torch.from_numpy(prompt_model)
    to_fill = frame_mask(sample_mask([(start, total)], total), model.frame.frame_length, model.frame.hop_length)
    first = int(to_fill.int().argmax())  # the continuation is one run of frames to the end
    with torch.inference_mode():
        features = analyse(signal, model.frame)
        level = float(np.sqrt(np.mean(prompt_model.astype(np.float64) ** 2))) if start else NO_PROMPT_RMS
        calibration = calibrate(model, features[:, :first], start, level, generator)
        noise = innovation(model.frame, calibration, total, generator)
        ceiling = loud_frame_energy(features[:, :first], level, model.frame)
        drafted = sample_draft(model.drafter, features, first, calibration.draft_gain, noise, model.frame, ceiling)
        revised = revise_windowed(model, drafted, to_fill.unsqueeze(0), revision, calibration.revision_gain)
        revised = keep_level(revised, drafted, to_fill.unsqueeze(0), LEVEL_FRAMES)
        joiner = synthesise if join == "crossfade" else naive_join
        wave = joiner(revised, total, model.frame)
    out = splice(signal.double(), wave.double(), start, total, model.frame.hop_length)[0].numpy()
    out = soft_limit(out)
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

    The drafter is teacher-forced over the prompt and fitted on its last REVISION_WINDOW frames;
    then the prompt's last CALIBRATION_FRAMES frames (half at most) are drafted from the frames
    before them and revised once, as the continuation will be, and the reviser's correction is
    fitted to the truth. Too short a prompt: gains of 1 and an innovation of RMS `level` (the
    prompt's) whose spectrum falls 6 dB per octave above NO_PROMPT_CORNER_HZ.
    """
    frame, skip = model.frame, model.frame.frame_length // model.frame.hop_length
    count = prompt.shape[1]
    span = min(CALIBRATION_FRAMES, (count - skip) // 2)
    if span < MIN_PROMPT_FRAMES:
        power = _default_power(frame)
        return Calibration(torch.ones_like(power), torch.ones_like(power), power, level)
    predictions, _ = model.drafter(prompt)
    recent = max(1 + skip, count + 1 - REVISION_WINDOW)  # the prompt's last frames (the first hold zero padding)
    truth = _spectrum(prompt[0, recent:], frame)
    guess = _spectrum(predictions[0, recent - 1 : -1], frame)
    draft_gain = _fit_gain(truth, guess)
    error = truth - draft_gain * guess
    frame_energy = torch.fft.irfft(error, n=frame.frame_length, norm="ortho").pow(2).sum(-1).mean()
    window_energy = analysis_window(frame.frame_length, frame.hop_length, torch.float64).pow(2).sum()
    error_rms = float((frame_energy / window_energy).sqrt())  # per sample, as a signal framed by that window
    calibration = Calibration(draft_gain, torch.ones_like(draft_gain), error.abs().pow(2).mean(0), error_rms)
    noise = innovation(frame, calibration, samples, generator)
    cut = count - span
    ceiling = loud_frame_energy(prompt, level, frame)
    drafted = sample_draft(model.drafter, prompt, cut, draft_gain, noise, frame, ceiling)[:, recent - 1 :]
    mask = torch.zeros(drafted.shape[:2], dtype=torch.bool)
    mask[:, cut - count :] = True
    revised = model.reviser(drafted, mask, drafted)[0, cut - count :]
    correction = _spectrum(revised - drafted[0, cut - count :], frame)
    revision_gain = _fit_gain(_spectrum(prompt[0, cut:] - drafted[0, cut - count :], frame), correction)
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


def loud_frame_energy(prompt: torch.Tensor, level: float, frame: FrameConfig) -> float:
    """The energy of the prompt's loud frames (LOUD_QUANTILE of them are quieter). [1, n, F] -> float

    Without enough prompt frames: the energy of a frame of a signal at RMS `level`.
    """
    energies = prompt[0].pow(2).sum(-1)
    if len(energies) >= MIN_PROMPT_FRAMES:
        return float(torch.quantile(energies.double(), LOUD_QUANTILE))
    window = analysis_window(frame.frame_length, frame.hop_length, torch.float64)
    return float(level**2 * window.pow(2).sum())


def sample_draft(
    drafter: torch.nn.Module, features: torch.Tensor, first: int, gain: torch.Tensor, noise: torch.Tensor,
    frame: FrameConfig, ceiling: float = float("inf"),
) -> torch.Tensor:
    """Draft frames `first`.. of `features` by sampling, each draw fed back. [1, T, F] -> [1, T, F]

    Frames before `first` are teacher-forced; frame t >= first is the calibrated prediction
    (`gain` [L/2+1] on its bins), its energy held at most `ceiling`, plus `noise[:, t]` (noise:
    [1, >= T, F]). The ceiling bounds the loop gain: fed its own output, a trained drafter can
    settle into a loud fixed cycle far above the prompt's level (MODEL_CARD.md), and no prediction
    louder than the prompt's loud frames is then fed back.
    """
    def propose(prediction: torch.Tensor, t: int) -> torch.Tensor:
        calibrated = _scaled(prediction, gain, frame)
        energy = calibrated.pow(2).sum()
        if energy > ceiling:
            calibrated = calibrated * (ceiling / energy).sqrt()
        return calibrated + noise[:, t]

    to_fill = torch.zeros(features.shape[:2], dtype=torch.bool)
    to_fill[:, first:] = True
    return draft(drafter, features, to_fill, propose)


def innovation(frame: FrameConfig, calibration: Calibration, total: int, generator: torch.Generator) -> torch.Tensor:
    """The drafter's sampled error: one independent draw per frame of a `total`-sample signal. [1, T, F]

    Each frame is Gaussian noise drawn bin by bin with the spectrum `error_power` and the
    per-sample level `error_rms`, left untapered: overlap-add weighs overlapping frames with
    power-complementary windows, so independent draws come out at an even level with no
    frame-rate modulation (and the drafter saw untapered noise on its inputs in training). The
    frames disagree where they overlap, as any frame-by-frame sampler's do; the crossfade hides
    that, the naive join exposes it as a step at every frame boundary.
    """
    count, length = num_frames(total, frame.frame_length, frame.hop_length), frame.frame_length
    power = calibration.error_power
    bins = torch.randn(count, len(power), 2, generator=generator, dtype=torch.float64) * 0.5**0.5
    bins[:, [0, -1], 0] *= 2**0.5  # DC and Nyquist are real: all their variance in the real part
    energy = power[0] + power[-1] + 2 * power[1:-1].sum()  # E ||frame||^2 for the amplitudes below
    amplitude = (power * length / energy.clamp_min(1e-30)).sqrt()  # unit variance per sample
    frames = torch.fft.irfft(amplitude * torch.view_as_complex(bins), n=length, norm="ortho")  # [T, L]
    return encode((GENERATION_NOISE * calibration.error_rms * frames).float(), frame.encoding).unsqueeze(0)


def _shaping(power: torch.Tensor) -> torch.Tensor:
    """A linear-phase FIR [L] of unit energy whose magnitude response follows `power` [L/2+1]."""
    length = 2 * (len(power) - 1)
    shaping = torch.fft.irfft(power.sqrt(), n=length).roll(length // 2) * torch.hann_window(length, dtype=torch.float64)
    return shaping / shaping.norm().clamp_min(1e-12)  # unit energy: white noise keeps its variance


def _default_power(frame: FrameConfig) -> torch.Tensor:
    """A spectrum for when no prompt says better: flat, then 6 dB per octave down above NO_PROMPT_CORNER_HZ. [L/2+1]"""
    hertz = torch.fft.rfftfreq(frame.frame_length, 1.0 / frame.sample_rate, dtype=torch.float64)
    return 1.0 / (1.0 + (hertz / NO_PROMPT_CORNER_HZ) ** 2)


def _default_noise(frame: FrameConfig, samples: int, rms: float, generator: torch.Generator) -> torch.Tensor:
    """The seeded start of a generation without a prompt: Gaussian noise of `_default_power`. [1, samples]"""
    white = torch.randn(1, 1, samples + frame.frame_length - 1, generator=generator, dtype=torch.float64)
    return (rms * torch.nn.functional.conv1d(white, _shaping(_default_power(frame)).view(1, 1, -1))[0]).float()


def _mono_prompt(prompt, sample_rate) -> np.ndarray | None:
    """The prompt ([samples] or [samples, channels], any dtype) as mono float64 [samples]."""
    if prompt is None:
        return None
    if sample_rate is None:
        raise ValueError("a prompt needs its sample_rate.")
    mono = to_float(np.asarray(prompt).reshape(len(prompt), -1)).mean(axis=1)
    if not np.isfinite(mono).all():
        raise ValueError("the prompt holds NaN or infinite samples.")
    if float(np.sqrt(np.mean(mono**2))) < SILENT_RMS:
        log.warning("the prompt is silent or nearly (below -60 dBFS): its continuation will be too")
    return mono


def _finish_generation(out, start, prompt, prompt_rate, rate, include_prompt, seconds) -> np.ndarray:
    """Back to the prompt's rate (round(seconds * rate) new samples) with the prompt's samples
    kept exactly; drop the prompt if asked."""
    continuation = out[start:]
    if prompt is not None and prompt_rate != rate:
        length = int(round(seconds * prompt_rate))
        continuation = soft_limit(fit_length(resample(continuation, rate, prompt_rate), length))
    if not include_prompt or prompt is None:
        return continuation.astype(np.float32)
    return np.concatenate([prompt, continuation]).astype(np.float32)


def keep_level(revised: torch.Tensor, reference: torch.Tensor, to_fill: torch.Tensor, smoothing: int) -> torch.Tensor:
    """Scale each `to_fill` frame of `revised` to the level of `reference`, both averaged over the
    `smoothing` (odd) frames centred on it that are also `to_fill`, so known frames next to a
    filled run never pull its gain towards 1. revised, reference: [B, T, F]; to_fill: bool [B, T].
    The level is the features' sum of squares, proportional to the frame's energy in both
    encodings, so the scaling keeps each frame's shape and only moves its level."""
    if smoothing < 1 or smoothing % 2 == 0:
        raise ValueError(f"smoothing must be a positive odd number of frames, got {smoothing}.")
    weight = to_fill.double()

    def level(features: torch.Tensor) -> torch.Tensor:  # [B, T]: filled frames' energy summed over the window
        energy = (features.double().pow(2).sum(-1) * weight).unsqueeze(1)  # [B, 1, T]
        return torch.nn.functional.avg_pool1d(energy, smoothing, stride=1, padding=smoothing // 2)[:, 0]

    gain = torch.sqrt(level(reference) / level(revised).clamp_min(1e-12))
    return torch.where(to_fill.unsqueeze(-1), revised * gain.unsqueeze(-1).to(revised.dtype), revised)


def revise_windowed(
    model: RevisionModel,
    features: torch.Tensor,
    to_fill: torch.Tensor,
    revision: RevisionConfig,
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
        chunk = revise_calibrated(model, out[:, start:end], work, revision, hint[:, start:end], gain)
        out[:, keep:end] = chunk[:, keep - start :]
        if end == count:
            return out
        start = end - REVISION_OVERLAP


def revise_calibrated(
    model: RevisionModel,
    features: torch.Tensor,
    to_fill: torch.Tensor,
    revision: RevisionConfig,
    hint: torch.Tensor,
    gain: torch.Tensor | None = None,
) -> torch.Tensor:
    """The revision loop with the reviser's correction of the hint scaled by `gain` [L/2+1] on each
    pass (None: unscaled). features, hint: [B, T, F]; to_fill: bool [B, T]."""
    def adjust(revised: torch.Tensor) -> torch.Tensor:
        return hint + _scaled(revised - hint, gain, model.frame)

    return revise(model.reviser, features, to_fill, revision.passes, revision.schedule, hint,
                  adjust=None if gain is None else adjust)
