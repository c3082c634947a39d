"""Typed, frozen settings: the one home for every default.

A run is described by a `Config` (frame, model, revision, autoregressive, data and training
settings). YAML files map one-to-one onto these dataclasses; unknown keys and wrong types are
refused with a `ValueError` that names the key, so a typo never trains the wrong model silently.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

Encoding = Literal["raw", "fourier"]
RnnKind = Literal["gru", "lstm"]
ScheduleName = Literal["all", "shrink", "alternate"]
SCHEDULES: tuple[str, ...] = typing.get_args(ScheduleName)  # the one list of schedule names

# Limits and defaults of the commands, here so the CLI can state them without loading torch.
MAX_GAP_SECONDS = 1.0  # the longest single gap inpainted in one piece (the reviser trains on up to 0.5 s)
MAX_GENERATE_SECONDS = 600.0  # the longest generation in one call (the whole draft is held in memory)
BENCHMARK_GAP_MS: tuple[float, ...] = (20.0, 50.0, 100.0, 200.0)
BENCHMARK_PASSES: tuple[int, ...] = (0, 1, 2, 4, 8)
BENCHMARK_GAPS_PER_CLIP = 4
GENERATION_PROMPT_SECONDS = 10.0  # the generation benchmark's prompt, cut from each clip's start
GENERATION_SECONDS = 8.0  # and the continuation it is compared over
# Generation revises its seams only when asked (--passes 1): at a sample-aligned match the crossfade
# leaves no measurable seam, and revised seams measured louder clicks and a level dip (MODEL_CARD.md).
GENERATION_PASSES = 0
SILENT_RMS = 1e-3  # about -60 dBFS: audio this quiet is warned about, and skipped by the benchmark
JANSSEN_ITERATIONS = 20  # AR re-estimations of the Janssen baseline, as in Mokrý & Rajmic's study
# The fills inpainting chooses among on pseudo-gaps cut beside each gap (`revise.probe`), and the
# one it keeps when no pseudo-gap fits: the reviser's.
CANDIDATES: tuple[str, ...] = ("revise", "ar", "janssen")
# At zero passes: the draft, or one-sided AR, chosen on a pseudo-gap before the gaps only, so the
# fill still reads nothing after them.
DRAFT_CANDIDATES: tuple[str, ...] = ("revise", "ar-causal")
# Janssen started from the AR hint: 3 iterations score as 20 from silence do (MODEL_CARD.md)
CANDIDATE_JANSSEN_ITERATIONS = 3
# Where no candidate fills the pseudo-gaps beside a gap better than UNPREDICTABLE_DB (of SNR), the
# choice among them is noise, and the reviser is kept unless it is more than RECKLESS_DB worse there
# than the best: it keeps the sound where the classical fills fade out. On the validation tracks (68
# gaps a length, MODEL_CARD.md item 18) this changed nothing at 20 ms, raised gap SNR by 0 to 0.6 dB
# and lowered LSD by 0.2 to 2.1 dB at 50 to 500 ms.
UNPREDICTABLE_DB, RECKLESS_DB = 3.0, 2.0


@dataclass(frozen=True)
class DetectConfig:
    """What `revise.detect.find_dropouts` counts as a dropout; README "Finding dropouts" has the measurements.

    A run of one held sample value (zero or not, in every channel) is a dropout when it lasts at
    least `min_seconds` and the audio's RMS over `context_seconds` on each side reaches `level_db`
    (dB below full scale).
    """

    min_seconds: float = 0.005
    context_seconds: float = 0.02
    level_db: float = -50.0

    def __post_init__(self) -> None:
        if not (0 < self.min_seconds <= MAX_GAP_SECONDS and 0 < self.context_seconds < float("inf")):
            raise ValueError(f"detect.min_seconds must be in (0, {MAX_GAP_SECONDS:g}] s and detect.context_seconds "
                             "positive and finite.")
        if not -200 < self.level_db <= 0:
            raise ValueError(f"detect.level_db must be in (-200, 0] dB below full scale, got {self.level_db}.")

    def min_samples(self, sample_rate: int) -> int:
        """The shortest dropout in samples: `min_seconds` rounded up (17 ms at 48 kHz is 816.0000000000001 samples)."""
        return int(math.ceil(self.min_seconds * sample_rate - 1e-6))


@dataclass(frozen=True)
class FrameConfig:
    """How audio is cut into overlapping frames at the model's own sample rate."""

    sample_rate: int = 16000
    frame_length: int = 256  # L, samples per frame
    hop_length: int = 128  # H, samples between frame starts; L / H must be an integer >= 2
    encoding: Encoding = "raw"

    def __post_init__(self) -> None:
        if self.sample_rate <= 0:
            raise ValueError(f"frame.sample_rate must be positive, got {self.sample_rate}.")
        if self.hop_length <= 0 or self.frame_length % self.hop_length != 0:
            raise ValueError(
                f"frame.frame_length ({self.frame_length}) must be a multiple of "
                f"frame.hop_length ({self.hop_length})."
            )
        if self.frame_length // self.hop_length < 2:
            raise ValueError("frame.frame_length must be at least twice frame.hop_length.")

    @property
    def feature_size(self) -> int:
        """F, the width of one encoded frame."""
        if self.encoding == "raw":
            return self.frame_length
        return 2 * (self.frame_length // 2 + 1)


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the drafter (causal RNN) and the reviser (bidirectional RNN)."""

    rnn: RnnKind = "gru"
    hidden_size: int = 256
    drafter_layers: int = 2
    reviser_layers: int = 2
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.hidden_size <= 0 or self.drafter_layers <= 0 or self.reviser_layers <= 0:
            raise ValueError("model sizes (hidden_size, drafter_layers, reviser_layers) must be positive.")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"model.dropout must be in [0, 1), got {self.dropout}.")


@dataclass(frozen=True)
class RevisionConfig:
    """How many revision passes run, and which frames each re-masks (`revise.revision.schedules`).

    An exported model stores the values it was measured best with; the user can override both per
    call. Validation during training runs these too.
    """

    passes: int = 1
    schedule: ScheduleName = "shrink"

    def __post_init__(self) -> None:
        if self.passes < 0:
            raise ValueError(f"revision.passes must be >= 0, got {self.passes}.")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}.")


@dataclass(frozen=True)
class ARConfig:
    """Two-sided Burg autoregressive fill, used as the reviser's starting point and as a baseline.

    Samples at the model rate: order 600 with 3000 samples of context per side (37.5 and 187.5 ms
    at 16 kHz), the best of the settings `scripts/sweep_ar.py` tried (MODEL_CARD.md has the figures).
    """

    order: int = 600
    context: int = 3000
    # Gap-wise Janssen iterations that refine the reviser's two-sided hint (0: the Burg fill as it is)
    janssen_iterations: int = 0

    def __post_init__(self) -> None:
        if self.order <= 0 or self.context <= self.order:
            raise ValueError("ar.order must be positive and smaller than ar.context.")
        if self.janssen_iterations < 0:
            raise ValueError(f"ar.janssen_iterations must be >= 0, got {self.janssen_iterations}.")

    def scaled(self, factor: float) -> ARConfig:
        """The same fill in time at a rate `factor` times this one's: order and context scaled."""
        order = max(1, round(self.order * factor))
        return ARConfig(order, max(order + 1, round(self.context * factor)), self.janssen_iterations)


@dataclass(frozen=True)
class MatchConfig:
    """The similarity hint (`revise.hints.similarity`): the stretch of the recording that best matches a gap.

    Samples at the model rate. 3 s of search on each side reaches the previous bar at most tempos;
    100 ms sides and the mean of the 3 best matches scored best on the validation tracks.
    """

    search: int = 48000
    context: int = 1600
    candidates: int = 3

    def __post_init__(self) -> None:
        if self.search <= 0 or self.context <= 0 or self.candidates <= 0:
            raise ValueError("match.search, match.context and match.candidates must be positive.")

    @property
    def reach(self) -> int:
        """Samples on each side of a gap the search may read: its search plus the candidates' sides."""
        return self.search + self.context


@dataclass(frozen=True)
class ContinuationConfig:
    """Generation from the prompt's own material (`revise.hints.continuation`), in seconds.

    After the prompt's last sample, the continuation jumps back to a stretch of the prompt whose
    `context` before it best matches the last `context` of what is written so far, and copies on
    from there for a drawn length, at least `min_piece` and at most to the prompt's end; each jump
    picks among the `candidates` best matches (at least `spacing` apart) by a seeded draw, and the
    pieces meet through a `crossfade`. A prompt needs `context + min_piece` seconds at least.
    """

    context: float = 1.5
    min_piece: float = 1.0
    crossfade: float = 0.02
    candidates: int = 3
    spacing: float = 0.25

    def __post_init__(self) -> None:
        if not (self.context > 0 and self.min_piece > 0 and self.crossfade > 0 and self.spacing > 0):
            raise ValueError("continuation context, min_piece, crossfade and spacing must be positive seconds.")
        if self.crossfade > min(self.context, self.min_piece):
            raise ValueError("the continuation crossfade must be no longer than its context and its shortest piece.")
        if self.candidates <= 0:
            raise ValueError("continuation candidates must be positive.")

    @property
    def min_prompt(self) -> float:
        """The shortest prompt, in seconds, that holds one context and one piece."""
        return self.context + self.min_piece


@dataclass(frozen=True)
class DataConfig:
    """A folder of audio, cut into random mono excerpts at the model rate."""

    root: str = "data/corpus"
    excerpt_seconds: float = 1.0
    val_fraction: float = 0.1
    split_file: str | None = None  # a JSON {"train": [...], "val": [...]} of paths relative to root
    cache_dir: str | None = None  # decoded, resampled tracks are stored here once
    excerpts_per_epoch: int = 2000
    val_excerpts: int = 64
    num_workers: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.excerpt_seconds <= 0:
            raise ValueError(f"data.excerpt_seconds must be positive, got {self.excerpt_seconds}.")
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError(f"data.val_fraction must be in (0, 1), got {self.val_fraction}.")
        if self.excerpts_per_epoch <= 0 or self.val_excerpts <= 0 or self.num_workers < 0:
            raise ValueError("data.excerpts_per_epoch and data.val_excerpts must be positive, data.num_workers >= 0.")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation, masking and logging settings."""

    batch_size: int = 16
    learning_rate: float = 1e-3
    max_steps: int = 2000
    max_minutes: float | None = None
    val_every_steps: int = 200
    # last.ckpt is rewritten every this many steps, so a run killed without warning (kill -9, a
    # crash) loses at most these; about 2.5 minutes of the default model's steps on 2 CPU cores
    checkpoint_every: int = 100
    gradient_clip: float = 1.0
    # Weight of the multi-resolution STFT term beside the main objective, for both networks. The STFT
    # term is ~30x larger than frame L1 on raw audio, so a light weight keeps the loss
    # waveform-dominant (gap SNR).
    stft_weight: float = 0.01
    loss: Literal["l1", "mse"] = "l1"  # frame loss; "mse" only to compare against the old recipe
    # The main term: gap SNR of the overlap-added waveform (the figure a fill is judged by), or the
    # frame loss, with which the reviser plateaued below its AR hint (MODEL_CARD.md).
    objective: Literal["snr", "frame"] = "snr"
    # What the run trains: both networks, or one alone with the other kept as it was loaded (--init),
    # e.g. a new drafter for a trained reviser, or a reviser fine-tuned to a new hint.
    trainable: Literal["all", "drafter", "reviser"] = "all"
    max_span_seconds: float = 0.5  # longest masked span drawn in training
    scattered_frames: float = 0.05  # fraction of extra single frames masked
    unroll_passes: int = 2  # reviser passes unrolled in training (train as you infer)
    accelerator: str = "auto"
    devices: int | str = "auto"  # per machine
    # Machines training together (Lightning's Trainer(num_nodes)): each runs `revise train` with the
    # same config, started by a cluster launcher (SLURM, torchrun) that sets the rendezvous variables
    num_nodes: int = 1
    threads: int | None = None  # torch CPU threads; 1 avoids oversubscription on a busy small machine
    precision: str = "32-true"
    output_dir: str = "runs/default"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.batch_size <= 0 or self.max_steps <= 0 or self.learning_rate <= 0:
            raise ValueError("train.batch_size, train.max_steps and train.learning_rate must be positive.")
        if self.unroll_passes < 1:
            raise ValueError("train.unroll_passes must be at least 1.")
        if self.val_every_steps <= 0 or self.checkpoint_every <= 0 or (self.threads is not None and self.threads <= 0):
            raise ValueError("train.val_every_steps, train.checkpoint_every and train.threads (when set) must be positive.")
        if self.num_nodes < 1:
            raise ValueError(f"train.num_nodes must be at least 1 (machines training together), got {self.num_nodes}.")
        if min(self.stft_weight, self.gradient_clip) < 0:
            raise ValueError("train.stft_weight and train.gradient_clip must be >= 0.")
        if self.max_span_seconds <= 0 or not 0.0 <= self.scattered_frames < 1.0:
            raise ValueError("train.max_span_seconds must be positive and train.scattered_frames in [0, 1).")


@dataclass(frozen=True)
class Config:
    """Everything one training run needs."""

    frame: FrameConfig = field(default_factory=FrameConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    revision: RevisionConfig = field(default_factory=RevisionConfig)
    ar: ARConfig = field(default_factory=ARConfig)
    match: MatchConfig = field(default_factory=MatchConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def from_dict(cls: type, values: Any, where: str = "config") -> Any:
    """Build dataclass `cls` from nested dicts, refusing unknown keys and wrong types."""
    if not isinstance(values, dict):
        raise ValueError(f"{where} must be a mapping of keys to values, got {type(values).__name__}.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"unknown key {where}.{unknown[0]}; valid keys are: {', '.join(fields)}.")
    hints = typing.get_type_hints(cls)
    kwargs = {name: _coerce(hints[name], value, f"{where}.{name}") for name, value in values.items()}
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    """Check `value` against the type `hint`; ints are accepted where floats are expected."""
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, where)
    origin = typing.get_origin(hint)
    if origin is Literal:
        if value not in typing.get_args(hint):
            choices = ", ".join(repr(a) for a in typing.get_args(hint))
            raise ValueError(f"{where} must be one of {choices}, got {value!r}.")
        return value
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            try:
                return _coerce(option, value, where)
            except ValueError:
                continue
        raise ValueError(f"{where} has the wrong type: {value!r} is not {_type_name(hint)}.")
    if hint is type(None):
        if value is None:
            return None
    elif hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    elif hint in (int, str, bool) and type(value) is hint:
        return value
    raise ValueError(f"{where} has the wrong type: {value!r} is not {_type_name(hint)}.")


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", str(hint).replace("typing.", ""))


def load_config(path: str | Path) -> Config:
    """Read a YAML run description into a `Config`; missing sections keep their defaults."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"config file {path} is a folder; give the path of a YAML file, e.g. configs/tiny.yaml.")
    if not path.is_file():
        raise ValueError(f"config file {path} does not exist; check the path, e.g. configs/tiny.yaml.")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except UnicodeDecodeError:
        raise ValueError(f"config file {path} is not a text file; give a YAML file.") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "cannot be parsed"
        raise ValueError(f"config file {path} is not valid YAML ({problem}{where}); fix that line.") from None
    if not isinstance(values, dict):
        raise ValueError(
            f"config file {path} must hold sections such as train: and model:, not a {type(values).__name__}."
        )
    return from_dict(Config, values)


def to_dict(config: Any) -> dict[str, Any]:
    """The plain-dict form of any config dataclass (for JSON and YAML)."""
    return dataclasses.asdict(config)
