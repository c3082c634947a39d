"""A `revise train` process killed with SIGKILL mid-epoch resumes from its last checkpoint, and one
sent SIGINT or SIGTERM saves the step it reached and exits 130 or 143.

The real command runs in a subprocess on a tiny config and a small synthetic folder; it is killed
as soon as it has written a step checkpoint, then the same command is run again. The second run
must say it resumes, leave the first run's checkpoints alone (it did not start from step 0) and
end at max_steps with every checkpoint readable.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from revise.checkpoint import load_model

MAX_STEPS = 24
CONFIG = f"""\
frame: {{sample_rate: 16000, frame_length: 128, hop_length: 64}}
model: {{hidden_size: 8, drafter_layers: 1, reviser_layers: 1}}
revision: {{passes: 1}}
ar: {{order: 16, context: 128}}
data: {{excerpt_seconds: 0.125, val_fraction: 0.3, excerpts_per_epoch: 16, val_excerpts: 2, cache_dir: null}}
train: {{batch_size: 2, max_steps: {MAX_STEPS}, val_every_steps: 6, checkpoint_every: 2, max_span_seconds: 0.03,
         unroll_passes: 1, accelerator: cpu, devices: 1, threads: 1}}
"""  # 8 steps per epoch, last.ckpt every 2 and a step file every 6: the kill lands mid-epoch, before step 6


def _step(path: Path) -> int:
    return torch.load(path, map_location="cpu", weights_only=True)["global_step"]


def _step_checkpoints(folder: Path) -> dict[int, str]:
    """Step number -> sha256 of every stepN.ckpt in `folder`."""
    return {
        int(re.fullmatch(r"step(\d+)\.ckpt", path.name).group(1)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in folder.glob("step*.ckpt")
    }


def training_command(tmp_path: Path, config: str = CONFIG) -> list[str]:
    """The `revise train` command line of a tiny run on three synthetic tones in `tmp_path`."""
    data = tmp_path / "music"
    data.mkdir()
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    for index in range(3):
        tone = 0.3 * np.sin(2 * np.pi * 220 * (index + 1) * t) + 0.02 * rng.standard_normal(len(t))
        sf.write(data / f"track{index}.wav", tone, 16000, subtype="PCM_16")
    (tmp_path / "tiny.yaml").write_text(config)
    return [sys.executable, "-m", "revise", "-v", "train", "--config", str(tmp_path / "tiny.yaml"),
            "--data-root", str(data), "--output-dir", str(tmp_path / "run")]


ENVIRONMENT = {**os.environ, "OMP_NUM_THREADS": "1"}


def start_and_signal(command: list[str], cwd: Path, signum: int, stderr=subprocess.DEVNULL) -> subprocess.Popen:
    """Start `command`, send `signum` once it has written its first checkpoint, wait for it to end."""
    last = cwd / "run" / "checkpoints" / "last.ckpt"
    process = subprocess.Popen(command, cwd=cwd, env=ENVIRONMENT, stdout=subprocess.DEVNULL, stderr=stderr,
                               text=True)
    try:
        deadline = time.monotonic() + 120
        while not last.exists():  # written (atomically) after each step checkpoint
            assert process.poll() is None, "the training run ended before writing a checkpoint"
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.01)
    finally:
        process.send_signal(signum)
        process.wait(timeout=120)
    return process


def test_killed_training_resumes_with_the_step_count_continuing(tmp_path):
    command = training_command(tmp_path)
    run = tmp_path / "run"
    checkpoints = run / "checkpoints"
    environment = ENVIRONMENT
    first = start_and_signal(command, tmp_path, signal.SIGKILL)
    assert first.returncode == -signal.SIGKILL, "the first run finished before it could be killed"
    reached = _step(checkpoints / "last.ckpt")
    assert reached in (2, 4), "last.ckpt is not kept on its own schedule (train.checkpoint_every)"
    before = _step_checkpoints(checkpoints)
    assert max(before, default=0) <= reached
    assert not (run / "model").exists()

    second = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    assert f"revise: resuming from {checkpoints / 'last.ckpt'}" in second.stderr
    assert "Traceback" not in second.stderr and "GPU available" not in second.stderr
    assert f" {reached}/{MAX_STEPS} [" in second.stdout and "epoch " in second.stdout  # the bar resumes there
    assert _step(checkpoints / "last.ckpt") == MAX_STEPS
    after = _step_checkpoints(checkpoints)
    assert {step: after[step] for step in before} == before, "the second run rewrote early checkpoints: it restarted"
    assert set(range(6, MAX_STEPS + 1, 6)) <= set(after), "the second run skipped checkpoints"
    assert all(_step(checkpoints / f"step{step}.ckpt") == step for step in after)
    model = load_model(run / "model")
    assert all(torch.isfinite(p).all() for p in model.parameters())


SLOW_CONFIG = CONFIG.replace("val_every_steps: 6, checkpoint_every: 2", "val_every_steps: 5, checkpoint_every: 5")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_saves_the_current_step_and_exits_non_zero(tmp_path, signum, code):
    command = training_command(tmp_path, SLOW_CONFIG)
    checkpoints = tmp_path / "run" / "checkpoints"
    stopped = start_and_signal(command, tmp_path, signum, stderr=subprocess.PIPE)
    err = stopped.stderr.read()
    assert stopped.returncode == code, err[-2000:]
    assert f"training stopped by {signal.Signals(signum).name} at step" in err and "Traceback" not in err
    reached = _step(checkpoints / "last.ckpt")
    assert 5 <= reached < MAX_STEPS and f"at step {reached};" in err
    assert not (tmp_path / "run" / "model").exists()
    again = subprocess.run(command, cwd=tmp_path, env=ENVIRONMENT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert _step(checkpoints / "last.ckpt") == MAX_STEPS
