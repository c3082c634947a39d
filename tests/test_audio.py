"""revise.audio: bit-exact round trips, every user-facing error, atomic writes, resampling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from revise import audio
from revise.audio import (
    Audio,
    AudioError,
    check_output_path,
    check_samples,
    from_float,
    read_audio,
    resample,
    to_float,
    to_mono,
    write_audio,
)

EXPECTED_DTYPE = {
    "PCM_U8": np.int16,
    "PCM_16": np.int16,
    "PCM_24": np.int32,
    "PCM_32": np.int32,
    "FLOAT": np.float32,
    "DOUBLE": np.float64,
}
FORMATS = [(".wav", subtype) for subtype in EXPECTED_DTYPE] + [(".flac", "PCM_16"), (".flac", "PCM_24")]


def noise(frames: int, channels: int, seed: int = 0) -> np.ndarray:
    """Full-scale-ish float64 noise [frames, channels] in [-1, 1)."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (frames, channels)) * 0.9


def write_file(
    path: Path, frames: int = 4000, channels: int = 2, rate: int = 16000, subtype: str = "PCM_16"
) -> Path:
    sf.write(str(path), noise(frames, channels), rate, subtype=subtype)
    return path


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize(("suffix", "subtype"), FORMATS)
@pytest.mark.parametrize(("rate", "channels"), [(8000, 1), (44100, 2), (192000, 3)])
def test_round_trip_is_bit_exact(tmp_path, suffix, subtype, rate, channels):
    source = write_file(tmp_path / f"in{suffix}", 3001, channels, rate, subtype)
    original = read_audio(source)
    assert original.samples.dtype == EXPECTED_DTYPE[subtype]
    assert original.samples.shape == (3001, channels)
    assert (original.sample_rate, original.subtype) == (rate, subtype)

    # Through float and back, as inpaint does for the untouched samples.
    restored = from_float(to_float(original.samples), original.samples.dtype)
    np.testing.assert_array_equal(restored, original.samples)
    write_audio(tmp_path / f"out{suffix}", restored, rate, original.subtype)
    again = read_audio(tmp_path / f"out{suffix}")
    assert again.samples.dtype == original.samples.dtype
    np.testing.assert_array_equal(again.samples, original.samples)
    assert (again.sample_rate, again.subtype, again.format) == (rate, subtype, original.format)


def test_lossy_formats_read_as_float32(tmp_path):
    for name, subtype in [("a.ogg", "VORBIS"), ("b.opus", "OPUS"), ("c.mp3", "MPEG_LAYER_III")]:
        write_audio(tmp_path / name, noise(9600, 2).astype(np.float32) * 0.5, 48000, subtype)
        result = read_audio(tmp_path / name)
        assert result.samples.dtype == np.float32 and result.channels == 2 and result.sample_rate == 48000
        assert result.frames == pytest.approx(9600, abs=2000)


def test_to_float_range_and_inverse_clips():
    ints = np.array([-32768, -1, 0, 1, 32767], dtype=np.int16)
    floats = to_float(ints)
    assert floats.dtype == np.float64 and floats.min() == -1.0 and floats.max() < 1.0
    assert to_float(np.array([2**31 - 1], dtype=np.int32))[0] < 1.0
    np.testing.assert_array_equal(from_float(np.array([-2.0, 1.0, 2.0]), np.int16), [-32768, 32767, 32767])
    assert from_float(np.array([0.25]), np.float32).dtype == np.float32


def test_to_mono_averages_channels():
    x = np.array([[1.0, 0.0], [0.5, -0.5]], dtype=np.float32)
    np.testing.assert_array_equal(to_mono(x), np.array([0.5, 0.0], dtype=np.float32))
    assert to_mono(x).dtype == np.float32
    assert to_mono(x[:, 0]).shape == (2,)


