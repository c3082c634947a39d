"""Argument types shared by the `revise` subcommands: each turns bad text into one clear sentence."""

from __future__ import annotations

import argparse
import math


class UsageError(ValueError):
    """A command-line value that does not parse."""


def parse_gap(text: str) -> tuple[float, float]:
    """'1.2:1.3' -> (1.2, 1.3) in seconds."""
    parts = text.split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        start, end = float(parts[0]), float(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"gap {text!r} is malformed; write START:END in seconds, e.g. 1.2:1.3") from None
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end <= start:
        raise argparse.ArgumentTypeError(f"gap {text!r} is malformed; it needs 0 <= START < END, both finite")
    return start, end


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


def seed_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number from 0 to 2**63 - 1")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def non_negative_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number of seconds, 0 or more")
    return value
