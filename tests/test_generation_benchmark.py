"""The generation benchmark: every method and metric on each usable clip, a clip whose prompt cannot be
continued skipped, the true continuation scoring as the ceiling, and the report files written."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from revise.cli.main import main
from revise.evaluate.generation import METHODS, continue_every_way, loop_last_bar, run_generation_benchmark
from revise.evaluate.generation_report import write_generation_report
from revise.evaluate.music import tempo

RATE = 16000


def beat(seconds: float, bpm: float = 120.0, seed: int = 0) -> np.ndarray:
    """Mono float64: a decaying noise burst on every beat over a held chord."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * RATE)) / RATE
    chord = sum(0.1 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    clicks = np.exp(-30 * (t % (60 / bpm))) * rng.standard_normal(len(t))
    return 0.5 * chord + 0.3 * clicks


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generation_clips")
    sf.write(folder / "a.wav", beat(5.0), RATE, subtype="PCM_16")
    sf.write(folder / "b.wav", np.stack([beat(5.0, 100, 1), beat(5.0, 100, 2)], axis=1), RATE, subtype="PCM_16")
    silent_start = beat(5.0)
    silent_start[:3 * RATE] = 0.0
    sf.write(folder / "c_silent_prompt.wav", silent_start, RATE, subtype="PCM_16")
    sf.write(folder / "d_short.wav", beat(2.0), RATE, subtype="PCM_16")
    return folder


def test_every_method_is_measured_and_unusable_clips_are_skipped(clips, tiny_model, tmp_path):
    results = run_generation_benchmark(clips, tiny_model, prompt_seconds=3.0, seconds=2.0)
    assert [clip["clip"] for clip in results.clips] == ["a.wav", "b.wav"]
    for clip in results.clips:
        assert list(clip["methods"]) == list(METHODS)
        truth = clip["methods"]["true continuation"]
        assert truth["chroma_distance"] == pytest.approx(0.0, abs=1e-9) and truth["mfcc_distance"] == 0.0
        assert truth["flatness_ratio"] == pytest.approx(1.0) and truth["third_octave_db"] == 0.0
        revised = clip["methods"]["revise"]
        assert revised["clipped"] == 0 and revised["level_max_ratio"] < 1.5
        assert revised["seam_click_db"] < clip["methods"]["naive join"]["seam_click_db"]  # the crossfade pays
    written = write_generation_report(results, tmp_path / "report")
    names = sorted(p.relative_to(tmp_path / "report").as_posix() for p in written)
    assert names == ["report.md", "results.json", "spectrograms/00_a.png", "spectrograms/01_b.png"]
    summary = json.loads((tmp_path / "report" / "results.json").read_text())["summary"]
    assert set(summary) == set(METHODS)


def test_the_prompts_end_reference_is_the_prompts_own_last_seconds(tiny_model):
    x = beat(5.0)[:, None]
    prompt, truth = x[: 3 * RATE], x[3 * RATE :]
    continuations = continue_every_way(prompt, truth, RATE, 2.0, tiny_model, 0, 120.0, 1.0)
    end, seams = continuations["prompt's end"]
    np.testing.assert_array_equal(end, prompt[-2 * RATE :])
    assert seams == ()
    np.testing.assert_array_equal(continuations["true continuation"][0], truth)


def test_the_loop_repeats_the_last_bar_on_the_beat():
    x = beat(6.0)[:, None]
    bpm, clarity = tempo(x[:, 0], RATE)
    assert abs(bpm - 120.0) < 1.0 and clarity > 0.4
    loop, seams = loop_last_bar(x, RATE, 4 * RATE, bpm)
    bar = round(240.0 / bpm * RATE)
    fade = round(0.02 * RATE)
    np.testing.assert_allclose(loop[fade : bar - fade], x[-bar + fade : -fade])  # a bar of the prompt, verbatim
    assert seams[0] == bar - fade // 2


def test_cli_refuses_a_prompt_too_short_to_continue_before_any_work(clips, tmp_path, capsys):
    assert main(["evaluate", "--generation", str(clips), "--prompt-seconds", "1", "--out",
                 str(tmp_path / "other")]) == 2
    assert "--prompt-seconds must be at least 2.5" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()
