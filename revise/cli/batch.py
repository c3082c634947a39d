"""`revise inpaint FOLDER|MANIFEST -o OUT_FOLDER`: the terminal side of a batch (`revise.batch`).

One progress bar over the files (stderr, with an ETA), each failure and warning as a line above it
as it happens, then a table of every file and `summary.json` in the output folder. Exit code 1 when
any file failed, 130 on Ctrl-C (the files done are complete; a rerun continues with the rest).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from revise.cli.args import UsageError


def check_batch_options(args: argparse.Namespace) -> None:
    """Refuse what a batch cannot do, in one sentence, before any file is read."""
    from revise.audio import AUDIO_SUFFIXES
    from revise.batch import is_manifest

    if args.dry_run:
        raise UsageError("--dry-run lists one file's dropouts; give it a file, not a folder or a manifest.")
    if args.output is None:
        raise UsageError("give the folder to write the repaired files to with -o OUTPUT_FOLDER.")
    if args.output.exists() and not args.output.is_dir():
        raise UsageError(f"{args.output} is a file; a batch writes into a folder, so give a folder with -o.")
    if args.output.suffix.lower() in AUDIO_SUFFIXES:  # meant one file: say so as for any non-audio input
        what = "a folder, not an audio file" if args.input.is_dir() else "a manifest of many files"
        raise UsageError(f"{args.input} is {what}; give one audio file, or with -o a folder to write every repaired "
                         f"file into (not {args.output.name}).")
    if is_manifest(args.input) and args.gap:
        raise UsageError("a manifest gives each file's gaps; --gap does not belong with it.")
    if args.input.is_dir() and not args.gap and not args.detect:
        raise UsageError("say which gaps to fill in every file: give --gap START:END, or --detect to find them.")
    if args.jobs is not None and args.scheduler is not None:
        raise UsageError("--jobs sets the worker processes here; with --scheduler the cluster's workers run the "
                         "files, so give one of the two.")


def run_batch(args: argparse.Namespace, candidates: tuple[str, ...]) -> int:
    """Run the batch the arguments describe; the exit code: 0, 1 if any file failed, 130 if interrupted."""
    from revise.audio import check_folder_writable
    from revise.batch import Settings, batch_jobs, repair_all, write_summary

    check_batch_options(args)
    jobs = batch_jobs(args.input, args.output, args.gap or [], args.detect)
    try:
        args.output.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"the output folder {args.output} cannot be created ({error.strerror}).") from None
    check_folder_writable(args.output)
    settings = Settings(args.model, args.detect, args.passes, args.schedule, candidates, args.force)
    results = []

    def record(result) -> None:
        results.append(result)
        _show(result, bar)

    bar = tqdm(total=len(jobs), unit="file", desc="repairing", file=sys.stderr, disable=None, smoothing=0)
    try:
        with bar:
            repair_all(jobs, settings, record, workers=args.jobs or 1, scheduler=args.scheduler)
    except KeyboardInterrupt:
        summary = write_summary(results, args.output, interrupted=True)
        print(f"revise: interrupted; {len(results)} file(s) done and recorded in {summary}, and no file is "
              "half-written; run the command again to do the rest.", file=sys.stderr)
        return 130
    summary = write_summary(results, args.output)
    print("\n".join(summary_table(results)))
    failed = sum(r.status == "failed" for r in results)
    print(f"{_counts(results)}; summary in {summary}")
    return 1 if failed else 0


def _show(result, bar: tqdm) -> None:
    """Count the file on the bar; say its failure and warnings above it."""
    for warning in result.warnings:
        tqdm.write(f"revise: {result.name}: {warning}", file=sys.stderr)
    if result.status == "failed":
        tqdm.write(f"revise: failed: {result.error}", file=sys.stderr)
    if result.status == "skipped" and not bar.disable:  # done by an earlier run: not in this run's rate and ETA
        bar.initial += 1
    bar.update(1)


def summary_table(results) -> list[str]:
    """One row per file, sorted by name: status, dropouts found, gaps filled, seconds, and the error if any."""
    rows = sorted(results, key=lambda r: r.name)
    width = max([4, *(len(r.name) for r in rows)])
    lines = [f"{'file':<{width}}  {'status':<8} {'found':>5} {'filled':>6} {'seconds':>8}  error"]
    for r in rows:
        lines.append(f"{r.name:<{width}}  {r.status:<8} {r.found:>5} {r.filled:>6} {r.seconds:>8.2f}  {r.error or ''}"
                     .rstrip())
    return lines


def _counts(results) -> str:
    """'4 file(s): 3 repaired, 1 failed' (statuses with none left out)."""
    parts = [f"{sum(r.status == s for r in results)} {s}" for s in ("repaired", "clean", "skipped", "failed")]
    return f"{len(results)} file(s): " + ", ".join(p for p in parts if not p.startswith("0 "))


def is_batch(source: Path) -> bool:
    from revise.batch import is_manifest

    return source.is_dir() or is_manifest(source)
