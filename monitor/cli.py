"""What the command lines share: subcommands with a description and an example, and numeric
options whose range is the one they state."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any


def subcommand(sub: Any, name: str, help_text: str, example: str) -> argparse.ArgumentParser:
    """A subcommand whose --help says what it does and ends with an example."""
    return sub.add_parser(  # type: ignore[no-any-return]
        name,
        help=help_text,
        description=help_text,
        epilog=example,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def number_in(
    what: str, lo: float, hi: float, unit: str, above_lo: bool = False
) -> Callable[[str], float]:
    """An option's type: a number from `lo` (or more than `lo`) to `hi`, refused with that
    range in one line."""
    span = f"more than {lo:g} and at most {hi:g}" if above_lo else f"{lo:g} to {hi:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: {what} is a number of {unit}") from None
        if not (lo < value if above_lo else lo <= value) or not value <= hi:
            raise argparse.ArgumentTypeError(f"{text!r}: {what} must be {span} {unit}")
        return value

    return parse
