"""Finding dropouts: planted ones are found with their exact boundaries, natural silence never is,
and `revise inpaint --detect` fills them leaving every other sample bit-identical."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import soundfile as sf
import torch

from revise.audio import read_audio
from revise.checkpoint import export_model, load_model
from revise.cli.main import main
from revise.config import MAX_GAP_SECONDS, ARConfig, DetectConfig, FrameConfig, ModelConfig
from revise.detect import Dropout, find_dropouts, scan_dropouts
from revise.inpainting import SampleGap, crossfade_margin, gaps_to_samples
from revise.nn.model import RevisionModel

RATE = 44100


def music(seconds: float, rate: int = RATE, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Harmonics with vibrato and a little noise, about -20 dBFS. float64 [samples, channels]"""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * rate)) / rate
    tone = sum(0.2 / k * np.sin(2 * np.pi * 220 * k * t + 0.3 * np.sin(2 * np.pi * 5 * t)) for k in (1, 2, 3))
    return np.stack([tone * (0.8 + 0.2 * c) + 0.01 * rng.standard_normal(len(t)) for c in range(channels)], axis=1)


def ms(value: float, rate: int = RATE) -> int:
    return round(value * rate / 1000)


def plant(audio: np.ndarray, dropouts: list[Dropout]) -> np.ndarray:
    """A copy of audio [n, C] with each dropout written in: zeros, a held 0.25 of full scale, or NaN."""
    out = audio.copy()
    values = {"zeros": 0.0, "stuck": 0.25, "nonfinite": np.nan}
    for d in dropouts:
        out[d.start : d.end] = values[d.kind] if out.dtype.kind == "f" else round(values[d.kind] * 32767)
    return out


SHORTEST = math.ceil(DetectConfig().min_seconds * RATE)  # 5 ms: 220.5 samples, so 221
PLANTED = [Dropout(ms(300), ms(300) + SHORTEST, "zeros"), Dropout(ms(500), ms(700), "zeros"), Dropout(ms(900), ms(912), "stuck"),
           Dropout(ms(1200), ms(1200) + 1, "nonfinite"), Dropout(ms(1400), ms(1450), "nonfinite")]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
def test_planted_dropouts_are_found_with_exact_boundaries(dtype):
    audio = music(1.6)
    if dtype == np.int16:
        audio = np.round(audio * 32767).astype(np.int16)
    planted = [d for d in PLANTED if dtype != np.int16 or d.kind != "nonfinite"]
    assert find_dropouts(plant(audio.astype(dtype), planted), RATE) == planted


def test_runs_count_across_channels():
    """Silence in one channel is not a dropout; NaN in one channel is; mono works."""
    audio = music(1.0)
    audio[ms(200) : ms(300), 0] = 0.0
    audio[ms(500) : ms(510), 1] = np.inf
    assert find_dropouts(audio, RATE) == [Dropout(ms(500), ms(510), "nonfinite")]
    mono = music(1.0, channels=1)[:, 0]
    mono[ms(400) : ms(420)] = 0.0
    assert find_dropouts(mono, RATE) == [Dropout(ms(400), ms(420), "zeros")]


def test_the_shortest_dropout_is_the_configured_length():
    audio = plant(music(1.0), [Dropout(ms(300), ms(300) + SHORTEST - 1, "zeros"),
                               Dropout(ms(600), ms(600) + SHORTEST, "zeros")])
    assert find_dropouts(audio, RATE) == [Dropout(ms(600), ms(600) + SHORTEST, "zeros")]


def test_the_shortest_run_rounds_up_to_whole_samples():
    assert DetectConfig().min_samples(RATE) == SHORTEST
    assert DetectConfig(min_seconds=0.017).min_samples(48000) == 816  # 0.017 * 48000 is 816.0000000000001


def fade(n: int, out: bool) -> np.ndarray:
    """A raised-cosine gain over n samples, from 1 to 0 when `out`. [n, 1]"""
    ramp = 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, n))
    return (ramp if out else ramp[::-1])[:, None]