@pytest.mark.parametrize(("rate_in", "rate_out"), [(44100, 16000), (16000, 48000), (8000, 192000)])
def test_resample_length(rate_in, rate_out):
    mono = np.sin(np.arange(rate_in // 2) * 0.01)
    assert len(resample(mono, rate_in, rate_out)) == round(len(mono) * rate_out / rate_in)
    stereo = np.stack([mono, -mono], axis=1)
    out = resample(stereo, rate_in, rate_out)
    assert out.shape == (round(len(mono) * rate_out / rate_in), 2)
    np.testing.assert_allclose(out[:, 0], -out[:, 1])


def test_resample_identity_when_rates_equal():
    x = noise(100, 2)
    assert resample(x, 22050, 22050) is x
    with pytest.raises(ValueError):
        resample(x, 0, 16000)


# ---- every input error names the file and says what is wrong ----


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="does not exist"):
        read_audio(tmp_path / "nope.wav")


def test_directory(tmp_path):
    with pytest.raises(AudioError, match="is a folder"):
        read_audio(tmp_path)


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        read_audio(tmp_path / "empty.wav")


def test_not_audio(tmp_path):
    (tmp_path / "notes.wav").write_text("this is a shopping list, not a recording\n" * 20)
    with pytest.raises(AudioError, match="not an audio file"):
        read_audio(tmp_path / "notes.wav")


@pytest.mark.parametrize(
    ("name", "subtype"), [("cut.wav", "PCM_16"), ("cut.wav", "FLOAT"), ("cut.flac", "PCM_16")]
)
def test_truncated_file(tmp_path, name, subtype):
    whole = write_file(tmp_path / f"whole{Path(name).suffix}", 20000, 2, 44100, subtype).read_bytes()
    (tmp_path / name).write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(AudioError, match="truncated") as caught:
        read_audio(tmp_path / name)
    assert name in str(caught.value)


def test_zero_length(tmp_path):
    sf.write(str(tmp_path / "zero.wav"), np.zeros((0, 1)), 16000, subtype="PCM_16")
    with pytest.raises(AudioError, match="no audio samples"):
        read_audio(tmp_path / "zero.wav")


def test_nan_in_float_file(tmp_path):
    x = noise(1000, 1)
    x[500, 0] = np.nan
    sf.write(str(tmp_path / "nan.wav"), x, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN or infinite"):
        read_audio(tmp_path / "nan.wav")
    kept = read_audio(tmp_path / "nan.wav", allow_nonfinite=True).samples  # for a caller that repairs them
    assert np.isnan(kept[500, 0]) and np.isfinite(np.delete(kept, 500, axis=0)).all()


def test_sample_rate_out_of_range(tmp_path):
    write_file(tmp_path / "slow.wav", rate=4000)
    with pytest.raises(AudioError, match="sample rate of 4000 Hz"):
        read_audio(tmp_path / "slow.wav")


def test_check_samples():
    check_samples(np.zeros(3, dtype=np.int16))
    with pytest.raises(AudioError, match="NaN or infinite"):
        check_samples(np.array([0.0, np.inf]))


# ---- atomic writes ----


def test_write_infers_format_and_leaves_no_temp_file(tmp_path):
    write_audio(tmp_path / "out.flac", (noise(500, 2) * 1000).astype(np.int16), 16000)
    assert files_in(tmp_path) == ["out.flac"]
    assert read_audio(tmp_path / "out.flac").format == "FLAC"


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(AudioError, match="could not write"):  # FLAC cannot hold float samples as FLOAT
        write_audio(tmp_path / "out.flac", noise(500, 1), 16000, "FLOAT")
    assert files_in(tmp_path) == []


def test_failed_write_keeps_the_old_output(tmp_path, monkeypatch):
    out = write_file(tmp_path / "out.wav")
    before = out.read_bytes()

    def crash(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(audio.os, "fsync", crash)
    with pytest.raises(AudioError, match="No space left"):
        write_audio(out, np.zeros((10, 1), dtype=np.int16), 16000)
    assert out.read_bytes() == before and files_in(tmp_path) == ["out.wav"]


def test_a_real_short_write_names_its_cause_without_a_traceback(tmp_path):
    """The operating system refuses to grow the file past 100 kB (RLIMIT_FSIZE), as a full disk would."""
    script = ("import resource, signal, sys, numpy as np\n"
              "from revise.audio import AudioError, write_audio\n"
              "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
              "resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))\n"
              "try:\n"
              "    write_audio(sys.argv[1], np.zeros((100_000, 2), np.int16), 16000)\n"
              "except AudioError as error:\n"
              "    print(error)\n")
    out = tmp_path / "out.wav"
    done = subprocess.run([sys.executable, "-c", script, str(out)], capture_output=True, text=True, timeout=60)
    assert done.stdout == f"could not write {out} (File too large); free some space or choose another folder.\n"
    assert done.stderr == "" and files_in(tmp_path) == []


def test_interrupted_write_removes_temp_file(tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(audio.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_audio(tmp_path / "out.wav", np.zeros((10, 1), dtype=np.int16), 16000)
    assert files_in(tmp_path) == []


def test_write_refuses_nan_and_unknown_suffix(tmp_path):
    with pytest.raises(AudioError, match="NaN"):
        write_audio(tmp_path / "out.wav", np.array([[np.nan]]), 16000)
    with pytest.raises(AudioError, match="format"):
        write_audio(tmp_path / "out.xyz", np.zeros((10, 1)), 16000)
    with pytest.raises(AudioError, match="could not write"):
        write_audio(tmp_path / "missing" / "out.wav", np.zeros((10, 1)), 16000)
    assert files_in(tmp_path) == []


# ---- output path checks ----


def test_check_output_path_accepts_a_new_file(tmp_path):
    check_output_path(tmp_path / "new.wav", inputs=[tmp_path / "in.wav"])


def test_check_output_path_refuses_the_input(tmp_path, monkeypatch):
    source = write_file(tmp_path / "in.wav")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AudioError, match="is the input"):
        check_output_path(Path("sub/../in.wav"), inputs=[source], force=True)


def test_check_output_path_cases(tmp_path, monkeypatch):
    existing = write_file(tmp_path / "old.wav")
    with pytest.raises(AudioError, match="already exists"):
        check_output_path(existing)
    check_output_path(existing, force=True)
    with pytest.raises(AudioError, match="is a folder"):
        check_output_path(tmp_path, force=True)
    with pytest.raises(AudioError, match="does not exist"):
        check_output_path(tmp_path / "no" / "out.wav")
    monkeypatch.setattr(audio.os, "access", lambda *args: False)
    with pytest.raises(AudioError, match="not writable"):
        check_output_path(tmp_path / "out.wav")


def test_audio_properties():
    clip = Audio(np.zeros((32000, 2), dtype=np.int16), 16000, "PCM_16", "WAV")
    assert (clip.frames, clip.channels, clip.seconds) == (32000, 2, 2.0)
