"""revise.dsp.framing: exact overlap-add, invertible encodings, frame masks, the naive join."""

from __future__ import annotations

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
@given(data=st.data(), hop=st.integers(1, 16), overlap=st.integers(2, 6), length=st.integers(1, 400))
def test_property_frames_touching_agrees_with_brute_force(data, hop, overlap, length):
    start = data.draw(st.integers(0, length - 1), label="start")
    end = data.draw(st.integers(start + 1, length), label="end")
    first, last = frames_touching(start, end, hop * overlap, hop)
    assert list(range(first, last)) == brute_force_touching(start, end, length, hop * overlap, hop)
