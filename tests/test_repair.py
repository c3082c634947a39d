"""repair_file: the one-file workflow the CLI and batch runs share."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest
import soundfile as sf

from revise import audio, audio_blocks, inpainting, repair
from revise.audio import AudioError, read_audio, write_audio
from revise.cli.main import main
from revise.detect import find_dropouts
from revise.guarded_file import GuardedFile
from revise.inpainting import inpaint
from revise.repair import file_dropouts, repair_file
from revise.runtime import model as runtime_model
from revise.runtime.model import InferenceModel

RATE = 16000


@pytest.fixture
def clip(tmp_path):
    """A 1 s PCM_16 stereo clip with a 20 ms dropout of exact zeros at 0.5 s."""
    rng = np.random.default_rng(0)
    t = np.arange(RATE) / RATE
    music = 0.3 * np.sin(2 * np.pi * 220 * t)[:, None] + 0.01 * rng.standard_normal((RATE, 2))
    samples = (music * 2**15).astype(np.int16)
    samples[8000:8320] = 0
    path = tmp_path / "clip.wav"
    sf.write(path, samples, RATE, subtype="PCM_16")
    return path


def test_detected_dropouts_are_filled_and_the_rest_is_bit_identical(clip, tmp_path, tiny_model):
    out = tmp_path / "fixed.wav"
    repair = repair_file(clip, out, detect=True, model=tiny_model, candidates=("ar",))
    assert repair.output == out and repair.gaps == 1 and [(d.start, d.end) for d in repair.dropouts] == [(8000, 8320)]
    before, after = sf.read(clip, dtype="int16")[0], sf.read(out, dtype="int16")[0]
    margin = 64 * 2  # the tiny model's hop, with room to spare
    outside = np.ones(RATE, bool)
    outside[8000 - margin : 8320 + margin] = False
    assert np.array_equal(before[outside], after[outside])
    assert np.abs(after[8000:8320].astype(float)).mean() > 100  # filled, not left silent


def test_nothing_to_fill_writes_nothing(clip, tmp_path, tiny_model):
    data = sf.read(clip, dtype="int16")[0]
    data[8000:8320] = 1000  # no dropout left: the sine's ripple is back
    data[8000:8320] += np.arange(320, dtype=np.int16)[:, None]
    sf.write(clip, data, RATE, subtype="PCM_16")
    out = tmp_path / "fixed.wav"
    repair = repair_file(clip, out, detect=True, model=tiny_model)
    assert repair.output is None and repair.gaps == 0 and not out.exists()


def test_an_existing_output_is_refused_before_any_work(clip, tmp_path, tiny_model):
    out = tmp_path / "fixed.wav"
    out.write_bytes(b"keep me")
    with pytest.raises(AudioError, match="already exists"):
        repair_file(clip, out, gaps=[(0.5, 0.52)], model=tiny_model)
    assert out.read_bytes() == b"keep me"


# ---- long files: the block path ----


def music_file(path, rate, subtype, seconds=1.5, channels=2):
    """Tones and a little noise, written as `subtype`; FLOAT files keep float32 samples."""
    rng = np.random.default_rng(1)
    t = np.arange(round(seconds * rate)) / rate
    music = 0.3 * np.sin(2 * np.pi * 330 * t)[:, None] + 0.02 * rng.standard_normal((len(t), channels))
    sf.write(path, music.astype(np.float32), rate, subtype=subtype)
    return path


GAPS = [(0.0, 0.02), (0.4, 0.43), (0.45, 0.47), (1.48, 1.5)]  # at the very start, two close together, at the end


@pytest.mark.parametrize("name, subtype, rate", [("a.wav", "PCM_16", 16000), ("a.wav", "PCM_24", 16000),
                                                 ("a.wav", "FLOAT", 16000), ("a.flac", "PCM_16", 16000),
                                                 ("a.wav", "PCM_16", 44100)])
def test_the_block_path_writes_what_the_in_memory_path_writes(tmp_path, tiny_model, monkeypatch, name, subtype, rate):
    """Blocks far smaller than a window (8000+ frames here): the same bytes as inpaint on the whole array."""
    source = music_file(tmp_path / name, rate, subtype)
    audio = read_audio(source)
    expected = tmp_path / f"expected{source.suffix}"
    write_audio(expected, inpaint(audio.samples, rate, GAPS, model=tiny_model, candidates=("ar",)), rate, audio.subtype)
    monkeypatch.setattr(repair, "BLOCK_FRAMES", 1000)
    monkeypatch.setattr(inpainting, "CHECK_FRAMES", 999)
    out = tmp_path / f"out{source.suffix}"
    assert repair_file(source, out, GAPS, model=tiny_model, candidates=("ar",)).gaps == len(GAPS)
    assert out.read_bytes() == expected.read_bytes()
    assert not np.array_equal(read_audio(out).samples, audio.samples)  # something was filled


def test_detection_of_a_file_in_blocks_equals_detection_of_the_whole(clip, monkeypatch):
    data = sf.read(clip, dtype="int16")[0]
    data[2990:3300] = 1234  # a stuck value too, across block edges at multiples of 1000
    sf.write(clip, data, RATE, subtype="PCM_16")
    whole = find_dropouts(read_audio(clip).samples, RATE)
    monkeypatch.setattr(repair, "BLOCK_FRAMES", 1000)
    assert file_dropouts(clip) == (whole, RATE) and len(whole) == 2


def test_nan_outside_the_gaps_is_refused_before_writing(tmp_path, tiny_model, monkeypatch):
    source = music_file(tmp_path / "a.wav", RATE, "FLOAT")
    data = sf.read(source, dtype="float32")[0]
    data[20000, 1] = np.nan
    sf.write(source, data, RATE, subtype="FLOAT")
    monkeypatch.setattr(inpainting, "CHECK_FRAMES", 999)
    with pytest.raises(ValueError, match="outside the gaps, the first at 1.250 s"):
        repair_file(source, tmp_path / "out.wav", [(0.4, 0.43)], model=tiny_model, candidates=("ar",))
    assert files_in(tmp_path) == ["a.wav"]


class FillsUp:
    """A file handle whose disk is full after `room` bytes."""

    def __init__(self, handle, room):
        self.handle, self.room = handle, room

    def write(self, data):
        if len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.handle.write(data)

    def __getattr__(self, name):
        return getattr(self.handle, name)


def test_a_full_disk_mid_write_is_one_sentence_and_leaves_the_old_output(clip, tmp_path, tiny_model, monkeypatch,
                                                                         capsys):
    out = tmp_path / "fixed.wav"
    out.write_bytes(b"keep me")
    before = clip.read_bytes()
    monkeypatch.setattr(repair, "BLOCK_FRAMES", 1000)  # many writes, the disk full after a few
    monkeypatch.setattr(audio, "GuardedFile", lambda handle: GuardedFile(FillsUp(handle, 20_000)))
    monkeypatch.setattr(runtime_model, "load_inference_model", lambda *args: InferenceModel.from_torch(tiny_model))
    assert main(["inpaint", str(clip), "-o", str(out), "--gap", "0.5:0.52", "--fill", "ar", "--force"]) == 2
    error = capsys.readouterr().err
    assert error == f"revise: error: could not write {out} (No space left on device); free some space or choose " \
                    "another folder.\n"
    assert out.read_bytes() == b"keep me" and clip.read_bytes() == before
    assert files_in(tmp_path) == ["clip.wav", "fixed.wav"]


class FailsReading:
    """A file handle whose disk fails after `good` bytes."""

    def __init__(self, handle, good):
        self.handle, self.good = handle, good

    def readinto(self, buffer):
        if self.handle.tell() + len(buffer) > self.good:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return self.handle.readinto(buffer)

    def __getattr__(self, name):
        return getattr(self.handle, name)


def test_an_io_error_while_reading_is_one_sentence_and_writes_nothing(clip, tmp_path, tiny_model, monkeypatch):
    monkeypatch.setattr(audio_blocks, "GuardedFile", lambda handle: GuardedFile(FailsReading(handle, 40_000)))
    with pytest.raises(AudioError, match=rf"^could not read {clip} \(Input/output error\); check the file and its disk"):
        repair_file(clip, tmp_path / "fixed.wav", [(0.5, 0.52)], model=tiny_model, candidates=("ar",))
    assert files_in(tmp_path) == ["clip.wav"]


def files_in(folder):
    return sorted(p.name for p in folder.iterdir())
