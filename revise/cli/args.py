"""Argument types shared by the `revise` subcommands: each turns bad text into one clear sentence."""

from __future__ import annotations

import argparse
import math


class UsageError(ValueError):
    """A command-line value that does not parse."""


def parse_gap(text: str) -> tuple[float, float]:
    """'1.2:1.3' -> (1.2, 1.3) in seconds."""
    from revise.batch import gap_from_text  # the one gap syntax, shared with batch manifests

    try:
        return gap_from_text(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


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


def positive_int(text: str) -> int:
    return _number(text, int, "a whole number", lambda v: v >= 1, "1 or more")


def sample_rate_int(text: str) -> int:
    return _number(text, int, "a whole number of Hz", lambda v: 8000 <= v <= 384000, "from 8000 to 384000 Hz")


def seed_int(text: str) -> int:
    return _number(text, int, "a whole number", lambda v: 0 <= v < 2**63, "a whole number from 0 to 2**63 - 1")


def positive_float(text: str) -> float:
    return _number(text, float, "a number", lambda v: 0 < v < math.inf, "a positive number")


def non_negative_seconds(text: str) -> float:
    return _number(
        text, float, "a number of seconds", lambda v: 0 <= v < math.inf, "a finite number of seconds, 0 or more"
    )


def _list(text: str, kind: type, what: str, example: str, valid, requirement: str) -> list:
    """Parse comma-separated `text` as a list of `kind`; refuse it in one sentence unless each is `valid`."""
    try:
        values = [kind(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is malformed; write {what} separated by commas, e.g. {example}") from None
    if not all(valid(v) for v in values):
        raise argparse.ArgumentTypeError(f"{text!r} must hold {requirement}")
    return values


def number_list(text: str) -> list[float]:
    """'20,50,100' -> [20.0, 50.0, 100.0]; each a positive finite number."""
    return _list(text, float, "numbers", "20,50,100", lambda v: math.isfinite(v) and v > 0, "positive numbers only")


def name_list(text: str) -> list[str]:
    """'ar,janssen' -> ["ar", "janssen"]; the names are checked by the command that takes them."""
    return _list(text, str.strip, "names", "zero,ar,janssen", lambda v: v != "", "names, none empty")


def passes_list(text: str) -> list[int]:
    """'0,1,2' -> [0, 1, 2]; each a whole number >= 0."""
    return _list(text, int, "whole numbers", "0,1,2,4,8", lambda v: v >= 0, "numbers of passes >= 0")
