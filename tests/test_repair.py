"""repair_file: the one-file workflow the CLI and batch runs share."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from revise.audio import AudioError
from revise.repair import repair_file

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
