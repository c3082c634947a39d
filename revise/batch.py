"""Repairing many files: the job list (a folder or a manifest), running it, and its summary.

A batch is a list of `Job`s, each one call of `revise.repair.repair_file`. `batch_jobs` builds it
from a folder (every audio file under it, the output folder mirroring its layout) or a manifest
(CSV `path,gaps` or JSON Lines `{"path": ..., "gaps": [[start, end], ...]}`), and refuses a bad
manifest with one sentence before any work. `repair_all` runs the jobs in this process, in a pool
of worker processes that each load the model once, or on a Dask cluster (`revise.distributed`),
and reports one `FileResult` per file as it finishes: a file that fails is recorded with its
one-sentence error and the others go on. Outputs are written atomically, so an output that exists
is complete: a rerun skips it unless `force`.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import json
import logging
import math
import multiprocessing
import os
import secrets
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from revise.audio import AUDIO_SUFFIXES, list_audio_files
from revise.config import CANDIDATES, MAX_GAP_SECONDS

log = logging.getLogger(__name__)

MANIFEST_SUFFIXES = (".csv", ".jsonl")
SUMMARY_NAME = "summary.json"
Gap = tuple[float, float]
Status = Literal["repaired", "clean", "skipped", "failed"]


@dataclass(frozen=True)
class Job:
    """One file of a batch: `source` is repaired into `output`, filling `gaps` (seconds) and, when the
    batch detects, its dropouts. `name` is its path relative to the batch's folder or manifest."""

    name: str
    source: Path
    output: Path
    gaps: tuple[Gap, ...] = ()


@dataclass(frozen=True)
class Settings:
    """What every file of a batch is repaired with: `repair_file`'s options, and the model folder each
    worker loads once (None: the shipped model)."""

    model: Path | None = None
    detect: bool = False
    passes: int | None = None
    schedule: str | None = None
    candidates: tuple[str, ...] = CANDIDATES
    force: bool = False


@dataclass(frozen=True)
class FileResult:
    """What happened to one file. status: "repaired" (written), "clean" (--detect found nothing and
    nothing was written), "skipped" (its output existed), "failed" (`error` says why, in one
    sentence). `found`: dropouts detected; `filled`: gaps filled (given plus found)."""

    name: str
    output: str | None
    status: Status
    found: int = 0
    filled: int = 0
    seconds: float = 0.0
    error: str | None = None
    warnings: tuple[str, ...] = ()


def gap_from_text(text: str) -> Gap:
    """'1.2:1.3' -> (1.2, 1.3) in seconds; ValueError in one sentence unless 0 <= START < END, both finite."""
    parts = text.split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        start, end = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"gap {text!r} is malformed; write START:END in seconds, e.g. 1.2:1.3") from None
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end <= start:
        raise ValueError(f"gap {text!r} is malformed; it needs 0 <= START < END, both finite")
    return start, end


def is_manifest(path: Path) -> bool:
    return path.suffix.lower() in MANIFEST_SUFFIXES


def batch_jobs(source: Path, output_dir: Path, gaps: Sequence[Gap] = (), detect: bool = False) -> list[Job]:
    """The jobs of a batch over the folder or manifest `source`, writing under `output_dir`.

    A folder: every audio file under it, each with `gaps`. A manifest: its rows, each with its own
    gaps. Raises ValueError in one sentence for a bad source or manifest, before any work.
    """
    if source.is_dir():
        if output_dir.resolve().is_relative_to(source.resolve()):
            raise ValueError(f"the output folder {output_dir} is inside the input folder {source}; choose one "
                             "outside it, so a rerun does not take the repaired files for inputs.")
        files = list_audio_files(source)
        if not files:
            raise ValueError(f"{source} holds no audio files ({', '.join(AUDIO_SUFFIXES)}); check the folder.")
        jobs = [Job(f.relative_to(source).as_posix(), f, output_dir / f.relative_to(source), tuple(gaps))
                for f in files]
    elif is_manifest(source):
        if not source.is_file():
            raise ValueError(f"the manifest {source} does not exist; check the path.")
        jobs = [_job(source, output_dir, where, path, row_gaps, detect) for where, path, row_gaps in _rows(source)]
        if not jobs:
            raise ValueError(f"the manifest {source} lists no files; add a row per file.")
    else:
        raise ValueError(f"{source} is neither a folder nor a manifest ({' or '.join(MANIFEST_SUFFIXES)}).")
    _check_outputs(jobs)
    return jobs


def _rows(manifest: Path) -> Iterator[tuple[str, str, list[Gap]]]:
    """(where, path as written, gaps) per row; `where` names the row in messages."""
    if manifest.suffix.lower() == ".csv":
        yield from _csv_rows(manifest)
    else:
        yield from _jsonl_rows(manifest)


