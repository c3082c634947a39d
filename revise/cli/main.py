"""The `revise` command: the parser of every subcommand, logging, and one-sentence errors.

The CLI owns the terminal. Every user mistake the library reports as a `ValueError` (bad
paths, bad audio, bad gaps, bad model files, bad configs) is printed as one sentence on
stderr with exit code 2 and no traceback; nothing is written in that case.
"""

from __future__ import annotations

import argparse
import logging
import sys

from revise.cli import commands
from revise.cli.conceal import add_conceal
from revise.cli.evaluate import add_evaluate


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="revise", description="Draft-then-revise audio inpainting and generation.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_train(subcommands)
    commands.add_export(subcommands)
    commands.add_inpaint(subcommands)
    commands.add_generate(subcommands)
    add_conceal(subcommands)
    add_evaluate(subcommands)
    return parser


def _attach_dash_values(argv: list[str]) -> list[str]:
    """`--gap -1:0.2` reads as an option to argparse; pass it as `--gap=-1:0.2` so parse_gap explains it."""
    joined: list[str] = []
    for token in argv:
        if joined and joined[-1] == "--gap" and token.startswith("-") and ":" in token:
            joined[-1] = f"--gap={token}"
        else:
            joined.append(token)
    return joined


def _configure_logging(verbose: bool) -> None:
    """Library warnings (e.g. merged gaps) reach the user as `revise: ...` lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("revise: %(message)s"))
    logger = logging.getLogger("revise")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_attach_dash_values(sys.argv[1:] if argv is None else list(argv)))
    _configure_logging(args.verbose)
    try:
        code = args.run(args)  # a batch returns 1 when some file failed
    except ValueError as error:  # every user-facing problem is a ValueError subclass
        print(f"revise: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("revise: interrupted; no output was written.", file=sys.stderr)
        return 130
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
