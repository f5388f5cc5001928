"""S/5 DRI decoding speed on a real capture: records/s and MB/s over several repeats.

Decodes the whole of ../shared/data/datex-carescape/db00.raw (3,520 records: 1,760
physiological + 1,760 waveform) from bytes to Readings, status events and waveform blocks,
on one core, in 64 KiB chunks as a serial reader would deliver them in bulk.

    python bench/decode.py [--repeats N] [FILE]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.protocols.datex_s5 import DriDecoder  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "datex-carescape" / "db00.raw"
CHUNK = 1 << 16


def decode_once(data: bytes) -> tuple[float, int, int]:
    decoder = DriDecoder("bench")
    events = 0
    start = time.perf_counter()
    for i in range(0, len(data), CHUNK):
        events += len(decoder.feed(data[i : i + CHUNK]))
    elapsed = time.perf_counter() - start
    return elapsed, decoder.stats.good, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    data = args.file.read_bytes()
    decode_once(data)  # warm up
    runs = [decode_once(data) for _ in range(args.repeats)]
    times = [t for t, _, _ in runs]
    records, events = runs[0][1], runs[0][2]
    best, median = min(times), statistics.median(times)
    print(
        f"file: {args.file.name}, {len(data) / 1e6:.2f} MB, {records} records, "
        f"{events} events per pass, {args.repeats} repeats"
    )
    print(
        f"median: {records / median:,.0f} records/s, {len(data) / median / 1e6:.1f} MB/s "
        f"({median * 1000:.0f} ms per pass)"
    )
    print(f"best:   {records / best:,.0f} records/s, {len(data) / best / 1e6:.1f} MB/s")


if __name__ == "__main__":
    main()