def _csv_rows(manifest: Path) -> Iterator[tuple[str, str, list[Gap]]]:
    """Rows of a CSV with a `path` column and a `gaps` column like `1.2:1.3;4.0:4.05` (empty: none)."""
    with manifest.open(newline="", encoding="utf-8-sig") as handle:  # -sig: a spreadsheet's CSV starts with a BOM
        reader = csv.DictReader(handle)
        columns = [name.strip() for name in reader.fieldnames or []]
        if "path" not in columns:
            raise ValueError(f"the manifest {manifest} has no 'path' column; its first line must be the header "
                             "path,gaps.")
        reader.fieldnames = columns
        for line, row in enumerate(reader, start=2):
            where = f"line {line} of {manifest}"
            gaps = [_row_gap(piece.strip(), where) for piece in (row.get("gaps") or "").split(";") if piece.strip()]
            yield where, (row["path"] or "").strip(), gaps


def _jsonl_rows(manifest: Path) -> Iterator[tuple[str, str, list[Gap]]]:
    """Rows of a JSON Lines file, one object per line: {"path": "a.wav", "gaps": [[1.2, 1.3], ...]}."""
    with manifest.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            where = f"line {line} of {manifest}"
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError:
                raise ValueError(f"{where} is not valid JSON; write one object per line, e.g. "
                                 '{"path": "a.wav", "gaps": [[1.2, 1.3]]}.') from None
            if not isinstance(row, dict) or not isinstance(row.get("path"), str):
                raise ValueError(f'{where} has no "path" string; write {{"path": "a.wav", "gaps": [[1.2, 1.3]]}}.')
            pairs = row.get("gaps") or []
            if not isinstance(pairs, list) or not all(_is_pair(pair) for pair in pairs):
                raise ValueError(f'{where}: "gaps" must be a list of [start, end] pairs of seconds.')
            yield where, row["path"], [_row_gap(f"{start}:{end}", where) for start, end in pairs]


def _is_pair(value) -> bool:
    return (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value))


def _row_gap(text: str, where: str) -> Gap:
    try:
        start, end = gap_from_text(text)
    except ValueError as error:
        raise ValueError(f"{where}: {error}.") from None
    if end - start > MAX_GAP_SECONDS + 1e-9:
        raise ValueError(f"{where}: gap {text} is longer than the {MAX_GAP_SECONDS:g} s revise can fill; split it.")
    return start, end


def _job(manifest: Path, output_dir: Path, where: str, text: str, gaps: list[Gap], detect: bool) -> Job:
    """A manifest row's job: its path relative to the manifest's folder, mirrored under `output_dir`."""
    if not text:
        raise ValueError(f"{where} gives no path; give the audio file to repair.")
    folder = manifest.parent
    source = folder / text  # an absolute `text` stays as it is
    if not source.is_file():
        raise ValueError(f"{where} lists {text}, which is not a file; check the path (relative to {folder}).")
    if not gaps and not detect:
        raise ValueError(f"{where} gives no gaps for {text}; list them, or pass --detect to find the dropouts.")
    name = Path(os.path.relpath(source, folder)).as_posix()
    relative = Path(name) if not name.startswith("../") else Path(source.name)  # outside: the name alone
    return Job(name, source, output_dir / relative, tuple(gaps))


def _check_outputs(jobs: Sequence[Job]) -> None:
    """Refuse two jobs writing one output, and an output that is an input."""
    inputs = {job.source.resolve() for job in jobs}
    seen: dict[Path, str] = {}
    for job in jobs:
        output = job.output.resolve()
        if output in seen:
            raise ValueError(f"{seen[output]} and {job.name} would both be written to {job.output}; list each "
                             "file once, or give them different names.")
        if output in inputs:
            raise ValueError(f"the output {job.output} is one of the inputs; choose another output folder.")
        seen[output] = job.name


def repair_all(jobs: Sequence[Job], settings: Settings, on_result: Callable[[FileResult], None], workers: int = 1,
               scheduler: str | None = None) -> None:
    """Repair every job, calling `on_result` with each file's `FileResult` as it finishes (skipped ones first).

    workers 1 runs here; more runs a pool of that many processes, each loading the model once;
    `scheduler` (a Dask address) runs on that cluster instead. On Ctrl-C no file is started again:
    the pool's files in progress are finished and reported, then KeyboardInterrupt is raised.
    """
    todo = []
    for job in jobs:
        if job.output.exists() and not settings.force:  # written atomically, so complete
            on_result(FileResult(job.name, str(job.output), "skipped"))
        else:
            todo.append(job)
    if not todo:
        return
    if scheduler is not None:
        from revise.distributed import repair_on_dask

        repair_on_dask(todo, settings, scheduler, on_result)
        return
    loaded_model(settings.model)  # a bad model folder is one sentence here, before any file
    if workers == 1:
        for job in todo:
            on_result(repair_job(job, settings))
    else:
        _repair_in_pool(todo, settings, workers, on_result)


