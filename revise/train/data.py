"""Training data: a folder of audio files, split by track, cut into random mono excerpts (no Lightning).

Files are found recursively, split into training and validation by file (never by excerpt, so no
track leaks across), decoded once, mixed to mono, resampled to the model rate and cached as int16
`.npy` files so later runs start at once. Excerpts are drawn with a track chosen in proportion to
its length; draw number i is a pure function of (seed, i), so a run is reproducible from its seed
whatever the number of loader workers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from revise.audio import (
    AUDIO_SUFFIXES,
    AudioError,
    from_float,
    list_audio_files,
    read_audio,
    resample,
    to_float,
    to_mono,
)
from revise.config import DataConfig

log = logging.getLogger(__name__)

SILENCE_RMS = 1e-4  # about -80 dBFS: a track this quiet teaches the model nothing
_CACHE_VERSION = 1  # bump when the decoding or caching recipe changes


def find_audio_files(root: str | Path) -> list[Path]:
    """Every audio file under `root`, recursively, sorted; hidden files and folders are skipped."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(
            f"the audio folder {root} does not exist; check data.root or run scripts/fetch_corpus.sh."
        )
    files = list_audio_files(root)
    if not files:
        raise ValueError(
            f"{root} holds no audio files ({', '.join(AUDIO_SUFFIXES)}); point data.root at a music folder."
        )
    return files


def _relative(path: Path, root: Path) -> str:
    try:  # abspath, not resolve: a symlinked track belongs to the folder that holds the link
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        raise ValueError(f"{path} is not inside the audio folder {root}.") from None


