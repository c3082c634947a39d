"""revise.dsp.framing: exact overlap-add, invertible encodings, crossfades and splices."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from revise.config import FrameConfig
from revise.dsp.framing import (
    analyse,
    decode,
    encode,
    frame,
    frames_touching,
    left_padding,
    naive_join,
    num_frames,
    overlap_add,
    synthesise,
)
from revise.dsp.splice import anchor_edges, band_limit, fade_in, splice

ENCODINGS = ["raw", "fourier"]
# (L, H) with L / H = 2, 3, 4, 8, including odd L and odd H
LAYOUTS = [(256, 128), (64, 32), (96, 32), (9, 3), (15, 5), (6, 3), (64, 16), (128, 16), (40, 5)]
LENGTHS = [1, 2, 7, 63, 100, 255, 256, 257, 1001, 4097]


def signal(batch: int, length: int, seed: int = 0, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(batch, length, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def brute_force_touching(start: int, end: int, length: int, frame_length: int, hop: int) -> list[int]:
    """Frames t of a [length] signal whose sample range [t*H - P, t*H - P + L) overlaps [start, end)."""
    pad = left_padding(frame_length, hop)
    return [
        t
        for t in range(num_frames(length, frame_length, hop))
        if t * hop - pad < end and t * hop - pad + frame_length > start
    ]


# --- overlap-add reconstruction -------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(("frame_length", "hop"), LAYOUTS)
@pytest.mark.parametrize("length", LENGTHS)
def test_overlap_add_of_unmodified_frames_returns_the_input(encoding, frame_length, hop, length):
    config = FrameConfig(frame_length=frame_length, hop_length=hop, encoding=encoding)
    x = signal(3, length, seed=length)
    features = analyse(x, config)
    assert features.shape == (3, num_frames(length, frame_length, hop), config.feature_size)
    y = synthesise(features, length, config)
    assert y.shape == x.shape
    torch.testing.assert_close(y, x, atol=1e-9, rtol=0)


@pytest.mark.parametrize(("frame_length", "hop"), [(256, 128), (96, 32), (64, 16)])
def test_reconstruction_in_float32_is_close(frame_length, hop):
    x = signal(2, 3001, dtype=torch.float32)
    y = overlap_add(frame(x, frame_length, hop), 3001, hop)
    assert y.dtype == torch.float32
    torch.testing.assert_close(y, x, atol=1e-5, rtol=0)


@pytest.mark.parametrize(("frame_length", "hop"), LAYOUTS)
def test_every_sample_is_covered_by_l_over_h_frames(frame_length, hop):
    length = 777
    count = num_frames(length, frame_length, hop)
    coverage = torch.zeros(length, dtype=torch.int64)
    pad = left_padding(frame_length, hop)
    for t in range(count):
        lo, hi = max(0, t * hop - pad), min(length, t * hop - pad + frame_length)
        coverage[lo:hi] += 1
    assert torch.all(coverage == frame_length // hop)


def test_overlap_add_needs_enough_frames():
    frames = frame(signal(1, 100), 64, 32)
    with pytest.raises(ValueError, match="cover at most"):
        overlap_add(frames, 1000, 32)


@pytest.mark.parametrize(("frame_length", "hop"), [(100, 30), (64, 64), (64, 0), (64, -32), (64, 128)])
def test_bad_hop_is_refused(frame_length, hop):
    with pytest.raises(ValueError, match="multiple"):
        frame(signal(1, 500), frame_length, hop)
    with pytest.raises(ValueError, match="multiple"):
        overlap_add(torch.zeros(1, 4, frame_length, dtype=torch.float64), 10, hop)
    with pytest.raises(ValueError, match="hop_length|frame_length"):
        FrameConfig(frame_length=frame_length, hop_length=hop)


# --- encodings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("frame_length", [6, 9, 64, 255, 256])
def test_decode_inverts_encode(encoding, frame_length):
    frames = torch.randn(2, 7, frame_length, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    features = encode(frames, encoding)
    config = FrameConfig(frame_length=frame_length * 2, hop_length=frame_length, encoding=encoding)
    expected_width = frame_length if encoding == "raw" else 2 * (frame_length // 2 + 1)
    assert features.shape == (2, 7, expected_width)
    assert config.feature_size == (2 * frame_length if encoding == "raw" else 2 * (frame_length + 1))
    torch.testing.assert_close(decode(features, encoding, frame_length), frames, atol=1e-12, rtol=0)


def test_fourier_encoding_is_orthonormal():
    """norm='ortho': the features hold the frame's energy, so losses on them weigh like losses on samples."""
    frames = torch.randn(2, 5, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    features = encode(frames, "fourier")
    assert not torch.allclose(features[..., :64], frames)  # it really is a different representation
    # Parseval for rfft: bins 1..L/2-1 appear twice in the full spectrum
    bins = 33
    power = features[..., :bins] ** 2 + features[..., bins:] ** 2
    energy = power[..., 0] + power[..., -1] + 2 * power[..., 1:-1].sum(-1)
    torch.testing.assert_close(energy, frames.pow(2).sum(-1))


def test_unknown_encoding_is_refused():
    frames = torch.zeros(1, 2, 8)
    with pytest.raises(ValueError, match="unknown encoding"):
        encode(frames, "mel")
    with pytest.raises(ValueError, match="unknown encoding"):
        decode(frames, "mel", 8)


# --- frames_touching ------------------------------------------------------------------------------


@pytest.mark.parametrize(("frame_length", "hop"), [(8, 4), (9, 3), (16, 4), (6, 3)])
def test_frames_touching_agrees_with_brute_force(frame_length, hop):
    length = 41
    for start in range(length):
        for end in range(start + 1, length + 1):
            first, last = frames_touching(start, end, frame_length, hop)
            assert list(range(first, last)) == brute_force_touching(start, end, length, frame_length, hop), (start, end)


def test_frames_touching_matches_what_frame_reads():
    """Changing samples [start, end) changes exactly the frames frames_touching names, except a frame
    whose only contact is its first sample, where the periodic Hann window is exactly zero."""
    frame_length, hop, length = 64, 16, 500
    pad = left_padding(frame_length, hop)
    x = signal(1, length)
    for start, end in [(0, 1), (10, 11), (100, 164), (499, 500), (250, 300), (0, 500)]:
        y = x.clone()
        y[:, start:end] += 1.0
        changed = (frame(y, frame_length, hop) != frame(x, frame_length, hop)).any(-1)[0]
        first, last = frames_touching(start, end, frame_length, hop)
        expected = [t for t in range(first, last) if t * hop - pad != end - 1]
        assert torch.nonzero(changed).flatten().tolist() == expected, (start, end)


# --- fades and splices ----------------------------------------------------------------------------


@pytest.mark.parametrize("length", [1, 2, 3, 10, 101, 1024])
def test_fade_in_and_its_mirror_sum_to_one(length):
    ramp = fade_in(length)
    assert ramp.shape == (length,) and ramp.dtype == torch.float64
    torch.testing.assert_close(ramp + ramp.flip(0), torch.ones(length, dtype=torch.float64), atol=1e-15, rtol=0)
    assert torch.all(ramp > 0) and torch.all(ramp < 1)
    assert torch.all(torch.diff(ramp) > 0)


def check_splice(length: int, start: int, end: int, margin: int, seed: int = 0) -> None:
    """The splice invariants for one case (shared by the parametrised and the property-based test)."""
    original = signal(2, length, seed)
    fill = signal(2, length, seed + 1)
    left, right = max(0, start - margin), min(length, end + margin)

    # original inside the gap and fill outside the margins are never read
    poisoned_original = original.clone()
    poisoned_original[:, start:end] = float("nan")
    poisoned_fill = fill.clone()
    poisoned_fill[:, :left] = float("nan")
    poisoned_fill[:, right:] = float("nan")
    out = splice(poisoned_original, poisoned_fill, start, end, margin)
    assert torch.isfinite(out).all()
    assert torch.equal(out, splice(original, fill, start, end, margin))

    # everything outside [start - margin, end + margin) is bit-identical; the gap is the fill
    assert torch.equal(out[:, :left], original[:, :left])
    assert torch.equal(out[:, right:], original[:, right:])
    assert torch.equal(out[:, start:end], fill[:, start:end])
    # the input is not modified in place
    assert torch.isnan(poisoned_original[:, start:end]).all()

    # crossfade weights sum to one: splicing a signal into itself changes nothing
    torch.testing.assert_close(splice(original, original, start, end, margin), original, atol=1e-12, rtol=0)
    # and each margin sample lies between the two signals it blends
    for lo, hi in ((left, start), (end, right)):
        a, b, o = original[:, lo:hi], fill[:, lo:hi], out[:, lo:hi]
        assert torch.all(o >= torch.minimum(a, b) - 1e-12) and torch.all(o <= torch.maximum(a, b) + 1e-12)


@pytest.mark.parametrize(
    ("length", "start", "end", "margin"),
    [(1000, 400, 500, 32), (1000, 0, 100, 32), (1000, 900, 1000, 32), (1000, 10, 20, 64),
     (1000, 400, 500, 0), (1, 0, 1, 5), (1000, 995, 998, 10), (1000, 0, 1000, 16)],
)
def test_splice_keeps_everything_outside_its_margin(length, start, end, margin):
    check_splice(length, start, end, margin)


def test_splice_crossfade_moves_from_original_to_fill():
    original = torch.zeros(1, 200, dtype=torch.float64)
    fill = torch.ones(1, 200, dtype=torch.float64)
    out = splice(original, fill, 80, 120, 20)[0]
    assert torch.all(torch.diff(out[60:80]) > 0) and torch.all(torch.diff(out[120:140]) < 0)
    assert out[60] < 0.01 and out[79] > 0.99 and out[120] > 0.99 and out[139] < 0.01


# --- the naive join baseline ----------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize(("frame_length", "hop"), [(256, 128), (96, 32), (6, 3), (64, 16), (15, 5)])
@pytest.mark.parametrize("length", [1, 50, 257, 1001])
def test_naive_join_of_unmodified_frames_returns_the_input(encoding, frame_length, hop, length):
    config = FrameConfig(frame_length=frame_length, hop_length=hop, encoding=encoding)
    x = signal(2, length)
    y = naive_join(analyse(x, config), length, config)
    assert y.shape == x.shape
    torch.testing.assert_close(y, x, atol=1e-9, rtol=0)


def test_naive_join_clicks_where_overlap_add_does_not():
    """Perturbing every frame independently: the naive join jumps at frame edges, overlap-add stays smooth."""
    config = FrameConfig(frame_length=64, hop_length=32)
    t = torch.arange(2000, dtype=torch.float64)
    x = torch.sin(2 * torch.pi * t / 200)[None]
    features = analyse(x, config)
    gains = 1 + 0.2 * torch.randn(features.shape[1], 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    features = features * gains
    naive = naive_join(features, 2000, config)
    smooth = synthesise(features, 2000, config)
    assert torch.diff(naive[0]).abs().max() > 2 * torch.diff(smooth[0]).abs().max()


# --- property-based -------------------------------------------------------------------------------

# database=None: hypothesis would otherwise write a .hypothesis folder into the working directory
PROPERTY = settings(max_examples=50, deadline=None, database=None)


@PROPERTY
@given(
    length=st.integers(1, 3000),
    hop=st.integers(1, 48),
    overlap=st.integers(2, 8),
    encoding=st.sampled_from(ENCODINGS),
    seed=st.integers(0, 2**16),
)
def test_property_reconstruction_is_exact(length, hop, overlap, encoding, seed):
    config = FrameConfig(frame_length=hop * overlap, hop_length=hop, encoding=encoding)
    x = signal(1, length, seed)
    torch.testing.assert_close(synthesise(analyse(x, config), length, config), x, atol=1e-9, rtol=0)


@PROPERTY
@given(data=st.data(), length=st.integers(1, 3000), margin=st.integers(0, 300))
def test_property_splice_keeps_untouched_samples(data, length, margin):
    start = data.draw(st.integers(0, length - 1), label="start")
    end = data.draw(st.integers(start + 1, length), label="end")
    check_splice(length, start, end, margin, seed=length)


@PROPERTY
@given(data=st.data(), hop=st.integers(1, 16), overlap=st.integers(2, 6), length=st.integers(1, 400))
def test_property_frames_touching_agrees_with_brute_force(data, hop, overlap, length):
    start = data.draw(st.integers(0, length - 1), label="start")
    end = data.draw(st.integers(start + 1, length), label="end")
    first, last = frames_touching(start, end, hop * overlap, hop)
    assert list(range(first, last)) == brute_force_touching(start, end, length, hop * overlap, hop)


@pytest.mark.parametrize("start, end, ramp", [(100, 400, 64), (10, 50, 64), (0, 300, 1)])
def test_anchor_edges_starts_on_the_anchor_and_fades_to_the_fill(start, end, ramp):
    generator = torch.Generator().manual_seed(0)
    fill = torch.randn(2, 500, generator=generator, dtype=torch.float64)
    anchor = torch.randn(2, 500, generator=generator, dtype=torch.float64)
    out = anchor_edges(fill, anchor, start, end, ramp)
    assert torch.equal(out[:, :start], fill[:, :start]) and torch.equal(out[:, end:], fill[:, end:])
    # at each edge almost all anchor; the weights of anchor and fill sum to one
    weight = (out[:, start:end] - anchor[:, start:end]) / (fill[:, start:end] - anchor[:, start:end])
    assert ((weight >= -1e-9) & (weight <= 1 + 1e-9)).all()
    edge = math.sin(0.5 * math.pi * 0.5 / ramp) ** 2  # half a sample into a ramp of `ramp`
    assert torch.allclose(weight[:, [0, -1]], torch.full((2, 2), edge, dtype=torch.float64))
    if end - start > 2 * ramp:
        assert torch.allclose(weight[:, ramp : end - start - ramp], torch.ones(1, dtype=torch.float64))


def test_band_limit_keeps_the_passband_and_removes_the_stopband():
    n = 1024
    t = torch.arange(n, dtype=torch.float64)
    low, high, edge = (torch.sin(2 * math.pi * k * t / n) for k in (100, 500, 480))  # 480/1024 = cutoff
    assert torch.allclose(band_limit(low, 0.46875, 0.015625), low, atol=1e-10)
    assert band_limit(high, 0.46875, 0.015625).abs().max() < 1e-10
    assert torch.allclose(band_limit(edge, 0.46875, 0.015625), 0.5 * edge, atol=1e-10)  # halfway down the ramp
    assert band_limit(torch.stack([low, high]), 0.46875, 0.015625).shape == (2, n)


@pytest.mark.parametrize("cutoff, width", [(0.0, 0.01), (0.5, 0.01), (0.3, 0.0)])
def test_band_limit_refuses_bad_settings(cutoff, width):
    with pytest.raises(ValueError, match="cutoff"):
        band_limit(torch.zeros(16), cutoff, width)