def _repair_in_pool(todo: Sequence[Job], settings: Settings, workers: int,
                    on_result: Callable[[FileResult], None]) -> None:
    threads = max(1, (os.cpu_count() or 1) // workers)  # the cores shared out, not each worker taking all
    # spawn: a forked child inherits the BLAS thread pool in whatever state it was, and can hang on it
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(settings.model, threads))
    waiting, running = list(reversed(todo)), {}
    try:
        while waiting or running:
            while waiting and len(running) < workers:  # none queued behind: Ctrl-C waits for these alone
                job = waiting.pop()
                running[pool.submit(repair_job, job, settings)] = job
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                on_result(_pool_result(future, running.pop(future)))
    except KeyboardInterrupt:
        pool.shutdown(wait=True)  # the workers ignore Ctrl-C and finish their files
        for future, job in running.items():
            on_result(_pool_result(future, job))
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _pool_result(future: Future, job: Job) -> FileResult:
    """The future's result; a worker that died (killed, out of memory) is a failure of its file."""
    try:
        return future.result()
    except BrokenProcessPool:
        return FileResult(job.name, None, "failed", error="the worker process repairing it died (out of memory, or "
                          "killed); run the command again to retry it.")


def _start_worker(model: Path | None, threads: int) -> None:
    """A pool worker: Ctrl-C is the parent's to handle (it lets the files in progress finish, so no
    worker dies mid-file with a traceback); load the model once, for every file it is given."""
    from threadpoolctl import threadpool_limits

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threadpool_limits(threads)  # BLAS outside the networks and Burg's recursion, which use one thread
    loaded_model(model)


@functools.lru_cache(maxsize=2)
def loaded_model(path: Path | None):
    """The model at `path` (None: the shipped one), loaded once per process (without torch)."""
    from revise.runtime.model import load_inference_model

    return load_inference_model(path)


def repair_job(job: Job, settings: Settings) -> FileResult:
    """Repair one job's file; any error becomes the result's one-sentence `error`, never an exception."""
    from revise.repair import repair_file

    began = time.perf_counter()
    with _captured_warnings() as warnings:
        try:
            model = loaded_model(settings.model)
            began = time.perf_counter()  # the file's seconds leave out the model's load, once per process
            job.output.parent.mkdir(parents=True, exist_ok=True)
            repair = repair_file(job.source, job.output, job.gaps, detect=settings.detect,
                                 model=model, passes=settings.passes,
                                 schedule=settings.schedule, candidates=settings.candidates, force=settings.force)
        except (ValueError, OSError) as error:  # AudioError, a gap past the end, a folder that cannot be made
            return _failed(job, str(error), began, warnings)
        except Exception as error:  # a bug must not stop the other files; the record says what it was
            log.debug("repairing %s failed", job.source, exc_info=True)
            return _failed(job, f"unexpected {type(error).__name__}: {error}", began, warnings)
    status: Status = "repaired" if repair.output is not None else "clean"
    return FileResult(job.name, None if repair.output is None else str(repair.output), status, len(repair.dropouts),
                      repair.gaps, round(repair.seconds, 3), warnings=tuple(warnings))


def _failed(job: Job, error: str, began: float, warnings: list[str]) -> FileResult:
    return FileResult(job.name, None, "failed", seconds=round(time.perf_counter() - began, 3), error=error,
                      warnings=tuple(warnings))


class _Collect(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


@contextlib.contextmanager
def _captured_warnings() -> Iterator[list[str]]:
    """The library's warnings while repairing one file, kept for its record instead of printed, so
    they reach the caller the same way whichever process repaired it (one thread at a time)."""
    logger = logging.getLogger("revise")
    collected: list[str] = []
    saved = logger.handlers[:], logger.propagate
    logger.handlers[:], logger.propagate = [_Collect(collected)], False
    try:
        yield collected
    finally:
        logger.handlers[:], logger.propagate = saved


def write_summary(results: Sequence[FileResult], output_dir: Path, interrupted: bool = False) -> Path:
    """Write `summary.json` in `output_dir` atomically: the counts per status and one record per file."""
    counts = {status: sum(r.status == status for r in results) for status in ("repaired", "clean", "skipped", "failed")}
    summary = {"files": len(results), **counts, "interrupted": interrupted,
               "results": [asdict(r) for r in sorted(results, key=lambda r: r.name)]}
    path = output_dir / SUMMARY_NAME
    temp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    try:
        temp.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path
