"""Device tools.

python -m devices decode --protocol datex-s5|hl7-pcd01 FILE...
    CSV of every valid numeric reading (time,signal,value,unit) on stdout;
    frame counts on stderr.
python -m devices decode --protocol datex-s5 FILE --replay URL [--speed N]
    send the capture's frames to a serial URL at their recorded pace (or N times faster).
python -m devices simulate --scenario FILE [--speed max|N] [--duration SECONDS] --out CSV
    run a training scenario headless (its own infusion plan, no trainee) and write its
    readings as time,signal,value,unit.
python -m devices agent --config chair.yaml
    run one chair's device and publish it over MQTT to the central station (a chair agent);
    stops cleanly on SIGTERM or Ctrl-C. A bad config exits 2 with one line.

Each subcommand imports what it needs when it runs: decoding a capture takes milliseconds,
and importing the simulator (scipy, through the PK model) would cost a second.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devices.protocols import PROTOCOLS, ProtocolEntry
from monitor.cli import subcommand
from monitor.model import DeviceEvent, Reading


@dataclass(slots=True)
class Totals:
    """Frame counts over all the files decoded."""

    good: int = 0
    bad_checksum: int = 0
    malformed: int = 0


def _write(writer: Any, items: list[Any]) -> int:
    """Readings as CSV rows; returns how many pump reports went by."""
    pumps = 0
    for item in items:
        if isinstance(item, Reading):
            # .10g: the protocol's scaling in full (0.01 steps), no float noise
            writer.writerow([f"{item.t:.0f}", item.signal, f"{item.value:.10g}", item.unit])
        elif isinstance(item, DeviceEvent) and item.kind == "pump":
            pumps += 1
    return pumps


def _more_counts(stats: Any, pumps: int) -> str:
    """The protocol's own counts beyond the three every codec keeps, where not zero."""
    shown = {"good", "bad_checksum", "malformed"}
    extra = [
        f"{f.name.replace('_', ' ')} {value}"
        for f in dataclasses.fields(stats)
        if f.name not in shown and isinstance(value := getattr(stats, f.name), int) and value
    ]
    extra += [f"pump reports {pumps}"] if pumps else []
    return f" ({', '.join(extra)})" if extra else ""


def decode(paths: list[Path], entry: ProtocolEntry, out: object = sys.stdout) -> Totals:
    writer = csv.writer(out, lineterminator="\n")  # type: ignore[arg-type]
    writer.writerow(["time", "signal", "value", "unit"])
    total = Totals()
    for path in paths:
        decoder = entry.decoder(path.stem)
        pumps = 0
        with path.open("rb") as f:
            items: list[Any] = []
            while chunk := f.read(1 << 16):
                items += decoder.feed(chunk)
                pumps += _write(writer, items)
                items.clear()
        finish = getattr(decoder, "finish", None)  # a text format's last message has no end
        pumps += _write(writer, finish() if finish is not None else [])
        s = decoder.stats
        print(
            f"{path}: {s.good} good, {s.bad_checksum} bad checksum, {s.malformed} malformed"
            + _more_counts(s, pumps),
            file=sys.stderr,
        )
        total.good += s.good
        total.bad_checksum += s.bad_checksum
        total.malformed += s.malformed
    return total


def replay_command(args: argparse.Namespace, entry: ProtocolEntry) -> int:
    from devices.transport import ReplayError, replay  # pyserial: only when sending
    from monitor.clock import SystemClock

    if args.speed <= 0:
        print("--speed: must be greater than 0", file=sys.stderr)
        return 2
    frames = [f for path in args.files for f in entry.capture_frames(path.read_bytes())]
    try:
        sent = replay(args.replay, frames, args.speed, SystemClock(), threading.Event())
    except ReplayError as err:
        print(f"--replay: {err}", file=sys.stderr)
        return 2
    print(f"sent {sent} frames to {args.replay}", file=sys.stderr)
    return 0


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: max or a number") from None
    if not 0 < speed <= MAX_SPEED:
        raise argparse.ArgumentTypeError(
            f"{text!r}: more than 0 and at most {MAX_SPEED:g} times real time, or max"
        )
    return speed


