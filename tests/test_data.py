"""revise.train.data: file discovery, split by track, cached decoding, excerpts and the DataModule."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from revise import audio
from revise.config import DataConfig
from revise.train import data
from revise.train.data import (
    EpochSampler,
    ExcerptDataset,
    excerpt_sets,
    find_audio_files,
    load_tracks,
    read_split_file,
    split_tracks,
)

RATE = 8000


def tone(path: Path, seconds: float = 0.5, rate: int = 22050, channels: int = 2, level: float = 0.3) -> Path:
    """Write a sine [seconds * rate, channels] to `path` (any supported suffix); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(round(seconds * rate)) / rate
    x = level * np.sin(2 * np.pi * 440 * t)
    sf.write(str(path), np.repeat(x[:, None], channels, axis=1), rate)
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    """Six short tracks over two sub-folders and the root, in three formats."""
    root = tmp_path / "music"
    for i in range(3):
        tone(root / "a" / f"a{i}.wav", seconds=0.4 + 0.1 * i)
        tone(root / "b" / f"b{i}.flac", seconds=0.5, rate=44100, channels=1)
    tone(root / "c.ogg", seconds=0.5)
    (root / "readme.txt").write_text("not audio")
    tone(root / ".hidden" / "skip.wav")
    return root


def test_find_audio_files_recursive_sorted_and_filtered(folder):
    names = [p.relative_to(folder).as_posix() for p in find_audio_files(folder)]
    assert names == ["a/a0.wav", "a/a1.wav", "a/a2.wav", "b/b0.flac", "b/b1.flac", "b/b2.flac", "c.ogg"]


def test_find_audio_files_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        find_audio_files(tmp_path / "nope")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="holds no audio files"):
        find_audio_files(tmp_path)


def test_split_by_track_is_disjoint_deterministic_and_spread(folder):
    files = find_audio_files(folder)
    train, val = split_tracks(files, folder, 0.3)
    assert set(train).isdisjoint(val) and sorted(train + val) == sorted(files)
    assert len(val) == 2 and {p.parent.name for p in val} == {"a", "b"}  # one from each folder
    assert (train, val) == split_tracks(list(reversed(files)), folder, 0.3)


def test_a_folder_of_symlinked_tracks_splits_like_the_tracks(folder, tmp_path):
    links = tmp_path / "links"
    links.mkdir()
    for track in find_audio_files(folder):  # links named after the tracks, elsewhere on disk
        (links / track.relative_to(folder).as_posix().replace("/", "__")).symlink_to(track)
    train, val = split_tracks(find_audio_files(links), links, 0.3)
    assert len(train) == 5 and len(val) == 2 and all(p.parent == links for p in train + val)


def test_split_needs_two_files(tmp_path):
    only = tone(tmp_path / "one.wav")
    with pytest.raises(ValueError, match="at least 2"):
        split_tracks([only], tmp_path, 0.1)
    train, val = split_tracks([only, tone(tmp_path / "two.wav")], tmp_path, 0.1)
    assert len(train) == 1 and len(val) == 1


def test_split_file_is_used_exactly(folder, tmp_path):
    split_file = tmp_path / "split.json"
    split_file.write_text(json.dumps({"train": ["a/a0.wav", "c.ogg"], "val": ["b/b2.flac"]}))
    train, val = split_tracks(find_audio_files(folder), folder, 0.1, split_file)
    assert train == [folder / "a/a0.wav", folder / "c.ogg"] and val == [folder / "b/b2.flac"]
    assert read_split_file(split_file, folder) == (train, val)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"train": ["a/a0.wav"], "val": ["gone.wav"]}', "missing from"),
        ('{"train": ["a/a0.wav"], "val": ["a/a0.wav"]}', "in both train and val"),
        ('{"train": ["a/a0.wav"], "val": []}', "non-empty lists"),
        ('["a/a0.wav"]', "non-empty lists"),
        ("{not json", "not valid JSON"),
    ],
)
def test_bad_split_files(folder, tmp_path, content, message):
    split_file = tmp_path / "split.json"
    split_file.write_text(content)
    with pytest.raises(ValueError, match=message):
        split_tracks(find_audio_files(folder), folder, 0.1, split_file)


def test_load_tracks_mono_resampled_float32(folder):
    files = [folder / "a/a0.wav", folder / "b/b0.flac"]
    tracks = load_tracks(files, RATE)
    assert [t.dtype for t in tracks] == [np.float32, np.float32]
    assert [len(t) for t in tracks] == [round(0.4 * RATE), round(0.5 * RATE)]
    assert abs(np.sqrt(np.mean(tracks[0] ** 2)) - 0.3 / np.sqrt(2)) < 0.01  # stereo sine mixed to mono


def test_load_tracks_cache_avoids_decoding(folder, tmp_path, monkeypatch):
    files = find_audio_files(folder)
    cache = tmp_path / "cache"
    first = load_tracks(files, RATE, cache)
    assert len(list(cache.glob("*.npy"))) == len(files)

    def refuse(*args, **kwargs):
        raise AssertionError("decoded although the track is cached")

    monkeypatch.setattr(data, "read_audio", refuse)
    monkeypatch.setattr(audio.sf, "SoundFile", refuse)
    second = load_tracks(files, RATE, cache)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_load_tracks_cache_key_follows_rate_and_content(folder, tmp_path):
    cache = tmp_path / "cache"
    track = folder / "a/a0.wav"
    load_tracks([track], RATE, cache)
    load_tracks([track], 2 * RATE, cache)
    tone(track, seconds=0.7)  # rewritten: size and mtime change
    assert len(load_tracks([track], RATE, cache)[0]) == round(0.7 * RATE)
    assert len(list(cache.glob("*.npy"))) == 3


