"""`revise evaluate`: the metrics of one fill, the seams of one file, or the benchmark of a folder.

Registered on the main parser by `add_evaluate`. Every user mistake raises a `ValueError` with
one sentence (the main CLI prints it and exits 2), before anything is written.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from pathlib import Path

from revise.cli.args import (
    UsageError,
    name_list,
    non_negative_int,
    non_negative_seconds,
    number_list,
    parse_gap,
    passes_list,
    positive_float,
    positive_int,
    sample_rate_int,
    seed_int,
)
from revise.conceal_config import (
    CONCEAL_BURST,
    CONCEAL_LOOKAHEADS,
    CONCEAL_LOSS_RATE,
    CONCEAL_PACKET_MS,
    CONCEAL_SECONDS,
)
from revise.config import (
    BENCHMARK_GAP_MS,
    BENCHMARK_GAPS_PER_CLIP,
    BENCHMARK_PASSES,
    GENERATION_PROMPT_SECONDS,
    GENERATION_SECONDS,
    ContinuationConfig,
    FrameConfig,
)

_FRAME = FrameConfig()  # the default frame grid, for files measured without --model

log = logging.getLogger(__name__)

HELP = "Measure fills and seams: one fill against its reference, one file's frame seams, or a benchmark."
EPILOG = """modes:
  --reference REF --estimate EST --gap START:END   gap and seam metrics of one fill (gaps in seconds)
  AUDIO                                            seam, level and flatness metrics of any file
  --benchmark DIR                                  cut seeded gaps into every clip of DIR, fill them with
                                                   zero, AR (Burg), Janssen, match (the similarity
                                                   fill), ar+match (the mean of AR and match), the causal
                                                   ar-causal and match-causal, passes 0
                                                   and revise at each --passes, and write report.md,
                                                   results.json and PNG plots
  --conceal DIR                                    send every clip of DIR as packets with seeded random and
                                                   bursty loss; conceal them with revise.Concealer at each
                                                   --lookahead and with zero fill, repeat, pitch repetition,
                                                   one-sided Burg and offline inpaint (report.md, results.json,
                                                   snr_vs_lookahead.png)
  --generation DIR                                 cut a prompt from every clip of DIR, continue it with
                                                   revise, revise with its seams revised, the same pieces
                                                   butted (naive join) and a loop of the prompt's last bar, and
                                                   compare each with the true continuation (report.md,
                                                   results.json, spectrograms/)