def natural_silences() -> dict[str, np.ndarray]:
    """Music with the silences real tracks have, each as 16-bit samples [n, 2]."""
    tone = music(3.0)
    start_and_end = np.concatenate([np.zeros((ms(400), 2)), tone, np.zeros((ms(700), 2))])
    faded_out = np.concatenate([tone * np.concatenate([np.ones((ms(2000), 1)), fade(ms(1000), out=True)]),
                                np.zeros((ms(300), 2))])
    pause = np.concatenate([tone[: ms(1000)] * fade(ms(1000), out=True), np.zeros((ms(500), 2)),
                            tone[ms(1000) : ms(2000)] * fade(ms(1000), out=False)])
    long_pause = np.concatenate([tone[: ms(1000)], np.zeros((ms(1000 * MAX_GAP_SECONDS + 200), 2)), tone[ms(1000):]])
    t = np.arange(ms(2000)) / RATE  # 40 and 55 Hz at 1.5 LSB (-86 dBFS): values held 5 ms and more, off the peaks
    quiet = np.repeat(1.5 / 32767 * (np.sin(2 * np.pi * 40 * t) + np.sin(2 * np.pi * 55 * t + 1))[:, None], 2, axis=1)
    clipped = np.repeat(3 * np.sin(2 * np.pi * 50 * t)[:, None], 2, axis=1)  # 7.8 ms at full scale each half cycle
    silences = {"start and end": start_and_end, "fade out": faded_out, "pause": pause, "long pause": long_pause,
                "quiet": quiet, "clipped": clipped}
    return {name: np.round(np.clip(x, -1, 1 - 2**-15) * 32767).astype(np.int16) for name, x in silences.items()}


@pytest.mark.parametrize("name", list(natural_silences()))
def test_natural_silence_is_not_a_dropout(name, caplog):
    audio = natural_silences()[name]
    with caplog.at_level(logging.WARNING, logger="revise"):
        assert find_dropouts(audio, RATE) == []
        assert find_dropouts(audio.astype(np.float32) / 32768, RATE) == []
    assert ("longer than" in caplog.text) == (name == "long pause")  # the one silence between loud audio is said