def simulate_command(args: argparse.Namespace) -> int:
    from devices.simulator.headless import simulate
    from devices.simulator.scenario import ScenarioError, load_scenario
    from monitor.clock import ManualClock, ScaledClock

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as err:
        print(err, file=sys.stderr)
        return 2
    duration = args.duration if args.duration is not None else scenario.duration_s
    if duration <= 0:
        print("--duration: must be more than 0 seconds", file=sys.stderr)
        return 2
    clock = ManualClock() if args.speed is None else ScaledClock(args.speed)
    try:
        with args.out.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["time", "signal", "value", "unit"])

            def emit(r: Reading) -> None:
                writer.writerow([f"{r.t:.3f}", r.signal, f"{r.value:.10g}", r.unit])

            count = simulate(scenario, clock, duration, emit)
    except OSError as err:
        print(f"{args.out}: {err.strerror or err}", file=sys.stderr)
        return 2
    print(f"{scenario.id}: {count} readings over {duration:g} s -> {args.out}", file=sys.stderr)
    return 0


def agent_command(args: argparse.Namespace) -> int:
    import logging
    import signal

    from devices.agent_config import load_agent_config
    from devices.factory import build_device
    from devices.mqtt_agent import Agent
    from devices.simulator.scenario import ScenarioError, load_library
    from monitor.clock import SystemClock
    from monitor.config import BedConfig, ConfigError

    try:
        config = load_agent_config(args.config)
        library = load_library(config.scenarios) if config.scenarios else None
    except (ConfigError, ScenarioError) as err:
        print(err, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    clock = SystemClock()
    bed = BedConfig(id=config.bed, name=config.bed, device=config.device)
    try:
        agent = Agent(config, build_device(bed, clock, library), clock)
    except (ConfigError, OSError) as err:
        print(f"{args.config}: {err}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    agent.run(stop)
    return 0


MAX_SPEED = 1000.0
EXAMPLES = {
    "decode": "examples:\n"
    "  python -m devices decode --protocol datex-s5 capture.raw > readings.csv\n"
    "  python -m devices decode --protocol datex-s5 capture.raw --replay /dev/ttyUSB0 --speed 10",
    "simulate": "example:\n  python -m devices simulate --scenario"
    " devices/simulator/scenarios/uneventful.yaml --out readings.csv",
    "agent": "example:\n  python -m devices agent --config deploy/chair-1.yaml",
}


def _sub(sub: Any, name: str, help_text: str) -> argparse.ArgumentParser:
    return subcommand(sub, name, help_text, EXAMPLES[name])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devices",
        description="Device tools: decode and replay monitor captures, run training"
        " scenarios headless, publish a chair over MQTT.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    dec = _sub(sub, "decode", "decode monitor captures to readings CSV, or replay them")
    dec.add_argument(
        "--protocol", choices=sorted(PROTOCOLS), required=True, help="the monitor's protocol"
    )
    dec.add_argument("files", nargs="+", type=Path, metavar="FILE", help="raw capture files")
    dec.add_argument(
        "--replay", metavar="URL", help="send the frames to this serial port or pyserial URL"
    )
    dec.add_argument(
        "--speed", type=float, default=1.0, metavar="N",
        help="with --replay: N times the recorded pace, more than 0 (default: %(default)s)",
    )  # fmt: skip
    sim = _sub(sub, "simulate", "run a training scenario headless and write its readings")
    sim.add_argument(
        "--scenario", type=Path, required=True, metavar="FILE", help="a scenario YAML file"
    )
    sim.add_argument(
        "--speed", type=_speed, default=None, metavar="max|N",
        help=f"max (default: as fast as possible) or N times real time, at most {MAX_SPEED:g}",
    )  # fmt: skip
    sim.add_argument(
        "--duration", type=float, default=None, metavar="SECONDS",
        help="simulated seconds, more than 0 (default: the scenario's own duration)",
    )  # fmt: skip
    sim.add_argument(
        "--out", type=Path, required=True, metavar="CSV", help="time,signal,value,unit"
    )
    agent = _sub(sub, "agent", "publish a chair's monitor or simulator over MQTT")
    agent.add_argument(
        "--config", type=Path, required=True, metavar="FILE", help="the chair agent's YAML"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "simulate":
        return simulate_command(args)
    if args.command == "agent":
        return agent_command(args)

    for path in args.files:
        if not path.is_file():
            print(f"{path}: no such file", file=sys.stderr)
            return 2
    entry = PROTOCOLS[args.protocol]
    if args.replay is not None:
        return replay_command(args, entry)
    try:
        total = decode(args.files, entry)
    except BrokenPipeError:  # `| head`: the reader has seen enough
        sys.stderr.close()
        return 0
    if total.good == 0:
        print(f"decode: no {args.protocol} message in the files given", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
