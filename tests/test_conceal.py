"""The streaming concealer: its lag, arrived packets kept, causality, bounded memory, bad input, the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from revise.cli.main import main
from revise.conceal import Concealer, conceal_signal
from revise.packet_loss import loss_pattern, lost_from_text, lost_from_wav


def tones(rate: int, seconds: float, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Two tones with a little noise, float64 [n, channels] (the channels differ in level and phase)."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(rate * seconds)) / rate
    columns = [0.3 * np.sin(2 * np.pi * 440 * t + c) + 0.2 * np.sin(2 * np.pi * 660 * t) / (c + 1)
               + 0.003 * rng.standard_normal(len(t)) for c in range(channels)]
    return np.stack(columns, axis=1)


def stream(concealer: Concealer, x: np.ndarray, lost: np.ndarray) -> list[np.ndarray]:
    """Every packet the concealer plays for x [n, C] with `lost` packets dropped (no flush)."""
    p = concealer.packet_samples
    return [concealer.push(None if lost[i] else x[i * p : (i + 1) * p]) for i in range(len(x) // p)]


@pytest.mark.parametrize("lookahead", [0, 1, 3])
def test_no_loss_is_the_input_delayed_bit_for_bit(lookahead):
    x = tones(16000, 0.5, 2)
    c = Concealer(sample_rate=16000, packet_ms=10, lookahead=lookahead, channels=2)
    played = np.concatenate(stream(c, x, np.zeros(50, bool)))
    p = c.packet_samples
    assert c.latency_ms == 10 * lookahead
    np.testing.assert_array_equal(played[: lookahead * p], 0.0)
    np.testing.assert_array_equal(played[lookahead * p :], x[: len(x) - lookahead * p])


@pytest.mark.parametrize("rate,packet_ms,channels,lookahead",
                         [(16000, 2.5, 1, 0), (16000, 10, 2, 2), (44100, 5, 1, 1), (48000, 20, 2, 0),
                          (48000, 40, 1, 4), (22050, 10, 1, 2)])
def test_arrived_packets_are_kept_outside_the_margin_and_losses_are_concealed(rate, packet_ms, channels, lookahead):
    x = tones(rate, 1.0, channels)
    c = Concealer(sample_rate=rate, packet_ms=packet_ms, lookahead=lookahead, channels=channels)
    p = c.packet_samples
    packets = len(x) // p
    lost = loss_pattern(packets, 0.15, 3, np.random.default_rng(1))
    lost[:12] = False
    y = conceal_signal(x, rate, np.r_[lost, [False] * (-(-len(x) // p) - packets)], packet_ms, lookahead)
    assert y.shape == x.shape and np.isfinite(y).all()
    changed = np.zeros(len(x), bool)
    for i in np.flatnonzero(lost):
        changed[i * p : (i + 1) * p] = True
        if lookahead == 0 and i + 1 < packets and not lost[i + 1]:
            changed[(i + 1) * p : (i + 1) * p + c.margin] = True  # the crossfade margin
    np.testing.assert_array_equal(y[~changed], x[~changed])
    error = np.sum((y[changed] - x[changed]) ** 2) / np.sum(x[changed] ** 2)
    assert error < 0.5, f"concealed packets {10 * np.log10(1 / error):.1f} dB SNR"


def test_output_lags_by_exactly_lookahead_packets():
    x = tones(16000, 0.4)
    for lookahead in (0, 2, 4):
        c = Concealer(sample_rate=16000, packet_ms=5, lookahead=lookahead)
        p = c.packet_samples
        played = stream(c, x, np.zeros(len(x) // p, bool))
        assert all(out.shape == (p,) for out in played)
        for i in range(lookahead, len(played)):
            np.testing.assert_array_equal(played[i], x[(i - lookahead) * p : (i - lookahead + 1) * p, 0])


def test_causal_concealment_never_reads_the_future():
    x = tones(16000, 0.6)
    other = x.copy()
    other[3200:] = np.random.default_rng(9).standard_normal((len(x) - 3200, 1))  # from packet 20 on
    lost = np.zeros(60, bool)
    lost[17:20] = True
    a = np.concatenate(stream(Concealer(sample_rate=16000, lookahead=0), x, lost))
    b = np.concatenate(stream(Concealer(sample_rate=16000, lookahead=0), other, lost))
    np.testing.assert_array_equal(a[: 20 * 160], b[: 20 * 160])  # the concealed run and all before it
    assert not np.array_equal(a[20 * 160 :], b[20 * 160 :])


def test_lookahead_uses_the_future_it_has_seen():
    x = tones(16000, 0.6)
    lost = np.zeros(60, bool)
    lost[30] = True
    causal = conceal_signal(x, 16000, lost, 10, 0)
    ahead = conceal_signal(x, 16000, lost, 10, 2)
    gap = slice(4800, 4960)
    assert np.sum((ahead[gap] - x[gap]) ** 2) < np.sum((causal[gap] - x[gap]) ** 2)


def test_memory_is_bounded_however_long_the_stream():
    c = Concealer(sample_rate=16000, packet_ms=10, lookahead=2, channels=2)
    rng = np.random.default_rng(0)
    sizes = []
    for i in range(1500):  # 15 s
        c.push(None if rng.random() < 0.2 else 0.1 * rng.standard_normal((160, 2)))
        sizes.append(c.state_bytes)
    assert max(sizes[500:]) <= max(sizes[:200])
    assert c._buffer.shape == (c.history + 3 * 160, 2)


@pytest.mark.parametrize("kwargs,packet,message", [
    ({}, np.zeros(100), "shape"),
    ({"channels": 2}, np.zeros(480), "shape"),
    ({}, np.full(480, np.nan), "NaN"),
    ({}, np.array(["a"] * 480), "real numbers"),
])
def test_bad_packets_are_refused_in_one_sentence(kwargs, packet, message):
    c = Concealer(sample_rate=48000, packet_ms=10, **kwargs)
    with pytest.raises(ValueError, match=message) as error:
        c.push(packet)
    assert str(error.value).count(". ") == 0 and str(error.value).endswith(".")


@pytest.mark.parametrize("kwargs,message", [
    ({"sample_rate": 1000}, "sample_rate"), ({"sample_rate": 16000.5}, "sample_rate"),
    ({"packet_ms": 1.0}, "packet_ms"), ({"packet_ms": 60}, "packet_ms"), ({"packet_ms": float("nan")}, "packet_ms"),
    ({"lookahead": -1}, "lookahead"), ({"lookahead": 9}, "lookahead"), ({"channels": 0}, "channels"),
    ({"model": object()}, "classical"),
])
def test_bad_settings_are_refused_in_one_sentence(kwargs, message):
    with pytest.raises(ValueError, match=message) as error:
        Concealer(**{"sample_rate": 16000, **kwargs})
    assert str(error.value).endswith(".")


def test_loss_patterns_and_traces():
    rng = np.random.default_rng(0)
    random, bursty = loss_pattern(20000, 0.1, 1, rng), loss_pattern(20000, 0.1, 3, rng)
    assert abs(random.mean() - 0.1) < 0.01 and abs(bursty.mean() - 0.1) < 0.015
    runs = np.diff(np.flatnonzero(np.diff(np.r_[0, bursty.astype(int), 0])))[::2]
    assert set(runs) <= {2, 3}
    np.testing.assert_array_equal(np.flatnonzero(lost_from_text("# lost\n3, 5\n7 8\n", 10)), [3, 5, 7, 8])
    with pytest.raises(ValueError, match="past the end"):
        lost_from_text("3\n12\n", 10)
    with pytest.raises(ValueError, match="whole numbers"):
        lost_from_text("3.5\n", 10)
    wav = np.ones((40, 2))
    wav[10:20] = 0.0
    np.testing.assert_array_equal(lost_from_wav(wav, 10, 4), [False, True, False, False])
    with pytest.raises(ValueError, match="past the end"):
        lost_from_wav(np.ones((45, 1)), 10, 4)


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "in" / "clip.wav"
    path.parent.mkdir()
    sf.write(path, (tones(16000, 1.0, 2) * 32767).astype(np.int16), 16000, subtype="PCM_16")
    return path


def test_cli_conceal_writes_the_audio_and_the_trace(clip, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    assert main(["conceal", str(clip), "-o", str(out / "c.wav"), "--loss-rate", "0.2", "--burst", "3"]) == 0
    concealed, rate = sf.read(out / "c.wav", dtype="int16")
    original, _ = sf.read(clip, dtype="int16")
    assert rate == 16000 and concealed.shape == original.shape
    trace = (out / "c.trace.txt").read_text()
    lost = lost_from_text(trace, 100)
    assert 5 < lost.sum() < 40
    keep = ~np.repeat(lost, 160)
    np.testing.assert_array_equal(concealed[keep], original[keep])
    # the written trace replays the same run
    assert main(["conceal", str(clip), "-o", str(out / "d.wav"), "--trace", str(out / "c.trace.txt")]) == 0
    np.testing.assert_array_equal(sf.read(out / "d.wav", dtype="int16")[0], concealed)


@pytest.mark.parametrize("extra,message", [
    ([], "say which packets"),
    (["--loss-rate", "0.1", "--trace", "{trace}"], "say which packets"),
    (["--loss-rate", "1.5"], "loss-rate"),
    (["--loss-rate", "0.1", "--packet-ms", "100"], "packet_ms"),
    (["--loss-rate", "0.1", "--lookahead", "20"], "lookahead"),
    (["--trace", "{trace}", "--seed", "3"], "do not belong"),
    (["--trace", "{past}"], "past the end"),
    (["--trace", "{words}"], "whole numbers"),
    (["--trace", "{missing}"], "does not exist"),
])
def test_cli_conceal_refuses_bad_input_and_writes_nothing(extra, message, clip, tmp_path, capsys):
    (tmp_path / "trace.txt").write_text("1\n2\n")
    (tmp_path / "past.txt").write_text("1\n100\n")
    (tmp_path / "words.txt").write_text("one two\n")
    names = {k: str(tmp_path / f"{k}.txt") for k in ("trace", "past", "words", "missing")}
    out = tmp_path / "out"
    out.mkdir()
    argv = ["conceal", str(clip), "-o", str(out / "c.wav"), *(arg.format(**names) for arg in extra)]
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if "error:" in line]) == 1
    assert list(out.iterdir()) == []


def test_evaluate_conceal_on_a_tiny_folder_writes_a_report(tmp_path, tiny_model, capsys, monkeypatch):
    from revise.checkpoint import export_model

    clips = tmp_path / "clips"
    clips.mkdir()
    sf.write(clips / "a.wav", tones(16000, 0.8, 2), 16000)
    export_model(tiny_model, tmp_path / "model")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "revise-benchmark").mkdir()  # an inpainting report already here does not stand in the way
    argv = ["evaluate", "--conceal", str(clips), "--packet-ms", "10", "--lookahead", "0,2", "--seconds", "0.8",
            "--loss-rate", "0.2", "--model", str(tmp_path / "model")]
    assert main(argv) == 0
    out = tmp_path / "revise-conceal"
    assert {p.name for p in out.iterdir()} == {"report.md", "results.json", "snr_vs_lookahead.png"}
    report = (out / "report.md").read_text()
    assert "lookahead=2" in report and "inpaint" in report and "## Bars" in report


def test_evaluate_conceal_refuses_options_of_other_modes(tmp_path, capsys):
    (tmp_path / "clips").mkdir()
    sf.write(tmp_path / "clips" / "a.wav", tones(16000, 0.5), 16000)
    assert main(["evaluate", "--conceal", str(tmp_path / "clips"), "--passes", "2"]) == 2
    assert "--passes belongs with --benchmark" in capsys.readouterr().err
    assert main(["evaluate", "--benchmark", str(tmp_path / "clips"), "--packet-ms", "10"]) == 2
    assert "--packet-ms belongs with --conceal" in capsys.readouterr().err
    assert main(["evaluate", "--conceal", str(tmp_path / "clips"), "--packet-ms", "80", "--out",
                 str(tmp_path / "r")]) == 2
    assert "packet_ms" in capsys.readouterr().err and not (tmp_path / "r").exists()
