"""Masks: frame masks (revise.dsp.framing), training gaps (revise.train.examples) and the per-pass
revision schedules (revise.revision.schedules)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from revise.config import SCHEDULES
from revise.dsp.framing import frame_mask, frames_touching, num_frames, sample_mask
from revise.revision.schedules import revision_masks
from revise.train.examples import draw_training_gaps

PROPERTY = settings(max_examples=50, deadline=None, database=None)


def runs(row: torch.Tensor) -> list[tuple[int, int]]:
    """[first, last) of each True run in a 1-D bool tensor (written independently of the schedules' own run finder)."""
    out, start = [], None
    for index, value in enumerate(row.tolist() + [False]):
        if value and start is None:
            start = index
        elif not value and start is not None:
            out.append((start, index))
            start = None
    return out


def mask_from_runs(count: int, spans: list[tuple[int, int]]) -> torch.Tensor:
    mask = torch.zeros(count, dtype=torch.bool)
    for first, last in spans:
        mask[first:last] = True
    return mask


def example_to_fill() -> torch.Tensor:
    """bool [3, 40]: runs of many lengths, at the edges and in the middle, and an empty row."""
    rows = [
        [(0, 3), (6, 7), (9, 11), (14, 17), (20, 30), (33, 40)],
        [(5, 25)],
        [],
    ]
    return torch.stack([mask_from_runs(40, spans) for spans in rows])


# --- frame and sample masks -----------------------------------------------------------------------


@pytest.mark.parametrize(("frame_length", "hop"), [(8, 4), (9, 3), (256, 128), (64, 16)])
@pytest.mark.parametrize("gaps", [[(0, 1)], [(10, 20)], [(3, 4), (30, 60)], [(99, 100)], [(0, 100)], []])
def test_frame_mask_agrees_with_frames_touching(frame_length, hop, gaps):
    length = 100
    mask = frame_mask(sample_mask(gaps, length), frame_length, hop)
    assert mask.dtype == torch.bool and mask.shape == (num_frames(length, frame_length, hop),)
    expected = torch.zeros_like(mask)
    for start, end in gaps:
        first, last = frames_touching(start, end, frame_length, hop)
        expected[first:last] = True
    assert torch.equal(mask, expected)


def test_frame_mask_works_per_row_of_a_batch():
    samples = torch.stack([sample_mask([(10, 20)], 300), sample_mask([(200, 290)], 300), sample_mask([], 300)])
    batch = frame_mask(samples, 64, 32)
    for row, sample_row in zip(batch, samples):
        assert torch.equal(row, frame_mask(sample_row, 64, 32))
    assert not batch[2].any()


def test_sample_mask_marks_exactly_the_gaps():
    mask = sample_mask([(2, 5), (7, 8)], 10)
    assert mask.dtype == torch.bool
    assert mask.tolist() == [False, False, True, True, True, False, False, True, False, False]
    assert not sample_mask([], 4).any()


# --- training gaps --------------------------------------------------------------------------------


def check_training_gaps(gaps: list[tuple[int, int]], length: int, hop: int, max_span: int) -> None:
    assert gaps, "at least the main span is drawn"
    assert gaps == sorted(gaps)
    for start, end in gaps:
        assert hop <= start < end <= length, (start, end)  # one hop of known audio before every gap
        assert end - start >= hop
    for (_, end), (next_start, _) in zip(gaps, gaps[1:]):
        assert next_start >= end + hop, "gaps are separated by at least one hop of known audio"
    assert max(end - start for start, end in gaps) <= max(hop, max_span)


@pytest.mark.parametrize(("length", "hop", "max_span"), [(8000, 128, 3200), (4000, 64, 800), (1000, 64, 5000)])
def test_training_gaps_are_sorted_disjoint_and_in_bounds(length, hop, max_span):
    for seed in range(50):
        gaps = draw_training_gaps(length, hop, max_span, 0.05, torch.Generator().manual_seed(seed))
        check_training_gaps(gaps, length, hop, max_span)


def test_training_gaps_vary_and_sometimes_run_to_the_end():
    draws = [draw_training_gaps(8000, 128, 3200, 0.05, torch.Generator().manual_seed(s)) for s in range(100)]
    assert len({tuple(g) for g in draws}) > 90
    to_end = sum(g[-1][1] == 8000 for g in draws)
    assert 2 <= to_end <= 30  # about to_end_probability = 0.1
    assert sum(len(g) > 1 for g in draws) > 50  # scattered single-hop gaps are drawn too


def test_training_gaps_are_deterministic_for_a_generator_seed():
    first = draw_training_gaps(8000, 128, 3200, 0.1, torch.Generator().manual_seed(7))
    again = draw_training_gaps(8000, 128, 3200, 0.1, torch.Generator().manual_seed(7))
    other = draw_training_gaps(8000, 128, 3200, 0.1, torch.Generator().manual_seed(8))
    assert first == again
    assert first != other


def test_training_gaps_do_not_touch_the_global_generator():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    draw_training_gaps(8000, 128, 3200, 0.1, torch.Generator().manual_seed(1))
    assert torch.equal(torch.rand(3), expected)


@PROPERTY
@given(
    hop=st.integers(1, 64),
    hops=st.integers(3, 200),
    extra=st.integers(0, 63),
    max_span=st.integers(1, 5000),
    fraction=st.floats(0.0, 0.3),
    seed=st.integers(0, 2**31),
)
def test_property_training_gaps(hop, hops, extra, max_span, fraction, seed):
    length = hops * hop + extra % hop
    gaps = draw_training_gaps(length, hop, max_span, fraction, torch.Generator().manual_seed(seed))
    check_training_gaps(gaps, length, hop, max_span)


def test_training_gaps_for_an_excerpt_shorter_than_two_hops_are_refused():
    with pytest.raises(ValueError, match="shorter than two hops"):
        draw_training_gaps(7, 4, 40, 0.0, torch.Generator().manual_seed(0))
    gaps = draw_training_gaps(8, 4, 40, 0.0, torch.Generator().manual_seed(0))  # exactly two hops: one gap
    assert len(gaps) == 1 and 4 <= gaps[0][0] < gaps[0][1] <= 8


# --- revision schedules ---------------------------------------------------------------------------


def masks_of(to_fill: torch.Tensor, passes: int, schedule: str) -> list[torch.Tensor]:
    """`revision_masks` (numpy) of a torch mask, as torch tensors for the assertions here."""
    return [torch.from_numpy(mask) for mask in revision_masks(to_fill.numpy(), passes, schedule)]


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("passes", [1, 2, 3, 5, 8])
def test_every_mask_is_a_subset_of_to_fill_and_pass_one_is_all_of_it(schedule, passes):
    to_fill = example_to_fill()
    masks = masks_of(to_fill, passes, schedule)
    assert len(masks) == passes
    assert torch.equal(masks[0], to_fill)
    for mask in masks:
        assert mask.dtype == torch.bool and mask.shape == to_fill.shape
        assert not (mask & ~to_fill).any()
        for row, fill_row in zip(mask, to_fill):  # every run of frames to fill is worked on
            assert all(row[first:last].any() for first, last in runs(fill_row))


@pytest.mark.parametrize("passes", [1, 2, 4])
def test_schedule_all_repeats_to_fill(passes):
    to_fill = example_to_fill()
    masks = masks_of(to_fill, passes, "all")
    assert all(torch.equal(mask, to_fill) for mask in masks)
    masks[0][0, 0] = ~masks[0][0, 0]  # the masks are copies, not views of to_fill
    assert torch.equal(to_fill, example_to_fill())


@pytest.mark.parametrize("passes", [2, 3, 4, 8])
def test_shrink_masks_shrink_monotonically_around_each_run_centre(passes):
    to_fill = example_to_fill()
    masks = masks_of(to_fill, passes, "shrink")
    for earlier, later in zip(masks, masks[1:]):
        assert not (later & ~earlier).any(), "each pass re-predicts a subset of the previous one"
    for row in range(to_fill.shape[0]):
        for first, last in runs(to_fill[row]):
            sizes = [int(mask[row, first:last].sum()) for mask in masks]
            assert sizes == sorted(sizes, reverse=True)
            for mask in masks[1:]:  # one contiguous block, centred in the run
                (begin, end), = runs(mask[row, first:last])
                assert abs(begin - (last - first - end)) <= 1
    # long runs do shrink
    long_run = to_fill[1]
    assert int(masks[-1][1].sum()) < int(long_run.sum())


@pytest.mark.parametrize("passes", [2, 3, 4])
def test_shrink_keeps_frames_next_to_known_audio_fixed_after_pass_one(passes):
    """For runs long enough that the share to re-predict leaves room (here runs of 10 and 20 frames)."""
    to_fill = torch.stack([mask_from_runs(40, [(2, 12), (15, 35)])])
    for mask in masks_of(to_fill, passes, "shrink")[1:]:
        for first, last in runs(to_fill[0]):
            assert not mask[0, first] and not mask[0, last - 1], (first, last, mask[0].int().tolist())


@pytest.mark.parametrize(("run", "passes"), [(3, 2), (5, 4), (9, 8)])
def test_shrink_keeps_frames_next_to_known_audio_fixed_for_short_runs(run, passes):
    to_fill = mask_from_runs(run + 4, [(2, 2 + run)])[None]
    for mask in masks_of(to_fill, passes, "shrink")[1:]:
        assert not mask[0, 2] and not mask[0, 1 + run], mask[0].int().tolist()


@pytest.mark.parametrize("passes", [2, 3, 5])
def test_alternate_masks_alternate(passes):
    to_fill = example_to_fill()
    masks = masks_of(to_fill, passes, "alternate")
    for row in range(to_fill.shape[0]):
        for first, last in runs(to_fill[row]):
            for k, mask in enumerate(masks[1:], start=2):
                picked = torch.nonzero(mask[row, first:last]).flatten().tolist()
                if last - first == 1:
                    assert picked == [0]  # a run of one frame is always re-predicted
                else:
                    assert picked == list(range(k % 2, last - first, 2))
    for a, b in zip(masks[1:], masks[2:]):  # consecutive later passes: disjoint and together all of to_fill
        single = torch.stack([mask_from_runs(40, [r for r in runs(row) if r[1] - r[0] == 1]) for row in to_fill])
        assert not (a & b & ~single).any()
        assert torch.equal(a | b, to_fill)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_zero_passes_gives_no_masks(schedule):
    assert masks_of(example_to_fill(), 0, schedule) == []


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_rows_are_independent(schedule):
    to_fill = example_to_fill()
    batch = masks_of(to_fill, 4, schedule)
    for index in range(to_fill.shape[0]):
        single = masks_of(to_fill[index], 4, schedule)
        assert all(torch.equal(b[index], s) for b, s in zip(batch, single))


def test_bad_schedule_or_pass_count_is_refused():
    with pytest.raises(ValueError, match="unknown schedule 'spiral'"):
        masks_of(example_to_fill(), 2, "spiral")
    with pytest.raises(ValueError, match="passes must be >= 0"):
        masks_of(example_to_fill(), -1, "all")
