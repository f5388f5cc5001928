"""Fuzzing speed and a long fuzz run: 10^6 seeded cases per codec (tests/fuzzing.py).

Per codec: cases, seconds, cases/s and the decoder's own counts. Any exception that escapes
a decoder, or a good frame that does not decode right after a damaged one, stops the run
with a traceback and a non-zero exit.

    python bench/fuzz.py [--cases N] [--codec datex_s5|intellivue|hl7_pcd01] [--seed S]
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hl7.containers  # noqa: E402
import hl7.util  # noqa: E402

from tests import fuzzing  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--codec", choices=[*fuzzing.CODECS, "all"], default="all")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    # the hl7 package logs each bad escape sequence it meets (to loggers named by its files'
    # paths): noise here, where damaged messages are the point
    for module in (hl7.util, hl7.containers):
        logging.getLogger(module.__file__).setLevel(logging.CRITICAL)
    names = list(fuzzing.CODECS) if args.codec == "all" else [args.codec]
    for name in names:
        stats = fuzzing.run(fuzzing.CODECS[name](), args.cases, args.seed)
        counts = {k: v for k, v in stats.decoder.items() if isinstance(v, int)}
        kinds = {k: v for k, v in stats.decoder.items() if isinstance(v, dict)}
        print(
            f"{name}: {stats.cases:,} cases in {stats.seconds:.1f} s, {stats.rate:,.0f} cases/s, "
            f"{stats.resyncs:,} resync checks, {stats.items:,} items"
        )
        print(f"  cases: {dict(stats.kinds)}")
        print(f"  decoder: {counts}")
        for key, seen in kinds.items():  # damaged type fields make these long: the top few
            top = sorted(seen.items(), key=lambda kv: -kv[1])[:5]
            print(f"  {key}: {len(seen)} kinds, most: {dict(top)}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
