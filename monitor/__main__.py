"""Monitoring-core tools.

python -m monitor replay --config FILE READINGS.csv [--bed NAME]
    run recorded readings through the alarm engine in simulated time; transitions as CSV
    (time,bed,alarm,priority,state,value) on stdout, the alarm burden on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from monitor.config import DEFAULT_CONFIG, ConfigError, load_config
from monitor.replay import ReplayInputError, read_readings, replay


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor")
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("replay", help="what would these readings have alarmed?")
    rep.add_argument("--config", default=str(DEFAULT_CONFIG), help="alarm rules from this file")
    rep.add_argument("--bed", default="replay", help="bed name written in the output")
    rep.add_argument("readings", type=Path, metavar="READINGS.csv")
    args = parser.parse_args(argv)

    try:
        config = load_config(args.config)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    try:
        with args.readings.open(encoding="utf-8", newline="") as f:
            result = replay(
                read_readings(f, str(args.readings)), config.alarms, args.bed, sys.stdout
            )
    except FileNotFoundError:
        print(f"{args.readings}: file not found", file=sys.stderr)
        return 2
    except ReplayInputError as err:
        print(err, file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    hours = result.hours
    burden = ", ".join(f"{p} {v:.1f}/h" for p, v in result.burden().items())
    print(
        f"{result.readings} readings over {hours:.2f} h; alarms per hour: {burden}", file=sys.stderr
    )
    for reason, n in sorted(result.skipped.items()):
        print(f"skipped {n} readings: {reason}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