examples:
  revise evaluate --reference clean.wav --estimate filled.wav --gap 1.20:1.25 --gap 3.5:3.6
  revise evaluate generated.wav --prompt-seconds 2
  revise evaluate --benchmark my_clips/ --gap-ms 20,50,100,200 --passes 0,1,2,4,8 --out report/
  revise evaluate --benchmark my_clips/ --rate 44100 --passes 1 --out report44/
  revise evaluate --generation my_clips/ --prompt-seconds 10 --seconds 8 --out generation/
  revise evaluate --conceal my_clips/ --packet-ms 10,20 --lookahead 0,1,2,3,4 --seconds 5 --out conceal/"""


DEFAULT_REPORT_DIR = Path("revise-benchmark")
DEFAULT_GENERATION_DIR = Path("revise-generation")
DEFAULT_CONCEAL_DIR = Path("revise-conceal")
# Each option's argparse name -> the modes it belongs with (default: --benchmark only). An option
# given in another mode is refused rather than silently ignored.
OPTIONS = {"--gap": "gap", "--frame-length": "frame_length", "--hop": "hop", "--prompt-seconds": "prompt_seconds",
           "--gap-ms": "gap_ms", "--passes": "passes", "--clips": "clips", "--gaps-per-clip": "gaps_per_clip",
           "--out": "out", "--model": "model", "--seed": "seed", "--force": "force", "--rate": "rate",
           "--baselines": "baselines", "--seconds": "seconds", "--packet-ms": "packet_ms",
           "--lookahead": "lookahead", "--loss-rate": "loss_rate", "--burst": "burst"}
_BOTH = ("--benchmark", "--generation", "--conceal")
_CONCEAL = ("--conceal",)
OPTION_MODES = {"--gap": ("--reference/--estimate",), "--frame-length": ("AUDIO",), "--hop": ("AUDIO",),
                "--prompt-seconds": ("AUDIO", "--generation"), "--model": (*_BOTH, "AUDIO"), "--clips": _BOTH,
                "--out": _BOTH, "--seed": _BOTH, "--force": _BOTH, "--seconds": ("--generation", "--conceal"),
                "--packet-ms": _CONCEAL, "--lookahead": _CONCEAL, "--loss-rate": _CONCEAL, "--burst": _CONCEAL}


def _listed(values) -> str:
    """(20.0, 50.0) -> "20,50"."""
    return ",".join(f"{v:g}" for v in values)


def add_evaluate(commands) -> None:
    """Register the `evaluate` subcommand on the main parser's subparsers object."""
    p = commands.add_parser("evaluate", help=HELP, description=HELP, epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("audio", nargs="?", type=Path, help="a file to check for frame seams (e.g. a generated one)")
    p.add_argument("--reference", type=Path, metavar="REF", help="the original audio, before the gaps were cut")
    p.add_argument("--estimate", type=Path, metavar="EST",
                   help="the filled audio, same length, rate and channels as REF")
    p.add_argument("--gap", type=parse_gap, action="append", metavar="START:END",
                   help="a filled gap in seconds, e.g. 1.2:1.3; repeat for several")
    p.add_argument("--frame-length", type=non_negative_int, metavar="L",
                   help=f"frame length in samples at {_FRAME.sample_rate // 1000} kHz, or at --model's rate "
                        f"(default {_FRAME.frame_length}, or --model's)")
    p.add_argument("--hop", type=non_negative_int, metavar="H",
                   help=f"hop in samples at {_FRAME.sample_rate // 1000} kHz, or at --model's rate: the frame-boundary "
                        f"grid (default {_FRAME.hop_length}, or --model's)")
    p.add_argument("--prompt-seconds", type=non_negative_seconds, metavar="S",
                   help="measure AUDIO after its first S seconds, with them as the reference; with --generation, "
                        f"the prompt's length (default {GENERATION_PROMPT_SECONDS:g})")
    p.add_argument("--benchmark", type=Path, metavar="DIR", help="a folder of clips to benchmark every method on")
    p.add_argument("--generation", type=Path, metavar="DIR",
                   help="a folder of clips to benchmark generation on: each clip's start is the prompt")
    p.add_argument("--seconds", type=positive_float, metavar="S",
                   help=f"with --generation: seconds of continuation (default {GENERATION_SECONDS:g}); with "
                        f"--conceal: seconds of each clip sent (default {CONCEAL_SECONDS:g})")
    p.add_argument("--conceal", type=Path, metavar="DIR",
                   help="a folder of clips to benchmark packet-loss concealment on")
    p.add_argument("--packet-ms", type=number_list, metavar="MS,MS,...",
                   help=f"with --conceal: packet sizes (default {_listed(CONCEAL_PACKET_MS)})")
    p.add_argument("--lookahead", type=passes_list, metavar="K,K,...",
                   help=f"with --conceal: lookaheads in packets (default {_listed(CONCEAL_LOOKAHEADS)})")
    p.add_argument("--loss-rate", type=positive_float, metavar="F",
                   help=f"with --conceal: the fraction of packets lost (default {CONCEAL_LOSS_RATE:g})")
    p.add_argument("--burst", type=positive_int, metavar="N",
                   help=f"with --conceal: the bursty pattern loses runs of 2 to N packets (default {CONCEAL_BURST})")
    p.add_argument("--gap-ms", type=number_list, metavar="MS,MS,...",
                   help=f"gap lengths in milliseconds (default {_listed(BENCHMARK_GAP_MS)})")
    p.add_argument("--passes", type=passes_list, metavar="K,K,...",
                   help=f"numbers of revision passes to compare (default {_listed(BENCHMARK_PASSES)}; the model's "
                        "default always runs)")
    p.add_argument("--clips", type=non_negative_int, metavar="N", help="use only the first N clips of DIR, by name")
    p.add_argument("--gaps-per-clip", type=non_negative_int, metavar="N",
                   help=f"gaps cut into each clip, each at every gap length (default {BENCHMARK_GAPS_PER_CLIP})")
    p.add_argument("--out", type=Path, metavar="REPORT_DIR",
                   help="folder for report.md, results.json and the plots (default ./revise-benchmark, or "
                        "./revise-generation with --generation, ./revise-conceal with --conceal)")
    p.add_argument("--model", type=Path, metavar="PATH",
                   help="a model folder written by `revise export` (default: the shipped model); "
                        "for AUDIO, its frame grid")
    p.add_argument("--seed", type=seed_int, metavar="S",
                   help="seed for the gap positions (default 0)")
    p.add_argument("--baselines", type=name_list, metavar="NAME,...",
                   help="the classical methods to run beside the model: zero, ar, janssen, match, ar+match, "
                        "ar-causal, match-causal "
                        "(default all; ar always runs, as the reference of every gain)")
    p.add_argument("--rate", type=sample_rate_int, metavar="HZ",
                   help="the rate every method fills and is scored at, e.g. 44100 to score the whole band of "
                        "CD audio (default: the model's)")
    p.add_argument("--force", action="store_true", help="overwrite the report files in REPORT_DIR if it exists")
    p.set_defaults(run=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> None:
    """Pick the mode from the arguments given and run it."""
    given = {"AUDIO": args.audio is not None, "--benchmark": args.benchmark is not None,
             "--reference/--estimate": args.reference is not None or args.estimate is not None,
             "--generation": args.generation is not None, "--conceal": args.conceal is not None}
    modes = [name for name, present in given.items() if present]
    if len(modes) != 1:
        raise UsageError("give exactly one of AUDIO, --reference with --estimate and --gap, --benchmark DIR, "
                         "--generation DIR or --conceal DIR"
                         + (f" (got {' and '.join(modes)})." if modes else "."))
    for option, dest in OPTIONS.items():
        value = getattr(args, dest)  # 0 is a given value too, so compare by identity
        if value is not None and value is not False and modes[0] not in OPTION_MODES.get(option, ("--benchmark",)):
            raise UsageError(f"{option} belongs with {' or '.join(OPTION_MODES.get(option, ('--benchmark',)))}, "
                             f"not with {modes[0]}.")
    run = {"AUDIO": _run_stream, "--benchmark": _run_benchmark, "--reference/--estimate": _run_fill,
           "--generation": _run_generation, "--conceal": _run_conceal}[modes[0]]
    run(args)


def _run_fill(args: argparse.Namespace) -> None:
    from revise.audio import read_audio
    from revise.evaluate.benchmark import evaluate_fill

    if args.reference is None or args.estimate is None or not args.gap:
        raise UsageError("a fill needs --reference, --estimate and at least one --gap START:END.")
    reference, estimate = read_audio(args.reference), read_audio(args.estimate)
    if reference.sample_rate != estimate.sample_rate:
        raise UsageError(f"{args.reference} is at {reference.sample_rate} Hz but {args.estimate} is at "
                         f"{estimate.sample_rate} Hz; compare files at the same rate.")
    if reference.samples.shape != estimate.samples.shape:
        raise UsageError(f"{args.reference} and {args.estimate} differ in length or channels "
                         f"({reference.frames}x{reference.channels} vs {estimate.frames}x{estimate.channels} samples).")
    rate, length = reference.sample_rate, reference.frames
    gaps = []
    for start, end in args.gap:
        if end * rate > length + 1e-6:
            raise UsageError(f"gap {start}:{end} ends beyond the end of the audio ({length / rate:.3f} s).")
        gaps.append((math.floor(start * rate), min(length, math.ceil(end * rate))))
    rows = evaluate_fill(reference.samples, estimate.samples, rate, gaps)
    keys = ("gap_snr", "lsd", "mrstft", "click_db", "click_db_left", "click_db_right")
    headers = ("SNR dB", "LSD dB", "MR-STFT", "click dB", "left", "right")
    print(f"{'gap (s)':<15}" + "".join(f"{header:>10}" for header in headers))
    for (start, end), row in zip(args.gap, rows):
        cells = ["–" if row[key] is None else f"{row[key]:.2f}" for key in keys]
        print(f"{f'{start:g}-{end:g}':<15}" + "".join(f"{cell:>10}" for cell in cells))


def _run_stream(args: argparse.Namespace) -> None:
    from revise.audio import read_audio
    from revise.evaluate.seams import evaluate_stream

    if args.frame_length == 0 or args.hop == 0:
        raise UsageError("--frame-length and --hop must be positive.")
    frame_length, hop, grid_rate = args.frame_length, args.hop, None
    if args.model is not None:
        from revise.runtime.model import load_inference_model

        frame = load_inference_model(args.model).frame
        frame_length = frame.frame_length if frame_length is None else frame_length
        hop = frame.hop_length if hop is None else hop
        grid_rate = frame.sample_rate
    audio = read_audio(args.audio)
    figures = evaluate_stream(audio.samples, audio.sample_rate, frame_length, hop, grid_rate=grid_rate,
                              prompt_seconds=args.prompt_seconds)
    for name, value in _stream_rows(figures, bool(args.prompt_seconds)):
        print(f"{name:<30} {value}")


def _stream_rows(f: dict, prompt: bool) -> list[tuple[str, str]]:
    """The stream figures as (name, formatted value with how to read it) rows."""
    worst = "–" if f["worst_offset"] is None else (
        f"{f['worst_offset_click_db']:+.2f} dB at offset {f['worst_offset']}  (any frame layout; near 0: no seams)")
    rows = [
        ("seconds measured", f"{f['seconds'] - f['measured_from_s']:.2f} (from {f['measured_from_s']:.2f} s)"),
        ("frame grid", f"L={f['frame_length']}, H={f['hop']} at {f['grid_rate']} Hz, offset {f['grid_offset']}"),
        ("boundary discontinuity ratio", _optional(f["boundary_discontinuity_ratio"], "{:.3f}  (about 1: seamless)")),
        ("click at frame boundaries",
         _optional(f["boundary_click_db"], "{:+.2f} dB  (vs half a hop away; about 0: seamless)")),
        ("worst grid offset", worst),
        ("level: max ratio per second", _optional(f["level_max_ratio"], "{:.2f}  (1: steady; target <= 4)")),
        ("spectral flatness", _optional(f["spectral_flatness"], "{:.4f}")),
    ]
    if prompt:
        rows += [
            ("prompt's own ratio",
             _optional(f["prompt_boundary_discontinuity_ratio"], "{:.3f}  (the same audio with no seams)")),
            ("prompt's own boundary click", _optional(f["prompt_boundary_click_db"], "{:+.2f} dB")),
            ("flatness vs prompt", _optional(f["flatness_vs_prompt"], "{:+.4f}  (0: same texture)")),
        ]
    return rows


def _optional(value: float | None, template: str) -> str:
    return "– (too short)" if value is None else template.format(value)


def _baselines(names: list[str] | None) -> list:
    """The named baselines in the benchmark's order, "ar" always among them; None: all of them."""
    from revise.evaluate.methods import BASELINES

    if names is None:
        return list(BASELINES)
    known = [m.name for m in BASELINES]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UsageError(f"unknown baseline {unknown[0]!r}; choose from {', '.join(known)}.")
    return [m for m in BASELINES if m.name in {"ar", *names}]


def _run_benchmark(args: argparse.Namespace) -> None:
    from revise.evaluate.benchmark import find_clips, run_benchmark
    from revise.evaluate.report import markdown_report, write_report
    from revise.runtime.model import load_inference_model

    find_clips(args.benchmark)  # refuses a missing or empty folder before any work
    _check_report_folder(args)
    if args.clips == 0 or args.gaps_per_clip == 0:
        raise UsageError("--clips and --gaps-per-clip must be at least 1.")
    baselines = _baselines(args.baselines)
    model = load_inference_model(args.model)
    began = time.perf_counter()
    results = run_benchmark(
        args.benchmark, model, BENCHMARK_GAP_MS if args.gap_ms is None else args.gap_ms,
        BENCHMARK_PASSES if args.passes is None else args.passes,
        BENCHMARK_GAPS_PER_CLIP if args.gaps_per_clip is None else args.gaps_per_clip,
        args.seed or 0, progress=True, max_clips=args.clips, rate=args.rate, baselines=baselines,
    )
    results.settings["model_path"] = str(args.model) if args.model else "default"
    seconds = time.perf_counter() - began
    written = write_report(results, args.out)
    print(markdown_report(results))
    names = ", ".join(path.name for path in written)
    print(f"benchmark of {len(results.gaps)} gaps took {seconds:.1f} s; wrote {names} to {args.out}")


def _check_report_folder(args: argparse.Namespace, default: Path = DEFAULT_REPORT_DIR) -> None:
    """Refuse an --out that cannot take the report, before any work; sets the default."""
    from revise.audio import check_folder_writable

    args.out = args.out if args.out is not None else default
    if args.out.exists() and not args.force:
        raise UsageError(f"the report folder {args.out} already exists; pass --force to overwrite its report files.")
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"{args.out} is a file, not a folder; choose another --out.")
    if not args.out.parent.resolve().is_dir():
        raise UsageError(f"the folder {args.out.parent} does not exist; create it first or choose another --out.")
    check_folder_writable(args.out if args.out.is_dir() else args.out.parent)


def _run_generation(args: argparse.Namespace) -> None:
    from revise.evaluate.benchmark import find_clips
    from revise.evaluate.generation import run_generation_benchmark
    from revise.evaluate.generation_report import generation_markdown, write_generation_report
    from revise.runtime.model import load_inference_model

    find_clips(args.generation, "--generation")
    _check_report_folder(args, DEFAULT_GENERATION_DIR)
    if args.clips == 0:
        raise UsageError("--clips must be at least 1.")
    prompt = GENERATION_PROMPT_SECONDS if args.prompt_seconds is None else args.prompt_seconds
    seconds = GENERATION_SECONDS if args.seconds is None else args.seconds
    if prompt < ContinuationConfig().min_prompt:
        raise UsageError(f"--prompt-seconds must be at least {ContinuationConfig().min_prompt:g}: a continuation "
                         "from the prompt's own material needs that much of it.")
    if seconds < 1.0:
        raise UsageError("--seconds must be at least 1 (levels are measured per second).")
    model = load_inference_model(args.model)
    began = time.perf_counter()
    results = run_generation_benchmark(args.generation, model, prompt, seconds, args.seed or 0,
                                       max_clips=args.clips, progress=True)
    results.settings["model_path"] = str(args.model) if args.model else "default"
    written = write_generation_report(results, args.out)
    print(generation_markdown(results))
    print(f"generation benchmark of {len(results.clips)} clips took {time.perf_counter() - began:.1f} s; "
          f"wrote {len(written)} files to {args.out}")


def _run_conceal(args: argparse.Namespace) -> None:
    from revise.conceal_config import ConcealConfig
    from revise.evaluate.benchmark import find_clips
    from revise.evaluate.conceal import run_conceal_benchmark
    from revise.evaluate.conceal_report import conceal_markdown, write_conceal_report
    from revise.runtime.model import load_inference_model

    clips = find_clips(args.conceal)
    _check_report_folder(args, DEFAULT_CONCEAL_DIR)
    if args.clips == 0:
        raise UsageError("--clips must be at least 1.")
    loss_rate = CONCEAL_LOSS_RATE if args.loss_rate is None else args.loss_rate
    if not loss_rate < 1:
        raise UsageError(f"--loss-rate must be a fraction below 1, got {loss_rate:g}.")
    packet_ms = list(CONCEAL_PACKET_MS if args.packet_ms is None else args.packet_ms)
    lookaheads = sorted(set(CONCEAL_LOOKAHEADS if args.lookahead is None else args.lookahead))
    for ms in packet_ms:
        for k in lookaheads:
            ConcealConfig(packet_ms=ms, lookahead=k)  # refuses either in one sentence
    model = load_inference_model(args.model)
    began = time.perf_counter()
    results = run_conceal_benchmark(clips[: args.clips], packet_ms, lookaheads, loss_rate,
                                    CONCEAL_BURST if args.burst is None else args.burst,
                                    CONCEAL_SECONDS if args.seconds is None else args.seconds, args.seed or 0, model,
                                    progress=True)
    written = write_conceal_report(results, args.out)
    print(conceal_markdown(results))
    print(f"concealment benchmark of {len(results.settings['clips'])} clips took {time.perf_counter() - began:.1f} s; "
          f"wrote {', '.join(path.name for path in written)} to {args.out}")