def _hash_unit(text: str) -> float:
    """A stable pseudo-random number in [0, 1) for `text` (unlike hash(), the same in every run)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2.0**64


def split_tracks(
    files: Sequence[Path], root: str | Path, val_fraction: float, split_file: str | Path | None = None
) -> tuple[list[Path], list[Path]]:
    """Split audio files into (train, val) by whole track.

    With `split_file` the JSON {"train": [...], "val": [...]} (paths relative to `root`) is used
    exactly. Otherwise about `val_fraction` of the tracks go to validation, chosen by a stable hash
    of their path relative to `root` and spread over the top-level folders in proportion to their
    size. Both splits are non-empty, so at least two files are needed: one file is refused rather
    than used for both, because a validation score on training audio would be misleading.
    """
    root = Path(root)
    if split_file is not None:
        return read_split_file(split_file, root, files)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}.")
    if len(files) < 2:
        raise ValueError(
            f"a train/validation split by track needs at least 2 audio files; {root} holds {len(files)}."
        )
    relative = {_relative(Path(path), root): Path(path) for path in files}
    val_names = _choose_val(sorted(relative), val_fraction)
    train = [relative[name] for name in sorted(relative) if name not in val_names]
    val = [relative[name] for name in sorted(relative) if name in val_names]
    return train, val


def _choose_val(names: list[str], val_fraction: float) -> set[str]:
    """Pick round(val_fraction * n) names (at least 1, at most n - 1), spread over top-level folders."""
    groups: dict[str, list[str]] = defaultdict(list)
    for name in names:
        groups[name.split("/")[0] if "/" in name else ""].append(name)
    total = min(max(1, round(val_fraction * len(names))), len(names) - 1)
    quotas = {group: val_fraction * len(members) for group, members in groups.items()}
    counts = {group: int(quota) for group, quota in quotas.items()}
    # Largest remainders first (ties by name), so the total is met and the spread stays fair.
    order = sorted(groups, key=lambda group: (counts[group] - quotas[group], group))
    for group in itertools.cycle(order):
        if sum(counts.values()) >= total:
            break
        if counts[group] < len(groups[group]):
            counts[group] += 1
    chosen: set[str] = set()
    for group, members in groups.items():
        chosen.update(sorted(members, key=_hash_unit)[: counts[group]])
    return chosen


def read_split_file(
    split_file: str | Path, root: str | Path, files: Sequence[Path] = ()
) -> tuple[list[Path], list[Path]]:
    """Read a JSON {"train": [...], "val": [...]} of paths relative to `root` into (train, val)."""
    split_file, root = Path(split_file), Path(root)
    if not split_file.is_file():
        raise ValueError(f"the split file {split_file} does not exist; check data.split_file.")
    try:
        split = json.loads(split_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"the split file {split_file} is not valid JSON ({error}).") from None
    lists = (split.get("train"), split.get("val")) if isinstance(split, dict) else (None, None)
    if not all(
        isinstance(names, list) and names and all(isinstance(n, str) for n in names) for names in lists
    ):
        raise ValueError(
            f"the split file {split_file} must hold non-empty lists of paths under 'train' and 'val'."
        )
    train_names, val_names = lists
    shared = sorted(set(train_names) & set(val_names))
    if shared:
        raise ValueError(
            f"the split file {split_file} puts {shared[0]} in both train and val; a track may be in one only."
        )
    missing = [name for name in train_names + val_names if not (root / name).is_file()]
    if missing:
        raise ValueError(
            f"the split file {split_file} lists {len(missing)} files missing from {root} "
            f"(first: {missing[0]}); fetch or render them as the config's comment says (scripts/fetch_corpus.sh, "
            "scripts/render_solo_set.py --training) or fix the split file."
        )
    unlisted = len({_relative(Path(f), root) for f in files} - set(train_names) - set(val_names))
    if unlisted:
        log.info("%d audio files under %s are not in %s and are not used", unlisted, root, split_file)
    return [root / name for name in train_names], [root / name for name in val_names]


def load_tracks(
    files: Sequence[Path],
    sample_rate: int,
    cache_dir: str | Path | None = None,
    min_samples: int = 1,
    workers: int = 2,
) -> list[np.ndarray]:
    """Decode each file to mono float32 [samples] at `sample_rate`, in the order of `files`.

    With `cache_dir` each decoded track is kept there as int16 .npy (keyed by resolved path, size,
    mtime and rate), and a later call loads it instead of decoding. Files that cannot be decoded,
    are shorter than `min_samples` or are silent (RMS below SILENCE_RMS) are skipped with a warning.
    """
    cache = Path(cache_dir) if cache_dir is not None else None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    # Threads suffice: libsndfile and soxr release the GIL while they decode and resample.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        loaded = list(pool.map(lambda path: _load_track(Path(path), sample_rate, cache), files))
    tracks = [
        track
        for path, track in zip(files, loaded, strict=True)
        if _usable(path, track, sample_rate, min_samples)
    ]
    if not tracks:
        raise ValueError(
            f"the {len(files)} audio files given hold no usable audio: all files are silent or unreadable, "
            f"or shorter than {min_samples / sample_rate:.2f} s."
        )
    seconds = sum(len(track) for track in tracks) / sample_rate
    log.info(
        "loaded %d of %d tracks, %.2f hours at %d Hz", len(tracks), len(files), seconds / 3600, sample_rate
    )
    return tracks


def _usable(path: Path, track: np.ndarray | None, sample_rate: int, min_samples: int) -> bool:
    if track is None:
        return False
    if len(track) < min_samples:
        log.warning("skipping %s: %.2f s is shorter than one excerpt", path, len(track) / sample_rate)
        return False
    if np.sqrt(np.mean(np.square(track, dtype=np.float64))) < SILENCE_RMS:
        log.warning("skipping %s: it is silent", path)
        return False
    return True


def _load_track(path: Path, sample_rate: int, cache: Path | None) -> np.ndarray | None:
    """One track as float32 [samples], from the cache when possible; None when it cannot be read."""
    cached = _cache_path(cache, path, sample_rate) if cache is not None else None
    if cached is not None and cached.is_file():
        return to_float(np.load(cached)).astype(np.float32)
    try:
        audio = read_audio(path)
    except AudioError as error:
        log.warning("skipping %s", error)
        return None
    mono = to_mono(to_float(audio.samples))
    track = resample(mono, audio.sample_rate, sample_rate).astype(np.float32)
    if cached is None:
        return track
    quantised = from_float(track, np.int16)
    temp = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
    with temp.open("wb") as handle:  # a killed run must not leave a half-written cache entry
        np.save(handle, quantised)
    os.replace(temp, cached)
    return to_float(quantised).astype(np.float32)  # identical to what the next run loads


def _cache_path(cache: Path, path: Path, sample_rate: int) -> Path:
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{sample_rate}|v{_CACHE_VERSION}"
    return cache / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.npy"


class EpochSampler(Sampler[int]):
    """Numbers the draws of epoch e as e * count ... (e + 1) * count - 1, so each epoch is new.

    Lightning calls `set_epoch` at every epoch start; the sampler runs in the main process, so this
    works with persistent workers too.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.epoch * self.count, (self.epoch + 1) * self.count))


