"""Gap and seam metrics on signals with a known answer: identical, a planted click, noise, a tone."""

from __future__ import annotations

import numpy as np
import pytest

from revise.evaluate.metrics import (
    SNR_CAP_DB,
    boundary_discontinuity_ratio,
    click_db,
    gap_snr,
    level_stability,
    log_spectral_distance,
    multi_resolution_stft_distance,
    octave_energy_db,
    spectral_flatness,
    spectral_flatness_difference,
)

RATE = 16000


def tone(seconds: float, frequency: float = 440.0, amplitude: float = 1.0, phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return amplitude * np.sin(2 * np.pi * frequency * t + phase)


def noise(seconds: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(int(seconds * RATE))


# --- gap metrics -------------------------------------------------------------------------------


def test_identical_signals_score_perfectly():
    x = noise(1.0)
    assert gap_snr(x, x, 4000, 5600) == SNR_CAP_DB
    assert log_spectral_distance(x, x, 4000, 5600, RATE) == 0.0
    assert multi_resolution_stft_distance(x, x, 4000, 5600, RATE) == 0.0


def test_gap_snr_known_values():
    x = tone(0.5)
    zero = x.copy()
    zero[1000:2000] = 0.0
    assert gap_snr(x, zero, 1000, 2000) == pytest.approx(0.0, abs=1e-9)
    half = x.copy()
    half[1000:2000] *= 0.5  # error is half the signal: 10 log10(4) dB
    assert gap_snr(x, half, 1000, 2000) == pytest.approx(10 * np.log10(4.0))
    # Only the gap counts: errors outside it change nothing.
    wrong_outside = half.copy()
    wrong_outside[:1000] = 7.0
    assert gap_snr(x, wrong_outside, 1000, 2000) == gap_snr(x, half, 1000, 2000)


def test_gap_snr_silent_reference_is_finite():
    silent = np.zeros(1000)
    assert gap_snr(silent, silent, 100, 200) == SNR_CAP_DB
    assert gap_snr(silent, np.ones(1000), 100, 200) == -SNR_CAP_DB


def test_spectral_distances_order_fills_sensibly():
    x = noise(1.0)
    zero, fresh = x.copy(), x.copy()
    zero[6000:7600] = 0.0
    fresh[6000:7600] = np.random.default_rng(9).standard_normal(1600)  # right texture, wrong waveform
    lsd_fresh = log_spectral_distance(x, fresh, 6000, 7600, RATE)
    assert lsd_fresh < log_spectral_distance(x, zero, 6000, 7600, RATE)
    assert 0.5 < multi_resolution_stft_distance(x, fresh, 6000, 7600, RATE) < 3.0
    assert multi_resolution_stft_distance(x, zero, 6000, 7600, RATE) > 5.0


def test_spectral_distances_ignore_audio_far_from_the_gap():
    x = noise(1.0)
    y = x.copy()
    y[:2000] = 0.0  # more than the longest window (1024 samples) before the gap
    assert log_spectral_distance(x, y, 8000, 8400, RATE) == 0.0
    assert multi_resolution_stft_distance(x, y, 8000, 8400, RATE) == 0.0


def test_gap_metrics_reject_bad_input():
    x = np.zeros(1000)
    with pytest.raises(ValueError, match="gap"):
        gap_snr(x, x, 500, 400)
    with pytest.raises(ValueError, match="length"):
        log_spectral_distance(x, np.zeros(999), 10, 20, RATE)
    with pytest.raises(ValueError, match="1-D"):
        multi_resolution_stft_distance(np.zeros((2, 10)), np.zeros((2, 10)), 1, 2)


# --- seam metrics ------------------------------------------------------------------------------


def test_click_db_planted_click_is_loud():
    reference = tone(0.5)
    clicked = reference.copy()
    clicked[4000:] += 0.1  # a small step: audible as a click on a pure tone
    assert click_db(clicked, [4000], reference) > 6.0
    assert click_db(clicked, [4000]) > 6.0  # against the signal away from the seam
    assert click_db(reference, [4000], reference) == 0.0
    assert abs(click_db(reference, [4000])) < 1.0


def test_click_db_takes_the_loudest_seam():
    reference = tone(0.5)
    clicked = reference.copy()
    clicked[6000] += 0.5
    one = click_db(clicked, [6000], reference)
    assert click_db(clicked, [2000, 6000], reference) == pytest.approx(one)


def test_click_db_rejects_bad_positions():
    with pytest.raises(ValueError, match="position"):
        click_db(np.zeros(100), [])
    with pytest.raises(ValueError, match="positions"):
        click_db(np.zeros(100), [101])


def test_discontinuity_ratio_is_one_for_white_noise():
    ratio = boundary_discontinuity_ratio(noise(4.0, seed=1), hop=128)
    assert 0.85 < ratio < 1.15


def test_discontinuity_ratio_is_one_for_a_tone():
    assert boundary_discontinuity_ratio(tone(1.0), hop=128) == pytest.approx(1.0, abs=0.05)


def test_discontinuity_ratio_is_large_for_butted_frames():
    rng = np.random.default_rng(2)
    frames = [tone(128 / RATE, phase=rng.uniform(0, 2 * np.pi)) for _ in range(125)]
    assert boundary_discontinuity_ratio(np.concatenate(frames), hop=128) > 100.0
    # A grid that misses the true boundaries finds the jumps off the grid instead.
    assert boundary_discontinuity_ratio(np.concatenate(frames), hop=128, offset=64) < 0.1


def test_discontinuity_ratio_of_silence_is_one():
    assert boundary_discontinuity_ratio(np.zeros(1000), hop=100) == 1.0


# --- generated audio ---------------------------------------------------------------------------


def test_level_stability_of_a_steady_tone():
    x = tone(4.0, amplitude=0.5)
    result = level_stability(x, RATE, reference_rms=0.5 / np.sqrt(2))
    assert len(result["rms_per_second"]) == 4
    assert result["max_ratio"] == pytest.approx(1.0, abs=1e-6)


def test_level_stability_counts_a_drop_like_a_rise():
    x = tone(3.0)
    x[RATE : 2 * RATE] *= 0.1
    assert level_stability(x, RATE)["max_ratio"] == pytest.approx(10.0, rel=1e-6)
    y = tone(3.0)
    y[RATE : 2 * RATE] *= 10.0
    assert level_stability(y, RATE)["max_ratio"] == pytest.approx(10.0, rel=1e-6)


def test_level_stability_rejects_short_audio():
    with pytest.raises(ValueError, match="second"):
        level_stability(np.zeros(100), RATE)


def test_spectral_flatness_of_noise_and_tone():
    assert spectral_flatness(noise(1.0)) > 0.9
    assert spectral_flatness(tone(1.0)) < 1e-3
    assert spectral_flatness_difference(noise(1.0), tone(1.0)) > 0.9


def test_octave_energy_is_zero_for_the_reference_and_tracks_a_gain():
    rng = np.random.default_rng(0)
    reference = rng.standard_normal(44100)
    same = octave_energy_db(reference, reference, 1000, 1882, 44100)
    assert list(same) == ["250", "500", "1000", "2000", "4000", "8000"]  # 16-32 kHz does not fit below 22.05
    assert all(value == 0.0 for value in same.values())
    half = octave_energy_db(reference, 0.5 * reference, 1000, 1882, 44100)
    np.testing.assert_allclose(list(half.values()), 20 * np.log10(0.5), atol=1e-9)
