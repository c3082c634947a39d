"""`revise conceal`: simulate a lossy packet stream from a file and conceal it with `revise.Concealer`.

The loss pattern is drawn from a seed (independent or bursty losses) or read from a trace. The
concealed audio is written with the trace used beside it (OUTPUT with the suffix .trace.txt), so
a run can be repeated exactly with --trace. Bad input is one sentence, exit 2, nothing written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from revise.cli.args import UsageError, non_negative_int, positive_float, positive_int, seed_int
from revise.conceal_config import CONCEAL_MAX_LOOKAHEAD, CONCEAL_MAX_PACKET_MS, CONCEAL_MIN_PACKET_MS, ConcealConfig

HELP = "Simulate packet loss in a file and conceal it as a real-time receiver would."
EXAMPLES = ("examples:\n  revise conceal clip.wav -o concealed.wav --packet-ms 10 --lookahead 2 --loss-rate 0.1 "
            "--burst 3 --seed 0\n  revise conceal clip.wav -o concealed.wav --trace lost.txt\n"
            "  revise conceal clip.wav -o concealed.wav --trace received.wav   # lost packets zeroed")


def trace_path(output: Path) -> Path:
    """Where the trace of OUTPUT is written: beside it, with the suffix .trace.txt."""
    return output.with_name(output.stem + ".trace.txt")


def add_conceal(commands) -> None:
    defaults = ConcealConfig()
    p = commands.add_parser("conceal", help=HELP, description=HELP, epilog=EXAMPLES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", type=Path, help="the audio to send as a packet stream (8 to 192 kHz, 1 to 64 channels)")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="where to write the concealed audio; the trace goes beside it as OUTPUT-stem.trace.txt")
    p.add_argument("--packet-ms", type=positive_float, default=defaults.packet_ms, metavar="MS",
                   help=f"packet length, {CONCEAL_MIN_PACKET_MS:g} to {CONCEAL_MAX_PACKET_MS:g} ms "
                        f"(default {defaults.packet_ms:g})")
    p.add_argument("--lookahead", type=non_negative_int, default=defaults.lookahead, metavar="K",
                   help=f"packets of the future the concealer waits for, 0 (causal) to {CONCEAL_MAX_LOOKAHEAD}; "
                        f"the latency added is K packets (default {defaults.lookahead})")
    p.add_argument("--loss-rate", type=float, metavar="F", help="the fraction of packets lost at random, e.g. 0.1")
    p.add_argument("--burst", type=positive_int, metavar="N",
                   help="with --loss-rate: lose runs of 2 to N packets instead of single ones (default 1: independent)")
    p.add_argument("--seed", type=seed_int, metavar="S", help="with --loss-rate: the seed of the pattern (default 0)")
    p.add_argument("--trace", type=Path, metavar="FILE",
                   help="the lost packets instead of a random pattern: a text file of packet indices from 0, or a "
                        "WAV at the input's rate with the lost packets zeroed")
    p.add_argument("--force", action="store_true", help="overwrite OUTPUT and its trace if they exist")
    p.set_defaults(run=run_conceal)


def _check_options(args: argparse.Namespace) -> None:
    if (args.loss_rate is None) == (args.trace is None):
        raise UsageError("say which packets are lost: give --loss-rate F (with --burst and --seed) or --trace FILE.")
    if args.trace is not None and (args.burst is not None or args.seed is not None):
        raise UsageError("--burst and --seed shape a random pattern, so they do not belong with --trace.")
    if args.loss_rate is not None and not 0.0 <= args.loss_rate < 1.0:
        raise UsageError(f"--loss-rate must be a fraction from 0 to below 1, got {args.loss_rate:g}.")
    ConcealConfig(packet_ms=args.packet_ms, lookahead=args.lookahead)  # refuses them in one sentence


def run_conceal(args: argparse.Namespace) -> None:
    import numpy as np

    from revise.audio import check_output_path, from_float, read_audio, to_float, write_audio
    from revise.conceal import conceal_signal
    from revise.packet_loss import loss_pattern, read_trace, trace_text, write_trace

    _check_options(args)
    trace_out = trace_path(args.output)
    inputs = [args.input] + ([args.trace] if args.trace is not None else [])
    check_output_path(args.output, inputs, args.force)
    if trace_out.exists() and not args.force:
        raise UsageError(f"{trace_out} already exists; pass --force to overwrite it.")
    if any(trace_out.resolve() == Path(path).resolve() for path in inputs):
        raise UsageError(f"the trace would be written to {trace_out}, an input file; choose another output name.")
    audio = read_audio(args.input)
    rate = audio.sample_rate
    packet = round(rate * args.packet_ms / 1000)
    packets = -(-audio.frames // packet)
    if args.trace is not None:
        lost = read_trace(args.trace, packets, packet, rate)
    else:
        lost = loss_pattern(packets, args.loss_rate, args.burst or 1, np.random.default_rng(args.seed or 0))
    concealed = conceal_signal(to_float(audio.samples), rate, lost, args.packet_ms, args.lookahead)
    subtype = audio.subtype if args.output.suffix.lower() == args.input.suffix.lower() else None
    write_audio(args.output, from_float(concealed, audio.samples.dtype), rate, subtype)
    source = f"trace {args.trace}" if args.trace is not None else (
        f"loss rate {args.loss_rate:g}, burst {args.burst or 1}, seed {args.seed or 0}")
    header = {"input": args.input, "sample_rate": rate, "packet_ms": f"{args.packet_ms:g}",
              "packet_samples": packet, "packets": packets, "lost": int(lost.sum()), "source": source,
              "lookahead": args.lookahead}
    write_trace(trace_out, trace_text(lost, header))
    print(f"concealed {int(lost.sum())} of {packets} packets ({args.packet_ms:g} ms, lookahead {args.lookahead}, "
          f"{args.lookahead * packet / rate * 1000:g} ms added latency) -> {args.output}, trace {trace_out}")