class ExcerptDataset(Dataset):
    """Random excerpts float32 [excerpt_samples] from mono tracks, a track chosen ∝ its length.

    Item i depends only on (seed, i). With `fixed=True` (validation) only i < count is valid, so
    every epoch sees the same excerpts; with `fixed=False` any i >= 0 is a fresh draw: read it
    through `EpochSampler` for new excerpts every epoch. Tracks shorter than an excerpt are skipped.
    """

    def __init__(
        self,
        tracks: Sequence[np.ndarray],
        excerpt_samples: int,
        count: int,
        seed: int = 0,
        fixed: bool = False,
    ) -> None:
        if excerpt_samples <= 0 or count <= 0:
            raise ValueError(
                f"excerpt_samples and count must be positive, got {excerpt_samples} and {count}."
            )
        self.tracks = [track for track in tracks if len(track) >= excerpt_samples]
        if not self.tracks:
            raise ValueError(
                f"no track is at least {excerpt_samples} samples long; use shorter excerpts or longer files."
            )
        if len(self.tracks) < len(tracks):
            log.info(
                "%d tracks are shorter than one excerpt and are not used", len(tracks) - len(self.tracks)
            )
        lengths = np.array([len(track) for track in self.tracks], dtype=np.float64)
        self.cumulative = np.cumsum(lengths) / lengths.sum()  # [tracks], for length-weighted choice
        self.excerpt_samples = excerpt_samples
        self.count = count
        self.seed = seed
        self.fixed = fixed

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> torch.Tensor:
        track, start = self._draw(index)
        excerpt = track[start : start + self.excerpt_samples]
        return torch.from_numpy(np.array(excerpt, dtype=np.float32))  # a copy: workers must not share views

    def with_surroundings(self, index: int, margin: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Excerpt `index` with `margin` samples of its track on each side, float32 [margin + N + margin],
        and the (start, end) ranges that lie beyond the track (zeros, to be treated as unknown)."""
        track, start = self._draw(index)
        window = np.zeros(self.excerpt_samples + 2 * margin, dtype=np.float32)
        first, last = max(0, start - margin), min(len(track), start + self.excerpt_samples + margin)
        offset = first - (start - margin)
        window[offset : offset + last - first] = track[first:last]
        beyond = [(0, offset), (offset + last - first, len(window))]
        return window, [(a, b) for a, b in beyond if b > a]

    def _draw(self, index: int) -> tuple[np.ndarray, int]:
        """The track and start sample of excerpt `index`."""
        if index < 0 or (self.fixed and index >= self.count):
            raise IndexError(f"excerpt {index} is out of range for {self.count} fixed excerpts.")
        rng = np.random.default_rng([self.seed, index])
        choice = min(int(np.searchsorted(self.cumulative, rng.random(), side="right")), len(self.tracks) - 1)
        track = self.tracks[choice]
        return track, int(rng.integers(0, len(track) - self.excerpt_samples + 1))


def excerpt_sets(data: DataConfig, sample_rate: int) -> tuple[ExcerptDataset, ExcerptDataset]:
    """(training, validation) excerpts of the folder `data.root`, split by track, at `sample_rate`.

    Training excerpts are fresh draws for every index (read them through `EpochSampler`);
    validation holds `data.val_excerpts` fixed ones.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}.")
    root = Path(data.root)
    train_files, val_files = split_tracks(find_audio_files(root), root, data.val_fraction, data.split_file)
    log.info("%d training and %d validation tracks under %s", len(train_files), len(val_files), root)
    excerpt_samples = round(data.excerpt_seconds * sample_rate)
    train = _load_split(train_files, "training", data, sample_rate, excerpt_samples)
    val = _load_split(val_files, "validation", data, sample_rate, excerpt_samples)
    return (ExcerptDataset(train, excerpt_samples, data.excerpts_per_epoch, data.seed),
            ExcerptDataset(val, excerpt_samples, data.val_excerpts, data.seed, fixed=True))


def _load_split(files: list[Path], split: str, data: DataConfig, sample_rate: int, excerpt_samples: int):
    try:
        return load_tracks(files, sample_rate, data.cache_dir, excerpt_samples)
    except ValueError:
        raise ValueError(
            f"{data.root} holds no usable audio for the {split} split: all {len(files)} files are "
            f"silent or unreadable, or shorter than one excerpt ({data.excerpt_seconds} s)."
        ) from None
