"""`revise evaluate`: the benchmark's figures, its reproducibility and report, the stream seams, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from revise.checkpoint import export_model
from revise.cli.main import main
from revise.config import ARConfig, FrameConfig, MatchConfig, ModelConfig, RevisionConfig
from revise.dsp.framing import naive_join
from revise.evaluate.benchmark import METRICS, evaluate_fill, gap_label, place_gaps, run_benchmark
from revise.evaluate.methods import BASELINES, Method, benchmark_methods, fill
from revise.evaluate.metrics import SNR_CAP_DB
from revise.evaluate.report import markdown_report, write_report
from revise.evaluate.seams import evaluate_stream, grid_offset
from revise.inpainting import CONTEXT_SECONDS, crossfade_margin
from revise.nn.model import RevisionModel

RATE = 16000
GAP_MS = (20.0, 50.0, 100.0, 200.0)
PASSES = (0, 1, 2)
FAST = [m for m in BASELINES if m.kind != "janssen"]  # Janssen takes about a second a gap: one test runs it


def music(seconds: float, rate: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Harmonics with vibrato and a little noise, [samples, channels] float64 in (-1, 1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * rate))) / rate
    f0 = 110.0 * 2 ** (rng.integers(0, 24) / 12)
    tone = sum(0.2 / k * np.sin(2 * np.pi * f0 * k * t + 0.3 * np.sin(2 * np.pi * 5 * t)) for k in (1, 2, 3, 4))
    return np.stack([tone * (0.7 + 0.3 * c) + 0.01 * rng.standard_normal(len(t)) for c in range(channels)], axis=1)


@pytest.fixture(scope="module")
def model() -> RevisionModel:
    torch.manual_seed(0)
    config = ModelConfig(hidden_size=32, drafter_layers=1, reviser_layers=1)
    match = MatchConfig(search=4000, context=400)  # the clips are short
    revision = RevisionConfig(passes=2, schedule="shrink")
    return RevisionModel(FrameConfig(), config, revision, ARConfig(order=32, context=256), match).eval()


@pytest.fixture(scope="module")
def model_dir(model, tmp_path_factory) -> Path:
    return export_model(model, tmp_path_factory.mktemp("model") / "tiny")


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """Three short clips at three rates and formats, plus a silent one the benchmark must skip."""
    folder = tmp_path_factory.mktemp("clips")
    sf.write(str(folder / "a.wav"), music(2.0, 44100, 2, seed=1), 44100, subtype="PCM_16")
    sf.write(str(folder / "b.flac"), music(2.0, 22050, 1, seed=2), 22050)
    sf.write(str(folder / "c.wav"), music(1.7, RATE, 1, seed=3), RATE, subtype="FLOAT")
    sf.write(str(folder / "silent.wav"), np.zeros(2 * RATE), RATE, subtype="PCM_16")
    return folder


@pytest.fixture(scope="module")
def results(clips, model):
    return run_benchmark(clips, model, GAP_MS, PASSES, gaps_per_clip=2, seed=0, progress=False, baselines=FAST)


def test_every_method_and_gap_length_has_finite_figures(results):
    names = [method.name for method in results.methods]
    assert names == ["zero", "ar", "match", "ar+match", "ar-causal", "match-causal", "passes=0", "revise passes=1",
                     "revise passes=2", "draft only", "reviser only passes=2"]
    assert [m.name for m in BASELINES] == ["zero", "ar", "janssen", "match", "ar+match", "ar-causal",
                                          "match-causal"]  # the default set
    assert results.settings["clips"] == ["a.wav", "b.flac", "c.wav"]  # the silent clip is skipped
    count = results.settings["gaps_per_length"]
    assert count == 6 and len(results.gaps) == count * len(GAP_MS)
    for method in names:
        for label in map(gap_label, GAP_MS):
            for metric in METRICS:
                stats = results.aggregates[method][label][metric]
                assert stats["count"] == count
                assert all(np.isfinite(stats[key]) for key in ("median", "mean", "q25", "q75"))
                assert stats["q25"] <= stats["median"] <= stats["q75"]
    assert all(set(gap["metrics"]) == set(names) for gap in results.gaps)


def test_zero_fill_scores_zero_db_and_ar_beats_it(results):
    for gap in results.gaps:
        assert gap["metrics"]["zero"]["gap_snr"] == pytest.approx(0.0, abs=1e-9)
    for label in map(gap_label, GAP_MS):
        assert results.aggregates["ar"][label]["gap_snr"]["median"] > 1.0
        assert results.aggregates["ar"][label]["snr_gain_vs_ar"]["median"] == 0.0


def test_gaps_share_centres_and_their_windows_never_overlap(results):
    context = CONTEXT_SECONDS
    longest = [g for g in results.gaps if g["gap_ms"] == max(GAP_MS)]
    for clip in results.settings["clips"]:
        spans = sorted((g["start_s"] - context, g["end_s"] + context) for g in longest if g["clip"] == clip)
        assert spans and all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    centres = {ms: sorted((g["clip"], round((g["start_s"] + g["end_s"]) / 2, 2))
                          for g in results.gaps if g["gap_ms"] == ms) for ms in GAP_MS}
    assert all(c == centres[GAP_MS[0]] for c in centres.values())


def test_place_gaps_skips_silence():
    signal = np.concatenate([np.zeros(3 * RATE), music(3.0, RATE)[:, 0]])
    centres = place_gaps(signal, 320, 3200, 4800, 10, np.random.default_rng(0))
    assert centres and all(c - 160 >= 3 * RATE for c in centres)  # every gap lies in the music
    assert place_gaps(np.zeros(6 * RATE), 320, 3200, 4800, 10, np.random.default_rng(0)) == []


def test_benchmark_is_reproducible_for_a_seed(results, clips, model):
    again = run_benchmark(clips, model, GAP_MS, PASSES, gaps_per_clip=2, seed=0, progress=False, baselines=FAST)
    assert json.dumps(again.to_json()) == json.dumps(results.to_json())
    other = run_benchmark(clips, model, (20.0,), (0,), gaps_per_clip=2, seed=1, progress=False, baselines=FAST)
    assert [g["start_s"] for g in other.gaps] != [g["start_s"] for g in results.gaps if g["gap_ms"] == 20.0]


def test_report_files(results, tmp_path):
    written = write_report(results, tmp_path / "report")
    names = {path.name for path in written}
    assert names == {"report.md", "results.json", "metrics_vs_gap.png", "snr_vs_passes.png", "worst_seam.png"}
    for name in names - {"report.md", "results.json"}:
        assert (tmp_path / "report" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((tmp_path / "report" / "results.json").read_text())
    assert set(data) >= {"settings", "aggregates", "gaps", "methods", "worst_seam"}
    assert data["worst_seam"]["method"] == "revise passes=2"
    text = (tmp_path / "report" / "report.md").read_text()
    assert "| method | 20 ms | 50 ms | 100 ms | 200 ms |" in text and "| AR baseline |" in text
    assert "- **100 ms**: best is" in text


def test_fill_methods_keep_audio_outside_the_gap(model):
    window = music(0.8, RATE, 2)
    gap = (6000, 6800)
    margin = crossfade_margin(model, RATE)
    for method in benchmark_methods([0, 3]):
        for x in (window[:, 0], window):
            out = fill(method, x, [gap], RATE, model)
            assert out.shape == x.shape and np.isfinite(out).all(), method.name
            np.testing.assert_array_equal(out[: gap[0] - margin], x[: gap[0] - margin])
            np.testing.assert_array_equal(out[gap[1] + margin :], x[gap[1] + margin :])


def test_evaluate_fill_known_answers():
    reference = music(1.0, RATE)
    silent = reference.copy()
    silent[4000:4800] = 0.0
    perfect = evaluate_fill(reference, reference, RATE, [(4000, 4800)])[0]
    zero = evaluate_fill(reference, silent, RATE, [(4000, 4800)])[0]
    assert perfect["gap_snr"] == SNR_CAP_DB and perfect["lsd"] == 0.0 and perfect["click_db"] == 0.0
    assert zero["gap_snr"] == pytest.approx(0.0, abs=1e-9) and zero["click_db"] > 3.0
    with pytest.raises(ValueError, match="differ in shape"):
        evaluate_fill(reference, reference[:-1], RATE, [(4000, 4800)])


def test_stream_seams_on_the_naive_grid():
    """Random-phase tone frames butted by naive_join click at grid_offset; a smooth tone does not."""
    config = FrameConfig()
    rng = np.random.default_rng(0)
    t = np.arange(config.frame_length) / RATE
    frames = np.stack([np.sin(2 * np.pi * 440 * t + rng.uniform(0, 2 * np.pi)) for _ in range(160)])
    window = torch.hann_window(config.frame_length, periodic=True).sqrt().numpy()
    features = torch.from_numpy(frames * window * 0.5)[None].float()  # [1, T, L]: raw encoding
    butted = naive_join(features, 150 * config.hop_length, config)[0].numpy()
    seams = evaluate_stream(butted, RATE)
    assert seams["grid_offset"] == grid_offset(config.frame_length, config.hop_length)
    assert seams["boundary_discontinuity_ratio"] > 10 and seams["boundary_click_db"] > 10
    assert seams["worst_offset_click_db"] > 10 and abs(seams["worst_offset"] - seams["grid_offset"]) <= 16
    smooth = evaluate_stream(0.5 * np.sin(2 * np.pi * 440 * np.arange(3 * RATE) / RATE), RATE, prompt_seconds=1.0)
    assert smooth["boundary_discontinuity_ratio"] == pytest.approx(1.0, abs=0.1)
    assert abs(smooth["boundary_click_db"]) < 1.0 and smooth["worst_offset_click_db"] < 1.0
    assert smooth["level_max_ratio"] == pytest.approx(1.0, abs=0.01)
    assert smooth["prompt_boundary_discontinuity_ratio"] == pytest.approx(1.0, abs=0.1)


# --- the command line ----------------------------------------------------------------------------


def run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit:  # argparse refuses malformed values itself
        return exit.code


def test_cli_fill_and_stream_modes(tmp_path, capsys):
    reference = music(1.0, 22050, 2)
    estimate = reference.copy()
    estimate[11025:12128] *= 0.5
    sf.write(str(tmp_path / "ref.wav"), reference, 22050, subtype="PCM_16")
    sf.write(str(tmp_path / "est.wav"), estimate, 22050, subtype="PCM_16")
    assert run(["evaluate", "--reference", str(tmp_path / "ref.wav"), "--estimate", str(tmp_path / "est.wav"),
                "--gap", "0.5:0.55", "--gap", "0.1:0.12"]) == 0
    out = capsys.readouterr().out
    assert "SNR dB" in out and "0.5-0.55" in out and "6.0" in out  # halving the gap: 6.02 dB
    assert run(["evaluate", str(tmp_path / "ref.wav"), "--prompt-seconds", "0.2"]) == 0
    assert "boundary discontinuity ratio" in capsys.readouterr().out


def test_cli_stream_mode_takes_the_frame_grid_from_the_model(model, tmp_path, capsys):
    frame = FrameConfig(sample_rate=8000, frame_length=512, hop_length=256)
    other = RevisionModel(frame, ModelConfig(hidden_size=8, drafter_layers=1, reviser_layers=1))
    export_model(other, tmp_path / "model")
    sf.write(str(tmp_path / "a.wav"), music(1.0, RATE), RATE, subtype="PCM_16")
    assert run(["evaluate", str(tmp_path / "a.wav"), "--model", str(tmp_path / "model")]) == 0
    assert "L=512, H=256 at 8000 Hz" in capsys.readouterr().out
    assert run(["evaluate", str(tmp_path / "a.wav"), "--model", str(tmp_path / "model"), "--hop", "128"]) == 0
    assert "L=512, H=128" in capsys.readouterr().out


def test_cli_benchmark_mode(clips, model_dir, tmp_path, capsys):
    out_dir = tmp_path / "report"
    out_dir.mkdir()
    (out_dir / "keep.txt").write_text("mine")
    assert run(["evaluate", "--benchmark", str(clips), "--model", str(model_dir), "--out", str(out_dir), "--force",
                "--gap-ms", "20,100", "--passes", "0,1", "--gaps-per-clip", "1", "--clips", "2"]) == 0
    printed = capsys.readouterr().out
    assert "| method | 20 ms | 100 ms |" in printed and "| revise passes=2 |" in printed and "| janssen |" in printed
    assert {p.name for p in out_dir.iterdir()} >= {"keep.txt", "report.md", "results.json", "worst_seam.png"}
    assert json.loads((out_dir / "results.json").read_text())["settings"]["clips"] == ["a.wav", "b.flac"]


@pytest.fixture
def bad_inputs(tmp_path, clips, model_dir):
    sf.write(str(tmp_path / "ref.wav"), music(1.0, RATE), RATE)
    sf.write(str(tmp_path / "short.wav"), music(0.9, RATE), RATE)
    sf.write(str(tmp_path / "other_rate.wav"), music(1.0, 22050), 22050)
    (tmp_path / "empty").mkdir()
    (tmp_path / "taken").mkdir()
    return tmp_path


@pytest.mark.parametrize("argv, message", [
    (["--reference", "{t}/missing.wav", "--estimate", "{t}/ref.wav", "--gap", "0.1:0.2"], "does not exist"),
    (["--reference", "{t}/ref.wav", "--estimate", "{t}/short.wav", "--gap", "0.1:0.2"], "differ in length"),
    (["--reference", "{t}/ref.wav", "--estimate", "{t}/other_rate.wav", "--gap", "0.1:0.2"], "same rate"),
    (["--reference", "{t}/ref.wav", "--estimate", "{t}/ref.wav", "--gap", "0.9:1.5"], "beyond the end"),
    (["--reference", "{t}/ref.wav", "--estimate", "{t}/ref.wav"], "at least one --gap"),
    (["--reference", "{t}/ref.wav", "--estimate", "{t}/ref.wav", "--gap", "0.2:0.1"], "malformed"),
    ([], "give exactly one"),
    (["{t}/ref.wav", "--benchmark", "{clips}"], "give exactly one"),
    (["--benchmark", "{t}/empty", "--out", "{t}/out"], "holds no audio"),
    (["--benchmark", "{t}/nowhere", "--out", "{t}/out"], "does not exist"),
    (["--benchmark", "{clips}", "--out", "{t}/taken", "--model", "{model}"], "already exists"),
    (["--benchmark", "{clips}", "--out", "{t}/out", "--gap-ms", "20,x"], "malformed"),
    (["--benchmark", "{clips}", "--out", "{t}/out", "--passes", "1,-2"], ">= 0"),
    (["--benchmark", "{clips}", "--out", "{t}/out", "--seed", "-3"], "a whole number from 0"),
    (["--benchmark", "{clips}", "--out", "{t}/out", "--gap-ms", "2000", "--model", "{model}"], "gap lengths"),
    (["--benchmark", "{clips}", "--out", "{t}/out", "--model", "{t}/no_model"], "does not exist"),
])
def test_cli_bad_input_exits_2_and_writes_nothing(bad_inputs, clips, model_dir, argv, message, capsys):
    before = sorted(bad_inputs.rglob("*"))
    argv = [a.format(t=bad_inputs, clips=clips, model=model_dir) for a in argv]
    assert run(["evaluate", *argv]) == 2
    assert message in capsys.readouterr().err
    assert sorted(bad_inputs.rglob("*")) == before


def test_report_names_every_method_and_the_default(results):
    text = markdown_report(results)
    assert "The model's default is 2 passes" in text
    for method in results.methods:
        assert f"| {method.name} |" in text
    for name in ("`zero`", "`ar`", "`match`", "`ar+match`", "`passes=0`", "`revise passes=K`"):
        assert name in text.split("\n\n")[1], name  # the Methods paragraph explains each


def test_benchmark_at_another_rate_scores_its_band(clips, model):
    """At 22.05 kHz the octaves reach 4-8 kHz and the classical baselines' settings scale with the rate."""
    at_22k = run_benchmark(clips, model, (20.0,), (1,), gaps_per_clip=1, seed=0, progress=False,
                           baselines=[Method("ar")], rate=22050, max_clips=1)
    assert at_22k.settings["sample_rate"] == 22050 and at_22k.settings["model_rate"] == model.sample_rate
    assert at_22k.settings["ar_baseline"]["order"] == round(ARConfig().order * 22050 / 16000)
    octaves = at_22k.aggregates["revise passes=1"]["20"]["octave_db"]
    assert list(octaves) == ["250", "500", "1000", "2000", "4000"]
    assert set(at_22k.seconds_per_gap) == {m.name for m in at_22k.methods}