def test_load_tracks_skips_bad_short_and_silent(folder, caplog):
    (folder / "broken.wav").write_text("not audio")
    tone(folder / "quiet.wav", level=0.0)
    files = [folder / "a/a0.wav", folder / "broken.wav", folder / "quiet.wav", folder / "a/a2.wav"]
    with caplog.at_level(logging.WARNING, logger="revise.train.data"):
        tracks = load_tracks(files, RATE, min_samples=round(0.5 * RATE))
    assert [len(t) for t in tracks] == [round(0.6 * RATE)]
    assert "broken.wav" in caplog.text and "silent" in caplog.text and "shorter" in caplog.text


def test_silent_folder_is_refused(tmp_path):
    for i in range(3):
        tone(tmp_path / f"s{i}.wav", level=0.0)
    with pytest.raises(ValueError, match="all files are silent or unreadable"):
        load_tracks(find_audio_files(tmp_path), RATE)


def test_excerpts_shapes_weighting_and_determinism():
    tracks = [
        np.arange(100, dtype=np.float32),
        np.arange(1000, 10000, dtype=np.float32),
        np.zeros(5, np.float32),
    ]
    dataset = ExcerptDataset(tracks, excerpt_samples=50, count=200, seed=3, fixed=True)
    assert len(dataset.tracks) == 2  # the 5-sample track is shorter than an excerpt
    items = [dataset[i] for i in range(len(dataset))]
    assert all(item.dtype == torch.float32 and item.shape == (50,) for item in items)
    assert all(torch.equal(torch.diff(item), torch.ones(49)) for item in items)  # contiguous excerpts
    from_long = sum(int(item[0] >= 1000) for item in items)
    assert from_long > 170  # the 9000-sample track is chosen about 99 % of the time
    again = ExcerptDataset(tracks, 50, 200, seed=3, fixed=True)
    assert all(torch.equal(again[i], items[i]) for i in range(200))
    other = ExcerptDataset(tracks, 50, 200, seed=4, fixed=True)
    assert not all(torch.equal(other[i], items[i]) for i in range(200))
    with pytest.raises(IndexError):
        dataset[200]
    with pytest.raises(ValueError, match="at least 50000 samples"):
        ExcerptDataset(tracks, 500 * 100, 10)


def test_surroundings_hold_the_excerpt_in_its_track_and_mark_what_lies_beyond():
    tracks = [np.arange(1, 301, dtype=np.float32)]  # sample k holds k + 1, so positions are visible
    dataset = ExcerptDataset(tracks, excerpt_samples=100, count=50, seed=0, fixed=True)
    for index in range(50):
        window, beyond = dataset.with_surroundings(index, margin=80)
        excerpt = dataset[index].numpy()
        assert window.shape == (260,) and np.array_equal(window[80:180], excerpt)
        first = int(excerpt[0]) - 1  # the excerpt's start in the track
        expected = np.arange(first - 80, first + 180, dtype=np.float32) + 1
        inside = (expected >= 1) & (expected <= 300)
        assert np.array_equal(window[inside], expected[inside]) and not window[~inside].any()
        marked = np.zeros(260, dtype=bool)
        for start, end in beyond:
            marked[start:end] = True
        assert np.array_equal(marked, ~inside)


def test_epoch_sampler_gives_new_draws_each_epoch():
    sampler = EpochSampler(4)
    assert list(sampler) == [0, 1, 2, 3]
    sampler.set_epoch(2)
    assert list(sampler) == [8, 9, 10, 11] and len(sampler) == 4
    dataset = ExcerptDataset([np.random.default_rng(0).standard_normal(5000).astype(np.float32)], 100, 4)
    assert not torch.equal(dataset[0], dataset[8])


def test_excerpt_sets_split_the_folder_by_track(folder, tmp_path):
    config = DataConfig(
        root=str(folder),
        excerpt_seconds=0.25,
        val_fraction=0.3,
        cache_dir=str(tmp_path / "cache"),
        excerpts_per_epoch=10,
        val_excerpts=6,
    )
    train, val = excerpt_sets(config, RATE)
    assert train.excerpt_samples == val.excerpt_samples == 2000
    assert train[0].shape == (2000,) and train[0].dtype == torch.float32
    assert len(train) == 10 and len(val) == 6
    assert torch.equal(torch.stack([val[i] for i in range(6)]), torch.stack([val[i] for i in range(6)]))
    assert len(val.tracks) == 2 and len(train.tracks) == 5


def test_datamodule_refuses_a_silent_folder(tmp_path):
    for i in range(3):
        tone(tmp_path / f"s{i}.wav", level=0.0)
    with pytest.raises(ValueError, match="silent or unreadable"):
        excerpt_sets(DataConfig(root=str(tmp_path), excerpt_seconds=0.1), RATE)
