"""The README's two set-up commands: CI runs the test command verbatim, and the main job works."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np

from revise.audio import read_audio
from revise.checkpoint import load_model
from revise.cli.main import main
from revise.inpainting import crossfade_margin

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    return [block.strip() for block in blocks[:2]]


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = readme_commands()[1]
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text()


def test_the_readme_main_job_repairs_the_bundled_clip_with_the_shipped_model(tmp_path, monkeypatch):
    main_job = readme_commands()[0]
    inpaint = shlex.split(main_job.split("&&")[-1])
    assert Path(inpaint[0]).name == "revise" and inpaint[1] == "inpaint"
    args = inpaint[1:]
    output = tmp_path / Path(args[args.index("-o") + 1]).name
    args[args.index("-o") + 1] = str(output)
    monkeypatch.chdir(ROOT)
    assert main(args) == 0
    original, repaired = read_audio(ROOT / args[1]), read_audio(output)
    assert repaired.samples.shape == original.samples.shape
    rate = original.sample_rate
    changed = np.nonzero((original.samples != repaired.samples).any(axis=1))[0] / rate
    gaps = [tuple(float(t) for t in args[i + 1].split(":")) for i, a in enumerate(args) if a == "--gap"]
    margin = crossfade_margin(load_model(None), rate) / rate
    assert all(any(s - margin <= t <= e + margin for s, e in gaps) for t in changed)
    for start, end in gaps:  # each gap was filled with sound
        inside = repaired.samples[int(start * rate) : int(end * rate)]
        assert np.abs(inside.astype(float)).max() > 0
