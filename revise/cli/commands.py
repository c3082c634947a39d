"""The `train`, `export`, `inpaint` and `generate` subcommands: each an `add_*` that registers its
arguments and a `run_*` that runs it. Heavy modules are imported inside the `run_*` functions, so
`revise --help` loads no torch.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from collections import Counter
from pathlib import Path

from revise.cli.args import UsageError, non_negative_int, parse_gap, positive_float, positive_int, seed_int
from revise.config import (
    CANDIDATES,
    GENERATION_PASSES,
    MAX_GAP_SECONDS,
    MAX_GENERATE_SECONDS,
    SCHEDULES,
    ContinuationConfig,
    DetectConfig,
)

EXAMPLES = {
    "inpaint": "examples:\n  revise inpaint clip.wav -o fixed.wav --gap 1.20:1.25 --gap 3.5:3.6 --passes 2\n"
               "  revise inpaint clip.wav --detect --dry-run\n  revise inpaint clip.wav -o fixed.wav --detect\n"
               "  revise inpaint recordings/ -o repaired/ --detect --jobs 2\n"
               "  revise inpaint gaps.csv -o repaired/ --scheduler tcp://host:8786",
    "generate": "examples:\n  revise generate -o more.wav --seconds 8 --prompt intro.wav --seed 7\n"
                "  revise generate -o more.wav --seconds 8    # continues the bundled example",
    "train": "example:\n  revise train --config configs/tiny.yaml --data-root my_music/",
    "export": "example:\n  revise export runs/tiny/checkpoints/last.ckpt my_model/",
}



def _command(commands, name: str, help_text: str) -> argparse.ArgumentParser:
    return commands.add_parser(
        name, help=help_text, description=help_text, epilog=EXAMPLES.get(name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_model_options(parser: argparse.ArgumentParser,
                       passes_help: str = "revision passes (default: the model's, measured best)") -> None:
    parser.add_argument("--passes", type=non_negative_int, help=passes_help)
    parser.add_argument("--schedule", choices=SCHEDULES,
                        help="which frames each pass re-masks: all of them every pass, a shrinking centre "
                             "(keeps frames next to known audio), or alternating halves (default: the model's)")
    parser.add_argument("--model", type=Path, help="a model folder written by `revise export` (default: the shipped model)")
    parser.add_argument("--force", action="store_true", help="overwrite OUTPUT if it exists")


def add_inpaint(commands) -> None:
    p = _command(commands, "inpaint", "Fill gaps in an audio file so nobody hears where they were.")
    p.add_argument("input", type=Path,
                   help="audio file to repair (wav, flac, ogg; any rate and channel count), or for a batch a folder "
                        "of them or a manifest (.csv with columns path,gaps, gaps like 1.2:1.3;4.0:4.05; or "
                        '.jsonl lines like {"path": "a.wav", "gaps": [[1.2, 1.3]]})')
    p.add_argument("-o", "--output", type=Path,
                   help="where to write the repaired file (needed unless --dry-run); for a batch, the folder to "
                        "write into, mirroring the input's layout, with summary.json")
    p.add_argument("--gap", type=parse_gap, action="append", metavar="START:END",
                   help=f"a gap in seconds, e.g. 1.2:1.3; repeat for several gaps (each at most {MAX_GAP_SECONDS:g} s)")
    p.add_argument("--fill", choices=["auto", *CANDIDATES],
                   help="auto (default): per channel and group of nearby gaps, whichever of the reviser, the AR "
                        "fill and gap-wise Janssen fills pseudo-gaps cut from the audio beside the gaps best; "
                        "or always that one")
    p.add_argument("--detect", action="store_true",
                   help="find the dropouts and fill them too: digital silence or one held sample value between "
                        f"loud audio ({DetectConfig().min_seconds * 1000:g} ms to {MAX_GAP_SECONDS:g} s), and NaN or "
                        "infinite samples")
    p.add_argument("--dry-run", action="store_true",
                   help="with --detect: list the dropouts found (start, end, length, kind) and write nothing")
    p.add_argument("--jobs", type=positive_int,
                   help="a batch: files repaired at once, each worker process loading the model once (default 1)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="a batch: run it on the Dask cluster of this scheduler, e.g. tcp://host:8786 "
                        "(pip install 'revise[distributed]')")
    _add_model_options(p)
    p.set_defaults(run=run_inpaint)


def add_generate(commands) -> None:
    p = _command(commands, "generate", "Continue a prompt with its own material (its seams revised with --passes).")
    p.add_argument("-o", "--output", type=Path, required=True, help="where to write the audio")
    p.add_argument("--seconds", type=positive_float, required=True, help=f"seconds of new audio (at most {MAX_GENERATE_SECONDS:g})")
    p.add_argument("--prompt", type=Path,
                   help=f"a clip to continue, at least {ContinuationConfig().min_prompt:g} s; the output starts with "
                        "it (default: the bundled example, revise/assets/example.flac)")
    p.add_argument("--join", choices=["crossfade", "naive"], default="crossfade",
                   help="crossfade: pieces and frames meet through a crossfade (default). naive: BASELINE ONLY, "
                        "butted end to end, to hear and measure the clicks the crossfade removes")
    p.add_argument("--no-prompt-in-output", action="store_true", help="write only the continuation")
    p.add_argument("--seed", type=seed_int, default=0,
                   help="random seed for sampling; the same seed gives the same output (default 0)")
    _add_model_options(p, f"revision passes over each seam where two pieces meet (default {GENERATION_PASSES}: "
                          "the crossfaded draft, which measured as seamless)")
    p.set_defaults(run=run_generate)


def add_train(commands) -> None:
    p = _command(commands, "train", "Train a drafter and reviser on a folder of audio.")
    p.add_argument("--config", type=Path, required=True, help="a YAML run config, e.g. configs/tiny.yaml")
    p.add_argument("--data-root", type=Path, help="folder of audio to train on (overrides data.root)")
    p.add_argument("--output-dir", type=Path, help="where checkpoints, logs and the model go (overrides train.output_dir)")
    p.add_argument("--max-steps", type=non_negative_int, help="override train.max_steps")
    p.add_argument("--fresh", action="store_true", help="ignore an existing last checkpoint instead of resuming")
    p.add_argument("--init", metavar="MODEL",
                   help="fine-tune: a new run starts from this model folder's weights ('default': the shipped "
                        "model); the config must have its frame, model, ar and match settings")
    p.set_defaults(run=run_train)


def add_export(commands) -> None:
    p = _command(commands, "export", "Export a training checkpoint as safetensors weights plus a JSON config.")
    p.add_argument("checkpoint", type=Path, help="a .ckpt file written by `revise train`")
    p.add_argument("output", type=Path, help="the model folder to write")
    p.add_argument("--passes", type=non_negative_int,
                   help="the default revision passes stored with the model (default: the training config's)")
    p.add_argument("--schedule", choices=SCHEDULES,
                   help="the default revision schedule stored with the model (default: the training config's)")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")
    p.set_defaults(run=run_export)


# What only a fill uses, by argparse name and Namespace field: --dry-run refuses them rather than ignore them.
_FILL_OPTIONS = {"-o": "output", "--gap": "gap", "--passes": "passes", "--schedule": "schedule", "--model": "model",
                 "--force": "force", "--fill": "fill"}


def _check_inpaint_options(args: argparse.Namespace) -> None:
    if args.jobs is not None or args.scheduler is not None:
        raise UsageError(f"--jobs and --scheduler run a batch; {args.input} is not a folder or a manifest "
                         "(.csv, .jsonl).")
    if args.dry_run:
        if not args.detect:
            raise UsageError("--dry-run lists the dropouts that --detect finds; add --detect.")
        for option, field in _FILL_OPTIONS.items():
            if getattr(args, field) is not None and getattr(args, field) is not False:  # 0 is given
                raise UsageError(f"--dry-run only lists the dropouts and writes nothing, so {option} does not "
                                 "belong with it.")
        return
    if not args.gap and not args.detect:
        raise UsageError("say which gaps to fill: give --gap START:END (repeat for several), or --detect to find them.")
    if args.output is None:
        raise UsageError("give the file to write the repaired audio to with -o OUTPUT.")


def run_inpaint(args: argparse.Namespace) -> int | None:
    from revise.cli.batch import is_batch, run_batch
    from revise.repair import file_dropouts, repair_file

    candidates = CANDIDATES if args.fill in (None, "auto") else (args.fill,)
    if is_batch(args.input):
        return run_batch(args, candidates)
    _check_inpaint_options(args)
    if args.dry_run:
        dropouts, rate = file_dropouts(args.input)
        print("\n".join(_dropout_table(dropouts, rate, args.input)))
        return
    model = None
    if args.model is not None:  # else repair_file loads the shipped model, only if there is a gap to fill
        from revise.runtime.model import load_inference_model

        model = load_inference_model(args.model)
    repair = repair_file(args.input, args.output, args.gap or [], detect=args.detect, model=model,
                         passes=args.passes, schedule=args.schedule, candidates=candidates, force=args.force)
    found = f"found {_count(repair.dropouts)} in {args.input}; " if args.detect else ""
    if repair.output is None:  # --detect found nothing and no --gap was given
        print(_dropout_table([], repair.sample_rate, args.input)[0])
        return
    print(f"{found}filled {repair.gaps} gap(s) -> {args.output}")


def _count(dropouts) -> str:
    """"3 dropout(s) (2 zeros, 1 stuck)", or "no dropouts"."""
    if not dropouts:
        return "no dropouts"
    kinds = Counter(d.kind for d in dropouts)
    return f"{len(dropouts)} dropout(s) ({', '.join(f'{n} {kind}' for kind, n in kinds.items())})"


def _dropout_table(dropouts, sample_rate: int, source: Path) -> list[str]:
    """One row per dropout; start rounded down and end up to 0.1 ms, so a row given as --gap covers it."""
    if not dropouts:
        return [f"no dropouts found in {source}; nothing written."]
    rows = [f"{'start s':>10} {'end s':>10} {'ms':>8}  kind"]
    for d in dropouts:
        start, end = math.floor(d.start / sample_rate * 1e4) / 1e4, math.ceil(d.end / sample_rate * 1e4) / 1e4
        rows.append(f"{start:10.4f} {end:10.4f} {1000 * (d.end - d.start) / sample_rate:8.2f}  {d.kind}")
    return rows + [f"{_count(dropouts)} in {source}; nothing written (--dry-run)."]


def run_generate(args: argparse.Namespace) -> None:
    from revise.audio import check_output_path, read_audio, write_audio
    from revise.generation import default_prompt, generate

    check_output_path(args.output, [args.prompt] if args.prompt else [], args.force)  # before any work
    model = None  # loaded only when used: the similarity draft alone needs no model
    if args.model is not None:
        from revise.runtime.model import load_inference_model

        model = load_inference_model(args.model)
    prompt = read_audio(args.prompt) if args.prompt is not None else default_prompt()
    rate = prompt.sample_rate
    with _SeamBar() as bar:
        audio = generate(args.seconds, prompt.samples, rate, passes=args.passes, model=model, seed=args.seed,
                         schedule=args.schedule, join=args.join, include_prompt=not args.no_prompt_in_output,
                         progress=bar.update)
    write_audio(args.output, audio, rate)
    print(f"wrote {len(audio) / rate:.2f} s at {rate} Hz -> {args.output}")


class _SeamBar:
    """A progress bar on stderr over the seams generation revises, shown once the first is done
    (generation without revision takes a fraction of a second a minute and shows none)."""

    def __init__(self) -> None:
        self._bar = None

    def update(self, done: int, total: int) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="seam", desc="revising seams", file=sys.stderr, disable=None)
        self._bar.update(done - self._bar.n)

    def __enter__(self) -> _SeamBar:
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.close()


def run_train(args: argparse.Namespace) -> None:
    from revise.config import load_config

    config = load_config(args.config)
    from revise.train.interrupt import TrainingInterrupted  # Lightning is imported only once the config is good
    from revise.train.run import run_training

    try:
        model_dir = run_training(config, args.data_root, args.output_dir, args.max_steps, resume=not args.fresh,
                                 init=args.init)
    except TrainingInterrupted as stopped:
        print(f"revise: {stopped}", file=sys.stderr)
        raise SystemExit(stopped.exit_code) from None
    print(f"trained model exported to {model_dir}")


def run_export(args: argparse.Namespace) -> None:
    from revise.checkpoint import export_model
    from revise.train.checkpoints import model_from_lightning_checkpoint

    _check_export_output(args.output, args.force)
    model, info = model_from_lightning_checkpoint(args.checkpoint)
    model.revision = dataclasses.replace(
        model.revision,
        passes=model.revision.passes if args.passes is None else args.passes,
        schedule=args.schedule or model.revision.schedule,
    )
    export_model(model, args.output, extra={"source": str(args.checkpoint), **info})
    print(f"exported {args.checkpoint} -> {args.output}")


def _check_export_output(output: Path, force: bool) -> None:
    """Refuse an export destination before reading the checkpoint; --force replaces only a model folder."""
    from revise.audio import check_folder_writable
    from revise.checkpoint import CONFIG_NAME, WEIGHTS_NAME

    if output.is_file():
        raise UsageError(f"{output} is a file; give a new folder name for the exported model.")
    if output.exists() and not force:
        raise UsageError(f"{output} already exists; pass --force to replace it.")
    if output.is_dir() and not {p.name for p in output.iterdir()} <= {CONFIG_NAME, WEIGHTS_NAME}:
        raise UsageError(f"{output} holds files other than an exported model; choose a new folder name.")
    folder = output.resolve().parent
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{output.parent} is a file, not a folder; choose another output path.")
    if not folder.is_dir():
        raise UsageError(f"the folder {output.parent} does not exist; create it first or choose another path.")
    check_folder_writable(folder)


