"""Readings/s written through the session log's flush, SQLite beside PostgreSQL.

Every simulated second, each bed queues one reading per signal and the store flushes once
(the writer flushes at least once a second); sessions compact as they grow, as in a ward.
Every reading is read back and counted: any failed flush, dropped reading or missing row
fails the bench. PostgreSQL is a private cluster started for the run, with fsync on (or
--url for an existing database).

    python bench/pg_store.py [--beds 30] [--signals 10] [--seconds 600] [--url URL] [--smoke]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.model import Reading  # noqa: E402
from monitor.signals import REGISTRY  # noqa: E402
from monitor.storage.backends import open_session_log  # noqa: E402
from tests.postgres import create_database, private_cluster  # noqa: E402

T0 = 1_767_225_600.0
PLAN = {"weight_kg": 70.0, "planned_rate_mg_kg_h": 0.5, "concentration_mg_ml": 10.0}


def run(path: Path, url: str | None, beds: int, signals: int, seconds: int) -> dict[str, float]:
    store = open_session_log(path, url, 0.5)
    codes = list(REGISTRY)[:signals]  # numeric signals
    sessions = [
        store.create_session(f"chair-{b + 1}", "simulated", T0, PLAN, "bench").id
        for b in range(beds)
    ]
    flushes: list[float] = []
    start = time.perf_counter()
    for second in range(seconds):
        t = T0 + second
        for b, sid in enumerate(sessions):
            for code in codes:
                store.append_reading(sid, Reading(f"chair-{b + 1}", t, code, 50.0 + b, ""))
        began = time.perf_counter()
        store.flush()
        flushes.append(time.perf_counter() - began)
    elapsed = time.perf_counter() - start
    stats = store.stats()
    expected = seconds * len(codes)
    counts = [len(store.readings(sid)) for sid in sessions]
    store.close()
    if stats.failed_flushes or stats.dropped or stats.pending or stats.last_error:
        raise SystemExit(f"{url or path}: flush failures: {stats}")
    if counts != [expected] * beds or stats.readings_written != expected * beds:
        raise SystemExit(f"{url or path}: expected {expected} readings per bed, read {counts}")
    return {
        "rate": expected * beds / elapsed,
        "p50_ms": statistics.median(flushes) * 1000,
        "max_ms": max(flushes) * 1000,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--beds", type=int, default=30)
    p.add_argument("--signals", type=int, default=10)
    p.add_argument("--seconds", type=int, default=600)
    p.add_argument("--url", help="an existing, empty PostgreSQL database")
    p.add_argument("--smoke", action="store_true", help="2 beds, 3 signals, 5 s")
    args = p.parse_args(argv)
    if args.smoke:
        args.beds, args.signals, args.seconds = 2, 3, 5
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pg-bench-")))
        url = args.url or create_database(stack.enter_context(private_cluster(durable=True)))
        results = {
            "sqlite": run(folder / "bench.db", None, args.beds, args.signals, args.seconds),
            "postgresql": run(folder / "unused.db", url, args.beds, args.signals, args.seconds),
        }
    total = args.beds * args.signals * args.seconds
    print(
        f"{args.beds} beds x {args.signals} signals x {args.seconds} s = {total} readings,"
        " one flush per simulated second"
    )
    print(f"{'backend':<12}{'readings/s':>12}{'flush p50 ms':>14}{'flush max ms':>14}")
    for name, r in results.items():
        print(f"{name:<12}{r['rate']:>12.0f}{r['p50_ms']:>14.2f}{r['max_ms']:>14.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
