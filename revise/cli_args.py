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


def _number(text: str, kind: type, what: str, valid, requirement: str):
    """Parse `text` as `kind`; refuse it in one sentence unless `valid(value)`."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if not valid(value):
        raise argparse.ArgumentTypeError(f"{text!r} must be {requirement}")
    return value


def non_negative_int(text: str) -> int:
    return _number(text, int, "a whole number", lambda v: v >= 0, "0 or more")


def seed_int(text: str) -> int:
    return _number(text, int, "a whole number", lambda v: 0 <= v < 2**63, "a whole number from 0 to 2**63 - 1")


def positive_float(text: str) -> float:
    return _number(text, float, "a number", lambda v: 0 < v < math.inf, "a positive number")


def non_negative_seconds(text: str) -> float:
    return _number(
        text, float, "a number of seconds", lambda v: 0 <= v < math.inf, "a finite number of seconds, 0 or more"
    )
