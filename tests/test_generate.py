"""Generation from the prompt's own material: the prompt kept exactly, channels and rate kept, the
continuation made of the prompt's pieces at its level, seeded, seams revised, clear refusals."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import soundfile as sf

from revise import generation
from revise.cli.main import main
from revise.config import ContinuationConfig
from revise.evaluate.metrics import level_stability
from revise.hints.continuation import continue_by_similarity

RATE = 16000


def riff(seconds: float, rate: int = RATE, seed: int = 0) -> np.ndarray:
    """Stereo float64 [n, 2]: a 4-note riff (0.25 s notes, decaying) repeating every second, plus a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    note = (t // 0.25).astype(int) % 4
    frequency = np.array([220.0, 277.2, 329.6, 440.0])[note]
    envelope = np.exp(-8 * (t % 0.25))
    mono = 0.4 * envelope * np.sin(2 * np.pi * frequency * (t % 0.25))
    return np.stack([mono, 0.7 * mono], axis=1) + 0.003 * rng.standard_normal((len(t), 2))


def test_prompt_kept_exactly_with_its_channels_and_length(tiny_model):
    x = riff(4.0).astype(np.float32)
    out = generation.generate(3.0, x, RATE, passes=1, model=tiny_model, seed=0)
    assert out.shape == (len(x) + 3 * RATE, 2) and out.dtype == np.float32
    np.testing.assert_array_equal(out[: len(x)], x)
    alone = generation.generate(3.0, x, RATE, passes=1, model=tiny_model, seed=0, include_prompt=False)
    np.testing.assert_array_equal(alone, out[len(x) :])
    mono = generation.generate(1.0, x[:, 0], RATE, passes=0, seed=0)
    assert mono.shape == (len(x) + RATE,)


def test_long_continuations_keep_drawing_new_pieces():
    """Pieces of drawn lengths make each jump's template new, so a long continuation does not cycle."""
    x = riff(8.0, seed=4)
    result = continue_by_similarity(x, RATE, 60 * RATE, np.random.default_rng(0), ContinuationConfig())
    lengths = np.diff([*result.joins, 60 * RATE])
    assert len(result.joins) > 20 and len(set(lengths.tolist())) > len(lengths) // 2


def test_the_draft_is_the_prompts_own_material_in_pieces():
    x = riff(5.0)
    config = ContinuationConfig()
    result = continue_by_similarity(x, RATE, 6 * RATE, np.random.default_rng(1), config)
    fade = round(config.crossfade * RATE)
    assert result.joins[0] == fade // 2 and len(result.audio) == 6 * RATE
    bounds = [j - fade // 2 for j in result.joins] + [6 * RATE]
    for start, end in zip(bounds, bounds[1:]):  # each piece past its fade-in is a verbatim stretch of the prompt
        piece = result.audio[start + fade : end]
        hits = [d for d in range(len(x) - len(piece) + 1) if np.array_equal(x[d : d + len(piece)], piece)]
        assert hits, (start, end)


def test_continuation_holds_the_prompts_level_and_beat():
    x = riff(6.0)
    out = generation.generate(8.0, x, RATE, passes=0, seed=0, include_prompt=False)
    level = level_stability(out.mean(axis=1), RATE, float(np.sqrt(np.mean(x.mean(axis=1) ** 2))))
    assert level["max_ratio"] < 1.2, level
    # the riff repeats every second: the continuation keeps its phase, so it correlates with the prompt's last bar
    period = RATE
    lag = np.corrcoef(out[:period, 0], x[-period:, 0])[0, 1]
    assert lag > 0.9, lag


def test_same_seed_same_output_other_seeds_vary():
    x = riff(6.0, seed=2)
    runs = [generation.generate(6.0, x, RATE, passes=0, seed=s, include_prompt=False) for s in (0, 0, 1, 2, 3)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert any(not np.array_equal(runs[0], other) for other in runs[2:])


def test_seams_are_revised_and_the_rest_left_as_drafted(tiny_model):
    x = riff(4.0)
    draft, joins = generation.continue_prompt(x, RATE, 4.0, passes=0, seed=0)
    calls = []
    revised, same_joins = generation.continue_prompt(x, RATE, 4.0, passes=1, model=tiny_model, seed=0,
                                                     progress=lambda done, total: calls.append((done, total)))
    assert joins == same_joins and len(joins) >= 2
    assert calls == [(k, len(calls)) for k in range(1, len(calls) + 1)] and len(calls) >= 2  # one per seam
    np.testing.assert_array_equal(revised[: len(x)], x)
    changed = np.flatnonzero(np.any(revised != draft, axis=1)) - len(x)
    assert len(changed) > 0
    gap, margin = round(generation.SEAM_GAP_SECONDS * RATE), tiny_model.frame.hop_length * 2
    assert all(min(abs(c - j) for j in joins) <= gap + margin for c in changed)


def test_naive_join_butts_the_pieces():
    x = riff(4.0)
    crossfaded = generation.generate(3.0, x, RATE, passes=0, seed=0, include_prompt=False)
    naive = generation.generate(3.0, x, RATE, passes=0, seed=0, join="naive", include_prompt=False)
    assert not np.array_equal(crossfaded, naive) and naive.shape == crossfaded.shape


def test_no_prompt_continues_the_bundled_example_and_says_so(caplog):
    with caplog.at_level(logging.WARNING, logger="revise"):
        out = generation.generate(1.0, passes=0, seed=0)
    example, rate = sf.read(generation.EXAMPLE, dtype="float32", always_2d=True)
    assert out.shape == (len(example) + rate, 2)
    np.testing.assert_array_equal(out[: len(example)], example)
    assert any("bundled example" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("prompt, message", [
    (np.zeros((3 * RATE, 2)), "silent"),
    (riff(1.0), "needs at least 2.500 s"),
    (np.full((3 * RATE, 1), np.nan), "NaN"),
    (np.concatenate([riff(3.0), np.zeros((2 * RATE, 2))]), "last 1.5 s are silent"),
])
def test_unusable_prompts_are_refused_in_one_sentence(prompt, message):
    with pytest.raises(ValueError, match=message):
        generation.generate(1.0, prompt, RATE, passes=0)


def test_cli_continues_a_prompt_and_refuses_a_short_one(tmp_path, capsys):
    sf.write(tmp_path / "prompt.wav", riff(3.0), RATE, subtype="PCM_16")
    sf.write(tmp_path / "short.wav", riff(1.0), RATE, subtype="PCM_16")
    out = tmp_path / "more.flac"
    assert main(["generate", "-o", str(out), "--seconds", "2", "--prompt", str(tmp_path / "prompt.wav"),
                 "--passes", "0"]) in (0, None)
    written, rate = sf.read(out, always_2d=True)
    assert rate == RATE and written.shape == (5 * RATE, 2)
    assert main(["generate", "-o", str(tmp_path / "x.wav"), "--seconds", "2", "--prompt",
                 str(tmp_path / "short.wav")]) == 2
    assert "needs at least 2.500 s" in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()