@pytest.mark.parametrize("rate", [8000, 44100, 48000, 192000])
def test_a_dropout_as_gap_covers_exactly_its_samples(rate):
    length = 10 * rate
    for start, end in [(0, 1), (1, 2), (rate // 3, rate // 3 + 7), (length - 4410, length)]:
        gap = Dropout(start, end, "zeros").as_gap(rate)
        assert gaps_to_samples([gap], rate, length) == [SampleGap(start, end)]


@pytest.mark.parametrize("audio, rate, message", [
    (np.zeros((0, 2)), RATE, "samples > 0"), (np.zeros((4, 2, 2)), RATE, r"\[samples\]"), (np.zeros(10), 0, "rate"),
])
def test_bad_audio_is_refused(audio, rate, message):
    with pytest.raises(ValueError, match=message):
        find_dropouts(audio, rate)


@pytest.mark.parametrize("settings", [{"min_seconds": 0}, {"min_seconds": 2.0}, {"context_seconds": math.nan},
                                      {"level_db": 3.0}])
def test_bad_settings_are_refused(settings):
    with pytest.raises(ValueError, match="detect."):
        DetectConfig(**settings)


def split(audio: np.ndarray, edges: list[int]) -> list[np.ndarray]:
    return [audio[a:b] for a, b in zip([0, *edges], [*edges, len(audio)])]


@pytest.mark.parametrize("dtype", [np.float32, np.int16])
def test_detection_in_blocks_equals_detection_of_the_whole(dtype, caplog):
    """Runs cut by the blocks' edges anywhere (inside, at their first or last frame, next to their
    context), a held value too long to fill and a clipped peak are found as on the whole array."""
    planted = [d for d in PLANTED if dtype != np.int16 or d.kind != "nonfinite"]
    audio = plant(music(3.2), planted)
    audio[ms(1600) : ms(1600) + ms(1000 * MAX_GAP_SECONDS + 50)] = 0.0  # a pause: logged, not a dropout
    audio[ms(2900) : ms(2908)] = audio[ms(2850) : ms(2950)].max(axis=0)  # a clipped peak: not a dropout
    audio = np.round(audio * 32767).astype(np.int16) if dtype == np.int16 else audio.astype(dtype)
    with caplog.at_level(logging.WARNING, logger="revise"):
        whole = find_dropouts(audio, RATE)
    assert whole == planted and caplog.text.count("longer than") == 1

    def read(first, last):
        return audio[first:last]

    edges = [d.start + k for d in planted for k in (-1, 0, 1, 2)] + [d.end + k for d in planted for k in (-1, 0, 1)]
    rng = np.random.default_rng(0)
    splits = {"every 97 frames": list(range(97, len(audio), 97)), "at the runs' edges": sorted(set(edges)),
              "at random": sorted(set(rng.integers(1, len(audio), 300).tolist()))}
    for name, cuts in splits.items():
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="revise"):
            assert scan_dropouts(split(audio, cuts), read, RATE) == whole, name
        assert caplog.text.count("longer than") == 1, name


# ---- the CLI ----


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    torch.manual_seed(0)
    model = RevisionModel(FrameConfig(), ModelConfig(hidden_size=32, drafter_layers=1, reviser_layers=1),
                          ar=ARConfig(order=32, context=256)).eval()
    return export_model(model, tmp_path_factory.mktemp("model") / "model")


def damaged_files(folder) -> dict[str, tuple[object, list[Dropout]]]:
    """A 16-bit and a float wav with dropouts planted, by name, with their dropouts."""
    files = {}
    for name, subtype in (("pcm.wav", "PCM_16"), ("float.wav", "FLOAT")):
        planted = PLANTED if subtype == "FLOAT" else [d for d in PLANTED if d.kind != "nonfinite"]
        audio = music(1.6)
        sf.write(folder / name, plant(audio.astype(np.float32) if subtype == "FLOAT" else
                                      np.round(audio * 32767).astype(np.int16), planted), RATE, subtype=subtype)
        files[name] = (folder / name, planted)
    return files


def test_dry_run_lists_the_dropouts_and_writes_nothing(tmp_path, capsys):
    for path, planted in damaged_files(tmp_path).values():
        before = path.read_bytes()
        assert main(["inpaint", str(path), "--detect", "--dry-run"]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        rows = [line.split() for line in lines[1:-1]]
        assert [row[3] for row in rows] == [d.kind for d in planted]
        for row, d in zip(rows, planted):  # a row, given as --gap, covers its dropout and at most 0.1 ms more
            start, end = float(row[0]), float(row[1])
            assert d.start / RATE - 1e-4 < start <= d.start / RATE and d.end / RATE <= end < d.end / RATE + 1e-4
            assert float(row[2]) == pytest.approx(1000 * (d.end - d.start) / RATE, abs=0.005)
        assert lines[-1].startswith(f"{len(planted)} dropout(s)") and "nothing written" in lines[-1]
        assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["float.wav", "pcm.wav"]


def test_detect_fills_the_dropouts_and_nothing_else(tmp_path, model_dir, capsys):
    margin = crossfade_margin(load_model(model_dir), RATE)
    for name, (path, planted) in damaged_files(tmp_path).items():
        output = tmp_path / f"fixed-{name}"
        assert main(["inpaint", str(path), "-o", str(output), "--detect", "--model", str(model_dir)]) == 0
        assert f"found {len(planted)} dropout(s)" in capsys.readouterr().out
        original, repaired = read_audio(path, allow_nonfinite=True), read_audio(output)
        assert (repaired.subtype, repaired.samples.shape) == (original.subtype, original.samples.shape)
        untouched = np.ones(len(original.samples), dtype=bool)
        for d in planted:
            untouched[max(0, d.start - margin) : d.end + margin] = False
            filled = repaired.samples[d.start : d.end]
            assert (filled != 0).any() and (len(filled) == 1 or (filled != filled[0]).any())  # sound, not a hold
        np.testing.assert_array_equal(repaired.samples[untouched], original.samples[untouched])
        assert find_dropouts(repaired.samples, RATE) == []


def test_detect_with_nothing_found_says_so_and_writes_nothing(tmp_path, model_dir, capsys):
    path = tmp_path / "clean.wav"
    sf.write(path, np.concatenate([np.zeros((ms(300), 2)), music(0.5)]), RATE, subtype="PCM_16")
    for dry_run in ([], ["--dry-run"]):
        output = [] if dry_run else ["-o", str(tmp_path / "out.wav"), "--model", str(model_dir)]
        assert main(["inpaint", str(path), "--detect", *output, *dry_run]) == 0
        assert capsys.readouterr().out == f"no dropouts found in {path}; nothing written.\n"
    assert [p.name for p in tmp_path.iterdir()] == ["clean.wav"]
