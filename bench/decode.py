"""Decoding speed per codec on one core: records/s (messages/s), median of several repeats.

- datex_s5: the whole of ../shared/data/datex-carescape/db00.raw (3,520 records: 1,760
  physiological + 1,760 waveform) from bytes to Readings, status events and waveform blocks,
  in 64 KiB chunks as a serial reader would deliver them in bulk.
- intellivue: a synthetic session from its encoder: association response, MDS create, then
  one extended poll result a second for an hour (HR, PR, SpO2, RR, EtCO2, temperature, and
  the cuff result the monitor repeats every poll, new every 5 minutes), one frame a read.
- hl7_pcd01: a virtual gateway's ORU^R01 pushes for one chair (hl7_pcd01_encode, as
  devices/simulator/pcd01_gateway.py sends them), one a second for 10 minutes with the
  monitor's numerics and a syringe pump, one message a read, ACKs taken after each.

    python bench/decode.py [--repeats N] [--codec NAME] [FILE]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.protocols import hl7_pcd01_encode as pcd_enc  # noqa: E402
from devices.protocols import intellivue_encode as iv_enc  # noqa: E402
from devices.protocols.datex_s5 import DriDecoder  # noqa: E402
from devices.protocols.hl7_pcd01 import Pcd01Decoder  # noqa: E402
from devices.protocols.intellivue import IntelliVueDecoder  # noqa: E402
from monitor.model import Reading  # noqa: E402
from monitor.signals import REGISTRY  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "datex-carescape" / "db00.raw"
CHUNK = 1 << 16
T0 = 1_700_000_000.0
CODECS = ("datex_s5", "intellivue", "hl7_pcd01")


def vitals(i: int) -> dict[str, float]:
    """Second i of a calm session: values that move a little, a cuff result every 5 min."""
    cuff = i // 300
    return {
        "HR": 70.0 + i % 7,
        "PR": 71.0 + i % 5,
        "SPO2": 97.0 + i % 2,
        "RR": 14.0,
        "ETCO2": 38.0 + i % 3,
        "TEMP": 36.8,
        "NIBP_SYS": 120.0 + cuff % 9,
        "NIBP_DIA": 80.0 + cuff % 5,
        "NIBP_MEAN": 93.0 + cuff % 7,
    }


def intellivue_stream(seconds: int = 3600) -> list[bytes]:
    frames = [iv_enc.association_response(), iv_enc.mds_create_event(1, T0, 0)]
    for i in range(seconds):
        nibp_time = T0 + (i // 300) * 300
        frames.append(iv_enc.poll_reply(vitals(i), i + 2, T0 + i, i * 8000, nibp_time=nibp_time))
    return frames


def pcd01_stream(seconds: int = 600) -> list[bytes]:
    out = []
    for i in range(seconds):
        t = T0 + i
        values = vitals(i) if i % 300 == 0 else dict(list(vitals(i).items())[:6])
        readings = [Reading("b", t, s, v, REGISTRY[s].unit) for s, v in values.items()]
        pump = pcd_enc.PumpState(12.5 + (i // 600) * 0.5)
        out.append(pcd_enc.oru_r01(f"VGW{i + 1:08d}", "ICU^^3", t, readings, pump))
    return out


def time_pass(decoder: Any, reads: list[bytes], after: Callable[[Any], None]) -> tuple[float, int]:
    items = 0
    start = time.perf_counter()
    for data in reads:
        items += len(decoder.feed(data))
        after(decoder)
    return time.perf_counter() - start, items


def bench(
    make: Callable[[], Any], reads: list[bytes], repeats: int, after: Callable[[Any], None]
) -> tuple[list[float], int, int]:
    """Times of `repeats` passes (after one warm-up), the records and items of one pass."""
    time_pass(make(), reads, after)
    times, good, items = [], 0, 0
    for _ in range(repeats):
        decoder = make()
        elapsed, items = time_pass(decoder, reads, after)
        times.append(elapsed)
        good = decoder.stats.good
    return times, good, items


def report(head: str, times: list[float], records: int, size: int) -> None:
    best, median = min(times), statistics.median(times)
    print(f"{head}, {len(times)} repeats")
    print(
        f"median: {records / median:,.0f} records/s, {size / median / 1e6:.1f} MB/s "
        f"({median * 1000:.0f} ms per pass)"
    )
    print(f"best:   {records / best:,.0f} records/s, {size / best / 1e6:.1f} MB/s")


def dri(path: Path, repeats: int) -> None:
    data = path.read_bytes()
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
    times, records, events = bench(lambda: DriDecoder("bench"), chunks, repeats, lambda d: None)
    head = (
        f"file: {path.name}, {len(data) / 1e6:.2f} MB, {records} records, {events} events per pass"
    )
    report(head, times, records, len(data))


def intellivue(repeats: int) -> None:
    reads = intellivue_stream()
    times, records, items = bench(
        lambda: IntelliVueDecoder("bench"), reads, repeats, lambda d: None
    )
    head = f"intellivue: {records:,} messages (1 h of polls at 1/s), {items:,} items per pass"
    report(head, times, records, sum(map(len, reads)))


def pcd01(repeats: int) -> None:
    reads = pcd01_stream()
    times, records, items = bench(
        lambda: Pcd01Decoder("bench"), reads, repeats, lambda d: d.take_acks()
    )
    head = f"hl7_pcd01: {records:,} ORU^R01 (10 min at 1/s, 8-11 OBX), {items:,} items per pass"
    report(head, times, records, sum(map(len, reads)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--codec", choices=[*CODECS, "all"], default="all")
    args = parser.parse_args()
    if args.codec in ("datex_s5", "all"):
        dri(args.file, args.repeats)
    if args.codec in ("intellivue", "all"):
        intellivue(args.repeats)
    if args.codec in ("hl7_pcd01", "all"):
        pcd01(args.repeats)


if __name__ == "__main__":
    main()
