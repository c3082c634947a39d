"""Every command answers bad input with one sentence, exit code 2, no traceback and no file written.

The real CLI (`revise.cli.main`) runs on real files in a temporary folder. After each refused
command the output folder must be empty (no output, no temporary file) and every input file must
hold the same bytes as before.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from revise.checkpoint import WEIGHTS_NAME, export_model, load_model, model_settings
from revise.cli.main import main
from revise.config import MAX_GAP_SECONDS, ARConfig, FrameConfig, ModelConfig, to_dict
from revise.nn.model import RevisionModel

RATE = 16000
TINY_YAML = """\
frame: {sample_rate: 16000, frame_length: 128, hop_length: 64}
model: {hidden_size: 8, drafter_layers: 1, reviser_layers: 1}
ar: {order: 16, context: 128}
data: {excerpt_seconds: 0.25, val_fraction: 0.3, excerpts_per_epoch: 8, val_excerpts: 2}
train: {batch_size: 2, max_steps: 2, val_every_steps: 1, accelerator: cpu, devices: 1}
"""


def _tiny_model() -> RevisionModel:
    torch.manual_seed(0)
    frame, sizes = FrameConfig(), ModelConfig(hidden_size=32, drafter_layers=1, reviser_layers=1)
    return RevisionModel(frame, sizes, ar=ARConfig(order=32, context=256)).eval()


def _fake_checkpoint(model: RevisionModel, path: Path, **model_overrides) -> None:
    """What `model_from_lightning_checkpoint` reads from a Lightning checkpoint, without training."""
    sections = model_settings(model)
    sections["model"].update(model_overrides)
    state = {f"model.{name}": tensor for name, tensor in model.state_dict().items()}
    torch.save({"state_dict": state, "hyper_parameters": {"config": sections}, "global_step": 3, "epoch": 0}, path)


def _model_variant(source: Path, target: Path, weights: bytes | None = None, **config_changes) -> None:
    shutil.copytree(source, target)
    if weights is not None:
        (target / WEIGHTS_NAME).write_bytes(weights)
    config = json.loads((target / "config.json").read_text())
    for key, value in config_changes.items():
        section, _, name = key.partition("__")
        if name:
            config[section][name] = value
        else:
            config[section] = value
    (target / "config.json").write_text(json.dumps(config))


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """A folder of good and bad inputs, models and configs, shared by every case. Never written to."""
    d = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    t = np.arange(2 * RATE) / RATE
    sf.write(d / "clip.wav", 0.3 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(len(t)), RATE,
             subtype="PCM_16")
    clip = (d / "clip.wav").read_bytes()
    (d / "empty.wav").write_bytes(b"")
    (d / "text.wav").write_text("these are words, not audio samples\n" * 20)
    (d / "truncated.wav").write_bytes(clip[: len(clip) // 2])
    (d / "header_only.wav").write_bytes(clip[:30])
    sf.write(d / "clip.flac", 0.3 * rng.standard_normal(RATE), RATE, subtype="PCM_16")
    flac = bytearray((d / "clip.flac").read_bytes())
    flac[2000:2400] = bytes(400)
    (d / "corrupt.flac").write_bytes(bytes(flac))
    sf.write(d / "zero_length.wav", np.zeros(0), RATE, subtype="PCM_16")
    for name, bad in (("nan.wav", np.nan), ("inf.wav", np.inf)):
        x = np.zeros(RATE, dtype=np.float32)
        x[100] = bad
        sf.write(d / name, x, RATE, subtype="FLOAT")
    x = np.zeros(2 * RATE, dtype=np.float32)
    x[RATE // 5 : 3 * RATE // 2] = np.nan
    sf.write(d / "long_nan.wav", x, RATE, subtype="FLOAT")
    (d / "a_folder").mkdir()
    (d / "a_file").write_text("a regular file")

    model = _tiny_model()
    export_model(model, d / "model")
    weights = (d / "model" / WEIGHTS_NAME).read_bytes()
    flipped = bytearray(weights)
    flipped[len(weights) // 2] ^= 0xFF
    _model_variant(d / "model", d / "model_corrupt", bytes(flipped))
    _model_variant(d / "model", d / "model_truncated", weights[:1000])
    short = weights[:1000]
    _model_variant(d / "model", d / "model_truncated_rehashed", short, weights_sha256=hashlib.sha256(short).hexdigest())
    _model_variant(d / "model", d / "model_other_arch", model__hidden_size=64)
    _model_variant(d / "model", d / "model_newer", format_version=99)
    shutil.copytree(d / "model", d / "model_bad_json")
    (d / "model_bad_json" / "config.json").write_text("{not json")
    (d / "model_empty").mkdir()
    _fake_checkpoint(model, d / "good.ckpt")
    _fake_checkpoint(model, d / "other_arch.ckpt", hidden_size=64)
    torch.save({"state_dict": {}, "code": Path("x")}, d / "pickled_code.ckpt")  # needs unpickling a class

    (d / "tiny.yaml").write_text(TINY_YAML)
    (d / "unknown_key.yaml").write_text(TINY_YAML.replace("max_steps: 2", "max_stepz: 2"))
    (d / "wrong_type.yaml").write_text(TINY_YAML.replace("max_steps: 2", "max_steps: two"))
    (d / "invalid.yaml").write_text("train: [\n  : :\n")
    (d / "no_audio").mkdir()
    (d / "no_audio" / "notes.txt").write_text("no audio here")
    (d / "silent").mkdir()
    for index in range(3):
        sf.write(d / "silent" / f"quiet{index}.wav", np.zeros(RATE // 2), RATE, subtype="PCM_16")
    (d / "music").mkdir()
    for index in range(3):
        sf.write(d / "music" / f"track{index}.wav", 0.3 * rng.standard_normal(RATE // 2), RATE, subtype="PCM_16")
    return d


def _snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under `folder` (folders by name)."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        for path in sorted(folder.rglob("*"))
    }


def _run(argv: list[str], data: Path, out: Path, capfd) -> tuple[int, str, str]:
    """Run the CLI with {data} and {out} filled in; returns (exit code, stdout, stderr).

    capfd captures the file descriptors, so output of libraries that kept a handle on the original
    streams (Lightning's loggers) is seen too.
    """
    capfd.readouterr()
    try:
        code = main([arg.format(data=data, out=out) for arg in argv])
    except SystemExit as stop:  # argparse refuses a value
        code = stop.code
    captured = capfd.readouterr()
    return code, captured.out, captured.err


def _assert_refused(code: int, out: str, err: str, expected: str) -> None:
    """Exit 2, no traceback, and one message naming the problem (one `revise: error:` line, or argparse's)."""
    assert code == 2, err
    assert "Traceback" not in err and "Traceback" not in out
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    if errors[0].startswith("revise: error:"):
        assert all(line.startswith("revise: ") for line in err.splitlines()), err  # no Lightning or library noise
        assert errors[0].rstrip().endswith("."), err
        assert out == ""
    else:
        assert err.startswith("usage: revise ") and errors[0].startswith("revise "), err  # argparse
    assert re.search(expected, errors[0], flags=re.IGNORECASE), f"{expected!r} not in {errors[0]!r}"


INPAINT = ["inpaint", "{data}/clip.wav", "-o", "{out}/fixed.wav", "--model", "{data}/model"]
GENERATE = ["generate", "-o", "{out}/new.wav", "--seconds", "0.5", "--model", "{data}/model"]
TRAIN = ["train", "--config", "{data}/tiny.yaml", "--data-root", "{data}/music", "--output-dir", "{out}/run"]


def _inpaint(*extra: str, input: str = "{data}/clip.wav", gap: str = "0.5:0.6") -> list[str]:
    return ["inpaint", input, "-o", "{out}/fixed.wav", "--model", "{data}/model", "--gap", gap, *extra]


def _with(argv: list[str], option: str, value: str) -> list[str]:
    """`argv` with `option`'s value replaced."""
    argv = list(argv)
    argv[argv.index(option) + 1] = value
    return argv


CASES = {
    # input files
    "missing input": (_inpaint(input="{data}/nope.wav"), "nope.wav does not exist"),
    "folder as input": (_inpaint(input="{data}/a_folder"), "is a folder, not an audio file"),
    "empty file": (_inpaint(input="{data}/empty.wav"), r"is empty \(0 bytes\)"),
    "not audio": (_inpaint(input="{data}/text.wav"), "not an audio file"),
    "truncated wav": (_inpaint(input="{data}/truncated.wav"), "truncated"),
    "wav header only": (_inpaint(input="{data}/header_only.wav"), "could not be decoded.*truncated or corrupt"),
    "corrupt flac": (_inpaint(input="{data}/corrupt.flac"), "could not be decoded.*truncated or corrupt"),
    "zero-length audio": (_inpaint(input="{data}/zero_length.wav"), "holds no audio samples"),
    "NaN samples": (_inpaint(input="{data}/nan.wav"), "NaN or infinite"),
    "infinite samples": (_inpaint(input="{data}/inf.wav"), "NaN or infinite"),
    # gaps
    "gap with a dash": (_inpaint(gap="1.2-1.3"), "argument --gap: gap '1.2-1.3' is malformed; write START:END"),
    "gap not numbers": (_inpaint(gap="a:b"), "argument --gap: gap 'a:b' is malformed"),
    "gap end before start": (_inpaint(gap="1.3:1.2"), "malformed; it needs 0 <= START < END"),
    "gap end equals start": (_inpaint(gap="1.2:1.2"), "malformed; it needs 0 <= START < END"),
    "negative gap": (_inpaint(gap="-1:0.2"), "gap '-1:0.2' is malformed; it needs 0 <= START"),
    "negative gap with =": (_inpaint()[:-2] + ["--gap=-0.5:0.2"], "is malformed; it needs 0 <= START"),
    "gap not finite": (_inpaint(gap="1:inf"), "both finite"),
    "gap beyond the end": (_inpaint(gap="1.9:2.5"), r"ends beyond the end of the audio \(2.000 s\)"),
    "gap after the end": (_inpaint(gap="3:3.1"), "ends beyond the end of the audio"),
    "gap too long": (_inpaint(gap=f"0.2:{0.3 + MAX_GAP_SECONDS}"), f"at most {MAX_GAP_SECONDS} s"),
    "no gap": (INPAINT, "say which gaps to fill: give --gap START:END .* or --detect"),
    # finding the gaps
    "dry run without --detect": (_inpaint("--dry-run"), "--dry-run lists the dropouts that --detect finds; add --detect"),
    "dry run with an output": (["inpaint", "{data}/clip.wav", "--detect", "--dry-run", "-o", "{out}/fixed.wav"],
                               "writes nothing, so -o does not belong"),
    "dry run with a gap": (["inpaint", "{data}/clip.wav", "--detect", "--dry-run", "--gap", "0.5:0.6"],
                           "--gap does not belong"),
    "dry run with zero passes": (["inpaint", "{data}/clip.wav", "--detect", "--dry-run", "--passes", "0"],
                                 "so --passes does not belong with it"),
    "dry run of a missing input": (["inpaint", "{data}/nope.wav", "--detect", "--dry-run"], "nope.wav does not exist"),
    "detect without an output": (["inpaint", "{data}/clip.wav", "--detect"], "with -o OUTPUT"),
    "detect NaN too long to fill": (["inpaint", "{data}/long_nan.wav", "-o", "{out}/fixed.wav", "--detect"],
                                    "NaN or infinite samples from 0.200 s to 1.500 s, longer than the 1 s"),
    # outputs
    "output is the input": (_with(_inpaint(), "-o", "{data}/clip.wav"), "is the input file"),
    "output folder missing": (_with(_inpaint(), "-o", "{out}/nowhere/fixed.wav"), "output folder .* does not exist"),
    "output is a folder": (_with(_inpaint(), "-o", "{out}"), "is a folder; give a file name"),
    "output under a file": (_with(_inpaint(), "-o", "{data}/a_file/fixed.wav"), "a_file is a file, not a folder"),
    "output format unknown": (_with(_inpaint(), "-o", "{out}/fixed.xyz"), "cannot tell the audio format"),
    # models
    "model missing": (_with(_inpaint(), "--model", "{data}/no_model"), "no_model does not exist"),
    "model is a file": (_with(_inpaint(), "--model", "{data}/clip.wav"), "is not a model folder"),
    "model folder empty": (_with(_inpaint(), "--model", "{data}/model_empty"), "has no config.json"),
    "model corrupted": (_with(_inpaint(), "--model", "{data}/model_corrupt"), "corrupted.*checksum"),
    "model truncated": (_with(_inpaint(), "--model", "{data}/model_truncated"), "corrupted.*checksum"),
    "model truncated, checksum matching": (_with(_inpaint(), "--model", "{data}/model_truncated_rehashed"),
                                           "not a readable safetensors file"),
    "model config not JSON": (_with(_inpaint(), "--model", "{data}/model_bad_json"), "not valid JSON"),
    "model of another architecture": (_with(_inpaint(), "--model", "{data}/model_other_arch"),
                                      "another architecture"),
    "model of a newer format": (_with(_inpaint(), "--model", "{data}/model_newer"), "format version 99, newer"),
    # numbers
    "negative passes": (_inpaint("--passes", "-1"), "argument --passes: '-1' must be 0 or more"),
    "passes not a number": (_inpaint("--passes", "two"), "argument --passes: 'two' is not a whole number"),
    "seed too large": (GENERATE + ["--seed", str(2**70)], "argument --seed: .* must be a whole number from 0"),
    "unknown schedule": (_inpaint("--schedule", "fast"), "argument --schedule: invalid choice"),
    # generate
    "generate zero seconds": (_with(GENERATE, "--seconds", "0"), "argument --seconds: '0' must be a positive number"),
    "generate seconds not a number": (_with(GENERATE, "--seconds", "abc"), "'abc' is not a number"),
    "generate negative seconds": (_with(GENERATE, "--seconds", "-1"), "'-1' must be a positive number"),
    "generate NaN seconds": (_with(GENERATE, "--seconds", "nan"), "'nan' must be a positive number"),
    "generate too many seconds": (_with(GENERATE, "--seconds", "1e12"), "seconds must be a positive number up to"),
    "generate missing prompt": (GENERATE + ["--prompt", "{data}/nope.wav"], "nope.wav does not exist"),
    "generate prompt not audio": (GENERATE + ["--prompt", "{data}/text.wav"], "not an audio file"),
    "generate prompt with NaN": (GENERATE + ["--prompt", "{data}/nan.wav"], "NaN or infinite"),
    "generate output is the prompt": (_with(GENERATE, "-o", "{data}/clip.wav") + ["--prompt", "{data}/clip.wav"],
                                      "is the input file"),
    "generate output folder missing": (_with(GENERATE, "-o", "{out}/nowhere/new.wav"), "does not exist"),
    "generate output format unknown": (_with(GENERATE, "-o", "{out}/new.txt"), "cannot tell the audio format"),
    "generate corrupt model": (_with(GENERATE, "--model", "{data}/model_corrupt"), "corrupted"),
    "generate negative passes": (GENERATE + ["--passes", "-1"], "must be 0 or more"),
    # train
    "train config missing": (_with(TRAIN, "--config", "{data}/nope.yaml"), "config file .*nope.yaml does not exist"),
    "train config is a folder": (_with(TRAIN, "--config", "{data}/a_folder"), "is a folder; give the path of a YAML"),
    "train config unknown key": (_with(TRAIN, "--config", "{data}/unknown_key.yaml"),
                                 "unknown key config.train.max_stepz"),
    "train config wrong type": (_with(TRAIN, "--config", "{data}/wrong_type.yaml"),
                                "config.train.max_steps has the wrong type"),
    "train config invalid YAML": (_with(TRAIN, "--config", "{data}/invalid.yaml"), "not valid YAML .*line 2"),
    "train config not a mapping": (_with(TRAIN, "--config", "{data}/clip.wav"), "not a text file|not valid YAML"),
    "train data folder missing": (_with(TRAIN, "--data-root", "{data}/no_such_folder"), "does not exist"),
    "train data folder without audio": (_with(TRAIN, "--data-root", "{data}/no_audio"), "holds no audio files"),
    "train data folder only silence": (_with(TRAIN, "--data-root", "{data}/silent"), "no usable audio.*silent"),
    "train output dir is a file": (_with(TRAIN, "--output-dir", "{data}/a_file"), "is a file; choose another"),
    "train zero steps": (TRAIN + ["--max-steps", "0"], "max_steps .*must be positive"),
    "train init missing": (TRAIN + ["--init", "{data}/nope"], "model .*nope does not exist"),
    "train init corrupted": (TRAIN + ["--init", "{data}/model_bad_json"], "corrupted"),
    "train init of another shape": (TRAIN + ["--init", "{data}/model"], "cannot start from .*: its frame, model and ar settings differ"),
    "train negative steps": (TRAIN + ["--max-steps", "-3"], "argument --max-steps: '-3' must be 0 or more"),
    # export
    "export missing checkpoint": (["export", "{data}/nope.ckpt", "{out}/model"], "nope.ckpt does not exist"),
    "export folder as checkpoint": (["export", "{data}/a_folder", "{out}/model"], "is not a file"),
    "export non-checkpoint": (["export", "{data}/clip.wav", "{out}/model"], "cannot be read"),
    "export checkpoint with code": (["export", "{data}/pickled_code.ckpt", "{out}/model"], "cannot be read"),
    "export checkpoint of another architecture": (["export", "{data}/other_arch.ckpt", "{out}/model"],
                                                  "another architecture"),
    "export output is a file": (["export", "{data}/good.ckpt", "{data}/a_file", "--force"], "a_file is a file"),
    "export output is a foreign folder": (["export", "{data}/good.ckpt", "{data}/music", "--force"],
                                          "holds files other than an exported model"),
    "export output folder missing": (["export", "{data}/good.ckpt", "{out}/nowhere/model"], "does not exist"),
    "export output under a file": (["export", "{data}/good.ckpt", "{data}/a_file/model"], "is a file, not a folder"),
    # evaluate
    "evaluate missing reference": (["evaluate", "--reference", "{data}/nope.wav", "--estimate", "{data}/clip.wav",
                                    "--gap", "0.5:0.6"], "does not exist"),
    "evaluate estimate not audio": (["evaluate", "--reference", "{data}/clip.wav", "--estimate", "{data}/text.wav",
                                     "--gap", "0.5:0.6"], "not an audio file"),
    "evaluate gap beyond the end": (["evaluate", "--reference", "{data}/clip.wav", "--estimate", "{data}/clip.wav",
                                     "--gap", "1.5:2.5"], "beyond the end"),
    "evaluate folder as audio": (["evaluate", "{data}/a_folder"], "is a folder"),
    "evaluate benchmark folder without audio": (["evaluate", "--benchmark", "{data}/no_audio", "--out", "{out}/rep"],
                                                "holds no audio files"),
    "evaluate report folder missing": (["evaluate", "--benchmark", "{data}/music", "--out", "{out}/no/rep"],
                                       "does not exist"),
    "evaluate report is a file": (["evaluate", "--benchmark", "{data}/music", "--out", "{data}/a_file", "--force"],
                                  "is a file"),
    "evaluate corrupt model": (["evaluate", "--benchmark", "{data}/music", "--out", "{out}/rep", "--model",
                                "{data}/model_corrupt"], "corrupted"),
    "evaluate unknown baseline": (["evaluate", "--benchmark", "{data}/music", "--out", "{out}/rep",
                                   "--baselines", "ar,magic"], "unknown baseline 'magic'"),
    "evaluate rate too low": (["evaluate", "--benchmark", "{data}/music", "--out", "{out}/rep", "--rate", "4000"],
                              "from 8000 to 384000 Hz"),
    "evaluate stream with a rate": (["evaluate", "{data}/clip.wav", "--rate", "44100"],
                                    "--rate belongs with --benchmark, not with AUDIO"),
    "evaluate benchmark with a stream option": (["evaluate", "--benchmark", "{data}/music", "--out", "{out}/rep",
                                                 "--hop", "64"], "--hop belongs with AUDIO, not with --benchmark"),
    "evaluate stream with a benchmark option": (["evaluate", "{data}/clip.wav", "--passes", "2"],
                                                "--passes belongs with --benchmark, not with AUDIO"),
    "evaluate fill with a benchmark option": (["evaluate", "--reference", "{data}/clip.wav", "--estimate",
                                               "{data}/clip.wav", "--gap", "0.5:0.6", "--seed", "3"],
                                              "--seed belongs with --benchmark"),
    "evaluate stream with a zero benchmark option": (
        ["evaluate", "{data}/clip.wav", "--seed", "0"],
        "--seed belongs with --benchmark or --generation or --conceal, not with AUDIO"),
    "evaluate generation with gap lengths": (["evaluate", "--generation", "{data}/music", "--out", "{out}/rep",
                                              "--gap-ms", "20"], "--gap-ms belongs with --benchmark, not with "
                                                                  "--generation"),
    "evaluate generation of a missing folder": (["evaluate", "--generation", "{data}/nope", "--out", "{out}/rep"],
                                                "does not exist"),
    "evaluate generation too short": (["evaluate", "--generation", "{data}/music", "--out", "{out}/rep",
                                       "--seconds", "0.5"], "--seconds must be at least 1"),
    "evaluate seconds without generation": (["evaluate", "--benchmark", "{data}/music", "--out", "{out}/rep",
                                             "--seconds", "3"], "--seconds belongs with --generation"),
    "generate from a too short prompt": (["generate", "-o", "{out}/more.wav", "--seconds", "1", "--prompt",
                                          "{data}/clip.wav", "--passes", "0"], "needs at least 2.500 s"),
}


@pytest.mark.parametrize("argv, expected", list(CASES.values()), ids=list(CASES))
def test_bad_input_is_refused_in_one_sentence(argv, expected, data, tmp_path, capfd):
    """Exit 2, one message naming the problem, no traceback, nothing written, inputs untouched."""
    out = tmp_path / "out"
    out.mkdir()
    before = _snapshot(data)
    code, stdout, stderr = _run(argv, data, out, capfd)
    _assert_refused(code, stdout, stderr, expected)
    assert list(out.iterdir()) == [], "a refused command wrote into the output folder"
    assert _snapshot(data) == before, "a refused command changed or created a file among the inputs"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("argv", [_with(_inpaint(), "-o", "/proc/revise-test.wav"),
                                  _with(GENERATE, "-o", "/proc/revise-test.wav"),
                                  ["export", "{data}/good.ckpt", "/proc/revise-test-model"]],
                         ids=["inpaint", "generate", "export"])
def test_unwritable_output_folder_is_refused_before_work(argv, data, tmp_path, capfd):
    """Permission bits do not stop root, so the output folder is one no process can create files in."""
    before = _snapshot(data)
    code, stdout, stderr = _run(argv, data, tmp_path, capfd)
    _assert_refused(code, stdout, stderr, "cannot be written")
    assert not Path("/proc/revise-test.wav").exists() and not Path("/proc/revise-test-model").exists()
    assert _snapshot(data) == before


@pytest.mark.parametrize(
    "argv, output",
    [(_inpaint(), "fixed.wav"), (GENERATE, "new.wav"), (["export", "{data}/good.ckpt", "{out}/model"], "model")],
    ids=["inpaint", "generate", "export"],
)
def test_existing_output_needs_force(argv, output, data, tmp_path, capfd):
    """Without --force an existing output is kept byte for byte; with --force it is replaced."""
    target = tmp_path / output
    if output == "model":
        export_model(_tiny_model(), target)
    else:
        target.write_bytes(b"precious")
    kept = _snapshot(tmp_path)
    code, stdout, stderr = _run(argv, data, tmp_path, capfd)
    _assert_refused(code, stdout, stderr, "already exists; pass --force")
    assert _snapshot(tmp_path) == kept

    code, stdout, stderr = _run(argv + ["--force"], data, tmp_path, capfd)
    assert code == 0, stderr
    assert _snapshot(tmp_path) != kept
    assert [p.name for p in tmp_path.iterdir()] == [output], "a temporary file was left behind"
    if output == "model":
        load_model(target)
    else:
        assert sf.info(str(target)).frames > 0


def test_overlapping_gaps_are_merged_with_a_warning(data, tmp_path, capfd):
    before = _snapshot(data)
    argv = _inpaint("--gap", "0.55:0.7", "--gap", "1.0:1.1")
    code, stdout, stderr = _run(argv, data, tmp_path, capfd)
    assert code == 0, stderr
    assert stderr.strip().splitlines() == ["revise: gaps overlapping or touching at 0.550 s were merged into one gap"]
    assert "Traceback" not in stderr
    filled, _ = sf.read(tmp_path / "fixed.wav", dtype="int16")
    original, _ = sf.read(data / "clip.wav", dtype="int16")
    assert filled.shape == original.shape
    assert np.array_equal(filled[: int(0.4 * RATE)], original[: int(0.4 * RATE)])  # far from every gap
    assert [p.name for p in tmp_path.iterdir()] == ["fixed.wav"]
    assert _snapshot(data) == before


def test_resume_refuses_a_checkpoint_of_another_model(data, tmp_path, capfd):
    """`train` on an output folder whose last checkpoint has other sizes says so instead of crashing."""
    checkpoints = tmp_path / "run" / "checkpoints"
    checkpoints.mkdir(parents=True)
    shutil.copy(data / "good.ckpt", checkpoints / "last.ckpt")
    kept = _snapshot(tmp_path)
    code, stdout, stderr = _run(TRAIN, data, tmp_path, capfd)
    _assert_refused(code, stdout, stderr, "cannot resume from .*other frame, model, ar or match settings.*--fresh")
    assert _snapshot(tmp_path) == kept

    (checkpoints / "last.ckpt").write_bytes(b"half a checkpoint")
    code, stdout, stderr = _run(TRAIN, data, tmp_path, capfd)
    _assert_refused(code, stdout, stderr, "cannot resume from .*not a readable revise checkpoint.*--fresh")


def test_real_process_prints_no_traceback(data, tmp_path):
    """The module as a separate process: exit 2, one message, nothing else on stdout or stderr."""
    before = _snapshot(data)
    args = [arg.format(data=data, out=tmp_path) for arg in _inpaint(input="{data}/truncated.wav")]
    result = subprocess.run([sys.executable, "-m", "revise", *args], capture_output=True, text=True, timeout=120)
    _assert_refused(result.returncode, result.stdout, result.stderr, "truncated")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert list(tmp_path.iterdir()) == []
    assert _snapshot(data) == before


def test_tiny_model_round_trip(data):
    """The shared model folder is a valid export (so the model cases above fail for their own reason)."""
    model = load_model(data / "model")
    assert to_dict(model.model) == to_dict(ModelConfig(hidden_size=32, drafter_layers=1, reviser_layers=1))
