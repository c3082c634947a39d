"""`revise inpaint FOLDER|MANIFEST -o OUT`: many files, in this process, a worker pool or a Dask cluster.

Every case runs the real CLI on tiny synthetic files with a tiny exported model. A batch mirrors
its input's layout, leaves every sample outside the gaps bit-identical, records each file's result
in summary.json, goes on past a bad file (exit 1), skips complete outputs on a rerun, and refuses
a bad manifest in one sentence (exit 2) before writing anything.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from revise.batch import SUMMARY_NAME
from revise.checkpoint import export_model
from revise.cli.main import main
from revise.config import ARConfig, FrameConfig, MatchConfig, ModelConfig
from revise.guarded_file import GuardedFile
from revise.nn.model import RevisionModel

RATE = 16000
DROPOUT = (8000, 8320)  # samples of exact zeros planted in every clip: 0.5 s to 0.52 s
MARGIN = 2 * 64  # the tiny model's hop, with room to spare


def _clip(path: Path, seed: int, seconds: float = 1.0) -> None:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    music = 0.3 * np.sin(2 * np.pi * (220 + 40 * seed) * t)[:, None] + 0.01 * rng.standard_normal((len(t), 2))
    samples = (music * 2**15).astype(np.int16)
    samples[DROPOUT[0] : DROPOUT[1]] = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, samples, RATE, subtype="PCM_16")


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    tiny = RevisionModel(FrameConfig(frame_length=128, hop_length=64), ModelConfig(hidden_size=16, drafter_layers=1,
                         reviser_layers=1), ar=ARConfig(order=16, context=128), match=MatchConfig(search=4000,
                         context=200)).eval()
    folder = tmp_path_factory.mktemp("model") / "model"
    export_model(tiny, folder)
    return folder


@pytest.fixture
def music(tmp_path) -> Path:
    """in/a.wav, in/sub/b.flac, in/sub/c.wav: 1 s stereo PCM_16, each with a dropout at 0.5 s."""
    for seed, name in enumerate(["a.wav", "sub/b.flac", "sub/c.wav"]):
        _clip(tmp_path / "in" / name, seed)
    return tmp_path / "in"


def _run(capsys, *args) -> tuple[int, str, str]:
    code = main(["inpaint", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _summary(out: Path) -> dict[str, dict]:
    return {r["name"]: r for r in json.loads((out / SUMMARY_NAME).read_text())["results"]}


def _changed_only_within(source: Path, output: Path, start: int, end: int) -> bool:
    before, after = sf.read(source, dtype="int16")[0], sf.read(output, dtype="int16")[0]
    outside = np.ones(len(before), bool)
    outside[start - MARGIN : end + MARGIN] = False
    return np.array_equal(before[outside], after[outside]) and np.abs(after[start:end].astype(float)).mean() > 100


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
            and p.name != SUMMARY_NAME}


def test_a_folder_is_mirrored_with_every_sample_outside_the_dropouts_kept(music, tmp_path, model, capsys):
    out = tmp_path / "out"
    code, printed, _ = _run(capsys, music, "-o", out, "--detect", "--model", model, "--fill", "ar")
    assert code == 0
    assert sorted(_files(out)) == ["a.wav", "sub/b.flac", "sub/c.wav"]
    for name in _files(out):
        assert _changed_only_within(music / name, out / name, *DROPOUT), name
    summary = _summary(out)
    assert all(r["status"] == "repaired" and r["found"] == 1 and r["filled"] == 1 for r in summary.values())
    assert "sub/b.flac" in printed and "3 file(s): 3 repaired" in printed


@pytest.mark.parametrize("kind", ["csv", "csv from a spreadsheet", "jsonl"])
def test_a_manifest_gives_each_file_its_gaps_relative_to_its_folder(music, tmp_path, model, capsys, kind):
    rows = [("a.wav", [(0.5, 0.52)]), ("sub/c.wav", [(0.5, 0.52), (0.8, 0.81)])]
    manifest = music / f"gaps.{kind.split()[0]}"
    if kind.startswith("csv"):
        bom = "\ufeff" if "spreadsheet" in kind else ""  # Excel writes UTF-8 CSV with a byte-order mark
        manifest.write_text(bom + "path,gaps\n" + "".join(f"{p},{';'.join(f'{s}:{e}' for s, e in g)}\n" for p, g in rows),
                            encoding="utf-8")
    else:
        manifest.write_text("".join(json.dumps({"path": p, "gaps": g}) + "\n" for p, g in rows))
    out = tmp_path / "out"
    code, _, _ = _run(capsys, manifest, "-o", out, "--model", model, "--fill", "ar")
    assert code == 0 and sorted(_files(out)) == ["a.wav", "sub/c.wav"]  # only the files listed
    assert _changed_only_within(music / "a.wav", out / "a.wav", *DROPOUT)
    assert _changed_only_within(music / "sub/c.wav", out / "sub/c.wav", DROPOUT[0], int(0.81 * RATE))
    assert _summary(out)["sub/c.wav"]["filled"] == 2


def test_a_bad_file_is_recorded_and_the_others_are_written(music, tmp_path, model, capsys):
    (music / "sub" / "broken.wav").write_text("these are words, not audio samples\n" * 20)
    _clip(music / "short.wav", seed=5, seconds=0.6)
    manifest = tmp_path / "gaps.csv"
    manifest.write_text("path,gaps\nin/a.wav,0.5:0.52\nin/sub/broken.wav,0.5:0.52\nin/short.wav,0.7:0.8\n")
    out = tmp_path / "out"
    code, printed, err = _run(capsys, manifest, "-o", out, "--model", model, "--fill", "ar")
    assert code == 1 and sorted(_files(out)) == ["in/a.wav"]  # no output, and no temporary file, for the bad ones
    summary = _summary(out)
    assert summary["in/a.wav"]["status"] == "repaired"
    assert "broken.wav is not an audio file" in summary["in/sub/broken.wav"]["error"]
    assert "ends beyond the end of the audio" in summary["in/short.wav"]["error"]
    assert "2 failed" in printed and "Traceback" not in err and "is not an audio file" in err


def test_a_rerun_skips_complete_outputs_and_force_redoes_them(music, tmp_path, model, capsys):
    out = tmp_path / "out"
    args = (music, "-o", out, "--detect", "--model", model, "--fill", "ar")
    assert _run(capsys, *args)[0] == 0
    first = _files(out)
    (out / "a.wav").write_bytes(b"an earlier run's output")  # an output that exists is taken as complete
    (out / "sub" / "c.wav").unlink()  # as if the earlier run was stopped before this file
    code, printed, _ = _run(capsys, *args)
    assert code == 0 and (out / "a.wav").read_bytes() == b"an earlier run's output"
    assert _files(out)["sub/c.wav"] == first["sub/c.wav"]
    assert {n: r["status"] for n, r in _summary(out).items()} == {"a.wav": "skipped", "sub/b.flac": "skipped",
                                                                   "sub/c.wav": "repaired"}
    assert _run(capsys, *args, "--force")[0] == 0 and _files(out) == first


def test_two_workers_write_the_same_bytes_as_one(music, tmp_path, model, capsys):
    """The default choice among fills runs the reviser too; each worker loads the model once."""
    assert _run(capsys, music, "-o", tmp_path / "one", "--detect", "--model", model)[0] == 0
    assert _run(capsys, music, "-o", tmp_path / "two", "--detect", "--model", model, "--jobs", "2")[0] == 0
    assert _files(tmp_path / "one") == _files(tmp_path / "two") and len(_files(tmp_path / "one")) == 3


def test_a_dask_cluster_writes_the_same_bytes(music, tmp_path, model, capsys):
    distributed = pytest.importorskip("distributed")
    assert _run(capsys, music, "-o", tmp_path / "here", "--detect", "--model", model, "--fill", "ar")[0] == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        code, _, _ = _run(capsys, music, "-o", tmp_path / "cluster", "--detect", "--model", model, "--fill", "ar",
                          "--scheduler", cluster.scheduler_address)
    assert code == 0 and _files(tmp_path / "here") == _files(tmp_path / "cluster")
    assert all(r["status"] == "repaired" for r in _summary(tmp_path / "cluster").values())


def test_ctrl_c_stops_with_the_files_done_complete_and_none_half_written(music, tmp_path, model, capsys, monkeypatch):
    real_init, files = GuardedFile.__init__, []

    def interrupted_open(self, handle):  # a file is opened through the guard: inputs too
        real_init(self, handle)
        if "x" not in handle.mode:  # an input being read
            return
        files.append(self)
        if len(files) == 2:  # the second file: some bytes are written, then Ctrl-C
            handle.write(b"RIFF half a file")
            raise KeyboardInterrupt

    monkeypatch.setattr(GuardedFile, "__init__", interrupted_open)
    out = tmp_path / "out"
    code, _, err = _run(capsys, music, "-o", out, "--detect", "--model", model, "--fill", "ar")
    assert code == 130 and "interrupted" in err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == ["a.wav", SUMMARY_NAME]
    summary = json.loads((out / SUMMARY_NAME).read_text())
    assert summary["interrupted"] and [r["name"] for r in summary["results"]] == ["a.wav"]


BAD_MANIFESTS = {
    "no path column": ("gaps.csv", "file,gaps\nin/a.wav,0.5:0.52\n", "no 'path' column"),
    "malformed gap": ("gaps.csv", "path,gaps\nin/a.wav,0.5-0.52\n", "line 2 of .*gap '0.5-0.52' is malformed"),
    "gap backwards": ("gaps.csv", "path,gaps\nin/a.wav,0.52:0.5\n", "needs 0 <= START < END"),
    "gap too long": ("gaps.csv", "path,gaps\nin/a.wav,0.1:1.5\n", "longer than the 1 s"),
    "no gaps, no --detect": ("gaps.csv", "path,gaps\nin/a.wav,\n", "gives no gaps for in/a.wav"),
    "file missing": ("gaps.csv", "path,gaps\nin/a.wav,0.5:0.52\nin/nope.wav,0.5:0.52\n", "line 3 .*in/nope.wav"),
    "listed twice": ("gaps.csv", "path,gaps\nin/a.wav,0.5:0.52\nin/./a.wav,0.6:0.62\n", "would both be written"),
    "empty": ("gaps.csv", "path,gaps\n", "lists no files"),
    "not JSON": ("gaps.jsonl", '{"path": "in/a.wav", "gaps": [[0.5, 0.52]]}\n{"path": \n', "line 2 .*not valid JSON"),
    "no path": ("gaps.jsonl", '{"file": "in/a.wav", "gaps": [[0.5, 0.52]]}\n', 'no "path" string'),
    "gaps not pairs": ("gaps.jsonl", '{"path": "in/a.wav", "gaps": [0.5, 0.52]}\n', "list of \\[start, end\\] pairs"),
}


@pytest.mark.parametrize("case", BAD_MANIFESTS.values(), ids=BAD_MANIFESTS.keys())
def test_a_bad_manifest_is_one_sentence_before_any_work(music, tmp_path, model, capsys, case):
    name, text, message = case
    (tmp_path / name).write_text(text)
    code, printed, err = _run(capsys, tmp_path / name, "-o", tmp_path / "out", "--model", model)
    assert code == 2 and printed == "" and not (tmp_path / "out").exists()
    assert err.startswith("revise: error: ") and err.count("\n") == 1, err
    assert re.search(message, err), err


BAD_OPTIONS = {
    "no output": ([], "with -o OUTPUT_FOLDER"),
    "no gaps for a folder": (["-o", "{out}"], "give --gap START:END, or --detect"),
    "dry run": (["-o", "{out}", "--detect", "--dry-run"], "--dry-run lists one file's dropouts"),
    "jobs and scheduler": (["-o", "{out}", "--detect", "--jobs", "2", "--scheduler", "tcp://x:1"], "give one of"),
    "output inside the input": (["-o", "{in}/out", "--detect"], "inside the input folder"),
    "output is a file": (["-o", "{in}/a.wav", "--detect"], "is a file; a batch writes into a folder"),
}


@pytest.mark.parametrize("case", BAD_OPTIONS.values(), ids=BAD_OPTIONS.keys())
def test_bad_batch_options_are_one_sentence(music, tmp_path, capsys, case):
    extra, message = case
    args = [a.format(out=tmp_path / "out", **{"in": music}) for a in extra]
    before = _files(music)
    code, _, err = _run(capsys, music, *args)
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "out").exists() and _files(music) == before


def test_jobs_with_one_file_is_refused(music, tmp_path, capsys):
    code, _, err = _run(capsys, music / "a.wav", "-o", tmp_path / "x.wav", "--gap", "0.5:0.52", "--jobs", "2")
    assert code == 2 and "--jobs and --scheduler run a batch" in err and not (tmp_path / "x.wav").exists()
